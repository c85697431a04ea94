# The whole screen (issue 13): office hours and day-parts, the clock
# format, and the ticker's own font configuration.
kt_unit_test(hours SOURCES test_hours.c)
kt_unit_test(clock_format SOURCES test_clock_format.c)
