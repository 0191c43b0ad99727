# The `docs` target: Doxygen over the public headers (not detail/), with every undocumented
# public name a warning and any warning an error (docs/Doxyfile.in). Defined only when Doxygen
# is installed (Debian: doxygen).
find_package(Doxygen QUIET)
if(NOT DOXYGEN_FOUND)
  message(STATUS "taskmap: Doxygen not found; no `docs` target")
  return()
endif()
set(TASKMAP_DOCS_OUTPUT "${PROJECT_BINARY_DIR}/docs")
configure_file("${PROJECT_SOURCE_DIR}/docs/Doxyfile.in" "${TASKMAP_DOCS_OUTPUT}/Doxyfile" @ONLY)
file(GLOB_RECURSE _taskmap_public_headers CONFIGURE_DEPENDS
  "${PROJECT_SOURCE_DIR}/include/taskmap/*.hpp")
add_custom_target(docs
  COMMAND Doxygen::doxygen "${TASKMAP_DOCS_OUTPUT}/Doxyfile"
  WORKING_DIRECTORY "${TASKMAP_DOCS_OUTPUT}"
  COMMENT "Doxygen: API documentation in ${TASKMAP_DOCS_OUTPUT}/html"
  SOURCES ${_taskmap_public_headers}
  VERBATIM)
message(STATUS "taskmap: Doxygen ${DOXYGEN_VERSION} found; `docs` builds the API documentation")
