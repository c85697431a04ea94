/*
 * font_config: the ticker's fontconfig configuration and application font
 * directories (font_config.h has the directory rules).
 *
 * Order matters: the system configuration first (FcInitLoadConfig, with
 * its fallback when /etc/fonts is missing), then kiosk-ticker.conf, so its
 * <match target="font"> assignments win over the system's, and its
 * <selectfont> rules are in place before any font is scanned; then the
 * system fonts, then the application directories.
 */
#include "font_config.h"

#include <ctype.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fontconfig/fontconfig.h>

#include "log.h"
#include "util.h"

#define FONT_CONFIG_MAX_DIRS 32

static FcConfig *font_config_cfg; /* our reference; fontconfig's current one */
static char *font_config_conf;    /* the kiosk-ticker.conf loaded, or NULL */
static char *font_config_error;   /* why the file found did not load, or NULL */
/* What the configuration was built from: the file and the directories
 * with their modification times, so a second call with nothing changed
 * does nothing and a font dropped into a directory is seen on reload. */
static char *font_config_signature;

static bool font_config_is_dir(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

static bool font_config_is_file(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

static void font_config_push(char **dirs, size_t *n, const char *dir, size_t len)
{
    if (len == 0 || *n >= FONT_CONFIG_MAX_DIRS)
        return;
    char *d = kt_strndup(dir, len);
    /* Absolute: fontconfig looks for a relative configuration file in its
     * own directories, not in the working directory. */
    char *abs = realpath(d, NULL);
    if (abs) {
        free(d);
        d = kt_strdup(abs);
        free(abs);
    }
    for (size_t i = 0; i < *n; i++)
        if (strcmp(dirs[i], d) == 0) {
            free(d);
            return;
        }
    dirs[(*n)++] = d;
}

/* PREFIX/share/kiosk-ticker/fonts for the running binary, or NULL. */
static char *font_config_share_dir(void)
{
    char exe[PATH_MAX];
    ssize_t len = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (len <= 0)
        return NULL;
    exe[len] = '\0';
    for (int up = 0; up < 2; up++) {
        char *slash = strrchr(exe, '/');
        if (!slash)
            return NULL;
        *slash = '\0';
    }
    return kt_asprintf("%s/share/kiosk-ticker/fonts", exe);
}

/* Every candidate directory, in order, existing or not. */
static size_t font_config_dirs(const char *const *extra, char **dirs)
{
    size_t n = 0;
    for (size_t i = 0; extra && extra[i]; i++)
        font_config_push(dirs, &n, extra[i], strlen(extra[i]));
    const char *env = getenv("KT_FONT_DIRS");
    while (env && *env) {
        const char *colon = strchr(env, ':');
        size_t len = colon ? (size_t)(colon - env) : strlen(env);
        font_config_push(dirs, &n, env, len);
        env = colon ? colon + 1 : NULL;
    }
    font_config_push(dirs, &n, FONT_CONFIG_ETC_DIR, strlen(FONT_CONFIG_ETC_DIR));
    char *share = font_config_share_dir();
    if (share)
        font_config_push(dirs, &n, share, strlen(share));
    free(share);
    return n;
}

static void font_config_sign(struct kt_buf *b, const char *path)
{
    struct stat st;
    if (stat(path, &st) != 0)
        return;
    kt_buf_printf(b, "%s %lld.%09ld %lld\n", path, (long long)st.st_mtim.tv_sec,
                  (long)st.st_mtim.tv_nsec, (long long)st.st_size);
}

/* Adds the directories that exist as application font directories. */
static void font_config_add_dirs(FcConfig *cfg, char **dirs, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (!font_config_is_dir(dirs[i]))
            continue;
        if (!FcConfigAppFontAddDir(cfg, (const FcChar8 *)dirs[i]))
            kt_log_warn("fonts: cannot read the font directory %s", dirs[i]);
        else
            kt_log_debug("fonts: font directory %s", dirs[i]);
    }
}

/* A fresh configuration: the system's, then conf if not NULL. NULL if
 * fontconfig cannot make one; *conf_ok says whether conf loaded. */
static FcConfig *font_config_build(const char *conf, bool *conf_ok)
{
    *conf_ok = true;
    FcConfig *cfg = FcInitLoadConfig();
    if (!cfg)
        return NULL;
    if (conf && !FcConfigParseAndLoad(cfg, (const FcChar8 *)conf, FcTrue)) {
        /* Half a file may have been applied: start again without it. */
        *conf_ok = false;
        FcConfigDestroy(cfg);
        if (!(cfg = FcInitLoadConfig()))
            return NULL;
    }
    if (!FcConfigBuildFonts(cfg)) {
        FcConfigDestroy(cfg);
        return NULL;
    }
    return cfg;
}

int font_config_init(const char *const *extra_dirs, char *err, size_t errlen)
{
    char *dirs[FONT_CONFIG_MAX_DIRS];
    size_t n = font_config_dirs(extra_dirs, dirs);
    char *conf = NULL;
    struct kt_buf sig;
    kt_buf_init(&sig);
    for (size_t i = 0; i < n; i++) {
        char *c = kt_asprintf("%s/%s", dirs[i], FONT_CONFIG_FILE);
        if (!conf && font_config_is_file(c)) {
            conf = c;
            font_config_sign(&sig, c);
        } else {
            free(c);
        }
    }
    kt_buf_puts(&sig, "--\n");
    for (size_t i = 0; i < n; i++)
        if (font_config_is_dir(dirs[i]))
            font_config_sign(&sig, dirs[i]);

    int rc = 0;
    if (!font_config_cfg || !kt_str_eq(sig.data, font_config_signature)) {
        bool conf_ok;
        FcConfig *cfg = font_config_build(conf, &conf_ok);
        if (cfg) {
            font_config_add_dirs(cfg, dirs, n);
            if (!FcConfigSetCurrent(cfg)) {
                FcConfigDestroy(cfg);
                cfg = NULL;
            }
        }
        if (!cfg) {
            rc = kt_error(err, errlen, "fonts: fontconfig cannot load its configuration");
        } else {
            if (font_config_cfg)
                FcConfigDestroy(font_config_cfg);
            font_config_cfg = cfg;
            free(font_config_signature);
            font_config_signature = kt_buf_steal(&sig);
            free(font_config_conf);
            free(font_config_error);
            font_config_conf = conf_ok ? kt_strdup(conf) : NULL;
            font_config_error =
                conf_ok ? NULL
                        : kt_asprintf("fonts: %s is not a valid fontconfig file (fontconfig "
                                      "said why above); using the system's font configuration",
                                      conf);
            if (!conf)
                kt_log_info("fonts: no %s found; the system's font configuration only",
                            FONT_CONFIG_FILE);
            else if (conf_ok)
                kt_log_debug("fonts: configuration %s", conf);
        }
    }
    if (rc == 0 && font_config_error)
        rc = kt_error(err, errlen, "%s", font_config_error);
    kt_buf_free(&sig);
    free(conf);
    for (size_t i = 0; i < n; i++)
        free(dirs[i]);
    return rc;
}

const char *font_config_file(void)
{
    return font_config_conf;
}

void font_config_done(void)
{
    free(font_config_conf);
    free(font_config_error);
    free(font_config_signature);
    font_config_conf = font_config_error = font_config_signature = NULL;
    /* fontconfig keeps its own reference while the configuration is
     * current (until FcFini or the next font_config_init). */
    if (font_config_cfg)
        FcConfigDestroy(font_config_cfg);
    font_config_cfg = NULL;
}

/* Fontconfig compares family names ignoring case and blanks. */
static bool font_config_family_equal(const FcChar8 *a, const FcChar8 *b)
{
    for (;;) {
        while (*a == ' ')
            a++;
        while (*b == ' ')
            b++;
        if (tolower(*a) != tolower(*b))
            return false;
        if (!*a)
            return true;
        a++;
        b++;
    }
}

static bool font_config_generic(const FcChar8 *fam)
{
    static const char *const generic[] = {"sans-serif", "sans",    "serif",   "monospace",
                                          "mono",       "cursive", "fantasy", "system-ui",
                                          "emoji",      "math"};
    for (size_t i = 0; i < sizeof generic / sizeof generic[0]; i++)
        if (font_config_family_equal(fam, (const FcChar8 *)generic[i]))
            return true;
    return false;
}

/* Does the match bear a family the user wrote? Only the user's own
 * pattern counts: after substitution every fallback family is in it. */
static bool font_config_family_matches(FcPattern *user, FcPattern *match)
{
    bool named = false;
    FcChar8 *want, *got;
    for (int i = 0; FcPatternGetString(user, FC_FAMILY, i, &want) == FcResultMatch; i++) {
        if (font_config_generic(want))
            continue;
        named = true;
        for (int j = 0; FcPatternGetString(match, FC_FAMILY, j, &got) == FcResultMatch; j++)
            if (font_config_family_equal(want, got))
                return true;
    }
    return !named;
}

static int font_config_copy(const char *path, char *out, size_t n)
{
    if (!n)
        return -1;
    size_t len = strlen(path);
    if (len >= n)
        return -1;
    memcpy(out, path, len + 1);
    return 0;
}

int font_config_resolve(const char *font, char *path_out, size_t n, bool *exact)
{
    *exact = false;
    if (n)
        path_out[0] = '\0';
    if (!font || !*font)
        return -1;
    if (strchr(font, '/')) {
        if (!font_config_is_file(font))
            return -1;
        int count = 0;
        FcPattern *q = FcFreeTypeQuery((const FcChar8 *)font, 0, NULL, &count);
        if (!q)
            return -1;
        FcPatternDestroy(q);
        *exact = true;
        return font_config_copy(font, path_out, n);
    }
    FcPattern *user = FcNameParse((const FcChar8 *)font);
    if (!user)
        return -1;
    FcPattern *p = FcPatternDuplicate(user);
    FcConfigSubstitute(NULL, p, FcMatchPattern);
    FcDefaultSubstitute(p);
    FcResult res;
    FcPattern *match = FcFontMatch(NULL, p, &res);
    int rc = -1;
    FcChar8 *file;
    if (match && FcPatternGetString(match, FC_FILE, 0, &file) == FcResultMatch) {
        rc = font_config_copy((const char *)file, path_out, n);
        *exact = rc == 0 && font_config_family_matches(user, match);
    }
    if (match)
        FcPatternDestroy(match);
    FcPatternDestroy(p);
    FcPatternDestroy(user);
    return rc;
}
