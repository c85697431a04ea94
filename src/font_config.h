/*
 * font_config: the ticker's own fontconfig setup (display edge:
 * fontconfig only, no SDL).
 *
 * The ticker uses the system's fontconfig configuration plus its own file,
 * kiosk-ticker.conf (fallback order for the scripts news comes in,
 * rendering settings for large text on a TV; fonts/ in the source tree),
 * loaded after the system's so it has the last word for this process
 * only. Font files in the application font directories are usable by
 * family name in `font =` without installing them system-wide.
 *
 * Directories, in this order (those that do not exist are skipped):
 *   1. extra_dirs, as the caller passes them
 *   2. $KT_FONT_DIRS, colon-separated (tests; a run from the build tree:
 *      KT_FONT_DIRS=fonts ./build/kiosk-ticker)
 *   3. /etc/kiosk-ticker/fonts (the operator's: brand fonts, or a
 *      kiosk-ticker.conf of their own)
 *   4. PREFIX/share/kiosk-ticker/fonts, PREFIX being the directory above
 *      the one the running binary is in (/usr for /usr/bin/kiosk-ticker),
 *      so any install prefix works without a path compiled in
 * Every one of them is an application font directory; the configuration
 * file is the first kiosk-ticker.conf found in them, so a copy in /etc
 * replaces the shipped one.
 */
#ifndef KT_FONT_CONFIG_H
#define KT_FONT_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

#define FONT_CONFIG_FILE "kiosk-ticker.conf"
#define FONT_CONFIG_ETC_DIR "/etc/kiosk-ticker/fonts"

/* Builds the configuration and makes it fontconfig's current one. Call it
 * before the first font is opened, from one thread. Calling it again (a
 * reload) does nothing when the file and the directories are unchanged,
 * and rebuilds everything when one changed (a font dropped into a
 * directory changes its modification time). extra_dirs is NULL-terminated,
 * or NULL.
 * 0 on success. -1 with err when kiosk-ticker.conf does not load: the
 * system configuration (with the font directories) is current then, so
 * text still renders. */
int font_config_init(const char *const *extra_dirs, char *err, size_t errlen);

/* The kiosk-ticker.conf in use, NULL if none (before init, or none found). */
const char *font_config_file(void);

/* Which file a `font =` value is drawn with: a path (any value with a '/')
 * is itself, if it is a font file; otherwise the value is a fontconfig
 * pattern ("DejaVu Sans:bold") and the file is fontconfig's best match
 * with the current configuration. *exact: the match is the family the
 * value names (case and blanks ignored), or the value names no family or
 * only generic ones (sans-serif, monospace, ...); false means a fallback
 * font stands in. Returns 0 with the path in path_out, -1 if nothing
 * resolves (no such file, not a font file, an unparsable pattern, no
 * fonts at all). Safe before font_config_init (the system configuration
 * then). */
int font_config_resolve(const char *font, char *path_out, size_t n, bool *exact);

/* Forgets the configuration (tests, exit under valgrind): the next
 * font_config_init builds afresh. fontconfig keeps using it until then
 * or FcFini(). */
void font_config_done(void);

#endif
