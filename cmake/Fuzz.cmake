# KT_FUZZ=ON: the libFuzzer targets in fuzz/ (clang only).
#
#   CC=clang cmake -S . -B build-fuzz -DKT_FUZZ=ON -DBUILD_TESTING=OFF
#   cmake --build build-fuzz --target fuzz_all
#   fuzz/run.sh build-fuzz 60
#
# Everything is compiled with coverage instrumentation (fuzzer-no-link)
# plus ASan and UBSan, so the code under test reports crashes, leaks and UB
# and guides the fuzzer; only the fuzz targets link libFuzzer's main.
# Include before the first target.
option(KT_FUZZ "Build the libFuzzer targets in fuzz/ (needs clang)" OFF)

if(KT_FUZZ)
  if(NOT CMAKE_C_COMPILER_ID MATCHES "Clang")
    message(FATAL_ERROR "KT_FUZZ=ON needs clang (libFuzzer): CC=clang cmake -DKT_FUZZ=ON ...")
  endif()
  set(KT_FUZZ_FLAGS -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=all
                    -fno-omit-frame-pointer)
  add_compile_options(${KT_FUZZ_FLAGS})
  add_link_options(-fsanitize=address,undefined)
  add_compile_definitions(KT_SANITIZED=1 KT_FUZZING=1)
  message(STATUS "KT_FUZZ: libFuzzer targets with ASan + UBSan")
endif()
