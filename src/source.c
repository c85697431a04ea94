/*
 * source: see source.h.
 */
#include "source.h"

#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "feed.h"
#include "transport.h"
#include "headline.h"

int source_refresh(const struct config *cfg, const char *url, const struct filter *exclude,
                   const char *etag, const char *last_modified, const int *cancel,
                   struct source_result *r)
{
    memset(r, 0, sizeof *r);
    struct transport_request req = {
        .url = url,
        .etag = etag,
        .last_modified = last_modified,
        .timeout = cfg->timeout,
        .connect_timeout = cfg->connect_timeout,
        .max_bytes = cfg->max_bytes,
        .user_agent = cfg->user_agent,
        .ca_file = cfg->ca_file,
        .cancel = cancel,
    };
    struct transport_result res;
    memset(&res, 0, sizeof res);
    if (transport_get(&req, &res, r->err, sizeof r->err) < 0) {
        r->retry_after = res.retry_after;
        transport_result_free(&res);
        return -1;
    }
    r->etag = kt_strdup(res.etag);
    r->last_modified = kt_strdup(res.last_modified);
    if (res.not_modified) {
        r->not_modified = true;
        transport_result_free(&res);
        return 0;
    }
    struct feed_parse_opts opts = {
        .base_url = res.effective_url ? res.effective_url : url,
        .content_type = res.content_type,
        .allow_text = res.is_file,
    };
    struct feed_doc doc;
    memset(&doc, 0, sizeof doc);
    int rc = feed_parse(res.body, res.len, &opts, &doc, r->err, sizeof r->err);
    transport_result_free(&res);
    if (rc < 0) {
        free(r->etag);
        free(r->last_modified);
        r->etag = r->last_modified = NULL;
        return -1;
    }
    r->ttl_minutes = doc.ttl_minutes;
    r->n_items = headline_from_doc(&doc, exclude, cfg->max_chars, &r->items);
    feed_doc_free(&doc);
    return 0;
}

void source_result_free(struct source_result *r)
{
    store_items_free(r->items, r->n_items);
    free(r->etag);
    free(r->last_modified);
    memset(r, 0, sizeof *r);
}
