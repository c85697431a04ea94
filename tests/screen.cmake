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
