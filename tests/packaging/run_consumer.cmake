# Configures, builds and runs one consumer project of taskmap (cmake -P, from ctest).
#
#   -DMODE=find_package|add_subdirectory|fetch_content
#   -DTASKMAP_SOURCE_TREE=<taskmap source dir>   -DTASKMAP_VERSION=<x.y.z>
#   -DWORK_DIR=<scratch dir, wiped first>        -DCTEST_COMMAND=<ctest>
#   -DGENERATOR=... [-DGENERATOR_PLATFORM=...] [-DGENERATOR_TOOLSET=...] [-DMAKE_PROGRAM=...]
#   -DCXX_COMPILER=... [-DCXX_FLAGS=...] [-DCONFIG=...] [-Dfmt_DIR=...]
#
# find_package first installs the source tree into WORK_DIR/prefix with `cmake --install`.
cmake_minimum_required(VERSION 3.21)

foreach(_var MODE TASKMAP_SOURCE_TREE TASKMAP_VERSION WORK_DIR CTEST_COMMAND GENERATOR
             CXX_COMPILER)
  if(NOT DEFINED ${_var} OR "${${_var}}" STREQUAL "")
    message(FATAL_ERROR "run_consumer.cmake: pass -D${_var}=...")
  endif()
endforeach()
if(NOT MODE MATCHES "^(find_package|add_subdirectory|fetch_content)$")
  message(FATAL_ERROR "run_consumer.cmake: unknown MODE '${MODE}'")
endif()

# Same generator, compiler and configuration as the build that runs the test.
set(_configure_args -G "${GENERATOR}" "-DCMAKE_CXX_COMPILER=${CXX_COMPILER}"
  "-DCMAKE_CXX_FLAGS=${CXX_FLAGS}")
if(GENERATOR_PLATFORM)
  list(APPEND _configure_args -A "${GENERATOR_PLATFORM}")
endif()
if(GENERATOR_TOOLSET)
  list(APPEND _configure_args -T "${GENERATOR_TOOLSET}")
endif()
if(MAKE_PROGRAM)
  list(APPEND _configure_args "-DCMAKE_MAKE_PROGRAM=${MAKE_PROGRAM}")
endif()
if(fmt_DIR)
  list(APPEND _configure_args "-Dfmt_DIR=${fmt_DIR}")
endif()
set(_config_args "")
if(CONFIG)
  list(APPEND _configure_args "-DCMAKE_BUILD_TYPE=${CONFIG}")
  set(_config_args --config "${CONFIG}")
endif()

function(run_step _what)
  message(STATUS "${_what}")
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE _result)
  if(NOT _result EQUAL 0)
    message(FATAL_ERROR "packaging ${MODE}: ${_what} failed (${_result})")
  endif()
endfunction()

file(REMOVE_RECURSE "${WORK_DIR}")
set(_consumer_args "-DTASKMAP_EXPECTED_VERSION=${TASKMAP_VERSION}")

if(MODE STREQUAL "find_package")
  set(_prefix "${WORK_DIR}/prefix")
  run_step("configure taskmap for install"
    "${CMAKE_COMMAND}" -S "${TASKMAP_SOURCE_TREE}" -B "${WORK_DIR}/taskmap-build"
    ${_configure_args} -DTASKMAP_BUILD_TESTS=OFF -DTASKMAP_BUILD_EXAMPLES=OFF
    -DTASKMAP_BUILD_BENCHMARKS=OFF -DTASKMAP_INSTALL=ON)
  run_step("install taskmap into ${_prefix}"
    "${CMAKE_COMMAND}" --install "${WORK_DIR}/taskmap-build" --prefix "${_prefix}"
    ${_config_args})

  # The install tree holds every header and the package config files.
  file(GLOB_RECURSE _source_headers RELATIVE "${TASKMAP_SOURCE_TREE}/include"
    "${TASKMAP_SOURCE_TREE}/include/*.hpp")
  file(GLOB_RECURSE _installed_headers RELATIVE "${_prefix}/include" "${_prefix}/include/*.hpp")
  list(SORT _source_headers)
  list(SORT _installed_headers)
  if(NOT _source_headers STREQUAL _installed_headers OR NOT _source_headers)
    message(FATAL_ERROR "installed headers differ from include/:\n"
      "  source:    ${_source_headers}\n  installed: ${_installed_headers}")
  endif()
  foreach(_file taskmapConfig.cmake taskmapConfigVersion.cmake taskmapTargets.cmake)
    if(NOT EXISTS "${_prefix}/share/cmake/taskmap/${_file}")
      message(FATAL_ERROR "install did not produce share/cmake/taskmap/${_file}")
    endif()
  endforeach()

  list(APPEND _consumer_args "-DCMAKE_PREFIX_PATH=${_prefix}"
    "-DTASKMAP_INSTALL_PREFIX=${_prefix}" -DCMAKE_FIND_USE_PACKAGE_REGISTRY=OFF)
else()
  list(APPEND _consumer_args "-DTASKMAP_SOURCE_TREE=${TASKMAP_SOURCE_TREE}")
endif()

set(_consumer_build "${WORK_DIR}/consumer-build")
run_step("configure the ${MODE} consumer"
  "${CMAKE_COMMAND}" -S "${CMAKE_CURRENT_LIST_DIR}/${MODE}" -B "${_consumer_build}"
  ${_configure_args} ${_consumer_args})
run_step("build the ${MODE} consumer"
  "${CMAKE_COMMAND}" --build "${_consumer_build}" ${_config_args})

# The consumer's ctest must hold its one test and nothing of taskmap's.
set(_ctest_config "")
if(CONFIG)
  set(_ctest_config -C "${CONFIG}")
endif()
execute_process(COMMAND "${CTEST_COMMAND}" --test-dir "${_consumer_build}" -N ${_ctest_config}
  OUTPUT_VARIABLE _listing RESULT_VARIABLE _result)
if(NOT _result EQUAL 0 OR NOT _listing MATCHES "Total Tests: 1\n")
  message(FATAL_ERROR "the ${MODE} consumer should have exactly one test:\n${_listing}")
endif()
run_step("run the ${MODE} consumer"
  "${CTEST_COMMAND}" --test-dir "${_consumer_build}" ${_ctest_config} --output-on-failure
  --no-tests=error)
