# Config, scheduling and the command-line contract.
kt_unit_test(config SOURCES test_config.c)
kt_unit_test(schedule SOURCES test_schedule.c)

# Pure modules must not include SDL or curl: they are tested and fuzzed alone.
add_test(NAME purity
         COMMAND ${KT_PYTHON} ${KT_TEST_DIR}/check_purity.py ${CMAKE_SOURCE_DIR}/src
                 --core ${KT_CORE_SRC} --edge ${KT_NET_SRC} ${KT_DISPLAY_SRC} ${KT_MAIN_SRC})
# The running app (src/app.c): reload, refetch, shutdown and the clock, with
# real workers against tests/http_server.py (tests/test_app.c).
kt_unit_test(app SOURCES test_app.c LIBS ktnet
             ARGS ${KT_PYTHON} ${CMAKE_CURRENT_SOURCE_DIR}/http_server.py)
set_tests_properties(app PROPERTIES TIMEOUT 300 LABELS slow)
# The log prefix: "<N>" only when stderr is the stream JOURNAL_STREAM names.
kt_unit_test(log SOURCES test_log.c)
# The checks that used to let mistakes through, end to end on the binary:
# --check resolves the font, config paths that are not regular files, no
# config found, bounds of numeric options, config text, the log prefix.
if(TARGET ktdisplay)
  set(_kt_have_display 1)
else()
  set(_kt_have_display 0)
endif()
add_test(NAME check COMMAND ${KT_PYTHON} ${KT_TEST_DIR}/test_check.py ${KT_TICKER}
                            ${_kt_have_display})
set_tests_properties(check PROPERTIES TIMEOUT 300)
