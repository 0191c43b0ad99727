#pragma once
// The cache line size that data written by different threads is kept apart by.

#include <cstddef>

namespace taskmap::detail {

/// Bytes per cache line on the machines taskmap targets (x86-64, most ARM64).
inline constexpr std::size_t kCacheLine = 64;

}  // namespace taskmap::detail
