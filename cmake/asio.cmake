# Finds standalone Asio (<asio.hpp>; Debian's libasio-dev) for the tests and the example of
# include/taskmap/asio.hpp. The taskmap target never depends on Asio: users who include
# taskmap/asio.hpp bring their own. Sets TASKMAP_HAVE_ASIO and, when Asio is found, defines
# the interface target taskmap_asio.
option(TASKMAP_WITH_ASIO "Test taskmap/asio.hpp and build its example when Asio is found" ON)
set(TASKMAP_HAVE_ASIO OFF)
if(TASKMAP_WITH_ASIO)
  find_path(TASKMAP_ASIO_INCLUDE_DIR asio.hpp DOC "Directory that holds standalone Asio's asio.hpp")
endif()
if(TASKMAP_WITH_ASIO AND TASKMAP_ASIO_INCLUDE_DIR)
  set(TASKMAP_HAVE_ASIO ON)
  add_library(taskmap_asio INTERFACE)
  # SYSTEM: Asio's own headers are not held to taskmap's warning flags.
  target_include_directories(taskmap_asio SYSTEM INTERFACE "${TASKMAP_ASIO_INCLUDE_DIR}")
  target_compile_definitions(taskmap_asio INTERFACE ASIO_STANDALONE ASIO_NO_DEPRECATED)
  target_link_libraries(taskmap_asio INTERFACE Threads::Threads)
  message(STATUS "taskmap: Asio found in ${TASKMAP_ASIO_INCLUDE_DIR}; testing taskmap/asio.hpp")
else()
  message(STATUS "taskmap: Asio not found or TASKMAP_WITH_ASIO=OFF; not testing taskmap/asio.hpp")
endif()
