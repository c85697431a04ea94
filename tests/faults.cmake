# Environment faults on the real program (tests/test_faults.py): missing,
# unreadable or corrupt fonts, no fonts at all, forced or missing renderers,
# no audio or input devices, no video driver, unwritable paths. Each ends in
# a working fallback or a clear message, never a crash.
if(TARGET ktdisplay)
  add_test(NAME faults COMMAND ${KT_PYTHON} ${KT_TEST_DIR}/test_faults.py
                               ${KT_TICKER} ${CMAKE_SOURCE_DIR})
  set_tests_properties(faults PROPERTIES TIMEOUT 180 LABELS slow)
endif()
