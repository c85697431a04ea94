# Display tests: the pure scroll maths always; the SDL ones when the
# display library is built. GUI tests run on SDL's dummy video driver with
# the software renderer, so they need no display and no GPU.
kt_unit_test(scroll SOURCES test_scroll.c)

if(TARGET ktdisplay)
  kt_unit_test(display SOURCES test_display.c $<TARGET_OBJECTS:kt_alloc_count> LIBS ktdisplay)
  target_include_directories(display PRIVATE ${CMAKE_SOURCE_DIR}/bench)
  set_property(TEST display APPEND PROPERTY ENVIRONMENT
               SDL_VIDEODRIVER=dummy SDL_AUDIODRIVER=dummy KT_RENDERER=software)
endif()
if(TARGET ktdisplay AND NOT CMAKE_CROSSCOMPILING)
  # No screen (src/render_probe.c, display.c): one line naming each driver
  # and why it failed, the ticker fetching on, and a screen that appears
  # later (an Xvfb it starts itself) found by the retry.
  add_test(NAME noscreen COMMAND ${KT_PYTHON} ${KT_TEST_DIR}/test_noscreen.py ${KT_TICKER})
  set_tests_properties(noscreen PROPERTIES TIMEOUT 120)
endif()
if(TARGET ktdisplay AND NOT CMAKE_CROSSCOMPILING)
  # The GPU paths (tests/test_gpu.c): a window on the test's own Xvfb with
  # Mesa's llvmpipe, SDL's opengl and opengles2 renderers, frames read back
  # and compared with the software renderer's; tiles, a resize, a device
  # reset. FC_LANG: the same CJK face as the software reference.
  kt_unit_test(gpu SOURCES test_gpu.c LIBS ktdisplay)
  set_property(TEST gpu APPEND PROPERTY ENVIRONMENT FC_LANG=en)
  if(KT_SANITIZE)
    # Mesa's GL drivers are dlopen()ed and unloaded before LeakSanitizer runs
    # at exit, so what they keep cannot be named or suppressed (the report
    # says "<unknown module>"). ASan and UBSan still check every access; our
    # own render code is leak-checked by the display tests and valgrind.
    set_property(TEST gpu APPEND PROPERTY ENVIRONMENT ASAN_OPTIONS=detect_leaks=0)
  endif()
endif()
