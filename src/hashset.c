/*
 * hashset: see hashset.h. Linear probing over a power-of-two table.
 */
#include "hashset.h"

#include "util.h"

#include <stdlib.h>
#include <string.h>

void hashset_init(struct hashset *s, size_t expected)
{
    size_t cap = 16;
    while (cap < 2 * expected + 1)
        cap *= 2;
    s->slot = kt_calloc(cap, sizeof *s->slot);
    s->hash = kt_calloc(cap, sizeof *s->hash);
    s->mask = cap - 1;
    s->count = 0;
}

void hashset_free(struct hashset *s)
{
    if (!s)
        return;
    free(s->slot);
    free(s->hash);
    memset(s, 0, sizeof *s);
}

void hashset_clear(struct hashset *s)
{
    if (s->slot)
        memset(s->slot, 0, (s->mask + 1) * sizeof *s->slot);
    s->count = 0;
}

/* Mixes the low bits: callers pass ids and hashes of structured keys. */
static size_t hashset_home(uint64_t h, size_t mask)
{
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdull;
    h ^= h >> 33;
    return (size_t)h & mask;
}

size_t hashset_find(const struct hashset *s, uint64_t h, hashset_eq_fn eq, const void *ctx,
                    size_t *pos)
{
    if (!s->slot) {
        if (pos)
            *pos = 0;
        return HASHSET_NONE;
    }
    size_t i = hashset_home(h, s->mask);
    while (s->slot[i]) {
        if (s->hash[i] == h && eq(ctx, s->slot[i] - 1))
            return s->slot[i] - 1;
        i = (i + 1) & s->mask;
    }
    if (pos)
        *pos = i;
    return HASHSET_NONE;
}

static void hashset_grow(struct hashset *s)
{
    struct hashset old = *s;
    hashset_init(s, old.mask + 1); /* twice the capacity */
    for (size_t i = 0; i <= old.mask; i++) {
        if (!old.slot[i])
            continue;
        size_t j = hashset_home(old.hash[i], s->mask);
        while (s->slot[j])
            j = (j + 1) & s->mask;
        s->slot[j] = old.slot[i];
        s->hash[j] = old.hash[i];
    }
    s->count = old.count;
    free(old.slot);
    free(old.hash);
}

void hashset_put_at(struct hashset *s, size_t pos, uint64_t h, size_t idx)
{
    if (!s->slot) { /* a zeroed set: allocated on first use */
        hashset_init(s, 0);
        pos = hashset_home(h, s->mask);
    }
    s->slot[pos] = idx + 1;
    s->hash[pos] = h;
    if (++s->count * 2 > s->mask + 1)
        hashset_grow(s);
}

size_t hashset_insert(struct hashset *s, uint64_t h, size_t idx, hashset_eq_fn eq, const void *ctx)
{
    size_t pos;
    size_t found = hashset_find(s, h, eq, ctx, &pos);
    if (found != HASHSET_NONE)
        return found;
    hashset_put_at(s, pos, h, idx);
    return idx;
}

uint64_t hashset_hash_bytes(const void *p, size_t n, bool fold_ascii_case)
{
    const unsigned char *b = p;
    uint64_t h = 0xcbf29ce484222325ull;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = b[i];
        if (fold_ascii_case && c >= 'A' && c <= 'Z')
            c = (unsigned char)(c - 'A' + 'a');
        h = (h ^ c) * 0x100000001b3ull;
    }
    return h;
}
