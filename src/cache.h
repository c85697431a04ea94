/*
 * cache: the persistent copy of the store, so a screen that boots with no
 * network shows its last headlines at once. Encoding and decoding are pure
 * logic (and a fuzz target); saving is atomic (temporary file, fsync,
 * rename, fsync of the directory), so a power cut leaves the old or the new
 * file, never a broken one. A corrupt, truncated or foreign file is
 * rejected whole with one clear reason.
 */
#ifndef KT_CACHE_H
#define KT_CACHE_H

#include <stddef.h>

#include "store.h"

char *cache_encode(const struct store_dump *d, size_t *len);
int cache_decode(const char *data, size_t len, struct store_dump *d, char *err, size_t errlen);

/* Writes the store's state to path atomically, creating its directory. */
int cache_save(struct store *s, const char *path, char *err, size_t errlen);
/* Reads path into the store. A missing file is not an error (returns 0,
 * nothing restored); anything unreadable or invalid returns -1 with
 * "PATH: reason" and leaves the store as it was. */
int cache_load(struct store *s, const char *path, int64_t now, char *err, size_t errlen);

#endif
