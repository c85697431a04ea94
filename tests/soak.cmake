# The month-long soak (tests/test_soak.c): 30 simulated days of the real
# fetcher against tests/http_server.py, time advanced by the injected clock.
# Takes about a minute; KT_SOAK_DAYS=N in the environment shortens it.
# Its figures (RSS, faults exercised) are printed as key=value lines.
kt_unit_test(soak SOURCES test_soak.c LIBS ktnet
             ARGS ${KT_PYTHON} ${CMAKE_CURRENT_SOURCE_DIR}/http_server.py)
set_tests_properties(soak PROPERTIES TIMEOUT 900 LABELS slow)
# Sanitizer builds run it 5 days, with ASan's fast unwinder: the memory
# errors it looks for show in any cycle, and 30 days would take 4 minutes.
if(KT_SANITIZE OR KT_FUZZ)
  set_property(TEST soak APPEND PROPERTY ENVIRONMENT KT_SOAK_DAYS=5
                                                      ASAN_OPTIONS=fast_unwind_on_malloc=1)
elseif(CMAKE_CROSSCOMPILING)
  # Under qemu everything runs ~10x slower: 3 days still cover every fault
  # kind and the ageing; the full month runs natively.
  set_property(TEST soak APPEND PROPERTY ENVIRONMENT KT_SOAK_DAYS=3 KT_SOAK_UNDER_EMULATOR=1)
endif()

# The display in real time with headlines swapped every 3 s
# (tests/display_soak.c): flat memory, no texture leak. 15 s here; CI runs
# the same program for 10 minutes (.ci/reliability.sh).
if(TARGET ktdisplay)
  kt_unit_test(display_soak SOURCES display_soak.c LIBS ktdisplay ARGS 15)
  set_property(TEST display_soak APPEND PROPERTY ENVIRONMENT SDL_VIDEODRIVER=dummy
                                                              KT_RENDERER=software FC_LANG=en)
  set_property(TEST display_soak APPEND PROPERTY LABELS slow)
endif()
