#pragma once
// Big per-task arrays ask for transparent huge pages before anything is written to them.
// A million-task graph writes ~100 MB of fresh memory, and each first touch of a 4 KiB page
// is a page fault: on virtual machines a fault costs 5–25 µs, which made page faults most of
// create_graph's time at that size (docs/performance.md). Asked for in 2 MiB pages (Linux,
// transparent huge pages in "madvise" or "always" mode, the distributions' default), the same
// memory takes a few dozen faults. Elsewhere, or when the kernel declines, nothing changes.

#include <cstddef>
#include <cstdint>

#if defined(__linux__)
#include <sys/mman.h>
#endif

namespace taskmap::detail {

/// Arrays smaller than this are left alone: they span too few huge pages to matter.
inline constexpr std::size_t kHugePageAdviceMin = std::size_t{2} << 20;

/// Asks for huge pages on the 2 MiB-aligned part of [data, data + bytes). Call it before the
/// memory is first written; the advice never changes what the memory holds.
inline void advise_huge_pages(const void* data, std::size_t bytes) noexcept {
#if defined(__linux__) && defined(MADV_HUGEPAGE)
  if (bytes < kHugePageAdviceMin) return;
  constexpr std::uintptr_t kHuge = std::uintptr_t{2} << 20;
  const auto begin = reinterpret_cast<std::uintptr_t>(data);
  const std::uintptr_t first = (begin + kHuge - 1) & ~(kHuge - 1);
  const std::uintptr_t last = (begin + bytes) & ~(kHuge - 1);
  if (last <= first) return;
  // Only whole huge pages inside the array: the advice never reaches a neighbour's memory.
  // Failure (no transparent huge pages in this kernel) leaves ordinary pages.
  static_cast<void>(madvise(reinterpret_cast<void*>(first), last - first, MADV_HUGEPAGE));
#else
  static_cast<void>(data);
  static_cast<void>(bytes);
#endif
}

/// `values.reserve(count)`, advising huge pages on a new buffer before it is written.
template <class Vector>
void reserve_huge(Vector& values, std::size_t count) {
  if (count <= values.capacity()) return;
  values.reserve(count);
  advise_huge_pages(values.data(), values.capacity() * sizeof(typename Vector::value_type));
}

/// `values.assign(count, value)` on a buffer advised before it is written.
template <class Vector, class Value>
void assign_huge(Vector& values, std::size_t count, const Value& value) {
  if (count > values.capacity()) {
    Vector fresh;
    values.swap(fresh);  // frees the old buffer first: reserve_huge then allocates only once
    reserve_huge(values, count);
  }
  values.assign(count, value);
}

/// `values.resize(count)` on a buffer advised before it is written.
template <class Vector>
void resize_huge(Vector& values, std::size_t count) {
  reserve_huge(values, count);
  values.resize(count);
}

}  // namespace taskmap::detail
