# Alerts and operator messages: the CAP parser and selection
# (tests/data/cap/, scenarios in tests/data/cap/select/) and the message
# JSON (tests/data/message/).
kt_unit_test(cap SOURCES test_cap.c)
kt_unit_test(message SOURCES test_message.c)

# [alert NAME] sources end to end: the real binary (--fetch-once --json
# --now) against the test's HTTP server serving tests/data/cap/ (Actual,
# Test, Exercise, expired, Update, Cancel, languages, areas, an Atom index).
add_test(NAME alert_ticker
         COMMAND ${KT_PYTHON} ${KT_TEST_DIR}/test_alert_ticker.py ${KT_TICKER}
                 ${KT_TEST_DIR}/http_server.py ${KT_TEST_DIR}/data/cap)
set_tests_properties(alert_ticker PROPERTIES TIMEOUT 120 LABELS "quick;alert")
