/*
 * source: one refresh of one source, start to finish: fetch (conditional
 * GET), parse, normalise into headlines. Edge module (uses fetch).
 */
#ifndef KT_SOURCE_H
#define KT_SOURCE_H

#include <stdbool.h>
#include <stdint.h>

#include "store.h"
#include "util.h"

struct config;
struct filter;

struct source_result {
    bool not_modified;        /* 304: keep what the store has */
    struct store_item *items; /* document order */
    size_t n_items;
    char *etag;
    char *last_modified;
    int ttl_minutes;
    int64_t retry_after;  /* on failure: seconds the server asked us to wait */
    char err[KT_ERR_MAX]; /* on failure: why, one line */
};

/* Fetches url with cfg's limits, sending etag / last_modified when given.
 * Returns 0 on success (items or not_modified), -1 with r->err. A feed
 * document with no entries is a success with 0 items. */
int source_refresh(const struct config *cfg, const char *url, const struct filter *exclude,
                   const char *etag, const char *last_modified, const int *cancel,
                   struct source_result *r);
void source_result_free(struct source_result *r);

#endif
