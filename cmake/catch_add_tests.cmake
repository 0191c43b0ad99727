# Run by catch_discover_tests after each link of a test binary, in place of Catch2's own
# CatchAddTests.cmake: writes into CTEST_FILE one ctest test per test case, named as the case.
# Catch2's script reads the name list as a CMake list, so a name with a ';' became two ctest
# tests whose filters matched nothing, and both passed. This one keeps ';', '[' and ']'
# out of list handling, and escapes for Catch2's filter syntax the characters it gives a
# meaning: '\', ',', '[' and ']'.
string(ASCII 28 _semicolon)
string(ASCII 29 _open)
string(ASCII 30 _close)

execute_process(
  COMMAND ${TEST_EXECUTOR} "${TEST_EXECUTABLE}" ${TEST_SPEC} --list-test-names-only
  OUTPUT_VARIABLE _names ERROR_VARIABLE _errors RESULT_VARIABLE _result
  WORKING_DIRECTORY "${TEST_WORKING_DIR}")
if(_errors MATCHES "Unrecognised token" OR _names MATCHES "Unrecognised token")
  # Catch2 3: names only with --list-tests at quiet verbosity.
  execute_process(
    COMMAND ${TEST_EXECUTOR} "${TEST_EXECUTABLE}" ${TEST_SPEC} --list-tests --verbosity quiet
    OUTPUT_VARIABLE _names ERROR_VARIABLE _errors RESULT_VARIABLE _result
    WORKING_DIRECTORY "${TEST_WORKING_DIR}")
endif()
if(NOT _result MATCHES "^[0-9]+$")
  message(FATAL_ERROR "${TEST_EXECUTABLE} could not list its tests: ${_result}\n${_errors}")
endif()

# One bracket argument, for the generated script.
function(_taskmap_bracket out text)
  set(${out} "[==[${text}]==]" PARENT_SCOPE)
endfunction()

string(REPLACE ";" "${_semicolon}" _names "${_names}")
string(REPLACE "[" "${_open}" _names "${_names}")
string(REPLACE "]" "${_close}" _names "${_names}")
string(REPLACE "\r" "" _names "${_names}")
string(REPLACE "\n" ";" _names "${_names}")

set(_script "")
set(_all "")
set(_args "")
foreach(_arg IN LISTS TEST_EXTRA_ARGS)
  _taskmap_bracket(_quoted "${_arg}")
  string(APPEND _args " ${_quoted}")
endforeach()
set(_properties "")
foreach(_property IN LISTS TEST_PROPERTIES)
  _taskmap_bracket(_quoted "${_property}")
  string(APPEND _properties " ${_quoted}")
endforeach()
set(_executor "")
foreach(_part IN LISTS TEST_EXECUTOR)
  _taskmap_bracket(_quoted "${_part}")
  string(APPEND _executor " ${_quoted}")
endforeach()
foreach(_line IN LISTS _names)
  if(_line STREQUAL "")
    continue()
  endif()
  string(REPLACE "${_semicolon}" ";" _name "${_line}")
  string(REPLACE "${_open}" "[" _name "${_name}")
  string(REPLACE "${_close}" "]" _name "${_name}")
  set(_filter "${_name}")
  foreach(_char "\\" "," "[" "]")
    string(REPLACE "${_char}" "\\${_char}" _filter "${_filter}")
  endforeach()
  set(_test "${TEST_PREFIX}${_name}${TEST_SUFFIX}")
  _taskmap_bracket(_test_q "${_test}")
  _taskmap_bracket(_filter_q "${_filter}")
  _taskmap_bracket(_exe_q "${TEST_EXECUTABLE}")
  _taskmap_bracket(_dir_q "${TEST_WORKING_DIR}")
  string(APPEND _script "add_test(${_test_q}${_executor} ${_exe_q} ${_filter_q}${_args})\n")
  string(APPEND _script
    "set_tests_properties(${_test_q} PROPERTIES WORKING_DIRECTORY ${_dir_q}${_properties})\n")
  string(APPEND _all " ${_test_q}")
endforeach()
if(_all STREQUAL "")
  message(FATAL_ERROR "${TEST_EXECUTABLE} lists no test cases")
endif()
string(APPEND _script "set(${TEST_LIST}${_all})\n")
file(WRITE "${CTEST_FILE}" "${_script}")
