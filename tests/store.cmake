# Tests of the headline store and its persistent cache.
kt_unit_test(store SOURCES test_store.c)
kt_unit_test(cache SOURCES test_cache.c)

# Disk full needs a tiny tmpfs, which needs root or a user namespace; the test
# exits 77 with the reason when it cannot mount one, shown as "Skipped".
add_test(NAME cache_disk_full COMMAND cache --disk-full)
set_tests_properties(cache_disk_full PROPERTIES SKIP_RETURN_CODE 77 TIMEOUT 60)
