# SLM_SANITIZE=address,undefined or SLM_SANITIZE=thread: instrument everything we build.
if(SLM_SANITIZE)
  add_compile_options(-fsanitize=${SLM_SANITIZE} -fno-omit-frame-pointer -fno-sanitize-recover=all)
  add_link_options(-fsanitize=${SLM_SANITIZE})
endif()

# SLM_FUZZ=ON: the libraries the fuzz targets call must carry libFuzzer's coverage
# instrumentation too (fuzzer-no-link), or libFuzzer sees only the few edges of the
# target file itself and explores the parsers blind. ASan and UBSan go everywhere so a
# bad read deep in a parser is reported where it happens.
if(SLM_FUZZ)
  if(NOT CMAKE_C_COMPILER_ID MATCHES "Clang")
    message(FATAL_ERROR "SLM_FUZZ=ON needs clang (-DCMAKE_C_COMPILER=clang)")
  endif()
  add_compile_options(-fsanitize=fuzzer-no-link,address,undefined -fno-omit-frame-pointer
                      -fno-sanitize-recover=all)
  add_link_options(-fsanitize=address,undefined)
endif()
