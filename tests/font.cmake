# Tests of src/font*.c: real SDL2_ttf rendering with the installed fonts,
# checked pixel by pixel. Surfaces only, so SDL's dummy video driver.
# FC_LANG pins fontconfig's language: which face of the Noto CJK collection
# draws Han characters (JP, SC, KR...) follows the locale otherwise, and
# the variation-selector test needs the Japanese one.
if(TARGET ktdisplay)
  kt_unit_test(font SOURCES test_font.c LIBS ktdisplay)
  set_property(TEST font APPEND PROPERTY ENVIRONMENT SDL_VIDEODRIVER=dummy FC_LANG=en)
endif()
