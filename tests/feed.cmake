# The feed parser: data-driven cases under tests/data/feed/ plus hostile
# documents generated in the test, and feedparser's conformance corpus read
# in place (a missing corpus fails the test, it is never skipped).
kt_unit_test(feed SOURCES test_feed.c)
kt_unit_test(conformance SOURCES test_conformance.c
             ARGS ${KT_CONFORMANCE_DIR} ${KT_TEST_DIR}/conformance_accepted.tsv)
