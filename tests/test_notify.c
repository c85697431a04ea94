/*
 * Tests of src/notify.c: the sd_notify datagrams, on a socket this test
 * binds (a path and an abstract name), the watchdog's rate limit, and the
 * cases where nothing must be sent (no $NOTIFY_SOCKET, a watchdog meant for
 * another PID, junk values).
 */
#include <errno.h>
#include <poll.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "notify.h"
#include "tap.h"

static char t_name[108];

/* Binds a datagram socket at a fresh path (or abstract name) and points
 * $NOTIFY_SOCKET at it. */
static int t_listen(bool abstract)
{
    int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    struct sockaddr_un a;
    memset(&a, 0, sizeof a);
    a.sun_family = AF_UNIX;
    socklen_t len;
    if (abstract) {
        snprintf(t_name, sizeof t_name, "@kt-notify-test-%ld-%ld", (long)getpid(),
                 (long)time(NULL));
        memcpy(a.sun_path, t_name, strlen(t_name));
        a.sun_path[0] = '\0';
        len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + strlen(t_name));
    } else {
        const char *tmp = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
        snprintf(t_name, sizeof t_name, "%s/kt-notify-%ld.sock", tmp, (long)getpid());
        unlink(t_name);
        snprintf(a.sun_path, sizeof a.sun_path, "%s", t_name);
        len = sizeof a;
    }
    if (fd < 0 || bind(fd, (struct sockaddr *)&a, len) != 0) {
        perror("bind");
        exit(1);
    }
    setenv("NOTIFY_SOCKET", t_name, 1);
    return fd;
}

/* Next datagram within ms, or "" when none came. */
static const char *t_recv(int fd, int ms)
{
    static char buf[256];
    struct pollfd p = {fd, POLLIN, 0};
    if (poll(&p, 1, ms) != 1)
        return "";
    ssize_t n = recv(fd, buf, sizeof buf - 1, 0);
    buf[n > 0 ? n : 0] = '\0';
    return buf;
}

static int t_drain(int fd)
{
    int n = 0;
    while (*t_recv(fd, 0))
        n++;
    return n;
}

static double t_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void test_messages(bool abstract)
{
    int fd = t_listen(abstract);
    unsetenv("WATCHDOG_USEC");
    unsetenv("WATCHDOG_PID");
    notify_init();
    CHECK(notify_enabled());
    notify_ready();
    CHECK_STR(t_recv(fd, 1000), "READY=1");
    notify_ready(); /* once only */
    CHECK_STR(t_recv(fd, 50), "");
    notify_watchdog(); /* no WATCHDOG_USEC: nothing */
    CHECK_STR(t_recv(fd, 50), "");
    CHECK_INT(notify_send("STATUS=42 headlines"), 0);
    CHECK_STR(t_recv(fd, 1000), "STATUS=42 headlines");
    notify_stopping();
    CHECK_STR(t_recv(fd, 1000), "STOPPING=1");
    close(fd);
    if (!abstract)
        unlink(t_name);
}

static void test_watchdog_rate(void)
{
    int fd = t_listen(false);
    setenv("WATCHDOG_USEC", "200000", 1); /* 0.2 s: a ping every 0.1 s */
    unsetenv("WATCHDOG_PID");
    notify_init();
    CHECK_INT(notify_watchdog_usec(), 200000);
    /* systemd arms the watchdog at READY=1: no ping before it. */
    notify_watchdog();
    CHECK_STR(t_recv(fd, 50), "");
    notify_ready();
    CHECK_STR(t_recv(fd, 1000), "READY=1");
    /* A frame loop at ~1000 Hz for 0.45 s. */
    double t0 = t_now();
    long frames = 0;
    while (t_now() - t0 < 0.45) {
        notify_watchdog();
        frames++;
        usleep(1000);
    }
    double took = t_now() - t0;
    int pings = t_drain(fd);
    /* The first call pings, then one per 0.1 s: never more than that
     * (whatever the scheduler did, time only bounds it from above), and at
     * least the first one. */
    int most = 1 + (int)(took / 0.1);
    printf("# watchdog: %d pings in %.3f s over %ld frames (at most %d)\n", pings, took, frames,
           most);
    CHECK(pings >= 1);
    CHECK(pings <= most);
    CHECK(frames > 10 * pings);

    /* WATCHDOG_PID of another process: not ours to feed. */
    setenv("WATCHDOG_PID", "1", 1);
    notify_init();
    CHECK_INT(notify_watchdog_usec(), 0);
    notify_ready();
    CHECK_STR(t_recv(fd, 1000), "READY=1");
    notify_watchdog();
    CHECK_STR(t_recv(fd, 50), "");
    /* Our PID: fed. */
    char pid[32];
    snprintf(pid, sizeof pid, "%ld", (long)getpid());
    setenv("WATCHDOG_PID", pid, 1);
    notify_init();
    notify_ready();
    CHECK_STR(t_recv(fd, 1000), "READY=1");
    notify_watchdog();
    CHECK_STR(t_recv(fd, 1000), "WATCHDOG=1");
    /* Junk period: no watchdog. */
    setenv("WATCHDOG_USEC", "12abc", 1);
    notify_init();
    CHECK_INT(notify_watchdog_usec(), 0);
    close(fd);
    unlink(t_name);
    unsetenv("WATCHDOG_USEC");
    unsetenv("WATCHDOG_PID");
}

static void test_disabled(void)
{
    unsetenv("NOTIFY_SOCKET");
    setenv("WATCHDOG_USEC", "1000", 1);
    notify_init();
    CHECK(!notify_enabled());
    CHECK_INT(notify_watchdog_usec(), 0);
    CHECK_INT(notify_send("READY=1"), 0);
    notify_ready();
    notify_watchdog();
    notify_stopping();

    /* Not a path: refused with a warning, nothing sent. */
    setenv("NOTIFY_SOCKET", "relative/socket", 1);
    notify_init();
    CHECK(!notify_enabled());
    /* A listener that went away: an error code, no SIGPIPE, no crash. */
    setenv("NOTIFY_SOCKET", "/nonexistent-dir/notify.sock", 1);
    notify_init();
    CHECK(notify_enabled());
    CHECK_INT(notify_send("READY=1"), -1);
    unsetenv("NOTIFY_SOCKET");
    unsetenv("WATCHDOG_USEC");
    notify_init();
}

int main(void)
{
    test_messages(false);
    test_messages(true);
    test_watchdog_rate();
    test_disabled();
    return tap_done();
}
