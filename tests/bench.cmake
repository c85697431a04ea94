# Not in sanitizer builds (callgrind cannot run an ASan binary) nor in cross
# builds (the benchmark measures the machine it runs on, not qemu).
if(NOT KT_SANITIZE AND NOT CMAKE_CROSSCOMPILING)
# The benchmark must run: bench/run.sh --quick is a smoke pass of every
# part (frame cost, callgrind, memory, parsing, start-up, syscalls, the side
# by side). Its timings are printed, never judged; --assert fails only on
# counts that do not depend on the machine (steady-state allocations and
# rasterisations, file or network syscalls of the display thread) or on a
# figure missing from the output. Needs bench/ built (kt-bench-parse).
if(TARGET ktdisplay)
  add_test(NAME bench COMMAND sh ${CMAKE_SOURCE_DIR}/bench/run.sh --quick --assert --build
                              ${CMAKE_BINARY_DIR})
  set_tests_properties(bench PROPERTIES TIMEOUT 600 LABELS slow)
endif()
endif()
