# taskmap_dev: warnings, -Werror and sanitizers for taskmap's own tests, examples and
# benchmarks. The exported taskmap::taskmap target never carries any of this.
add_library(taskmap_dev INTERFACE)
if(CMAKE_CXX_COMPILER_ID MATCHES "GNU|Clang")
  target_compile_options(taskmap_dev INTERFACE -Wall -Wextra -Wpedantic -Wshadow -Wconversion)
  # RelWithDebInfo (the default, clang and tsan presets) keeps line tables only: backtraces,
  # sanitizer reports and gdb still give function, file and line for every frame, while the
  # variable and type records of -g, mostly "<optimized out>" at -O2 anyway, cost a third of
  # the compile time of these template-heavy files (task_fn_test.cpp: 149 s of CPU with -g,
  # 102 s with -g1). Debug builds (the asan preset) keep full -g.
  target_compile_options(taskmap_dev INTERFACE $<$<CONFIG:RelWithDebInfo>:-g1>)
  if(TASKMAP_WERROR)
    target_compile_options(taskmap_dev INTERFACE -Werror)
  endif()
  if(TASKMAP_SANITIZE)
    target_compile_options(taskmap_dev INTERFACE
      -fsanitize=${TASKMAP_SANITIZE} -fno-omit-frame-pointer -fno-sanitize-recover=all)
    target_link_options(taskmap_dev INTERFACE -fsanitize=${TASKMAP_SANITIZE})
    # clang's -fsanitize=function (part of "undefined") puts prologue data in front of a
    # coroutine's split parts, which the assembler then rejects with clang 14 ("Cannot
    # represent a difference across sections", llvm-project#49689). It checks calls through
    # mistyped function pointers, which this code does not make.
    if(CMAKE_CXX_COMPILER_ID STREQUAL "Clang" AND TASKMAP_SANITIZE MATCHES "undefined")
      target_compile_options(taskmap_dev INTERFACE -fno-sanitize=function)
    endif()
  endif()
elseif(MSVC)
  target_compile_options(taskmap_dev INTERFACE /W4 /permissive- $<$<BOOL:${TASKMAP_WERROR}>:/WX>)
endif()
