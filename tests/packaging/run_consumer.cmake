# Configures, builds and runs one consumer project of taskmap (cmake -P, from ctest).
#
#   -DMODE=find_package|add_subdirectory|fetch_content|pkg_config|vcpkg_classic|vcpkg_manifest
#         |store_find_package|store_fetch_content
#   -DTASKMAP_SOURCE_TREE=<taskmap source dir>   -DTASKMAP_VERSION=<x.y.z>
#   -DWORK_DIR=<scratch dir, wiped first>        -DCTEST_COMMAND=<ctest>
#   -DGENERATOR=... [-DGENERATOR_PLATFORM=...] [-DGENERATOR_TOOLSET=...] [-DMAKE_PROGRAM=...]
#   -DCXX_COMPILER=... [-DCXX_FLAGS=...] [-DCONFIG=...] [-Dfmt_DIR=...]
#   pkg_config: [-DPKG_CONFIG=<pkg-config program>]
#   vcpkg_*:    [-DCONFIGURE_VCPKG_ROOT=<VCPKG_ROOT when the tests were configured>]
#   store_*:    [-DEXPECT_SQLITE=<ON when taskmap::sqlite was built>]
#               [-DEXPECT_MPI=<ON when taskmap::mpi was built>]
#
# store_find_package and store_fetch_content build the consumer in store/, which uses
# DirectoryStore through taskmap::store (find_package with COMPONENTS store and sqlite, or
# FetchContent); they are defined only when taskmap's build found xxHash.
#
# find_package and pkg_config first install the source tree into a prefix in WORK_DIR with the
# README's install line. pkg_config then moves that prefix (taskmap.pc must follow it) and
# compiles main.cpp with the compiler alone and `pkg-config --cflags --libs taskmap`.
# vcpkg_* install ports/taskmap, unchanged, with the vcpkg in $VCPKG_ROOT and build a consumer
# through vcpkg's toolchain file; they run only when VCPKG_ROOT is set both when the tests are
# configured and when they run (so `env -u VCPKG_ROOT ctest` leaves them out). Without
# pkg-config or a vcpkg, the test prints why and "taskmap packaging test skipped", which ctest
# counts as a skip.
cmake_minimum_required(VERSION 3.21)

foreach(_var MODE TASKMAP_SOURCE_TREE TASKMAP_VERSION WORK_DIR CTEST_COMMAND GENERATOR
             CXX_COMPILER)
  if(NOT DEFINED ${_var} OR "${${_var}}" STREQUAL "")
    message(FATAL_ERROR "run_consumer.cmake: pass -D${_var}=...")
  endif()
endforeach()
if(NOT MODE MATCHES "^(find_package|add_subdirectory|fetch_content|pkg_config|vcpkg_classic|vcpkg_manifest|store_find_package|store_fetch_content)$")
  message(FATAL_ERROR "run_consumer.cmake: unknown MODE '${MODE}'")
endif()

# The text ctest's SKIP_REGULAR_EXPRESSION looks for (tests/packaging/CMakeLists.txt).
function(skip_test)
  string(JOIN "" _why ${ARGN})
  message(STATUS "${_why}")
  message(STATUS "taskmap packaging test skipped")
endfunction()
if(MODE STREQUAL "pkg_config" AND NOT PKG_CONFIG)
  skip_test("no pkg-config program was found when the tests were configured")
  return()
endif()
if(MODE MATCHES "^vcpkg_")
  if(NOT CONFIGURE_VCPKG_ROOT)
    skip_test("VCPKG_ROOT was not set when the tests were configured: configure and run them "
      "with VCPKG_ROOT set to a vcpkg root to test ports/taskmap")
    return()
  endif()
  if("$ENV{VCPKG_ROOT}" STREQUAL "")
    skip_test("VCPKG_ROOT is not set: run the tests with VCPKG_ROOT set to a vcpkg root to "
      "test ports/taskmap")
    return()
  endif()
  set(_vcpkg_root "$ENV{VCPKG_ROOT}")
  if(NOT EXISTS "${_vcpkg_root}/vcpkg" AND NOT EXISTS "${_vcpkg_root}/vcpkg.exe")
    message(FATAL_ERROR "VCPKG_ROOT=${_vcpkg_root} holds no vcpkg program")
  endif()
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

# run_step for steps that install the port: vcpkg reports a port's post-build check problems
# (what the registry's CI rejects) as warnings and still succeeds, so they fail the test here.
function(run_vcpkg_step _what)
  message(STATUS "${_what}")
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE _result OUTPUT_VARIABLE _output
    ERROR_VARIABLE _output)
  message("${_output}")
  if(NOT _result EQUAL 0)
    message(FATAL_ERROR "packaging ${MODE}: ${_what} failed (${_result})")
  endif()
  if(_output MATCHES "post-build check problem|portfile.cmake: warning")
    message(FATAL_ERROR "packaging ${MODE}: vcpkg warned about ports/taskmap (above)")
  endif()
endfunction()

file(REMOVE_RECURSE "${WORK_DIR}")
set(_consumer_args "-DTASKMAP_EXPECTED_VERSION=${TASKMAP_VERSION}")

# Installs taskmap with the options of the README's install line ("Adding taskmap to your
# project"), read from the README so that the two cannot drift apart.
function(install_taskmap _prefix)
  file(READ "${TASKMAP_SOURCE_TREE}/README.md" _readme)
  if(NOT _readme MATCHES
     "\ncmake -S \\. -B build-install ([^\n&]*) && cmake --install build-install --prefix [^\n]*\n")
    message(FATAL_ERROR "README.md has no line `cmake -S . -B build-install <options> && "
      "cmake --install build-install --prefix <dir>`")
  endif()
  separate_arguments(_readme_options UNIX_COMMAND "${CMAKE_MATCH_1}")
  run_step("configure taskmap for install (README's options: ${CMAKE_MATCH_1})"
    "${CMAKE_COMMAND}" -S "${TASKMAP_SOURCE_TREE}" -B "${WORK_DIR}/taskmap-build"
    ${_configure_args} ${_readme_options})
  run_step("install taskmap into ${_prefix}"
    "${CMAKE_COMMAND}" --install "${WORK_DIR}/taskmap-build" --prefix "${_prefix}"
    ${_config_args})
endfunction()

function(expect_file _path)
  if(NOT EXISTS "${_path}")
    message(FATAL_ERROR "packaging ${MODE}: ${_path} is missing")
  endif()
endfunction()

# Runs a program; fails unless it exits with 0. Sets <_out> to its stdout, stripped.
function(run_capture _out _what)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE _result OUTPUT_VARIABLE _stdout
    ERROR_VARIABLE _stderr OUTPUT_STRIP_TRAILING_WHITESPACE)
  if(NOT _result EQUAL 0)
    message(FATAL_ERROR "packaging ${MODE}: ${_what} failed (${_result}):\n${_stdout}\n${_stderr}")
  endif()
  set(${_out} "${_stdout}" PARENT_SCOPE)
endfunction()

if(MODE STREQUAL "pkg_config")
  install_taskmap("${WORK_DIR}/installed")
  expect_file("${WORK_DIR}/installed/share/pkgconfig/taskmap.pc")
  # A moved prefix must still work: taskmap.pc finds its prefix through ${pcfiledir}.
  set(_prefix "${WORK_DIR}/moved")
  file(RENAME "${WORK_DIR}/installed" "${_prefix}")
  set(ENV{PKG_CONFIG_PATH} "${_prefix}/share/pkgconfig")
  run_capture(_version "pkg-config --modversion" "${PKG_CONFIG}" --modversion taskmap)
  if(NOT _version STREQUAL TASKMAP_VERSION)
    message(FATAL_ERROR "taskmap.pc says version '${_version}', expected ${TASKMAP_VERSION}")
  endif()
  run_capture(_includedir "pkg-config --variable=includedir"
    "${PKG_CONFIG}" --variable=includedir taskmap)
  file(REAL_PATH "${_includedir}" _includedir)
  if(NOT _includedir STREQUAL "${_prefix}/include")
    message(FATAL_ERROR "taskmap.pc's includedir is ${_includedir}, not ${_prefix}/include")
  endif()
  run_capture(_cflags "pkg-config --cflags" "${PKG_CONFIG}" --cflags taskmap)
  run_capture(_libs "pkg-config --libs" "${PKG_CONFIG}" --libs taskmap)
  message(STATUS "pkg-config --cflags --libs taskmap: ${_cflags} ${_libs}")
  if(NOT _libs MATCHES "(^| )-pthread( |$)" OR NOT _libs MATCHES "(^| )-lfmt( |$)")
    message(FATAL_ERROR "taskmap.pc's libs lack -pthread or fmt's -lfmt: ${_libs}")
  endif()
  separate_arguments(_cflags UNIX_COMMAND "${_cflags}")
  separate_arguments(_libs UNIX_COMMAND "${_libs}")
  separate_arguments(_cxx_flags UNIX_COMMAND "${CXX_FLAGS}")
  # The compiler and pkg-config only: no CMake, no include path into the source tree.
  set(_program "${WORK_DIR}/consumer")
  run_step("compile the consumer with pkg-config's flags"
    "${CXX_COMPILER}" -std=c++20 ${_cxx_flags} ${_cflags}
    "-DTASKMAP_EXPECTED_VERSION=\"${TASKMAP_VERSION}\""
    "${CMAKE_CURRENT_LIST_DIR}/main.cpp" -o "${_program}" ${_libs})
  run_capture(_output "run the consumer" "${_program}")
  if(NOT _output STREQUAL "taskmap ${TASKMAP_VERSION} consumer: c = 40")
    message(FATAL_ERROR "the pkg-config consumer printed '${_output}'")
  endif()
  message(STATUS "${_output}")
  return()
endif()

set(_consumer_dir "${CMAKE_CURRENT_LIST_DIR}/${MODE}")
if(MODE MATCHES "^store_(.*)$")
  set(_consumer_dir "${CMAKE_CURRENT_LIST_DIR}/store")
  list(APPEND _consumer_args "-DROUTE=${CMAKE_MATCH_1}" "-DTASKMAP_EXPECT_SQLITE=${EXPECT_SQLITE}"
    "-DTASKMAP_EXPECT_MPI=${EXPECT_MPI}"
    "-DTASKMAP_SOURCE_TREE=${TASKMAP_SOURCE_TREE}")
endif()
if(MODE MATCHES "^(store_)?find_package$")
  set(_prefix "${WORK_DIR}/prefix")
  install_taskmap("${_prefix}")

  # The install tree holds every header, the package config files and taskmap.pc.
  file(GLOB_RECURSE _source_headers RELATIVE "${TASKMAP_SOURCE_TREE}/include"
    "${TASKMAP_SOURCE_TREE}/include/*.hpp")
  file(GLOB_RECURSE _installed_headers RELATIVE "${_prefix}/include" "${_prefix}/include/*.hpp")
  list(SORT _source_headers)
  list(SORT _installed_headers)
  if(NOT _source_headers STREQUAL _installed_headers OR NOT _source_headers)
    message(FATAL_ERROR "installed headers differ from include/:\n"
      "  source:    ${_source_headers}\n  installed: ${_installed_headers}")
  endif()
  foreach(_file cmake/taskmap/taskmapConfig.cmake cmake/taskmap/taskmapConfigVersion.cmake
                cmake/taskmap/taskmapTargets.cmake pkgconfig/taskmap.pc)
    expect_file("${_prefix}/share/${_file}")
  endforeach()
  if(MODE STREQUAL "store_find_package")
    expect_file("${_prefix}/share/cmake/taskmap/taskmapStoreTargets.cmake")
    if(EXPECT_SQLITE)
      expect_file("${_prefix}/share/cmake/taskmap/taskmapSqliteTargets.cmake")
    endif()
    if(EXPECT_MPI)
      expect_file("${_prefix}/share/cmake/taskmap/taskmapMpiTargets.cmake")
    endif()
  endif()

  list(APPEND _consumer_args "-DCMAKE_PREFIX_PATH=${_prefix}"
    "-DTASKMAP_INSTALL_PREFIX=${_prefix}" -DCMAKE_FIND_USE_PACKAGE_REGISTRY=OFF)
elseif(MODE MATCHES "^vcpkg_")
  # The port's version is the project's (include/taskmap/version.hpp), and so is the
  # developers' manifest's at the root.
  foreach(_manifest ports/taskmap/vcpkg.json vcpkg.json)
    file(READ "${TASKMAP_SOURCE_TREE}/${_manifest}" _json)
    string(JSON _port_version GET "${_json}" version)
    if(NOT _port_version STREQUAL TASKMAP_VERSION)
      message(FATAL_ERROR "${_manifest} has version ${_port_version}, the project ${TASKMAP_VERSION}")
    endif()
  endforeach()

  # Reproducible: tools from PATH, no binary cache (the port's source is a local folder, which
  # vcpkg's ABI hash does not cover), and every folder vcpkg writes inside WORK_DIR, so a
  # read-only vcpkg root works.
  set(ENV{VCPKG_ROOT} "${_vcpkg_root}")
  set(ENV{VCPKG_FORCE_SYSTEM_BINARIES} 1)
  set(ENV{VCPKG_DISABLE_METRICS} 1)
  set(ENV{VCPKG_BINARY_SOURCES} clear)
  set(_overlays "${TASKMAP_SOURCE_TREE}/ports")
  set(_vcpkg_options "--x-buildtrees-root=${WORK_DIR}/buildtrees"
    "--x-packages-root=${WORK_DIR}/packages" "--downloads-root=${WORK_DIR}/downloads")
  # An offline vcpkg (no port catalogue, like the one CI gives) brings placeholders for the
  # dependencies the system provides, such as fmt, in overlay-ports/, and must download
  # nothing. A regular vcpkg downloads and builds fmt.
  if(IS_DIRECTORY "${_vcpkg_root}/overlay-ports")
    list(APPEND _overlays "${_vcpkg_root}/overlay-ports")
    list(APPEND _vcpkg_options --no-downloads)
  endif()
  file(MAKE_DIRECTORY "${WORK_DIR}")
  # The toolchain settings go in an initial cache: lists survive there unsplit.
  set(_cache "${WORK_DIR}/vcpkg-settings.cmake")
  file(WRITE "${_cache}"
    "set(CMAKE_TOOLCHAIN_FILE [[${_vcpkg_root}/scripts/buildsystems/vcpkg.cmake]] CACHE FILEPATH \"\")\n"
    "set(VCPKG_OVERLAY_PORTS [[${_overlays}]] CACHE STRING \"\")\n"
    "set(VCPKG_INSTALL_OPTIONS [[${_vcpkg_options}]] CACHE STRING \"\")\n")
  set(_consumer_dir "${CMAKE_CURRENT_LIST_DIR}/vcpkg")
  if(MODE STREQUAL "vcpkg_classic")
    set(_installed "${WORK_DIR}/installed")
    set(_overlay_args "")
    foreach(_overlay IN LISTS _overlays)
      list(APPEND _overlay_args "--overlay-ports=${_overlay}")
    endforeach()
    # --classic: WORK_DIR may sit below taskmap's own vcpkg.json, which would mean manifest mode.
    run_vcpkg_step("vcpkg install taskmap (classic mode)"
      "${_vcpkg_root}/vcpkg" install taskmap --classic ${_overlay_args} ${_vcpkg_options}
      "--x-install-root=${_installed}")
    file(APPEND "${_cache}" "set(VCPKG_MANIFEST_MODE OFF CACHE BOOL \"\")\n"
      "set(VCPKG_INSTALLED_DIR [[${_installed}]] CACHE PATH \"\")\n")
  else()
    # The toolchain runs `vcpkg install` for the consumer's vcpkg.json during configuration.
    set(_installed "${WORK_DIR}/consumer-build/vcpkg_installed")
  endif()
  list(APPEND _consumer_args -C "${_cache}" "-DTASKMAP_INSTALL_PREFIX=${_installed}"
    -DCMAKE_FIND_USE_PACKAGE_REGISTRY=OFF)
else()
  list(APPEND _consumer_args "-DTASKMAP_SOURCE_TREE=${TASKMAP_SOURCE_TREE}")
endif()

set(_consumer_build "${WORK_DIR}/consumer-build")
set(_configure_step run_step)
if(MODE STREQUAL "vcpkg_manifest")
  set(_configure_step run_vcpkg_step)  # this configuration installs the port
endif()
cmake_language(CALL ${_configure_step} "configure the ${MODE} consumer"
  "${CMAKE_COMMAND}" -S "${_consumer_dir}" -B "${_consumer_build}"
  ${_configure_args} ${_consumer_args})
if(MODE MATCHES "^vcpkg_")
  # What a registry port must install: headers, the CMake package in share/<port>/ (moved
  # there by vcpkg_cmake_config_fixup), taskmap.pc where vcpkg wants it, the licence as
  # share/<port>/copyright.
  file(GLOB _triplet_copyright "${_installed}/*/share/taskmap/copyright")
  list(LENGTH _triplet_copyright _count)
  if(NOT _count EQUAL 1)
    message(FATAL_ERROR "expected one <triplet>/share/taskmap/copyright in ${_installed}, "
      "found: ${_triplet_copyright}")
  endif()
  get_filename_component(_port_tree "${_triplet_copyright}/../../.." ABSOLUTE)
  file(READ "${_triplet_copyright}" _copyright)
  file(READ "${TASKMAP_SOURCE_TREE}/LICENSE" _license)
  if(NOT _copyright STREQUAL _license)
    message(FATAL_ERROR "${_triplet_copyright} is not taskmap's LICENSE")
  endif()
  foreach(_file include/taskmap/taskmap.hpp share/taskmap/taskmapConfig.cmake
                share/taskmap/taskmapConfigVersion.cmake share/taskmap/taskmapTargets.cmake
                lib/pkgconfig/taskmap.pc)
    expect_file("${_port_tree}/${_file}")
  endforeach()
endif()
run_step("build the ${MODE} consumer"
  "${CMAKE_COMMAND}" --build "${_consumer_build}" ${_config_args})

# The consumer's ctest must hold its own tests and nothing of taskmap's: one, and for the
# store consumers one more (SqliteStore) when taskmap::sqlite was built and one more
# (MpiExecutor) when taskmap::mpi was.
set(_ctest_config "")
if(CONFIG)
  set(_ctest_config -C "${CONFIG}")
endif()
set(_consumer_tests 1)
if(MODE MATCHES "^store_" AND EXPECT_SQLITE)
  math(EXPR _consumer_tests "${_consumer_tests} + 1")
endif()
if(MODE MATCHES "^store_" AND EXPECT_MPI)
  math(EXPR _consumer_tests "${_consumer_tests} + 1")
endif()
execute_process(COMMAND "${CTEST_COMMAND}" --test-dir "${_consumer_build}" -N ${_ctest_config}
  OUTPUT_VARIABLE _listing RESULT_VARIABLE _result)
if(NOT _result EQUAL 0 OR NOT _listing MATCHES "Total Tests: ${_consumer_tests}\n")
  message(FATAL_ERROR "the ${MODE} consumer should have exactly ${_consumer_tests} test(s):\n"
    "${_listing}")
endif()
run_step("run the ${MODE} consumer"
  "${CTEST_COMMAND}" --test-dir "${_consumer_build}" ${_ctest_config} --output-on-failure
  --no-tests=error)
