#pragma once
/// @file version.hpp
/// The one place the taskmap version lives; CMake reads it from here.

/// Major version: 0.x releases may change the API between minor versions.
#define TASKMAP_VERSION_MAJOR 0
/// Minor version.
#define TASKMAP_VERSION_MINOR 1
/// Patch version: fixes only.
#define TASKMAP_VERSION_PATCH 0

namespace taskmap {
/// The library version as "major.minor.patch".
inline constexpr const char* version_string = "0.1.0";
}  // namespace taskmap
