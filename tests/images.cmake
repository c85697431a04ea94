# The whole screen's images (issue 13): background_image (cover, contain,
# the slideshow through a changing directory with a corrupt file, PNG, JPEG,
# SVG) and feed logos, drawn by the software renderer into a surface and
# checked pixel by pixel; the app font directory; the overlay window's
# properties under the test's own Xvfb.
if(TARGET ktdisplay)
  kt_unit_test(images SOURCES test_images.c LIBS ktdisplay)
  set_property(TEST images APPEND PROPERTY ENVIRONMENT
               SDL_VIDEODRIVER=dummy SDL_AUDIODRIVER=dummy KT_RENDERER=software)
  set_property(TEST images APPEND PROPERTY LABELS display)
endif()
if(TARGET ktdisplay AND NOT CMAKE_CROSSCOMPILING)
  # mode = overlay on the test's own Xvfb, read back with xprop/xwininfo.
  add_test(NAME overlay COMMAND ${KT_PYTHON} ${KT_TEST_DIR}/test_overlay.py ${KT_TICKER})
  set_tests_properties(overlay PROPERTIES TIMEOUT 120 LABELS display)
endif()
if(TARGET ktdisplay AND NOT CMAKE_CROSSCOMPILING)
  # A font only in an app font directory (KT_FONT_DIRS, as /etc/kiosk-ticker/
  # fonts): --check names its file and --screenshot draws with it.
  add_test(NAME fontdir COMMAND ${KT_PYTHON} ${KT_TEST_DIR}/test_fontdir.py ${KT_TICKER})
  set_tests_properties(fontdir PROPERTIES TIMEOUT 120 LABELS display)
endif()
if(TARGET ktdisplay AND NOT CMAKE_CROSSCOMPILING)
  # The background image on the GPU paths (opengl, opengles2 on llvmpipe
  # under the test's own Xvfb) against the software frame.
  kt_unit_test(images_gpu SOURCES test_images_gpu.c LIBS ktdisplay)
  set_property(TEST images_gpu APPEND PROPERTY LABELS display)
  if(KT_SANITIZE)
    # Mesa's GL drivers are dlopen()ed and unloaded before LeakSanitizer runs
    # at exit, so what they keep cannot be named or suppressed (the report
    # says "<unknown module>"). ASan and UBSan still check every access; our
    # own render code is leak-checked by the display tests and valgrind.
    set_property(TEST images_gpu APPEND PROPERTY ENVIRONMENT ASAN_OPTIONS=detect_leaks=0)
  endif()
endif()
