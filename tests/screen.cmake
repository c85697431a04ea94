# The whole screen (issue 13): office hours and day-parts, the clock
# format, and the ticker's own font configuration.
kt_unit_test(hours SOURCES test_hours.c)
kt_unit_test(clock_format SOURCES test_clock_format.c)

# The fontconfig setup: real fontconfig, the installed fonts (DejaVu, Noto,
# Noto CJK: tools/install-deps.sh --test) and fonts/kiosk-ticker.conf.
# FC_LANG pins the language, which picks the CJK face.
if(TARGET ktdisplay)
  kt_unit_test(font_config SOURCES test_font_config.c LIBS ktdisplay
               ARGS ${CMAKE_SOURCE_DIR}/fonts)
  set_property(TEST font_config APPEND PROPERTY ENVIRONMENT FC_LANG=en)
  set_property(TEST font_config APPEND PROPERTY LABELS display)
endif()

# The screen drawn (tests/test_screen.c): alert banner and takeover
# colours, headlines resuming after an alert, rotation, the clock box,
# office hours; software renderer, dummy video driver.
if(TARGET ktdisplay)
  kt_unit_test(screen SOURCES test_screen.c LIBS ktdisplay)
  set_property(TEST screen APPEND PROPERTY ENVIRONMENT
               SDL_VIDEODRIVER=dummy SDL_AUDIODRIVER=dummy KT_RENDERER=software FC_LANG=en)
  set_property(TEST screen APPEND PROPERTY LABELS quick display)
endif()
