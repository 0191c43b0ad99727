# Install rules: headers, the exported target, and a relocatable package config so that
# find_package(taskmap) gives consumers the same taskmap::taskmap target.
include(CMakePackageConfigHelpers)

set(TASKMAP_CMAKE_DIR "${CMAKE_INSTALL_DATADIR}/cmake/taskmap")

install(TARGETS taskmap EXPORT taskmapTargets)
install(DIRECTORY "${PROJECT_SOURCE_DIR}/include/" DESTINATION "${CMAKE_INSTALL_INCLUDEDIR}")
install(EXPORT taskmapTargets NAMESPACE taskmap:: DESTINATION "${TASKMAP_CMAKE_DIR}")

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
