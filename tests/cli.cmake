# The command-line contract, end to end on the shipped demo.
add_test(NAME cli COMMAND ${KT_PYTHON} ${KT_TEST_DIR}/test_cli.py ${KT_TICKER}
                          ${CMAKE_SOURCE_DIR})
# The README's config reference is what --help prints.
add_test(NAME readme COMMAND ${KT_PYTHON} ${CMAKE_SOURCE_DIR}/tools/readme_reference.py --check
                             ${KT_TICKER} ${CMAKE_SOURCE_DIR}/README.md)
if(TARGET ktdisplay)
  # SIGHUP (good and broken config) and SIGTERM on the running ticker.
  add_test(NAME signals COMMAND ${KT_PYTHON} ${KT_TEST_DIR}/test_signals.py
                                ${KT_TICKER} ${CMAKE_SOURCE_DIR})
endif()
# No benchmark machinery in the product: no allocator exported. Not in a
# sanitizer build, whose run-time defines malloc's family in every program.
if(CMAKE_NM AND NOT KT_SANITIZE AND NOT KT_TSAN)
  add_test(NAME exports COMMAND ${KT_PYTHON} ${KT_TEST_DIR}/test_exports.py ${CMAKE_NM}
                                $<TARGET_FILE:kiosk-ticker>)
endif()
if(TARGET ktdisplay)
  # Reloads and hangs on the running ticker, frames watched through the
  # watchdog pings (tests/test_reload.py): SIGHUP at start-up, FIFO and
  # never-answering feeds, a SIGHUP storm over a big document's parse,
  # Retry-After across reloads, SIGTERM in --fetch-once, a failed final
  # save, a local feed cut short.
  add_test(NAME reload COMMAND ${KT_PYTHON} ${KT_TEST_DIR}/test_reload.py ${KT_TICKER}
                               ${KT_TEST_DIR}/http_server.py)
  set_tests_properties(reload PROPERTIES TIMEOUT 300 LABELS slow)
endif()
