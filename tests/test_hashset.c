/*
 * test_hashset: the index set both ways it is used: strings de-duplicated
 * by hash + equality (store, xml_repair), and ids mapped to positions with
 * the id as its own hash (scroll); growth past the initial size, colliding
 * hashes told apart by the callback, clear.
 */
#include "hashset.h"
#include "tap.h"
#include "util.h"

#include <stdio.h>
#include <string.h>

struct words {
    char (*w)[16];
    const char *key;
};

static bool words_eq(const void *ctx, size_t idx)
{
    const struct words *k = ctx;
    return strcmp(k->w[idx], k->key) == 0;
}

static bool ids_eq(const void *ctx, size_t idx)
{
    const uint64_t *const *k = ctx;
    return k[0][idx] == *k[1];
}

int main(void)
{
    enum { N = 5000 };
    static char w[N][16];
    struct hashset s;
    hashset_init(&s, 4); /* far too small: must grow */
    for (size_t i = 0; i < N; i++) {
        snprintf(w[i], sizeof w[i], "word%zu", i % 2500); /* each twice */
        struct words k = {w, w[i]};
        size_t got =
            hashset_insert(&s, hashset_hash_bytes(w[i], strlen(w[i]), false), i, words_eq, &k);
        CHECK_INT(got, i < 2500 ? i : i - 2500);
    }
    CHECK_INT(s.count, 2500);
    struct words miss = {w, "absent"};
    CHECK(hashset_find(&s, hashset_hash_bytes("absent", 6, false), words_eq, &miss, NULL) ==
          HASHSET_NONE);

    /* every hash the same: only the callback tells them apart */
    hashset_clear(&s);
    CHECK_INT(s.count, 0);
    for (size_t i = 0; i < 100; i++) {
        struct words k = {w, w[i]};
        CHECK_INT(hashset_insert(&s, 42, i, words_eq, &k), i);
    }
    for (size_t i = 0; i < 100; i++) {
        struct words k = {w, w[i]};
        CHECK_INT(hashset_find(&s, 42, words_eq, &k, NULL), i);
    }
    hashset_free(&s);

    /* ids as their own hash, find + put_at as the store does */
    static uint64_t ids[N];
    struct hashset m;
    memset(&m, 0, sizeof m); /* a zeroed set works without init */
    for (size_t i = 0; i < N; i++) {
        ids[i] = (uint64_t)i * 0x100000000ull; /* low bits all zero */
        const uint64_t *k[2] = {ids, &ids[i]};
        size_t pos;
        CHECK(hashset_find(&m, ids[i], ids_eq, k, &pos) == HASHSET_NONE);
        hashset_put_at(&m, pos, ids[i], i);
    }
    size_t wrong = 0;
    for (size_t i = 0; i < N; i++) {
        const uint64_t *k[2] = {ids, &ids[i]};
        wrong += hashset_find(&m, ids[i], ids_eq, k, NULL) != i;
    }
    CHECK_INT(wrong, 0);
    CHECK(hashset_hash_bytes("ABC", 3, true) == hashset_hash_bytes("abc", 3, false));
    CHECK(hashset_hash_bytes("ABC", 3, false) != hashset_hash_bytes("abc", 3, false));
    hashset_free(&m);
    return tap_done();
}
