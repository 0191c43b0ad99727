# Finds standalone Asio (<asio.hpp>; Debian's libasio-dev) for the tests and the example of
# include/taskmap/asio.hpp. The taskmap target never depends on Asio: users who include
# taskmap/asio.hpp bring their own. Sets TASKMAP_HAVE_ASIO and, when Asio is found, defines
# the interface target taskmap_asio. -DTASKMAP_WITH_ASIO=OFF builds as if Asio were missing
# (a TASKMAP_ASIO_INCLUDE_DIR ending in -NOTFOUND would only make find_path search again).
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
  # g++ warns (-Wtsan) that ThreadSanitizer ignores the std::atomic_thread_fence in Asio's
  # fenced blocks; Asio's handler queues are mutex-protected, so TSan still sees the order.
  if(TASKMAP_SANITIZE MATCHES "thread" AND CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
    target_compile_options(taskmap_asio INTERFACE -Wno-tsan)
  endif()
  message(STATUS "taskmap: Asio found in ${TASKMAP_ASIO_INCLUDE_DIR}; testing taskmap/asio.hpp")
else()
  message(STATUS "taskmap: Asio not found or TASKMAP_WITH_ASIO=OFF; not testing taskmap/asio.hpp")
endif()
