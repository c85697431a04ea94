/*
 * notify: see notify.h. The protocol is tiny (man sd_notify): a datagram of
 * "KEY=VALUE" lines sent to $NOTIFY_SOCKET. Reimplemented here because
 * libsystemd is not on every target and the ticker only needs three
 * messages.
 */
#include "notify.h"

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

static struct {
    bool enabled;
    struct sockaddr_un addr;
    socklen_t addr_len;
    int fd;                 /* opened on first send, kept */
    uint64_t watchdog_usec; /* 0 = no watchdog */
    uint64_t interval_ns;   /* ping at half the period */
    uint64_t next_ns;       /* monotonic time of the next ping */
    bool ready_sent;
} notify = {.fd = -1};

static uint64_t notify_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Strict decimal, as systemd writes it; NULL, empty or junk gives false. */
static bool notify_parse_u64(const char *s, uint64_t *out)
{
    if (!s || !*s)
        return false;
    uint64_t v = 0;
    for (; *s; s++) {
        if (*s < '0' || *s > '9' || v > (UINT64_MAX - 9) / 10)
            return false;
        v = v * 10 + (uint64_t)(*s - '0');
    }
    *out = v;
    return true;
}

void notify_init(void)
{
    if (notify.fd >= 0)
        close(notify.fd);
    notify.fd = -1;
    notify.enabled = false;
    notify.watchdog_usec = 0;
    notify.ready_sent = false;

    const char *path = getenv("NOTIFY_SOCKET");
    size_t n = path ? strlen(path) : 0;
    if (n >= 2 && n < sizeof notify.addr.sun_path && (path[0] == '/' || path[0] == '@')) {
        memset(&notify.addr, 0, sizeof notify.addr);
        notify.addr.sun_family = AF_UNIX;
        memcpy(notify.addr.sun_path, path, n);
        /* Abstract namespace: a leading NUL instead of '@', and the length
         * counts exactly the name's bytes (no terminating NUL). */
        if (path[0] == '@')
            notify.addr.sun_path[0] = '\0';
        notify.addr_len =
            (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n + (path[0] == '/' ? 1 : 0));
        notify.enabled = true;
    } else if (n > 0) {
        kt_log_warn("NOTIFY_SOCKET=%s: not a socket path or @name; not notifying systemd", path);
    }

    uint64_t usec, pid;
    if (notify.enabled && notify_parse_u64(getenv("WATCHDOG_USEC"), &usec) && usec > 0) {
        const char *p = getenv("WATCHDOG_PID");
        /* A watchdog set for another process (the PID of a wrapper) is not
         * ours to feed. */
        if (!p || (notify_parse_u64(p, &pid) && pid == (uint64_t)getpid())) {
            notify.watchdog_usec = usec;
            notify.interval_ns = usec * 1000u / 2;
            notify.next_ns = 0; /* first frame pings at once */
        }
    }
}

bool notify_enabled(void)
{
    return notify.enabled;
}

uint64_t notify_watchdog_usec(void)
{
    return notify.watchdog_usec;
}

int notify_send(const char *msg)
{
    if (!notify.enabled)
        return 0;
    if (notify.fd < 0) {
        notify.fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        if (notify.fd < 0) {
            kt_log_debug("notify: socket: %s", strerror(errno));
            return -1;
        }
    }
    ssize_t rc;
    do {
        /* MSG_NOSIGNAL: a vanished listener must not raise SIGPIPE. */
        rc = sendto(notify.fd, msg, strlen(msg), MSG_NOSIGNAL | MSG_DONTWAIT,
                    (const struct sockaddr *)&notify.addr, notify.addr_len);
    } while (rc < 0 && errno == EINTR);
    if (rc < 0) {
        kt_log_debug("notify: %s: %s", msg, strerror(errno));
        return -1;
    }
    return 0;
}

void notify_ready(void)
{
    if (notify.ready_sent)
        return;
    notify.ready_sent = true;
    notify_send("READY=1");
}

void notify_stopping(void)
{
    notify_send("STOPPING=1");
}

void notify_watchdog(void)
{
    /* systemd arms the watchdog when start-up completes (READY=1): a ping
     * before it says nothing. */
    if (!notify.watchdog_usec || !notify.ready_sent)
        return;
    uint64_t now = notify_now_ns();
    if (now < notify.next_ns)
        return;
    notify.next_ns = now + notify.interval_ns;
    notify_send("WATCHDOG=1");
}
