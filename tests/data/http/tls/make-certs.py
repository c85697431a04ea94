#!/usr/bin/python3
"""make-certs: regenerates the TLS test certificates in this directory.

Not run by the tests (they use the files as committed); kept so the
certificates can be remade. Needs python3-cryptography. Test-only keys:
nothing here is trusted anywhere but in tests/test_fetch.c.

  ca.pem          test CA, valid 2020-2120 (the tests' ca_file)
  server.key      key of every server certificate below
  good.pem        127.0.0.1 / localhost, valid 2020-2120
  future.pem      127.0.0.1 / localhost, valid only from 2100 ("not yet valid",
                  as a board with a dead RTC battery sees every certificate)
  wrong-host.pem  wrong.example only (host name mismatch)
"""
import datetime
import ipaddress
import os

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

HERE = os.path.dirname(os.path.abspath(__file__))
T = datetime.datetime


def name(cn):
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def write(fname, data):
    with open(os.path.join(HERE, fname), "wb") as f:
        f.write(data)


ca_key = ec.generate_private_key(ec.SECP256R1())
ca = (
    x509.CertificateBuilder()
    .subject_name(name("kiosk-ticker test CA"))
    .issuer_name(name("kiosk-ticker test CA"))
    .public_key(ca_key.public_key())
    .serial_number(x509.random_serial_number())
    .not_valid_before(T(2020, 1, 1))
    .not_valid_after(T(2120, 1, 1))
    .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
    .add_extension(
        x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True
    )
    .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
    .sign(ca_key, hashes.SHA256())
)
write("ca.pem", ca.public_bytes(serialization.Encoding.PEM))

key = ec.generate_private_key(ec.SECP256R1())
write(
    "server.key",
    key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ),
)

LOCAL = [x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName("localhost")]
for fname, sans, start in (
    ("good.pem", LOCAL, T(2020, 1, 1)),
    ("future.pem", LOCAL, T(2100, 1, 1)),
    ("wrong-host.pem", [x509.DNSName("wrong.example")], T(2020, 1, 1)),
):
    cert = (
        x509.CertificateBuilder()
        .subject_name(name("kiosk-ticker test server"))
        .issuer_name(ca.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(T(2120, 1, 1))
        .add_extension(x509.SubjectAlternativeName(sans), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )
    write(fname, cert.public_bytes(serialization.Encoding.PEM))
