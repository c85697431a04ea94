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

#ifdef KT_TEST_SERVER_CLIENT
#include <curl/curl.h>

/* POST to the server (path like "/set/news?route=500"); exits the test on
 * failure, since every later check would be meaningless. */
static void test_server_post(int port, const char *path, const char *body, size_t len,
                             const char *ctype)
{
    /* One handle for every post: a soak posts tens of thousands. */
    static CURL *h;
    if (!h)
        h = curl_easy_init();
    char url[512], hdr[128];
    snprintf(url, sizeof url, "http://127.0.0.1:%d%s", port, path);
    snprintf(hdr, sizeof hdr, "Content-Type: %s", ctype ? ctype : "text/plain");
    struct curl_slist *l = curl_slist_append(NULL, hdr);
    l = curl_slist_append(l, "Expect:");
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, l);
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, body ? body : "");
    curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, (long)(body ? len : 0));
    curl_easy_setopt(h, CURLOPT_TIMEOUT, 10L);
    CURLcode rc = curl_easy_perform(h);
    long status = 0;
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, NULL);
    curl_slist_free_all(l);
    if (rc != CURLE_OK || status != 204) {
        fprintf(stderr, "test server: POST %s failed: %s, HTTP %ld\n", url, curl_easy_strerror(rc),
                status);
        exit(1);
    }
}

static size_t test_server_collect(char *p, size_t size, size_t n, void *ud)
{
    struct {
        char *data;
        size_t len;
    } *b = ud;
    char *grown = realloc(b->data, b->len + size * n + 1);
    if (!grown)
        return 0;
    b->data = grown;
    memcpy(b->data + b->len, p, size * n);
    b->len += size * n;
    b->data[b->len] = '\0';
    return size * n;
}

/* A counter of /stats for a path ("requests", "not_modified", …); 0 when
 * the path was never asked for, -1 when the server does not answer. */
__attribute__((unused)) static long test_server_stat(int port, const char *path,
                                                     const char *counter)
{
    char url[128];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/stats", port);
    struct {
        char *data;
        size_t len;
    } b = {NULL, 0};
    CURL *h = curl_easy_init();
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, test_server_collect);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &b);
    curl_easy_setopt(h, CURLOPT_TIMEOUT, 10L);
    CURLcode rc = curl_easy_perform(h);
    curl_easy_cleanup(h);
    long v = rc == CURLE_OK ? 0 : -1;
    char key[256];
    snprintf(key, sizeof key, "\"%s\": {", path);
    const char *at = b.data ? strstr(b.data, key) : NULL;
    if (at) {
        snprintf(key, sizeof key, "\"%s\": ", counter);
        const char *c = strstr(at, key);
        if (c)
            v = atol(c + strlen(key));
    }
    free(b.data);
    return v;
}
#endif

static void test_server_stop(pid_t pid)
{
    if (pid > 0) {
        kill(pid, SIGTERM);
        waitpid(pid, NULL, 0);
    }
}

#endif
