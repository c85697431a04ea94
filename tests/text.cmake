# Text normalisation, dates and exclude filters (src/text.c, src/date.c,
# src/filter.c). Cases live in tests/data/text/ and tests/data/date/.
kt_unit_test(text SOURCES ${KT_TEST_DIR}/test_text.c)
kt_unit_test(date SOURCES ${KT_TEST_DIR}/test_date.c)
kt_unit_test(filter SOURCES ${KT_TEST_DIR}/test_filter.c)
