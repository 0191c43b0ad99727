# Runs an MPI program whose rank dies in a task and checks that the job ends by itself (no
# hang: the TIMEOUT here is far above what it takes), with a non-zero status and the line the
# dying rank writes naming the task. Called by ctest as
#   cmake -DLAUNCH=<mpirun|-np|3|...|program> -DEXPECT=<regex> -P mpi_expect_crash.cmake
string(REPLACE "|" ";" LAUNCH "${LAUNCH}")
execute_process(COMMAND ${LAUNCH}
  TIMEOUT 120
  RESULT_VARIABLE status
  OUTPUT_VARIABLE out
  ERROR_VARIABLE err)
message("exit status: ${status}\n--- stdout\n${out}\n--- stderr\n${err}")
if(status MATCHES "timeout")
  message(FATAL_ERROR "the job did not end within 120 s")
endif()
if(status STREQUAL "0")
  message(FATAL_ERROR "the job ended with status 0, though a rank died")
endif()
if(NOT "${out}${err}" MATCHES "${EXPECT}")
  message(FATAL_ERROR "no line matching '${EXPECT}' in the job's output")
endif()
