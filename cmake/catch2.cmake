# Finds Catch2 for the tests: Catch2 3 first, then Catch2 2.13 (what Debian ships); with
# TASKMAP_FETCH_CATCH2 it downloads Catch2 3 when neither is installed. Defines the
# interface target taskmap_catch2, which brings Catch2 and a main(), and includes Catch2's
# own Catch.cmake, which defines catch_discover_tests (each test case a ctest test).
add_library(taskmap_catch2 INTERFACE)
find_package(Catch2 3 QUIET)
if(Catch2_FOUND)
  target_link_libraries(taskmap_catch2 INTERFACE Catch2::Catch2WithMain)
  target_compile_definitions(taskmap_catch2 INTERFACE TASKMAP_CATCH2_V3)
  set(_taskmap_catch2_modules "${Catch2_DIR}")
  message(STATUS "taskmap tests: Catch2 ${Catch2_VERSION}")
else()
  find_package(Catch2 2.13 QUIET)
  if(Catch2_FOUND)
    add_library(taskmap_catch2_main STATIC "${PROJECT_SOURCE_DIR}/tests/catch_main.cpp")
    target_link_libraries(taskmap_catch2_main PUBLIC Catch2::Catch2)
    # Catch2 2 defines its C++17 StringMakers (string_view, ...) in the TU with main() only
    # when that TU sees C++17: compile it with the tests' standard, not the compiler's default
    # (clang 14 defaults to C++14, and the link then misses StringMaker<std::string_view>).
    target_compile_features(taskmap_catch2_main PUBLIC cxx_std_20)
    # All of Catch2's implementation is in this one file: a minute of CPU at -O2 -g, 17 s
    # without optimisation or debug records. It is the test runner, not code under test, and
    # the tests spend little of their time in it.
    target_compile_options(taskmap_catch2_main PRIVATE "$<$<CXX_COMPILER_ID:GNU,Clang>:-O0;-g0>")
    target_link_libraries(taskmap_catch2 INTERFACE taskmap_catch2_main Catch2::Catch2)
    set(_taskmap_catch2_modules "${Catch2_DIR}")
    message(STATUS "taskmap tests: Catch2 ${Catch2_VERSION}")
  elseif(TASKMAP_FETCH_CATCH2)
    include(FetchContent)
    FetchContent_Declare(Catch2
      GIT_REPOSITORY https://github.com/catchorg/Catch2.git
      GIT_TAG v3.7.1
      GIT_SHALLOW TRUE)
    FetchContent_MakeAvailable(Catch2)
    target_link_libraries(taskmap_catch2 INTERFACE Catch2::Catch2WithMain)
    target_compile_definitions(taskmap_catch2 INTERFACE TASKMAP_CATCH2_V3)
    set(_taskmap_catch2_modules "${catch2_SOURCE_DIR}/extras")
    message(STATUS "taskmap tests: Catch2 3 (downloaded)")
  else()
    message(FATAL_ERROR
      "taskmap tests need Catch2 (3, or 2.13 as Debian's 'catch2' package ships). Install "
      "it, configure with -DTASKMAP_FETCH_CATCH2=ON to download it, or "
      "-DTASKMAP_BUILD_TESTS=OFF.")
  endif()
endif()
include("${_taskmap_catch2_modules}/Catch.cmake")
# Catch2's test lister splits names at ';': ours does not (see the script).
set(_CATCH_DISCOVER_TESTS_SCRIPT "${CMAKE_CURRENT_LIST_DIR}/catch_add_tests.cmake")
