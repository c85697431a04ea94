/*
 * test_log: the level prefix follows where stderr really goes. With
 * JOURNAL_STREAM naming fd 2's device and inode the line starts "<N>";
 * with any other value (another stream's, a malformed one, none) it is
 * the plain "kiosk-ticker: LEVEL: " form. stderr goes to a temporary file
 * whose device and inode the test knows.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "tap.h"
#include "util.h"

int main(void)
{
    char path[] = "/tmp/kt-test-log-XXXXXX";
    int fd = mkstemp(path);
    CHECK(fd >= 0);
    if (fd < 0)
        return tap_done();
    unlink(path);
    struct stat st;
    CHECK(fstat(fd, &st) == 0);
    fflush(stderr);
    int saved = dup(STDERR_FILENO);
    dup2(fd, STDERR_FILENO);

    uintmax_t dev = (uintmax_t)st.st_dev, ino = (uintmax_t)st.st_ino;
    static const struct {
        const char *fmt; /* two %ju: dev and ino, offset by the deltas */
        int ddev, dino;
        int journal;
    } cases[] = {
        {"%ju:%ju", 0, 0, 1},  /* fd 2 is the stream systemd named */
        {"%ju:%ju", 0, 1, 0},  /* another inode: a terminal that inherited it */
        {"%ju:%ju", 1, 0, 0},  /* another device */
        {"%ju:%ju:", 0, 0, 0}, /* malformed */
        {"%ju", 0, 0, 0},      /* no inode */
        {":%ju%ju", 0, 0, 0},  /* no device */
        {"x%ju:%ju", 0, 0, 0}, /* not a number */
        {"%ju:%jux", 0, 0, 0}, /* trailing text */
    };
    struct kt_buf want;
    kt_buf_init(&want);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char value[96];
        snprintf(value, sizeof value, cases[i].fmt, dev + (uintmax_t)cases[i].ddev,
                 ino + (uintmax_t)cases[i].dino);
        setenv("JOURNAL_STREAM", value, 1);
        CHECK_INT(kt_log_to_journal(), cases[i].journal);
        kt_log_error("case %zu", i);
        if (cases[i].journal)
            kt_buf_printf(&want, "<3>case %zu\n", i);
        else
            kt_buf_printf(&want, "kiosk-ticker: error: case %zu\n", i);
    }
    unsetenv("JOURNAL_STREAM");
    CHECK(!kt_log_to_journal());
    kt_log_warn("unset");
    kt_buf_puts(&want, "kiosk-ticker: warning: unset\n");
    /* The level number is the syslog one. */
    char value[96];
    snprintf(value, sizeof value, "%ju:%ju", dev, ino);
    setenv("JOURNAL_STREAM", value, 1);
    kt_log_warn("w");
    kt_log_info("i");
    kt_buf_puts(&want, "<4>w\n<6>i\n");
    /* Redirected elsewhere while running: plain again. */
    fflush(stderr);
    int other = dup(saved);
    char path2[] = "/tmp/kt-test-log-XXXXXX";
    int fd2 = mkstemp(path2);
    unlink(path2);
    dup2(fd2, STDERR_FILENO);
    CHECK(!kt_log_to_journal());
    dup2(fd, STDERR_FILENO);
    close(fd2);
    close(other);
    unsetenv("JOURNAL_STREAM");

    fflush(stderr);
    dup2(saved, STDERR_FILENO);
    close(saved);
    char got[4096];
    ssize_t n = pread(fd, got, sizeof got - 1, 0);
    close(fd);
    got[n > 0 ? n : 0] = '\0';
    CHECK_STR(got, want.data);
    kt_buf_free(&want);
    return tap_done();
}
