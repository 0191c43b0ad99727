# Shared by the three consumer projects: the consumer program, its test, and checks that
# taskmap::taskmap carries only what a consumer should get.
#
# taskmap_add_consumer([SUBPROJECT_DIR <dir>] [INSTALL_PREFIX <prefix>])
#   SUBPROJECT_DIR  taskmap's source dir when it is part of this build (add_subdirectory,
#                   FetchContent): checks that none of taskmap's tests, examples, benchmarks
#                   or install rules came along.
#   INSTALL_PREFIX  where find_package should have found taskmap: checks that the headers
#                   come from the install tree, not from the source tree.

# Here, not in the function: enable_testing() sets a variable that a function scope would drop.
enable_testing()
set(_taskmap_consumer_main "${CMAKE_CURRENT_LIST_DIR}/main.cpp")

function(taskmap_add_consumer)
  cmake_parse_arguments(PARSE_ARGV 0 arg "" "SUBPROJECT_DIR;INSTALL_PREFIX" "")

  if(NOT TARGET taskmap::taskmap)
    message(FATAL_ERROR "no target taskmap::taskmap")
  endif()
  # The exported target carries include paths, cxx_std_20 and real dependencies only:
  # no warnings, -Werror or sanitizers from taskmap's own dev settings.
  foreach(_property INTERFACE_COMPILE_OPTIONS INTERFACE_LINK_OPTIONS INTERFACE_COMPILE_DEFINITIONS)
    get_target_property(_value taskmap::taskmap ${_property})
    if(_value)
      message(FATAL_ERROR "taskmap::taskmap leaks ${_property}: ${_value}")
    endif()
  endforeach()
  get_target_property(_features taskmap::taskmap INTERFACE_COMPILE_FEATURES)
  if(NOT "cxx_std_20" IN_LIST _features)
    message(FATAL_ERROR "taskmap::taskmap does not require cxx_std_20 (has: ${_features})")
  endif()

  if(arg_SUBPROJECT_DIR)
    foreach(_target taskmap_core_tests taskmap_header_check taskmap_catch2 taskmap_dev quickstart)
      if(TARGET ${_target})
        message(FATAL_ERROR "taskmap as a subproject defined its dev target ${_target}")
      endif()
    endforeach()
    # Catches targets added later too: the subproject defines taskmap and, when what they
    # need is found, the optional taskmap_store, taskmap_sqlite, taskmap_json and taskmap_mpi,
    # and descends into none of tests/, examples/, bench/.
    get_property(_targets DIRECTORY "${arg_SUBPROJECT_DIR}" PROPERTY BUILDSYSTEM_TARGETS)
    set(_extra ${_targets})
    list(REMOVE_ITEM _extra taskmap taskmap_store taskmap_sqlite taskmap_json taskmap_mpi)
    if(NOT "taskmap" IN_LIST _targets OR _extra)
      message(FATAL_ERROR "taskmap as a subproject defined targets: ${_targets}")
    endif()
    get_property(_subdirs DIRECTORY "${arg_SUBPROJECT_DIR}" PROPERTY SUBDIRECTORIES)
    if(_subdirs)
      message(FATAL_ERROR "taskmap as a subproject added directories: ${_subdirs}")
    endif()
    if(TASKMAP_INSTALL OR TASKMAP_BUILD_TESTS OR TASKMAP_BUILD_EXAMPLES)
      message(FATAL_ERROR "taskmap as a subproject turned on install rules, tests or examples")
    endif()
  endif()

  if(arg_INSTALL_PREFIX)
    get_target_property(_includes taskmap::taskmap INTERFACE_INCLUDE_DIRECTORIES)
    foreach(_dir IN LISTS _includes)
      file(REAL_PATH "${_dir}" _real)
      file(REAL_PATH "${arg_INSTALL_PREFIX}" _prefix)
      string(FIND "${_real}/" "${_prefix}/" _at)
      if(NOT _at EQUAL 0)
        message(FATAL_ERROR "taskmap::taskmap includes ${_dir}, outside ${arg_INSTALL_PREFIX}")
      endif()
    endforeach()
  endif()

  add_executable(consumer "${_taskmap_consumer_main}")
  target_link_libraries(consumer PRIVATE taskmap::taskmap)
  target_compile_definitions(consumer PRIVATE
    TASKMAP_EXPECTED_VERSION="${TASKMAP_EXPECTED_VERSION}")
  add_test(NAME consumer COMMAND consumer)
endfunction()
