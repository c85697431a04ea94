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

/* Never writes what cache_decode would refuse: past its limits, the rest
 * of a feed's records are left out. */
char *cache_encode(const struct store_dump *d, size_t *len);
int cache_decode(const char *data, size_t len, struct store_dump *d, char *err, size_t errlen);

/* The cache file of a running program: every save goes through it, under
 * one lock for the whole process, and a save whose bytes the file already
 * holds is not written (an SD card wears with every write). */
struct cache_file;
struct cache_file *cache_file_new(const char *path);
void cache_file_free(struct cache_file *cf);
const char *cache_file_path(const struct cache_file *cf);
/* As cache_load, and remembers the bytes read. */
int cache_file_load(struct cache_file *cf, struct store *s, int64_t now, char *err, size_t errlen);
/* Writes the store's state unless the file holds exactly these bytes
 * already. Returns 1 written, 0 not needed, -1 failed (err says why). Logs
 * a failure once per distinct reason, and the first success after one. */
int cache_file_save(struct cache_file *cf, struct store *s, char *err, size_t errlen);

/* One-off forms (tests, tools): write the store's state to path
 * atomically, creating its directory; read path into the store. A missing
 * file is not an error (returns 0, nothing restored); anything unreadable
 * or invalid returns -1 with "PATH: reason" and leaves the store as it was. */
int cache_save(struct store *s, const char *path, char *err, size_t errlen);
int cache_load(struct store *s, const char *path, int64_t now, char *err, size_t errlen);

/* Writes data to path atomically, as the cache is written: the directory
 * made if missing, a temporary file beside it, fsync, rename, fsync of the
 * directory, so a power cut leaves the old file or the new one. One writer
 * per path at a time (the temporary name is the path and the PID). 0, or
 * -1 with "PATH: reason" in err. */
int cache_write_file(const char *path, const char *data, size_t len, char *err, size_t errlen);

#endif
