/*
 * fuzz: shared bits of the libFuzzer targets. Each target defines
 * LLVMFuzzerTestOneInput; with KT_FUZZ=ON it links libFuzzer's main, in
 * other builds replay_main.c runs it over saved inputs (ctest fuzz_replay_*).
 *
 * FUZZ_CHECK turns a broken contract of the code under test (output that
 * is not valid UTF-8, a cut longer than asked, a round trip that changes a
 * value) into an abort, which libFuzzer reports like a crash: the fuzzer
 * then looks for wrong answers, not only for memory errors.
 */
#ifndef KT_FUZZ_H
#define KT_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

#define FUZZ_CHECK(cond, ...)                                                                      \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "%s:%d: contract broken: %s: ", __FILE__, __LINE__, #cond);            \
            fprintf(stderr, __VA_ARGS__);                                                          \
            fputc('\n', stderr);                                                                   \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

/* A NUL-terminated copy (the functions that take C strings). */
static inline char *fuzz_cstr(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1);
    if (!s)
        abort();
    for (size_t i = 0; i < size; i++)
        s[i] = (char)data[i];
    s[size] = '\0';
    return s;
}

#endif
