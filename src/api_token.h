/*
 * api_token: the control API's bearer token, read from `token_file` by the
 * server and by the command-line client. Pure logic (a file read, no
 * network).
 *
 * The file must be a regular file that neither group nor others may read
 * or write (a readable token lets anyone on the board post to every
 * screen, a writable one lets them choose it), holding one line of at
 * least API_TOKEN_MIN visible ASCII characters.
 */
#ifndef KT_API_TOKEN_H
#define KT_API_TOKEN_H

#include <stdbool.h>
#include <stddef.h>

#define API_TOKEN_MIN 16
#define API_TOKEN_MAX 1024

/* 0 and *token (caller frees), or -1 with the reason ("token_file
 * /etc/kiosk-ticker/token: mode 0644 lets group or others read or write
 * it (chmod 600 …)"). */
int api_token_read(const char *path, char **token, char *err, size_t errlen);

/* Compares in time that depends only on the token's length, never on
 * where the first difference is. */
bool api_token_equal(const char *given, size_t given_len, const char *token);

#endif
