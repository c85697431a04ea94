/*
 * alloc_count: counts heap allocations, for the benchmark's
 * "steady_allocs" and the display tests (a steady-state frame must
 * allocate nothing). Linked into kt-bench-frames and the tests only, never
 * into kiosk-ticker: a product that exports malloc is not the product.
 *
 * glibc 2.34 removed __malloc_hook, and mallinfo2() deltas miss an
 * allocation freed within the same frame. So this file interposes malloc,
 * calloc, realloc, free and the aligned variants: the program's own
 * definitions win over libc's for every caller, SDL and Mesa included,
 * and forward to glibc's real allocator (__libc_malloc and friends), so
 * memory from any path can be freed by any other. Counting is per thread
 * (only the thread that asked is counted: the fetcher thread's allocations
 * are not the frame loop's) and costs one thread-local test per call.
 *
 * Interposing is skipped under sanitizers (they bring their own malloc);
 * there the sanitizer's malloc hook counts instead, so the steady-state
 * checks also run in the ASan build. Off glibc without a sanitizer the
 * counter reports that it does not work.
 */
#include "alloc_count.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#if defined(__GLIBC__) && !defined(__SANITIZE_ADDRESS__) && !defined(__SANITIZE_THREAD__)
#define ALLOC_INTERPOSE 1
#endif
#if defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer) ||                         \
    __has_feature(memory_sanitizer)
#undef ALLOC_INTERPOSE
#endif
#endif

/* initial-exec: no lazy TLS allocation (which would call malloc). */
static __thread int alloc_counting __attribute__((tls_model("initial-exec")));
static __thread uint64_t alloc_allocs __attribute__((tls_model("initial-exec")));

#ifdef ALLOC_INTERPOSE
void *__libc_malloc(size_t n);
void *__libc_calloc(size_t n, size_t size);
void *__libc_realloc(void *p, size_t n);
void __libc_free(void *p);
void *__libc_memalign(size_t align, size_t n);

static inline void alloc_count_one(void)
{
    if (alloc_counting)
        alloc_allocs++;
}

void *malloc(size_t n)
{
    alloc_count_one();
    return __libc_malloc(n);
}

void *calloc(size_t n, size_t size)
{
    alloc_count_one();
    return __libc_calloc(n, size);
}

void *realloc(void *p, size_t n)
{
    alloc_count_one();
    return __libc_realloc(p, n);
}

void free(void *p)
{
    __libc_free(p);
}

void *memalign(size_t align, size_t n)
{
    alloc_count_one();
    return __libc_memalign(align, n);
}

void *aligned_alloc(size_t align, size_t n)
{
    alloc_count_one();
    return __libc_memalign(align, n);
}

int posix_memalign(void **out, size_t align, size_t n)
{
    /* power of two, multiple of sizeof(void *): as POSIX requires */
    if (align < sizeof(void *) || (align & (align - 1)) != 0)
        return EINVAL;
    alloc_count_one();
    void *p = __libc_memalign(align, n);
    if (!p)
        return ENOMEM;
    *out = p;
    return 0;
}
#endif

#if defined(__SANITIZE_ADDRESS__)
#define ALLOC_SANITIZER_HOOKS 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define ALLOC_SANITIZER_HOOKS 1
#endif
#endif
#if defined(ALLOC_SANITIZER_HOOKS) && !defined(ALLOC_INTERPOSE)
/* From <sanitizer/allocator_interface.h>, which GCC does not install. The
 * hook runs on every allocation of the process, malloc, calloc, realloc and
 * the aligned ones, from any library. */
int __sanitizer_install_malloc_and_free_hooks(void (*malloc_hook)(const volatile void *, size_t),
                                              void (*free_hook)(const volatile void *));

static void alloc_san_malloc(const volatile void *p, size_t n)
{
    (void)p;
    (void)n;
    if (alloc_counting)
        alloc_allocs++;
}

static void alloc_san_free(const volatile void *p)
{
    (void)p;
}

__attribute__((constructor)) static void alloc_san_install(void)
{
    __sanitizer_install_malloc_and_free_hooks(alloc_san_malloc, alloc_san_free);
}
#endif

void alloc_count_start(void)
{
    alloc_allocs = 0;
    alloc_counting = 1;
}

uint64_t alloc_count_stop(void)
{
    alloc_counting = 0;
    return alloc_allocs;
}

bool alloc_count_works(void)
{
    /* Through libc (strdup calls malloc by its public name): what counts
     * is that other libraries' allocations reach the counter, and a call
     * from this file could be inlined past any replacement. */
    alloc_count_start();
    /* Through a volatile pointer: clang deletes a strdup whose result is
     * only freed, which made this false in every clang build. */
    char *(*volatile dup)(const char *) = strdup;
    char *p = dup("x");
    free(p);
    return alloc_count_stop() == 1;
}
