# The optional target taskmap::mpi: MpiExecutor (taskmap/mpi.hpp), which runs a graph on the
# ranks of an MPI job. taskmap::taskmap never needs it. Defined only when MPI is found
# (Debian: libopenmpi-dev and openmpi-bin); TASKMAP_HAVE_MPI says whether it was, and
# MPIEXEC_EXECUTABLE names the launcher the tests and the example run through.
# -DTASKMAP_WITH_MPI=OFF leaves it out whatever is installed (the vcpkg port does so).
option(TASKMAP_WITH_MPI "Define taskmap::mpi when MPI is found" ON)
set(TASKMAP_HAVE_MPI OFF)
if(TASKMAP_WITH_MPI AND NOT TARGET MPI::MPI_CXX)
  # taskmap calls MPI's C functions only: the deprecated C++ bindings are not linked.
  if(NOT DEFINED MPI_CXX_SKIP_MPICXX)
    set(MPI_CXX_SKIP_MPICXX ON)
  endif()
  find_package(MPI QUIET COMPONENTS CXX)
endif()
if(TASKMAP_WITH_MPI AND TARGET MPI::MPI_CXX)
  set(TASKMAP_HAVE_MPI ON)
  add_library(taskmap_mpi INTERFACE)
  add_library(taskmap::mpi ALIAS taskmap_mpi)
  set_target_properties(taskmap_mpi PROPERTIES EXPORT_NAME mpi)
  target_link_libraries(taskmap_mpi INTERFACE taskmap MPI::MPI_CXX)
endif()
# How the project's tests and example start a job of 3 ranks on this machine. OpenMPI reads
# from the environment that it may put more ranks than cores (oversubscribe), run as root (a
# CI container), start the ranks without ssh (plm isolated: one machine, and a machine without
# ssh would otherwise refuse), talk through shared memory only (btl self,vader: its TCP
# transport is for other machines, and ThreadSanitizer reports a lock-order inversion inside
# it) and copy messages without cross-process reads (which containers often forbid); other
# MPIs ignore those variables.
if(TASKMAP_HAVE_MPI AND MPIEXEC_EXECUTABLE)
  set(TASKMAP_MPI_LAUNCH ${MPIEXEC_EXECUTABLE} ${MPIEXEC_NUMPROC_FLAG} 3 ${MPIEXEC_PREFLAGS})
  set(TASKMAP_MPI_ENVIRONMENT OMPI_MCA_rmaps_base_oversubscribe=1 OMPI_ALLOW_RUN_AS_ROOT=1
    OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_plm=isolated OMPI_MCA_btl=self,vader
    OMPI_MCA_btl_vader_single_copy_mechanism=none)
  if(TASKMAP_SANITIZE MATCHES "address")
    # MPI's own libraries keep memory until exit that LeakSanitizer reports; leaks of
    # taskmap's code still fail the test.
    list(APPEND TASKMAP_MPI_ENVIRONMENT
      "LSAN_OPTIONS=suppressions=${CMAKE_CURRENT_LIST_DIR}/mpi_lsan.supp:print_suppressions=0")
  endif()
endif()
message(STATUS "taskmap: taskmap::mpi ${TASKMAP_HAVE_MPI} (MPI)")
