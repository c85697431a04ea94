/*
 * sanitize_defaults: the sanitizer run-time options of the KT_SANITIZE=ON
 * build, compiled into every program so that a plain `ctest` in that build
 * uses them (options in $ASAN_OPTIONS etc. still win).
 */
const char *__asan_default_options(void);
const char *__lsan_default_suppressions(void);
const char *__ubsan_default_options(void);
const char *__tsan_default_options(void);
const char *__tsan_default_suppressions(void);

const char *__asan_default_options(void)
{
    return "detect_leaks=1:detect_stack_use_after_return=1:check_initialization_order=1:"
           "strict_init_order=1";
}

const char *__lsan_default_suppressions(void)
{
    /* fontconfig 2.14.1 (Debian 12) loses 288 bytes while parsing its own
     * configuration in FcInit(): a program whose only call is FcInit()
     * shows it. Debian builds fontconfig without frame pointers, so ASan's
     * fast unwinder stops at fontconfig's first frame and the leak can only
     * be named by the library. (Full stacks, fast_unwind_on_malloc=0, would
     * allow "leak:FcInitLoadConfigAndFonts", but make every allocation so
     * slow that loading the system CA store times the TLS tests out.) Our
     * own fontconfig objects are leak-checked with full stacks by valgrind
     * over the font tests in .ci/reliability.sh, whose suppression names
     * FcInitLoadConfigAndFonts exactly (fuzz/valgrind.supp). */
    /* libdbus (SDL's X11 and input back ends open a session-bus
     * connection) keeps a 1 KiB buffer for the process's life that it never
     * frees; same frame-pointer limit as fontconfig. */
    return "leak:libfontconfig.so.1\n"
           "leak:libdbus-1.so.3\n";
}

const char *__ubsan_default_options(void)
{
    return "print_stacktrace=1:halt_on_error=1";
}

const char *__tsan_default_options(void)
{
    /* Every report fails the test that shows it; the second stack of a lock
     * inversion says where the other order was taken. */
    return "halt_on_error=1:second_deadlock_stack=1";
}

const char *__tsan_default_suppressions(void)
{
    /* SDL2 shares pixel-format objects between surfaces under its own
     * spinlock, built from compiler atomics inside the (uninstrumented)
     * library: TSan cannot see that lock, so a format made by the text
     * worker's surface and read through the window's looks like a race.
     * Only frames inside libSDL2 itself are excused. */
    /* Mesa's llvmpipe (the GPU tests under Xvfb) runs its own rasteriser
     * threads and destroys their locks when a context goes: both sides of
     * what TSan reports are inside the uninstrumented driver. */
    return "race:libSDL2-2.0.so.0\n"
           "race:swrast_dri.so\n";
}
