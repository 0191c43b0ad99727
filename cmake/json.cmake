# The optional target taskmap::json: JsonCodec (taskmap/json_codec.hpp), a Codec for any type
# nlohmann/json converts. taskmap::taskmap never needs it. Defined only when nlohmann/json 3 is
# found (Debian: nlohmann-json3-dev, which ships a CMake config); TASKMAP_HAVE_JSON says
# whether it was.
# -DTASKMAP_WITH_JSON=OFF leaves it out whatever is installed (the vcpkg port does so).
option(TASKMAP_WITH_JSON "Define taskmap::json when nlohmann/json is found" ON)
set(TASKMAP_HAVE_JSON OFF)
if(TASKMAP_WITH_JSON AND NOT TARGET nlohmann_json::nlohmann_json)
  find_package(nlohmann_json 3 QUIET)
endif()
if(TASKMAP_WITH_JSON AND TARGET nlohmann_json::nlohmann_json)
  set(TASKMAP_HAVE_JSON ON)
  add_library(taskmap_json INTERFACE)
  add_library(taskmap::json ALIAS taskmap_json)
  set_target_properties(taskmap_json PROPERTIES EXPORT_NAME json)
  target_link_libraries(taskmap_json INTERFACE taskmap nlohmann_json::nlohmann_json)
endif()
message(STATUS "taskmap: taskmap::json ${TASKMAP_HAVE_JSON} (nlohmann/json)")
