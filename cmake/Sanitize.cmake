# KT_SANITIZE=ON: every target (library, program, tests) built with
# AddressSanitizer and UndefinedBehaviorSanitizer, so the whole test suite
# doubles as a memory-safety and UB check. Include before the first target:
#
#   cmake -S . -B build-asan -DKT_SANITIZE=ON && cmake --build build-asan
#   ctest --test-dir build-asan
#
# -fno-sanitize-recover=all makes every UBSan finding fatal: a report that
# only prints would pass ctest unnoticed. Frame pointers keep the reports'
# stacks whole at -O2. Works with GCC and clang.
#
# bench/alloc_count.c (benchmark and tests only) replaces malloc to count;
# under a sanitizer it sees __SANITIZE_ADDRESS__ / __has_feature and counts
# through the sanitizer's malloc hooks instead (the sanitizer's allocator
# must stay the only malloc).
option(KT_SANITIZE "Build everything with AddressSanitizer + UndefinedBehaviorSanitizer" OFF)
# KT_TSAN=ON: the same with ThreadSanitizer instead (clang), for the races
# between the render thread, the supervisor and the fetch workers:
#
#   CC=clang cmake -S . -B build-tsan -DKT_TSAN=ON && cmake --build build-tsan
#   ctest --test-dir build-tsan
#
# It counts as a sanitizer build for the tests (KT_SANITIZE is set for the
# fragments, KT_SANITIZED for the code).
option(KT_TSAN "Build everything with ThreadSanitizer (clang)" OFF)

if(KT_TSAN AND KT_SANITIZE)
  message(FATAL_ERROR "KT_TSAN and KT_SANITIZE cannot be combined (one sanitizer run-time)")
endif()

if(KT_TSAN)
  set(KT_SANITIZE_FLAGS -fsanitize=thread -fno-omit-frame-pointer)
  add_compile_options(${KT_SANITIZE_FLAGS})
  add_link_options(-fsanitize=thread)
  add_compile_definitions(KT_SANITIZED=1 KT_TSAN=1)
  add_library(kt_sanitize_defaults OBJECT ${CMAKE_CURRENT_LIST_DIR}/sanitize_defaults.c)
  link_libraries(kt_sanitize_defaults)
  set(KT_SANITIZE ON)
  message(STATUS "KT_TSAN: ThreadSanitizer for every target")
elseif(KT_SANITIZE)
  set(KT_SANITIZE_FLAGS -fsanitize=address,undefined -fno-sanitize-recover=all
                        -fno-omit-frame-pointer)
  add_compile_options(${KT_SANITIZE_FLAGS})
  add_link_options(-fsanitize=address,undefined)
  # Tells the tests they run sanitized (e.g. the soak reports RSS but cannot
  # judge it: ASan's quarantine holds freed memory on purpose).
  add_compile_definitions(KT_SANITIZED=1)
  # Run-time options and the one third-party leak suppression, linked into
  # every target created from here on (cmake/sanitize_defaults.c), so ctest
  # needs no environment.
  add_library(kt_sanitize_defaults OBJECT ${CMAKE_CURRENT_LIST_DIR}/sanitize_defaults.c)
  link_libraries(kt_sanitize_defaults)
  message(STATUS "KT_SANITIZE: ASan + UBSan for every target")
endif()
