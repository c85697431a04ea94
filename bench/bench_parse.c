/*
 * kt-bench-parse: parsing throughput and peak memory for one feed document.
 *
 *   kt-bench-parse [--label NAME] [--runs N] FILE
 *
 * Prints key=value lines prefixed with parse_NAME_:
 *   bytes, items            the document and what feed_parse found in it
 *   mb_s                    feed_parse alone, MB/s (10^6 bytes), median of N runs
 *   headlines_mb_s          feed_parse + headline_from_doc (what a refresh
 *                           costs before the store), median of N runs
 *   peak_heap_kib           most heap live at once during one parse and
 *                           normalisation, above what was live before (the
 *                           document's own buffer excluded: the fetcher
 *                           holds it anyway)
 *   peak_ratio              peak_heap / document size
 *   peak_rss_kib            growth of the process's peak RSS over that same
 *                           first run (page granularity; counts allocator
 *                           slack that peak_heap does not)
 *
 * The heap is measured by interposing malloc and friends (as
 * bench/alloc_count.c does): the program's definitions win over
 * libc's for libxml2, json-c and iconv too, and forward to glibc's
 * allocator; malloc_usable_size gives the bytes each block holds. Skipped
 * under sanitizers (they bring their own allocator): peak_heap_kib is then
 * "unknown".
 */
#include <errno.h>
#include <malloc.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "feed.h"
#include "headline.h"
#include "store.h"

#if defined(__GLIBC__) && !defined(__SANITIZE_ADDRESS__) && !defined(__SANITIZE_THREAD__)
#define BENCH_INTERPOSE 1
#endif
#if defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer) ||                         \
    __has_feature(memory_sanitizer)
#undef BENCH_INTERPOSE
#endif
#endif

/* Single-threaded program: plain counters. */
static size_t bench_live, bench_peak;

#ifdef BENCH_INTERPOSE
void *__libc_malloc(size_t n);
void *__libc_calloc(size_t n, size_t size);
void *__libc_realloc(void *p, size_t n);
void __libc_free(void *p);
void *__libc_memalign(size_t align, size_t n);

static void *bench_track(void *p)
{
    if (p) {
        bench_live += malloc_usable_size(p);
        if (bench_live > bench_peak)
            bench_peak = bench_live;
    }
    return p;
}

void *malloc(size_t n)
{
    return bench_track(__libc_malloc(n));
}

void *calloc(size_t n, size_t size)
{
    return bench_track(__libc_calloc(n, size));
}

void *realloc(void *p, size_t n)
{
    size_t old = p ? malloc_usable_size(p) : 0;
    void *q = __libc_realloc(p, n);
    if (!q)
        return NULL; /* p is still live, unchanged */
    bench_live -= old;
    return bench_track(q);
}

void free(void *p)
{
    if (p)
        bench_live -= malloc_usable_size(p);
    __libc_free(p);
}

void *memalign(size_t align, size_t n)
{
    return bench_track(__libc_memalign(align, n));
}

void *aligned_alloc(size_t align, size_t n)
{
    return bench_track(__libc_memalign(align, n));
}

int posix_memalign(void **out, size_t align, size_t n)
{
    if (align < sizeof(void *) || (align & (align - 1)) != 0)
        return EINVAL;
    void *p = bench_track(__libc_memalign(align, n));
    if (!p)
        return ENOMEM;
    *out = p;
    return 0;
}
#endif

static double bench_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* VmHWM or VmRSS from /proc/self/status, in KiB; -1 when unreadable. */
static long bench_status_kib(const char *key)
{
    FILE *f = fopen("/proc/self/status", "r");
    if (!f)
        return -1;
    char line[256];
    long v = -1;
    size_t n = strlen(key);
    while (fgets(line, sizeof line, f))
        if (strncmp(line, key, n) == 0 && line[n] == ':') {
            v = strtol(line + n + 1, NULL, 10);
            break;
        }
    fclose(f);
    return v;
}

static int bench_cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double bench_median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, bench_cmp);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static char *bench_read(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    struct stat st;
    if (!f || fstat(fileno(f), &st) < 0) {
        if (f)
            fclose(f);
        return NULL;
    }
    /* One exact-size buffer: reading must not raise the peak RSS that the
     * parse is measured against. */
    char *buf = malloc((size_t)st.st_size + 1);
    size_t n = buf ? fread(buf, 1, (size_t)st.st_size, f) : 0;
    fclose(f);
    if (!buf || n != (size_t)st.st_size) {
        free(buf);
        return NULL;
    }
    buf[n] = '\0';
    *len = n;
    return buf;
}

/* One parse (and, with normalise, the headlines). Returns the entry count
 * or -1. */
static long bench_once(const char *data, size_t len, bool normalise, char *err, size_t errlen)
{
    struct feed_doc doc;
    struct feed_parse_opts opts = {.base_url = "http://127.0.0.1/feed"};
    if (feed_parse(data, len, &opts, &doc, err, errlen) < 0)
        return -1;
    long n = (long)doc.n_entries;
    if (normalise) {
        struct store_item *items = NULL;
        size_t k = headline_from_doc(&doc, NULL, 200, &items);
        store_items_free(items, k);
    }
    feed_doc_free(&doc);
    return n;
}

int main(int argc, char **argv)
{
    const char *label = "doc", *path = NULL;
    int runs = 5;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--label") == 0 && i + 1 < argc)
            label = argv[++i];
        else if (strcmp(argv[i], "--runs") == 0 && i + 1 < argc)
            runs = atoi(argv[++i]);
        else if (argv[i][0] != '-' && !path)
            path = argv[i];
        else {
            fprintf(stderr, "usage: kt-bench-parse [--label NAME] [--runs N] FILE\n");
            return 2;
        }
    }
    if (!path || runs < 1 || runs > 1000) {
        fprintf(stderr, "usage: kt-bench-parse [--label NAME] [--runs N] FILE\n");
        return 2;
    }
    size_t len;
    char *data = bench_read(path, &len);
    if (!data) {
        fprintf(stderr, "kt-bench-parse: cannot read %s: %s\n", path, strerror(errno));
        return 1;
    }

    /* First run: memory. Peak RSS before is the baseline (the document is
     * read and resident). */
    char err[256];
    long rss0 = bench_status_kib("VmHWM");
    size_t live0 = bench_live;
    bench_peak = bench_live;
    long items = bench_once(data, len, true, err, sizeof err);
    if (items < 0) {
        fprintf(stderr, "kt-bench-parse: %s: %s\n", path, err);
        return 1;
    }
    size_t peak = bench_peak - live0;
    long rss1 = bench_status_kib("VmHWM");

    double *parse_s = malloc((size_t)runs * sizeof *parse_s);
    double *full_s = malloc((size_t)runs * sizeof *full_s);
    for (int r = 0; r < runs; r++) {
        double t0 = bench_now();
        bench_once(data, len, false, err, sizeof err);
        double t1 = bench_now();
        bench_once(data, len, true, err, sizeof err);
        double t2 = bench_now();
        parse_s[r] = t1 - t0;
        full_s[r] = t2 - t1;
    }
    double mb = (double)len / 1e6;
    printf("parse_%s_bytes=%zu\n", label, len);
    printf("parse_%s_items=%ld\n", label, items);
    printf("parse_%s_mb_s=%.1f\n", label, mb / bench_median(parse_s, runs));
    printf("parse_%s_headlines_mb_s=%.1f\n", label, mb / bench_median(full_s, runs));
#ifdef BENCH_INTERPOSE
    printf("parse_%s_peak_heap_kib=%zu\n", label, peak / 1024);
    printf("parse_%s_peak_ratio=%.2f\n", label, (double)peak / (double)len);
#else
    (void)peak;
    printf("parse_%s_peak_heap_kib=unknown\n", label);
    printf("parse_%s_peak_ratio=unknown\n", label);
#endif
    if (rss0 >= 0 && rss1 >= 0)
        printf("parse_%s_peak_rss_kib=%ld\n", label, rss1 - rss0);
    free(parse_s);
    free(full_s);
    free(data);
    return 0;
}
