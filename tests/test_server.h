/*
 * test_server.h: starts tests/http_server.py for the C tests that need a
 * real HTTP server on 127.0.0.1 (fetch, soak).
 *
 * The server gets a pipe on its stdin whose other end stays open here until
 * this process exits: however the test exits, the pipe closes and the
 * server follows. It prints its port on its first stdout line.
 */
#ifndef KT_TEST_SERVER_H
#define KT_TEST_SERVER_H

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

/* Runs `python script args...` (args NULL-terminated, at most 6). Returns
 * the port it listens on, or -1; *pid is the server's process. */
static int test_server_start(const char *python, const char *script, const char *const *args,
                             pid_t *pid)
{
    const char *argv[9] = {python, script};
    for (int i = 0; args && args[i] && i < 6; i++)
        argv[2 + i] = args[i];
    int in[2], out[2];
    if (pipe(in) != 0)
        return -1;
    if (pipe(out) != 0) {
        close(in[0]);
        close(in[1]);
        return -1;
    }
    *pid = fork();
    if (*pid < 0)
        return -1;
    if (*pid == 0) {
        dup2(in[0], 0);
        dup2(out[1], 1);
        close(in[0]);
        close(in[1]);
        close(out[0]);
        close(out[1]);
        execvp(python, (char *const *)argv);
        fprintf(stderr, "test server: cannot run %s: %s\n", python, strerror(errno));
        _exit(127);
    }
    close(in[0]);
    close(out[1]);
    fcntl(in[1], F_SETFD, FD_CLOEXEC); /* kept open on purpose until exit */
    char line[32];
    size_t n = 0;
    while (n < sizeof line - 1) {
        struct pollfd p = {.fd = out[0], .events = POLLIN};
        if (poll(&p, 1, 10000) <= 0 || read(out[0], line + n, 1) <= 0 || line[n] == '\n')
            break;
        n++;
    }
    line[n] = '\0';
    close(out[0]);
    int port = atoi(line);
    return port > 0 ? port : -1;
}

static void test_server_stop(pid_t pid)
{
    if (pid > 0) {
        kill(pid, SIGTERM);
        waitpid(pid, NULL, 0);
    }
}

#endif
