# The optional targets of persistent results. taskmap::taskmap never needs them:
#   taskmap::store   fingerprints and DirectoryStore; needs xxHash's header (libxxhash-dev)
#   taskmap::sqlite  SqliteStore; taskmap::store plus SQLite (libsqlite3-dev, FindSQLite3)
# Each is defined only when what it needs is found; TASKMAP_HAVE_STORE and TASKMAP_HAVE_SQLITE
# say which were.
# -DTASKMAP_WITH_STORES=OFF defines neither, whatever is installed (the vcpkg port does so:
# its dependencies do not include xxHash or SQLite).
option(TASKMAP_WITH_STORES "Define taskmap::store and taskmap::sqlite when xxHash (and SQLite) are found" ON)
set(TASKMAP_HAVE_STORE OFF)
set(TASKMAP_HAVE_SQLITE OFF)

if(TASKMAP_WITH_STORES)
  find_path(TASKMAP_XXHASH_INCLUDE_DIR xxhash.h DOC "Directory that holds xxHash's xxhash.h")
endif()
if(TASKMAP_WITH_STORES AND TASKMAP_XXHASH_INCLUDE_DIR)
  set(TASKMAP_HAVE_STORE ON)
  add_library(taskmap_store INTERFACE)
  add_library(taskmap::store ALIAS taskmap_store)
  set_target_properties(taskmap_store PROPERTIES EXPORT_NAME store)
  # xxHash is used header-only (XXH_INLINE_ALL in taskmap's headers): no library to link.
  # Installed, the directory of xxhash.h is the consumer's to find: taskmapConfig.cmake makes
  # the imported target taskmap::xxhash when the store component is asked for.
  target_link_libraries(taskmap_store INTERFACE taskmap $<INSTALL_INTERFACE:taskmap::xxhash>)
  target_include_directories(taskmap_store SYSTEM INTERFACE
    $<BUILD_INTERFACE:${TASKMAP_XXHASH_INCLUDE_DIR}>)
endif()

if(TASKMAP_HAVE_STORE)
  find_package(SQLite3 QUIET)
endif()
if(TASKMAP_HAVE_STORE AND SQLite3_FOUND)
  set(TASKMAP_HAVE_SQLITE ON)
  add_library(taskmap_sqlite INTERFACE)
  add_library(taskmap::sqlite ALIAS taskmap_sqlite)
  set_target_properties(taskmap_sqlite PROPERTIES EXPORT_NAME sqlite)
  target_link_libraries(taskmap_sqlite INTERFACE taskmap_store SQLite::SQLite3)
endif()
message(STATUS "taskmap: taskmap::store ${TASKMAP_HAVE_STORE} (xxHash), "
               "taskmap::sqlite ${TASKMAP_HAVE_SQLITE} (SQLite)")
