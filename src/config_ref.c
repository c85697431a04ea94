/*
 * config_ref: see config_ref.h.
 */
#include "config_ref.h"

#include <stdlib.h>

#include "config.h"
#include "util.h"

struct config_ref *config_ref_new(struct config *cfg, uint64_t seq)
{
    struct config_ref *r = kt_calloc(1, sizeof *r);
    r->cfg = cfg;
    r->seq = seq;
    __atomic_store_n(&r->refs, 1, __ATOMIC_RELAXED);
    return r;
}

struct config_ref *config_ref_get(struct config_ref *r)
{
    if (r)
        __atomic_add_fetch(&r->refs, 1, __ATOMIC_RELAXED);
    return r;
}

void config_ref_put(struct config_ref *r)
{
    if (r && __atomic_sub_fetch(&r->refs, 1, __ATOMIC_ACQ_REL) == 0) {
        config_free(r->cfg);
        free(r);
    }
}
