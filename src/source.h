/*
 * source: one refresh of one source, start to finish: fetch (conditional
 * GET, local files) and parse into a feed document. Edge module (uses
 * transport). What is shown is derived from the document by the store,
 * under the rules of the config in use.
 */
#ifndef KT_SOURCE_H
#define KT_SOURCE_H

#include <stdbool.h>
#include <stdint.h>

#include "feed.h"
#include "util.h"

struct config;

struct source_result {
    bool not_modified;   /* 304: the document has not changed */
    struct feed_doc doc; /* otherwise the parsed document */
    char *etag;          /* as the server sent them, or NULL */
    char *last_modified;
    int64_t retry_after;  /* on failure: seconds the server asked us to wait */
    bool cancelled;       /* on failure: *cancel stopped it */
    char err[KT_ERR_MAX]; /* on failure: why, one line */
};

/* Fetches url with cfg's limits, sending etag / last_modified when given,
 * and parses it. Returns 0 on success (a document or not_modified), -1
 * with r->err. A feed document with no entries is a success. cancel (may
 * be NULL): when *cancel becomes non-zero a transfer in flight stops
 * within ~100 ms (the parse of a document already read cannot be). */
int source_fetch(const struct config *cfg, const char *url, const char *etag,
                 const char *last_modified, const int *cancel, struct source_result *r);
void source_result_free(struct source_result *r);

#endif
