# vcpkg port of taskmap, in the form of a port in the vcpkg registry.
#
# Source: taskmap has no published release archive yet, so this port builds the checkout it
# lives in (ports/taskmap/../..): use it as an overlay port of a clone, as README.md shows.
# That is the one line a registry submission changes, to
#   vcpkg_from_github(OUT_SOURCE_PATH SOURCE_PATH REPO <owner>/taskmap REF "v${VERSION}"
#                     SHA512 <sha512 of that archive> HEAD_REF main)
# once the release archive exists; the rest is the registry port as it stands. The packaging
# tests install this very file, unchanged. vcpkg's ABI hash does not cover a local source
# folder, so build it with binary caching off (VCPKG_BINARY_SOURCES=clear) or a stale cached
# package can stand in for a changed checkout.
get_filename_component(SOURCE_PATH "${CURRENT_PORT_DIR}/../.." ABSOLUTE)
if(NOT EXISTS "${SOURCE_PATH}/include/taskmap/version.hpp")
  message(FATAL_ERROR "taskmap port: ${SOURCE_PATH} is not a taskmap checkout; use the port "
    "from ports/ of a clone of taskmap")
endif()

# Header-only: one configuration is enough.
set(VCPKG_BUILD_TYPE release)

vcpkg_cmake_configure(
  SOURCE_PATH "${SOURCE_PATH}"
  OPTIONS
    -DTASKMAP_BUILD_TESTS=OFF
    -DTASKMAP_BUILD_EXAMPLES=OFF
    -DTASKMAP_BUILD_BENCHMARKS=OFF
    -DTASKMAP_INSTALL=ON
    # The port installs the core target only: its dependencies are fmt alone, so the
    # optional targets (stores: xxHash, SQLite; JSON codec: nlohmann/json; MPI) stay out even when
    # the build machine has those libraries.
    -DTASKMAP_WITH_STORES=OFF
    -DTASKMAP_WITH_JSON=OFF
    -DTASKMAP_WITH_MPI=OFF
)
vcpkg_cmake_install()
vcpkg_cmake_config_fixup(CONFIG_PATH share/cmake/taskmap)
# vcpkg wants a .pc file with a Libs: line (taskmap's -pthread) in lib/pkgconfig, even for a
# header-only library; the project installs it in share/pkgconfig.
file(MAKE_DIRECTORY "${CURRENT_PACKAGES_DIR}/lib/pkgconfig")
file(RENAME "${CURRENT_PACKAGES_DIR}/share/pkgconfig/taskmap.pc"
  "${CURRENT_PACKAGES_DIR}/lib/pkgconfig/taskmap.pc")
file(REMOVE_RECURSE "${CURRENT_PACKAGES_DIR}/share/pkgconfig")
vcpkg_fixup_pkgconfig()

vcpkg_install_copyright(FILE_LIST "${SOURCE_PATH}/LICENSE")
