/*
 * api_addr: the control API's `listen = ADDR:PORT` and the checks around
 * it, for the server (api.c), the client (ctl.c) and the config layer
 * (which must refuse a non-loopback listen without token_file). Pure
 * logic (inet_pton only: no name lookup, so a config check never waits on
 * DNS).
 */
#ifndef KT_API_ADDR_H
#define KT_API_ADDR_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

struct api_addr {
    int family;    /* AF_INET or AF_INET6 */
    uint16_t port; /* 0 = any free port (tests) */
    char host[48]; /* numeric, without brackets: "127.0.0.1", "::1" */
    struct sockaddr_storage sa;
    socklen_t sa_len;
};

/* "127.0.0.1:8089", "[::1]:8089", "0.0.0.0:8089", "[::]:8089" or
 * "localhost:8089" (= 127.0.0.1). 0, or -1 with a message. */
int api_addr_parse(const char *listen, struct api_addr *out, char *err, size_t errlen);

/* 127.0.0.0/8, ::1 or ::ffff:127.x.x.x. */
bool api_addr_loopback(const struct api_addr *a);
/* The same from the config value; false when it does not parse. */
bool api_addr_is_loopback(const char *listen);

/* "http://HOST:PORT" a client on this machine uses to reach a server
 * listening on a: a wildcard address is reached through loopback. Caller
 * frees. */
char *api_addr_client_url(const struct api_addr *a);

/* The DNS-rebinding guard of a server without a token: may a request
 * with this Host header be answered? Yes for localhost, a loopback
 * literal and the listen address itself, with or without a port. */
bool api_addr_host_allowed(const char *host_header, const struct api_addr *listen);

#endif
