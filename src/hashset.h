/*
 * hashset: one small open-addressing set of indices into the caller's own
 * array, keyed by a 64-bit hash the caller computes, compared by the
 * caller's equality callback. Pure.
 *
 * The set stores no keys, only "index + 1" and the full hash, so the same
 * table serves de-duplication by text (store), id → position (scroll, where
 * the hash is the id itself) and name interning (xml_repair). It grows by
 * itself at half load.
 */
#ifndef KT_HASHSET_H
#define KT_HASHSET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define HASHSET_NONE ((size_t)-1)

struct hashset {
    size_t *slot;   /* index + 1; 0 = empty */
    uint64_t *hash; /* hash of the index in slot[i] */
    size_t mask;    /* capacity - 1 (a power of two) */
    size_t count;
};

/* Is the caller's element idx the key being looked up? */
typedef bool (*hashset_eq_fn)(const void *ctx, size_t idx);

/* Room for `expected` entries without growing (0 is fine). A zeroed
 * struct hashset is an empty set as well. */
void hashset_init(struct hashset *s, size_t expected);
void hashset_free(struct hashset *s);
/* Empties the set, keeping its memory. */
void hashset_clear(struct hashset *s);

/* The index stored for hash h that eq accepts, or HASHSET_NONE; then *pos
 * (may be NULL) is where hashset_put_at would insert it. */
size_t hashset_find(const struct hashset *s, uint64_t h, hashset_eq_fn eq, const void *ctx,
                    size_t *pos);
/* Stores idx at *pos from a hashset_find that found nothing (no other
 * insertion in between). */
void hashset_put_at(struct hashset *s, size_t pos, uint64_t h, size_t idx);
/* Finds h/eq, or stores idx: returns the index already there, or idx. */
size_t hashset_insert(struct hashset *s, uint64_t h, size_t idx, hashset_eq_fn eq, const void *ctx);

/* FNV-1a over n bytes, with an optional ASCII case fold, for callers that
 * hash strings. */
uint64_t hashset_hash_bytes(const void *p, size_t n, bool fold_ascii_case);

#endif
