/*
 * fuzz_text: the text normaliser (entities, markup, whitespace, UTF-8
 * repair, cutting, first sentence) on arbitrary bytes, HTML and plain.
 * Checks the contracts text.h states, not just memory safety.
 */
#include "fuzz.h"

#include <string.h>

#include "filter.h"
#include "text.h"
#include "unicode.h"
#include "util.h"

static struct filter *fuzz_exclude;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    static const char *const pats[] = {"subscrib", "^advert"};
    char err[KT_ERR_MAX];
    fuzz_exclude = filter_new(pats, 2, err, sizeof err);
    if (!fuzz_exclude)
        abort();
    return 0;
}

/* text_plain's promise: one line of valid UTF-8, no control characters,
 * nothing to trim. */
static void fuzz_check_plain(const char *s, const char *what)
{
    size_t n = strlen(s);
    FUZZ_CHECK(uni_valid(s, n), "%s: invalid UTF-8", what);
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        FUZZ_CHECK(c >= 0x20 && c != 0x7F, "%s: control byte 0x%02X at %zu", what, c, i);
    }
    FUZZ_CHECK(n == 0 || (s[0] != ' ' && s[n - 1] != ' '), "%s: not trimmed", what);
    /* bidi embeddings and isolates balanced, no ESC stand-in, at most 8
     * marks in a row, no Unicode space at either end */
    int open_embed[64], depth = 0, marks = 0;
    uint32_t first = 0, last = 0;
    for (size_t i = 0; i < n;) {
        uint32_t cp;
        i += uni_decode(s + i, n - i, &cp);
        if (!first)
            first = cp;
        last = cp;
        FUZZ_CHECK(cp != UNI_ESC_STANDIN, "%s: ESC stand-in left", what);
        marks = uni_is_mark(cp) ? marks + 1 : 0;
        FUZZ_CHECK(marks <= 8, "%s: more than 8 marks in a row", what);
        enum uni_bidi k = uni_bidi_kind(cp);
        if (k == UNI_BIDI_EMBED || k == UNI_BIDI_ISOLATE) {
            FUZZ_CHECK(depth < 64, "%s: bidi too deep", what);
            if (depth < 64)
                open_embed[depth++] = k;
        } else if (k == UNI_BIDI_PDF) {
            FUZZ_CHECK(depth > 0 && open_embed[depth - 1] == UNI_BIDI_EMBED, "%s: stray PDF", what);
            if (depth > 0)
                depth--;
        } else if (k == UNI_BIDI_PDI) {
            while (depth > 0 && open_embed[depth - 1] != UNI_BIDI_ISOLATE)
                depth--;
            FUZZ_CHECK(depth > 0, "%s: stray PDI", what);
            if (depth > 0)
                depth--;
        }
    }
    FUZZ_CHECK(depth == 0, "%s: %d bidi controls left open", what, depth);
    FUZZ_CHECK(n == 0 || (!uni_is_space(first) && !uni_is_space(last)),
               "%s: Unicode space at an end", what);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!fuzz_exclude)
        LLVMFuzzerInitialize(NULL, NULL);
    const char *in = (const char *)data;

    char *html = text_plain(in, size, true);
    fuzz_check_plain(html, "text_plain(html)");
    char *plain = text_plain(in, size, false);
    fuzz_check_plain(plain, "text_plain(plain)");

    size_t max = 1 + size % 64;
    char *cut = text_cut(html, max);
    FUZZ_CHECK(uni_valid(cut, strlen(cut)), "text_cut: invalid UTF-8");
    FUZZ_CHECK(uni_count(cut, strlen(cut)) <= max, "text_cut: %zu code points, max %zu",
               uni_count(cut, strlen(cut)), max);
    if (uni_count(html, strlen(html)) <= max)
        FUZZ_CHECK(strcmp(cut, html) == 0, "text_cut changed a short enough text");
    free(cut);

    char *first = text_first_sentence(in, size, size & 1, fuzz_exclude);
    if (first)
        fuzz_check_plain(first, "text_first_sentence");
    free(first);

    char *rep = uni_repair(in, size);
    size_t rlen = strlen(rep);
    if (memchr(in, '\0', size) == NULL) {
        FUZZ_CHECK(uni_valid(rep, rlen), "text_utf8_repair: still invalid");
        if (uni_valid(in, size))
            FUZZ_CHECK(rlen == size && memcmp(rep, in, size) == 0,
                       "text_utf8_repair changed valid UTF-8");
    }
    free(rep);

    const char *ent = text_entity_lookup(in, size < 40 ? size : 40);
    if (ent)
        FUZZ_CHECK(uni_valid(ent, strlen(ent)), "entity expansion: invalid UTF-8");

    free(html);
    free(plain);
    return 0;
}
