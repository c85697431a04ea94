# The feed parser: data-driven cases under tests/data/feed/ plus hostile
# documents generated in the test, and feedparser's conformance corpus read
# in place (a missing corpus is a skip with its reason, exit 77, which CI
# treats as a failure; an unreadable one fails).
kt_unit_test(feed SOURCES test_feed.c)
# A 90 MB local feed with one item past the entry limit (a few seconds and
# about 300 MB of memory).
kt_unit_test(feed_large SOURCES test_feed.c ARGS --large)
set_tests_properties(feed_large PROPERTIES LABELS slow TIMEOUT 300)
kt_unit_test(conformance SOURCES test_conformance.c
             ARGS ${KT_CONFORMANCE_DIR} ${KT_TEST_DIR}/conformance_accepted.tsv)
set_tests_properties(conformance PROPERTIES SKIP_RETURN_CODE 77)
# The index set the XML repair pass (and the store and scroll) use.
kt_unit_test(hashset SOURCES test_hashset.c)
