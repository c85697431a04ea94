# systemd notifications (src/notify.c): the protocol on a socket the test
# binds, and end to end on the running ticker (READY=1 after the first
# frame, WATCHDOG=1 at half of WATCHDOG_USEC while frames are drawn,
# STOPPING=1 on SIGTERM).
kt_unit_test(notify SOURCES test_notify.c)
if(TARGET ktdisplay)
  add_test(NAME notify_ticker COMMAND ${KT_PYTHON} ${KT_TEST_DIR}/test_notify.py
                                      ${KT_TICKER} ${CMAKE_SOURCE_DIR})
  set_tests_properties(notify_ticker PROPERTIES TIMEOUT 60 LABELS slow)
endif()
