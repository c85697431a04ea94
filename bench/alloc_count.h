/*
 * alloc_count: heap allocations made by the calling thread while counting
 * (alloc_count.c interposes malloc and friends; under a sanitizer its
 * malloc hook counts instead). alloc_count_works() is false when neither
 * is in effect. For the benchmark and the tests, never the product.
 */
#ifndef KT_ALLOC_COUNT_H
#define KT_ALLOC_COUNT_H

#include <stdbool.h>
#include <stdint.h>

void alloc_count_start(void);
uint64_t alloc_count_stop(void);
bool alloc_count_works(void);

#endif
