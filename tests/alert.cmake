# Alerts and operator messages: the CAP parser and selection
# (tests/data/cap/, scenarios in tests/data/cap/select/) and the message
# JSON (tests/data/message/).
kt_unit_test(cap SOURCES test_cap.c)
kt_unit_test(message SOURCES test_message.c)
