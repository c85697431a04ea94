/*
 * source: see source.h.
 */
#include "source.h"

#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "transport.h"

int source_fetch(const struct config *cfg, const char *url, const char *etag,
                 const char *last_modified, const int *cancel, struct source_result *r)
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
        r->cancelled = cancel && __atomic_load_n(cancel, __ATOMIC_RELAXED);
        transport_result_free(&res);
        return -1;
    }
    if (res.not_modified) {
        r->not_modified = true;
        r->etag = kt_strdup(res.etag);
        r->last_modified = kt_strdup(res.last_modified);
        transport_result_free(&res);
        return 0;
    }
    struct feed_parse_opts opts = {
        .base_url = res.effective_url ? res.effective_url : url,
        .content_type = res.content_type,
        .allow_text = res.is_file,
    };
    int rc = feed_parse(res.body, res.len, &opts, &r->doc, r->err, sizeof r->err);
    if (rc == 0) {
        r->etag = kt_strdup(res.etag);
        r->last_modified = kt_strdup(res.last_modified);
    }
    transport_result_free(&res);
    return rc < 0 ? -1 : 0;
}

void source_result_free(struct source_result *r)
{
    feed_doc_free(&r->doc);
    free(r->etag);
    free(r->last_modified);
    memset(r, 0, sizeof *r);
}
