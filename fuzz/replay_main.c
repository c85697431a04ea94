/*
 * replay_main: runs a fuzz target over saved inputs without libFuzzer, so
 * every build (the plain one and the ASan one included) checks the crash
 * inputs kept in fuzz/regressions/ and the seed documents.
 *
 * Usage: replay_TARGET FILE|DIR...   (directories are walked recursively)
 * Prints the number of inputs run; a broken contract aborts, as in the
 * fuzzer. An argument that does not exist is an error, never a skip.
 */
#define _XOPEN_SOURCE 700
#include "fuzz.h"

#include <ftw.h>
#include <string.h>
#include <sys/stat.h>

/* Only some targets define it; libFuzzer treats it as weak too. */
#pragma weak LLVMFuzzerInitialize

static size_t replay_count;

static int replay_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        perror(path);
        return -1;
    }
    size_t cap = 4096, len = 0;
    uint8_t *data = malloc(cap);
    size_t n;
    while (data && (n = fread(data + len, 1, cap - len, f)) > 0) {
        len += n;
        if (len == cap)
            data = realloc(data, cap *= 2);
    }
    fclose(f);
    if (!data)
        abort();
    /* An exact-size copy, so ASan sees reads past the input's end. */
    uint8_t *exact = malloc(len ? len : 1);
    memcpy(exact, data, len);
    free(data);
    LLVMFuzzerTestOneInput(exact, len);
    free(exact);
    replay_count++;
    return 0;
}

static int replay_visit(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
    (void)st;
    (void)ftw;
    if (type == FTW_F)
        return replay_file(path);
    return 0;
}

int main(int argc, char **argv)
{
    if (LLVMFuzzerInitialize)
        LLVMFuzzerInitialize(&argc, &argv);
    for (int i = 1; i < argc; i++) {
        struct stat st;
        if (stat(argv[i], &st) != 0) {
            perror(argv[i]);
            return 1;
        }
        if (S_ISDIR(st.st_mode) ? nftw(argv[i], replay_visit, 16, FTW_PHYS) != 0
                                : replay_file(argv[i]) != 0)
            return 1;
    }
    printf("%zu inputs replayed\n", replay_count);
    return replay_count > 0 ? 0 : 1;
}
