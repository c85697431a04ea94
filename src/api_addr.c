/*
 * api_addr: see api_addr.h.
 */
#include "api_addr.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "util.h"

static int api_addr_port(const char *s, uint16_t *out)
{
    if (!*s || strlen(s) > 5)
        return -1;
    unsigned long v = 0;
    for (const char *p = s; *p; p++) {
        if (*p < '0' || *p > '9')
            return -1;
        v = v * 10 + (unsigned long)(*p - '0');
    }
    if (v > 65535)
        return -1;
    *out = (uint16_t)v;
    return 0;
}

int api_addr_parse(const char *listen, struct api_addr *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    const char *hint = "use ADDR:PORT with a numeric IPv4 address or [IPv6] address "
                       "(e.g. 127.0.0.1:8089, [::1]:8089)";
    if (!listen || !*listen)
        return kt_error(err, errlen, "listen: empty: %s", hint);
    char host[64];
    const char *port;
    if (listen[0] == '[') {
        const char *close = strchr(listen, ']');
        if (!close || close[1] != ':' || (size_t)(close - listen - 1) >= sizeof host)
            return kt_error(err, errlen, "listen: \"%.80s\": %s", listen, hint);
        memcpy(host, listen + 1, (size_t)(close - listen - 1));
        host[close - listen - 1] = '\0';
        port = close + 2;
        out->family = AF_INET6;
    } else {
        const char *colon = strrchr(listen, ':');
        if (!colon || strchr(listen, ':') != colon || (size_t)(colon - listen) >= sizeof host)
            return kt_error(err, errlen, "listen: \"%.80s\": %s", listen, hint);
        memcpy(host, listen, (size_t)(colon - listen));
        host[colon - listen] = '\0';
        port = colon + 1;
        out->family = AF_INET;
        if (strcasecmp(host, "localhost") == 0)
            strcpy(host, "127.0.0.1");
    }
    if (api_addr_port(port, &out->port) != 0)
        return kt_error(err, errlen, "listen: \"%.80s\": port must be 0 to 65535", listen);
    if (out->family == AF_INET) {
        struct sockaddr_in *in = (struct sockaddr_in *)&out->sa;
        in->sin_family = AF_INET;
        in->sin_port = htons(out->port);
        if (inet_pton(AF_INET, host, &in->sin_addr) != 1)
            return kt_error(err, errlen, "listen: \"%.80s\": %s", listen, hint);
        out->sa_len = sizeof *in;
    } else {
        struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&out->sa;
        in6->sin6_family = AF_INET6;
        in6->sin6_port = htons(out->port);
        if (inet_pton(AF_INET6, host, &in6->sin6_addr) != 1)
            return kt_error(err, errlen, "listen: \"%.80s\": %s", listen, hint);
        out->sa_len = sizeof *in6;
    }
    snprintf(out->host, sizeof out->host, "%s", host);
    return 0;
}

bool api_addr_loopback(const struct api_addr *a)
{
    if (a->family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)&a->sa;
        return (ntohl(in->sin_addr.s_addr) >> 24) == 127;
    }
    const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)&a->sa;
    if (IN6_IS_ADDR_LOOPBACK(&in6->sin6_addr))
        return true;
    return IN6_IS_ADDR_V4MAPPED(&in6->sin6_addr) && in6->sin6_addr.s6_addr[12] == 127;
}

bool api_addr_is_loopback(const char *listen)
{
    struct api_addr a;
    return api_addr_parse(listen, &a, NULL, 0) == 0 && api_addr_loopback(&a);
}

static bool api_addr_wildcard(const struct api_addr *a)
{
    if (a->family == AF_INET)
        return ((const struct sockaddr_in *)&a->sa)->sin_addr.s_addr == htonl(INADDR_ANY);
    return IN6_IS_ADDR_UNSPECIFIED(&((const struct sockaddr_in6 *)&a->sa)->sin6_addr);
}

char *api_addr_client_url(const struct api_addr *a)
{
    const char *host = a->host;
    if (api_addr_wildcard(a))
        host = a->family == AF_INET ? "127.0.0.1" : "::1";
    return a->family == AF_INET6 ? kt_asprintf("http://[%s]:%u", host, (unsigned)a->port)
                                 : kt_asprintf("http://%s:%u", host, (unsigned)a->port);
}

bool api_addr_host_allowed(const char *host_header, const struct api_addr *listen)
{
    if (!host_header)
        return false; /* HTTP/1.1 requires it; only a hand-made request lacks it */
    char host[80];
    size_t n = strlen(host_header);
    if (n >= sizeof host)
        return false;
    memcpy(host, host_header, n + 1);
    /* drop the port: after "]" for IPv6, after the only ':' otherwise */
    char *end = host[0] == '[' ? strchr(host, ']') : strchr(host, ':');
    if (host[0] == '[') {
        if (!end)
            return false;
        if (end[1] != '\0' && end[1] != ':')
            return false;
        end[1] = '\0';
        memmove(host, host + 1, strlen(host)); /* "[::1]" -> "::1]" */
        host[strlen(host) - 1] = '\0';
    } else if (end) {
        *end = '\0';
    }
    n = strlen(host);
    if (n && host[n - 1] == '.')
        host[n - 1] = '\0';
    if (strcasecmp(host, "localhost") == 0 || strcmp(host, listen->host) == 0)
        return true;
    struct api_addr lit;
    char probe[96];
    snprintf(probe, sizeof probe, strchr(host, ':') ? "[%s]:1" : "%s:1", host);
    return api_addr_parse(probe, &lit, NULL, 0) == 0 && api_addr_loopback(&lit);
}
