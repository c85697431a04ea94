/*
 * ctl: the command-line client of the control API, for
 *   kiosk-ticker -c FILE --post TEXT [--severity S] [--for DURATION]
 *   kiosk-ticker -c FILE --clear ID|all
 *   kiosk-ticker -c FILE --status
 * against the running ticker the config names ([control] listen and
 * token_file). Edge module (libcurl). Each call returns 0, or -1 with one
 * line in err for the caller to print before exiting 1: "cannot reach the
 * ticker at http://127.0.0.1:8089: …" when nothing answers, "the ticker
 * refused: 400 severity: unknown value …" when it does and says no.
 */
#ifndef KT_CTL_H
#define KT_CTL_H

#include <stddef.h>
#include <stdio.h>

struct ctl_target {
    const char *listen;     /* [control] listen */
    const char *token_file; /* [control] token_file, or NULL */
    long timeout_s;         /* whole request; 0 = 10 s */
};

/* POSTs a message; prints its id and a newline on out. severity and
 * duration may be NULL. */
int ctl_post(const struct ctl_target *t, const char *text, const char *severity,
             const char *duration, FILE *out, char *err, size_t errlen);
/* Deletes one message, or every message for "all". Prints nothing. */
int ctl_clear(const struct ctl_target *t, const char *id_or_all, char *err, size_t errlen);
/* Prints the state document and a newline on out. */
int ctl_status(const struct ctl_target *t, FILE *out, char *err, size_t errlen);

#endif
