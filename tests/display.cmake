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
