# Text normalisation, dates and exclude filters (src/text.c, src/date.c,
# src/filter.c). Cases live in tests/data/text/ and tests/data/date/.
kt_unit_test(text SOURCES ${KT_TEST_DIR}/test_text.c)
# Linear time on hostile patterns: CPU-time ratios of 8 MiB and 2 MiB
# inputs, about 20 s of work.
kt_unit_test(text_linear SOURCES ${KT_TEST_DIR}/test_text.c ARGS --linear-time)
set_tests_properties(text_linear PROPERTIES LABELS slow TIMEOUT 300)
kt_unit_test(date SOURCES ${KT_TEST_DIR}/test_date.c)
kt_unit_test(filter SOURCES ${KT_TEST_DIR}/test_filter.c)
