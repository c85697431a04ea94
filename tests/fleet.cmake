# The fleet: the pure rules (fleet_conf.c, fleet_proto.c) from the tables
# in tests/data/fleet/, then the MQTT client (fleet.c, as fleet_client with
# a fake backend) against a real mosquitto that tests/test_fleet.py starts
# on 127.0.0.1, driven with mosquitto_pub/mosquitto_sub as an operator
# would, with the ACL of docs/fleet.md.
kt_unit_test(fleet_conf SOURCES test_fleet_conf.c)

add_executable(fleet_client test_fleet.c)
target_link_libraries(fleet_client PRIVATE ktnet)
kt_program(_kt_fleet_client fleet_client)
foreach(part mqtt auth limits outage)
  add_test(NAME fleet_${part}
           COMMAND ${KT_PYTHON} ${KT_TEST_DIR}/test_fleet.py ${_kt_fleet_client}
                   ${CMAKE_SOURCE_DIR}/docs/fleet.md ${part})
  set_tests_properties(fleet_${part} PROPERTIES TIMEOUT 240)
endforeach()
# limits (about 20 s) and outage (about 40 s) wait on purpose.
set_tests_properties(fleet_limits fleet_outage PROPERTIES LABELS slow)

# Configuration from a URL (src/remote.c): the real binary against
# tests/http_server.py serving feeds and configs; --fetch-once (applied,
# 304, invalid, unreachable, local-only sections) and the running ticker on
# SDL's dummy driver (applied, 304s, invalid, SIGHUP, a change during
# reloads, a boot with the config server down).
set(_kt_remote_parts fetch_once)
if(TARGET ktdisplay)
  list(APPEND _kt_remote_parts running)
endif()
foreach(part ${_kt_remote_parts})
  add_test(NAME remote_${part}
           COMMAND ${KT_PYTHON} ${KT_TEST_DIR}/test_remote.py ${KT_TICKER}
                   ${KT_TEST_DIR}/http_server.py ${part})
  set_tests_properties(remote_${part} PROPERTIES TIMEOUT 240 LABELS quick)
endforeach()

# The fleet simulation (bench/fleet.py): a real mosquitto, N = 5 real
# tickers on SDL's dummy driver, one HTTP server for their feed and remote
# config; messages to all and to a group, kill -9, a 10 s broker outage, a
# remote config change (polled and pushed). N = 50 is the documented run of
# docs/fleet.md.
if(TARGET ktdisplay)
  add_test(NAME fleet_sim COMMAND ${KT_PYTHON} ${CMAKE_SOURCE_DIR}/bench/fleet.py --ticker
                                  ${KT_TICKER} -n 5 --outage 10 --assert)
  set_tests_properties(fleet_sim PROPERTIES TIMEOUT 600 LABELS slow)
endif()

# The ticker in a fleet (src/app_fleet.c): the real binary on SDL's dummy
# driver against a real mosquitto and tests/http_server.py; the screenshot
# command gets the frame through the render thread's hand-over (capture.h).
if(TARGET ktdisplay)
  add_test(NAME fleet_app COMMAND ${KT_PYTHON} ${KT_TEST_DIR}/test_fleet_app.py ${KT_TICKER}
                                  ${KT_TEST_DIR}/http_server.py)
  add_test(NAME fleet_app_screenshot
           COMMAND ${KT_PYTHON} ${KT_TEST_DIR}/test_fleet_app.py ${KT_TICKER}
                   ${KT_TEST_DIR}/http_server.py screenshot)
  set_tests_properties(fleet_app fleet_app_screenshot PROPERTIES TIMEOUT 240 LABELS quick)
endif()
