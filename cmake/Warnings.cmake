# Warnings for every target in the project; -Werror when SLM_WERROR (CI) asks for it.
add_compile_options(-Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes
                    -Wno-unused-parameter -Wformat=2 -Wvla -fno-strict-aliasing)
# Error messages are truncated on purpose when a path is huge.
if(CMAKE_C_COMPILER_ID STREQUAL "GNU")
  add_compile_options(-Wno-format-truncation)
endif()
add_compile_definitions(_GNU_SOURCE _FILE_OFFSET_BITS=64)
if(SLM_WERROR)
  add_compile_options(-Werror)
endif()
if(SLM_NATIVE)
  add_compile_options(-march=native)
endif()
