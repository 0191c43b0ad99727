# Install rules: headers, the exported target, and a relocatable package config so that
# find_package(taskmap) gives consumers the same taskmap::taskmap target.
include(CMakePackageConfigHelpers)

set(TASKMAP_CMAKE_DIR "${CMAKE_INSTALL_DATADIR}/cmake/taskmap")

install(TARGETS taskmap EXPORT taskmapTargets)
install(DIRECTORY "${PROJECT_SOURCE_DIR}/include/" DESTINATION "${CMAKE_INSTALL_INCLUDEDIR}")
install(EXPORT taskmapTargets NAMESPACE taskmap:: DESTINATION "${TASKMAP_CMAKE_DIR}")
# The optional targets, each in an export file of its own that taskmapConfig.cmake loads only
# for the component asked for (find_package(taskmap COMPONENTS store sqlite json mpi)), so a
# plain find_package(taskmap) needs none of xxHash, SQLite, nlohmann/json and MPI. An install built without one lacks
# its file, and asking for that component fails with a message that says so.
if(TASKMAP_HAVE_STORE)
  install(TARGETS taskmap_store EXPORT taskmapStoreTargets)
  install(EXPORT taskmapStoreTargets NAMESPACE taskmap:: DESTINATION "${TASKMAP_CMAKE_DIR}")
endif()
if(TASKMAP_HAVE_SQLITE)
  install(TARGETS taskmap_sqlite EXPORT taskmapSqliteTargets)
  install(EXPORT taskmapSqliteTargets NAMESPACE taskmap:: DESTINATION "${TASKMAP_CMAKE_DIR}")
endif()
if(TASKMAP_HAVE_JSON)
  install(TARGETS taskmap_json EXPORT taskmapJsonTargets)
  install(EXPORT taskmapJsonTargets NAMESPACE taskmap:: DESTINATION "${TASKMAP_CMAKE_DIR}")
endif()
if(TASKMAP_HAVE_MPI)
  install(TARGETS taskmap_mpi EXPORT taskmapMpiTargets)
  install(EXPORT taskmapMpiTargets NAMESPACE taskmap:: DESTINATION "${TASKMAP_CMAKE_DIR}")
endif()

configure_package_config_file(
  "${PROJECT_SOURCE_DIR}/cmake/taskmapConfig.cmake.in"
  "${PROJECT_BINARY_DIR}/taskmapConfig.cmake"
  INSTALL_DESTINATION "${TASKMAP_CMAKE_DIR}")
# 0.x releases may break the API between minor versions.
write_basic_package_version_file(
  "${PROJECT_BINARY_DIR}/taskmapConfigVersion.cmake"
  COMPATIBILITY SameMinorVersion
  ARCH_INDEPENDENT)
install(FILES
  "${PROJECT_BINARY_DIR}/taskmapConfig.cmake"
  "${PROJECT_BINARY_DIR}/taskmapConfigVersion.cmake"
  DESTINATION "${TASKMAP_CMAKE_DIR}")

# pkg-config: share/pkgconfig (arch-independent, taskmap has no library). prefix is written
# relative to ${pcfiledir} so the file stays right after `cmake --install --prefix` or a move.
set(TASKMAP_PC_DIR "${CMAKE_INSTALL_DATADIR}/pkgconfig")
if(IS_ABSOLUTE "${TASKMAP_PC_DIR}")
  set(TASKMAP_PC_PREFIX "${CMAKE_INSTALL_PREFIX}")
else()
  file(RELATIVE_PATH _taskmap_pc_up "/${TASKMAP_PC_DIR}" "/")
  string(REGEX REPLACE "/$" "" _taskmap_pc_up "${_taskmap_pc_up}")
  set(TASKMAP_PC_PREFIX "\${pcfiledir}/${_taskmap_pc_up}")
endif()
if(IS_ABSOLUTE "${CMAKE_INSTALL_INCLUDEDIR}")
  set(TASKMAP_PC_INCLUDEDIR "${CMAKE_INSTALL_INCLUDEDIR}")
else()
  set(TASKMAP_PC_INCLUDEDIR "\${prefix}/${CMAKE_INSTALL_INCLUDEDIR}")
endif()
configure_file("${PROJECT_SOURCE_DIR}/cmake/taskmap.pc.in" "${PROJECT_BINARY_DIR}/taskmap.pc"
  @ONLY)
install(FILES "${PROJECT_BINARY_DIR}/taskmap.pc" DESTINATION "${TASKMAP_PC_DIR}")
