# Tests of src/transport.c and, end to end, of the binary against a local
# misbehaving HTTP server (tests/http_server.py).
kt_unit_test(transport SOURCES test_transport.c LIBS ktnet
             ARGS ${KT_PYTHON} ${CMAKE_CURRENT_SOURCE_DIR}/http_server.py)

add_test(NAME http_faults
         COMMAND ${KT_PYTHON} ${CMAKE_CURRENT_SOURCE_DIR}/test_http_faults.py
                 ${KT_TICKER} ${CMAKE_CURRENT_SOURCE_DIR}/http_server.py)
set_tests_properties(http_faults PROPERTIES TIMEOUT 120 LABELS slow)
