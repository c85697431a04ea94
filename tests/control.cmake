# The control API: its pure helpers (listen address, token file, metrics
# exposition), and the server and command-line client end to end over a
# fake backend with the real curl client (tests/test_api.py).
kt_unit_test(control SOURCES test_control.c)
add_executable(api_fake api_fake.c)
target_link_libraries(api_fake PRIVATE ktnet)
kt_program(_kt_api_fake api_fake)
add_test(NAME api COMMAND ${KT_PYTHON} ${KT_TEST_DIR}/test_api.py ${_kt_api_fake})
set_tests_properties(api PROPERTIES TIMEOUT 300 LABELS slow)

# The control API of the real running ticker (SDL dummy driver, frames
# really drawn) with curl and --post/--clear/--status: auth, every 4xx
# class, messages first in the state, restart keeps them (cache), 100
# concurrent requests while frames keep coming, /healthz, /metrics.
if(TARGET ktdisplay)
  add_test(NAME control_ticker
           COMMAND ${KT_PYTHON} ${KT_TEST_DIR}/test_control_ticker.py ${KT_TICKER})
  set_tests_properties(control_ticker PROPERTIES TIMEOUT 180 LABELS "slow;control")
endif()

# The state document over a real store, the PNG encoder, the frame
# hand-over between the render thread and an asking thread.
kt_unit_test(state SOURCES test_state.c LIBS ktnet)
