#pragma once
/// @file version.hpp
/// The one place the taskmap version lives; CMake reads it from here.

#define TASKMAP_VERSION_MAJOR 0
#define TASKMAP_VERSION_MINOR 1
#define TASKMAP_VERSION_PATCH 0

namespace taskmap {
/// The library version as "major.minor.patch".
inline constexpr const char* version_string = "0.1.0";
}  // namespace taskmap
