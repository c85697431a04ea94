/*
 * config_ref: a config shared between threads, freed with its last
 * reference. Pure logic (one atomic counter).
 *
 * A reload publishes a new config while fetch workers, the render thread
 * and other readers may still use the old one; a worker that could not be
 * stopped is abandoned and may hold its config for as long as it lives.
 * Each holder keeps a reference, so no one frees a config someone still
 * reads, and no one has to wait for anyone to let go.
 */
#ifndef KT_CONFIG_REF_H
#define KT_CONFIG_REF_H

#include <stdint.h>

struct config;

struct config_ref {
    struct config *cfg; /* read-only while shared */
    uint64_t seq;       /* 1, 2, 3… in the order configs were adopted */
    int refs;           /* atomic */
};

/* Takes cfg; the new holder has one reference. */
struct config_ref *config_ref_new(struct config *cfg, uint64_t seq);
/* +1; returns r (r may be NULL). */
struct config_ref *config_ref_get(struct config_ref *r);
/* -1; the last one frees the config (r may be NULL). */
void config_ref_put(struct config_ref *r);

#endif
