/*
 * test_font_config: src/font_config.c with the real fontconfig, the
 * installed fonts and fonts/kiosk-ticker.conf.
 *
 * A font only in the application font directory: the test makes one by
 * renaming the family inside a copy of the installed DejaVu Sans (its
 * 'name' table: "DejaVu" becomes "KTtest", same length, so no table moves;
 * the Bitstream Vera licence of DejaVu allows modified copies under
 * another name). No installed font has the family "KTtest Sans", so it
 * resolves only once the directory is added.
 *
 * Usage: test_font_config SOURCE_FONTS_DIR (the repository's fonts/).
 * Run as "test_font_config --child-share FONT" it checks the directory
 * found next to its own binary (PREFIX/share/kiosk-ticker/fonts).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fontconfig/fontconfig.h>

#include "font_config.h"
#include "tap.h"
#include "tsv.h"
#include "util.h"

#define FAMILY "KTtest Sans"

static char tmp[] = "/tmp/kt-font-config-XXXXXX";

static char *slurp(const char *path, size_t *len)
{
    char *data = NULL, err[KT_ERR_MAX];
    if (kt_read_file(path, 64 << 20, &data, len, err, sizeof err) != 0) {
        fprintf(stderr, "%s\n", err);
        return NULL;
    }
    return data;
}

static int spit(const char *path, const void *data, size_t len)
{
    FILE *f = fopen(path, "wb");
    if (!f)
        return -1;
    size_t n = fwrite(data, 1, len, f);
    return fclose(f) == 0 && n == len ? 0 : -1;
}

static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static uint16_t be16(const uint8_t *p)
{
    return (uint16_t)(p[0] << 8 | p[1]);
}

static void put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24), p[1] = (uint8_t)(v >> 16), p[2] = (uint8_t)(v >> 8),
    p[3] = (uint8_t)v;
}

/* Replaces `from` by `to` (same length) in the strings of the font's
 * 'name' table, as bytes (Macintosh names) and as UTF-16BE (Unicode and
 * Windows names), and fixes the table's checksum. Returns the number of
 * names changed, -1 if the file is not a TrueType/OpenType font. */
static int rename_family(uint8_t *font, size_t len, const char *from, const char *to)
{
    size_t n = strlen(from);
    if (len < 12 || strlen(to) != n)
        return -1;
    uint16_t ntables = be16(font + 4);
    if (12 + (size_t)ntables * 16 > len)
        return -1;
    for (uint16_t i = 0; i < ntables; i++) {
        uint8_t *rec = font + 12 + i * 16;
        if (memcmp(rec, "name", 4) != 0)
            continue;
        uint32_t off = be32(rec + 8), tlen = be32(rec + 12);
        if (off > len || tlen > len - off || tlen < 6)
            return -1;
        uint8_t *t = font + off;
        uint32_t strings = be16(t + 4);
        if (strings > tlen)
            return -1;
        int changed = 0;
        uint8_t wide_from[64], wide_to[64];
        for (size_t k = 0; k < n; k++) {
            wide_from[2 * k] = wide_to[2 * k] = 0;
            wide_from[2 * k + 1] = (uint8_t)from[k];
            wide_to[2 * k + 1] = (uint8_t)to[k];
        }
        for (uint32_t p = strings; p + n <= tlen; p++) {
            if (memcmp(t + p, from, n) == 0) {
                memcpy(t + p, to, n);
                changed++;
            } else if (p + 2 * n <= tlen && memcmp(t + p, wide_from, 2 * n) == 0) {
                memcpy(t + p, wide_to, 2 * n);
                changed++;
            }
        }
        /* Checksum: the sum of the table's big-endian words, zero-padded. */
        uint32_t sum = 0;
        for (uint32_t p = 0; p < tlen; p += 4) {
            uint8_t w[4] = {0, 0, 0, 0};
            memcpy(w, t + p, tlen - p < 4 ? tlen - p : 4);
            sum += be32(w);
        }
        put32(rec + 4, sum);
        return changed;
    }
    return -1;
}

/* A renamed copy of the installed DejaVu Sans at path. */
static int make_brand_font(const char *path, const char *to)
{
    char src[4096];
    bool exact;
    if (font_config_resolve("DejaVu Sans", src, sizeof src, &exact) != 0 || !exact) {
        fprintf(stderr, "DejaVu Sans is not installed (tools/install-deps.sh installs it)\n");
        return -1;
    }
    size_t len;
    uint8_t *font = (uint8_t *)slurp(src, &len);
    if (!font)
        return -1;
    int changed = rename_family(font, len, "DejaVu", to);
    int rc = changed > 0 ? spit(path, font, len) : -1;
    if (changed <= 0)
        fprintf(stderr, "%s: no 'name' table to rename\n", src);
    free(font);
    return rc;
}

static bool starts_with(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

/* The family font.c would draw cp with after a font that is not
 * installed: the first font of fontconfig's sorted list that has it. */
static char *fallback_family(uint32_t cp)
{
    FcPattern *p = FcNameParse((const FcChar8 *)"KT No Such Family");
    FcConfigSubstitute(NULL, p, FcMatchPattern);
    FcDefaultSubstitute(p);
    FcResult res;
    FcFontSet *set = FcFontSort(NULL, p, FcTrue, NULL, &res);
    char *fam = NULL;
    for (int i = 0; set && i < set->nfont && !fam; i++) {
        FcCharSet *cs;
        FcChar8 *f;
        if (FcPatternGetCharSet(set->fonts[i], FC_CHARSET, 0, &cs) == FcResultMatch &&
            FcCharSetHasChar(cs, cp) &&
            FcPatternGetString(set->fonts[i], FC_FAMILY, 0, &f) == FcResultMatch)
            fam = kt_strdup((const char *)f);
    }
    if (set)
        FcFontSetDestroy(set);
    FcPatternDestroy(p);
    return fam;
}

static void test_fallback_order(const char *data_dir)
{
    char *path = kt_asprintf("%s/fonts/fallback.tsv", data_dir);
    size_t len;
    char *data = slurp(path, &len);
    CHECK(data != NULL);
    int rows = 0, lineno = 0;
    char *cur = data, *line;
    while ((line = tsv_next(&cur, &lineno))) {
        char *f[2];
        unsigned cp;
        if (tsv_fields(line, f, 2) != 2 || sscanf(f[0], "U+%x", &cp) != 1) {
            CHECK(!"fallback.tsv row: U+XXXX<TAB>family");
            continue;
        }
        rows++;
        char *fam = fallback_family(cp);
        if (!fam || strcmp(fam, f[1]) != 0)
            fprintf(stderr,
                    "U+%04X: drawn with %s, want %s (is it installed? "
                    "tools/install-deps.sh --test)\n",
                    cp, fam ? fam : "(nothing)", f[1]);
        CHECK_STR(fam, f[1]);
        free(fam);
    }
    CHECK(rows >= 10);
    free(data);
    free(path);
}

/* The rendering settings of the file reach every matched font. */
static void test_render_settings(const char *font)
{
    FcPattern *p = FcNameParse((const FcChar8 *)font);
    FcConfigSubstitute(NULL, p, FcMatchPattern);
    FcDefaultSubstitute(p);
    FcResult res;
    FcPattern *m = FcFontMatch(NULL, p, &res);
    CHECK(m != NULL);
    int v = -1;
    FcBool b = FcFalse;
    CHECK(m && FcPatternGetInteger(m, FC_RGBA, 0, &v) == FcResultMatch && v == FC_RGBA_NONE);
    CHECK(m && FcPatternGetInteger(m, FC_HINT_STYLE, 0, &v) == FcResultMatch &&
          v == FC_HINT_SLIGHT);
    CHECK(m && FcPatternGetInteger(m, FC_LCD_FILTER, 0, &v) == FcResultMatch && v == FC_LCD_NONE);
    CHECK(m && FcPatternGetBool(m, FC_ANTIALIAS, 0, &b) == FcResultMatch && b);
    CHECK(m && FcPatternGetBool(m, FC_EMBEDDED_BITMAP, 0, &b) == FcResultMatch && !b);
    if (m)
        FcPatternDestroy(m);
    FcPatternDestroy(p);
}

static void test_resolve_edges(const char *brand)
{
    char path[4096];
    bool exact = true;
    CHECK_INT(font_config_resolve("/nonexistent/font.ttf", path, sizeof path, &exact), -1);
    CHECK(!exact && path[0] == '\0');
    CHECK_INT(font_config_resolve("/etc/passwd", path, sizeof path, &exact), -1);
    CHECK_INT(font_config_resolve(tmp, path, sizeof path, &exact), -1); /* a directory */
    CHECK_INT(font_config_resolve("", path, sizeof path, &exact), -1);
    CHECK_INT(font_config_resolve(brand, path, sizeof path, &exact), 0);
    CHECK(exact);
    CHECK_STR(path, brand);
    char small[8];
    CHECK_INT(font_config_resolve(brand, small, sizeof small, &exact), -1);
    CHECK_INT(font_config_resolve("sans-serif", path, sizeof path, &exact), 0);
    CHECK(exact && path[0] == '/');
    CHECK_INT(font_config_resolve("monospace:bold", path, sizeof path, &exact), 0);
    CHECK(exact);
    CHECK_INT(font_config_resolve("KT No Such Family", path, sizeof path, &exact), 0);
    CHECK(!exact && path[0] == '/');
    CHECK_INT(font_config_resolve("dejavusans", path, sizeof path, &exact), 0);
    CHECK(exact); /* fontconfig ignores case and blanks in family names */
}

/* Child: runs from a copy of this binary in PREFIX/bin; the fonts of
 * PREFIX/share/kiosk-ticker/fonts must be found with no help. */
static int child_share(const char *prefix)
{
    unsetenv("KT_FONT_DIRS");
    char err[KT_ERR_MAX] = "";
    int rc = font_config_init(NULL, err, sizeof err);
    char *conf = kt_asprintf("%s/share/kiosk-ticker/fonts/%s", prefix, FONT_CONFIG_FILE);
    char path[4096];
    bool exact = false;
    int ok = rc == 0 && font_config_resolve(FAMILY, path, sizeof path, &exact) == 0 && exact &&
             starts_with(path, prefix);
    /* /etc/kiosk-ticker/fonts would come first; on a machine without it
     * the shipped file is the one in use. */
    struct stat st;
    if (stat(FONT_CONFIG_ETC_DIR, &st) != 0)
        ok = ok && kt_str_eq(font_config_file(), conf);
    if (!ok)
        fprintf(stderr, "child: rc %d \"%s\", conf %s, %s -> %s (%s)\n", rc, err,
                font_config_file() ? font_config_file() : "(none)", FAMILY, path,
                exact ? "exact" : "fallback");
    free(conf);
    font_config_done();
    FcFini();
    return ok ? 0 : 1;
}

static int run(char *const argv[])
{
    pid_t pid = fork();
    if (pid == 0) {
        size_t n;
        char **emu = t_emulator_argv(&n);
        if (emu) {
            char *all[64];
            size_t k = 0;
            for (size_t i = 0; i < n && k < 60; i++)
                all[k++] = emu[i];
            for (size_t i = 0; argv[i] && k < 63; i++)
                all[k++] = argv[i];
            all[k] = NULL;
            execvp(all[0], all);
        } else {
            execv(argv[0], argv);
        }
        _exit(127);
    }
    int st;
    if (pid < 0 || waitpid(pid, &st, 0) != pid)
        return -1;
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static int copy_file(const char *from, const char *to, mode_t mode)
{
    size_t len;
    char *data = slurp(from, &len);
    int rc = data ? spit(to, data, len) : -1;
    free(data);
    return rc == 0 ? chmod(to, mode) : -1;
}

static void test_share_dir(const char *source_fonts, const char *brand)
{
    char *bin = kt_asprintf("%s/prefix/bin", tmp);
    char *share = kt_asprintf("%s/prefix/share/kiosk-ticker/fonts", tmp);
    char *mk = kt_asprintf("mkdir -p '%s' '%s'", bin, share);
    CHECK_INT(system(mk), 0);
    char *exe = kt_asprintf("%s/test_font_config", bin);
    char *conf_from = kt_asprintf("%s/%s", source_fonts, FONT_CONFIG_FILE);
    char *conf_to = kt_asprintf("%s/%s", share, FONT_CONFIG_FILE);
    char *font_to = kt_asprintf("%s/our-brand.ttf", share);
    char self[4096];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    CHECK(n > 0);
    self[n > 0 ? n : 0] = '\0';
    CHECK_INT(copy_file(self, exe, 0755), 0);
    CHECK_INT(copy_file(conf_from, conf_to, 0644), 0);
    CHECK_INT(copy_file(brand, font_to, 0644), 0);
    char *prefix = kt_asprintf("%s/prefix", tmp);
    char *const argv[] = {exe, "--child-share", prefix, NULL};
    CHECK_INT(run(argv), 0);
    free(prefix);
    free(font_to);
    free(conf_to);
    free(conf_from);
    free(exe);
    free(mk);
    free(share);
    free(bin);
}

int main(int argc, char **argv)
{
    if (argc == 3 && strcmp(argv[1], "--child-share") == 0)
        return child_share(argv[2]);
    if (argc != 2) {
        fprintf(stderr, "usage: test_font_config SOURCE_FONTS_DIR\n");
        return 2;
    }
    const char *source_fonts = argv[1];
    const char *data_dir = getenv("KT_TEST_DATA");
    if (!mkdtemp(tmp)) {
        perror("mkdtemp");
        return 1;
    }
    /* fontconfig writes caches for the application directories. */
    char *cache = kt_asprintf("%s/cache", tmp);
    setenv("XDG_CACHE_HOME", cache, 1);
    unsetenv("KT_FONT_DIRS");
    char *app = kt_asprintf("%s/app", tmp);
    mkdir(app, 0755);
    char *brand = kt_asprintf("%s/our-brand.ttf", app);

    /* Before: the system configuration; no such family. */
    char path[4096], err[KT_ERR_MAX];
    bool exact = true;
    CHECK_INT(make_brand_font(brand, "KTtest"), 0);
    CHECK_INT(font_config_resolve(FAMILY, path, sizeof path, &exact), 0);
    CHECK(!exact && !starts_with(path, app));
    CHECK(font_config_file() == NULL);

    /* Our file from KT_FONT_DIRS; the app directory not yet. */
    setenv("KT_FONT_DIRS", source_fonts, 1);
    CHECK_INT(font_config_init(NULL, err, sizeof err), 0);
    /* The file in use is named by its absolute path. */
    char *abs_fonts = realpath(source_fonts, NULL);
    CHECK(abs_fonts != NULL);
    char *conf = kt_asprintf("%s/%s", abs_fonts ? abs_fonts : source_fonts, FONT_CONFIG_FILE);
    free(abs_fonts);
    CHECK_STR(font_config_file(), conf);
    CHECK_INT(font_config_resolve(FAMILY, path, sizeof path, &exact), 0);
    CHECK(!exact);
    /* Nothing changed: nothing rebuilt. */
    FcConfig *cur = FcConfigGetCurrent();
    CHECK_INT(font_config_init(NULL, err, sizeof err), 0);
    CHECK(FcConfigGetCurrent() == cur);

    /* With the app directory the family resolves, to the file there. */
    const char *dirs[] = {app, NULL};
    CHECK_INT(font_config_init(dirs, err, sizeof err), 0);
    CHECK(FcConfigGetCurrent() != cur);
    CHECK_INT(font_config_resolve(FAMILY, path, sizeof path, &exact), 0);
    CHECK(exact);
    CHECK_STR(path, brand);
    CHECK_INT(font_config_resolve(FAMILY ":bold", path, sizeof path, &exact), 0);
    CHECK(exact && starts_with(path, app));
    cur = FcConfigGetCurrent();
    CHECK_INT(font_config_init(dirs, err, sizeof err), 0);
    CHECK(FcConfigGetCurrent() == cur);

    test_fallback_order(data_dir ? data_dir : "tests/data");
    test_render_settings(FAMILY);
    test_render_settings("Noto Sans");
    test_resolve_edges(brand);

    /* A font dropped into the directory is found on the next init. */
    struct stat before, after;
    stat(app, &before);
    char *second = kt_asprintf("%s/another.ttf", app);
    CHECK_INT(make_brand_font(second, "KTnext"), 0);
    stat(app, &after);
    if (after.st_mtim.tv_sec == before.st_mtim.tv_sec &&
        after.st_mtim.tv_nsec == before.st_mtim.tv_nsec) {
        /* The file system's clock is coarse: tell it like a later copy. */
        struct timespec ts[2] = {{.tv_nsec = UTIME_OMIT}, {before.st_mtim.tv_sec + 1, 0}};
        utimensat(AT_FDCWD, app, ts, 0);
    }
    CHECK_INT(font_config_resolve("KTnext Sans", path, sizeof path, &exact), 0);
    CHECK(!exact);
    CHECK_INT(font_config_init(dirs, err, sizeof err), 0);
    CHECK_INT(font_config_resolve("KTnext Sans", path, sizeof path, &exact), 0);
    CHECK(exact);
    CHECK_STR(path, second);

    /* A broken kiosk-ticker.conf found first: an error naming it, the
     * system configuration and the directories still in use. */
    char *bad = kt_asprintf("%s/bad", tmp);
    mkdir(bad, 0755);
    char *bad_conf = kt_asprintf("%s/%s", bad, FONT_CONFIG_FILE);
    CHECK_INT(spit(bad_conf, "<fontconfig><match>", 19), 0);
    const char *bad_dirs[] = {bad, app, NULL};
    err[0] = '\0';
    CHECK_INT(font_config_init(bad_dirs, err, sizeof err), -1);
    CHECK(strstr(err, bad_conf) != NULL);
    CHECK(font_config_file() == NULL);
    CHECK_INT(font_config_resolve(FAMILY, path, sizeof path, &exact), 0);
    CHECK(exact);
    /* And again, unchanged: the same error, nothing rebuilt. */
    cur = FcConfigGetCurrent();
    CHECK_INT(font_config_init(bad_dirs, err, sizeof err), -1);
    CHECK(FcConfigGetCurrent() == cur);
    /* Fixed: the good file is used again. */
    CHECK_INT(font_config_init(dirs, err, sizeof err), 0);
    CHECK_STR(font_config_file(), conf);

    test_share_dir(source_fonts, brand);

    font_config_done();
    CHECK(font_config_file() == NULL);
    FcFini(); /* frees the configuration still current, for valgrind */
    char *rm = kt_asprintf("rm -rf '%s'", tmp);
    if (system(rm) != 0)
        fprintf(stderr, "could not remove %s\n", tmp);
    free(rm);
    free(bad_conf);
    free(bad);
    free(second);
    free(conf);
    free(brand);
    free(app);
    free(cache);
    return tap_done();
}
