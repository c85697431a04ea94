# Crash and disk faults of the cache on the real program
# (tests/test_crash_cache.py): kill -9 at random moments of a save, at least
# 100 times inside the write window, always leaves the old or the new cache;
# a full disk (a 64 KiB tmpfs in a private mount namespace) gives one clear
# error per failed save, keeps the previous file and the headlines on
# screen. The disk-full test needs root or user namespaces; without, it
# exits 77 with the reason and ctest shows it as skipped.
add_test(NAME crash_cache_kill
         COMMAND ${KT_PYTHON} ${KT_TEST_DIR}/test_crash_cache.py kill ${KT_TICKER} 100)
set_tests_properties(crash_cache_kill PROPERTIES TIMEOUT 300 LABELS slow)
if(TARGET ktdisplay)
  add_test(NAME cache_disk_full_ticker
           COMMAND ${KT_PYTHON} ${KT_TEST_DIR}/test_crash_cache.py disk-full
                   ${KT_TICKER})
  set_tests_properties(cache_disk_full_ticker PROPERTIES SKIP_RETURN_CODE 77 TIMEOUT 120 LABELS slow)
endif()
