# Config, scheduling and the command-line contract.
kt_unit_test(config SOURCES test_config.c)
kt_unit_test(schedule SOURCES test_schedule.c)

# Pure modules must not include SDL or curl: they are tested and fuzzed alone.
add_test(NAME purity
         COMMAND ${KT_PYTHON} ${KT_TEST_DIR}/check_purity.py ${CMAKE_SOURCE_DIR}/src
                 --core ${KT_CORE_SRC} --edge ${KT_NET_SRC} ${KT_DISPLAY_SRC} ${KT_MAIN_SRC})
# The log prefix: "<N>" only when stderr is the stream JOURNAL_STREAM names.
kt_unit_test(log SOURCES test_log.c)
