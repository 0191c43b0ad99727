#pragma once
// NameIndex: task name -> dense index, as a flat open-addressing table of (hash, index)
// slots. It stores no strings: lookups compare against the graph's own name vector, so names
// are stored once and the table survives that vector reallocating.

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "taskmap/detail/huge_pages.hpp"
#include "taskmap/detail/task_id.hpp"

namespace taskmap::detail {

class NameIndex {
 public:
  /// Batched lookups run this many ahead of the one being resolved: the slot of lookup
  /// i + 16 and the name of lookup i + 8 are being loaded while lookup i probes, so the cache
  /// misses of a big graph's index (far larger than the caches) overlap instead of queueing.
  static constexpr std::size_t kLookupAhead = 16;

  /// Makes room for `count` names without rehashing.
  void reserve(std::size_t count) {
    std::size_t capacity = 16;
    while (capacity < count * 2) capacity *= 2;  // load factor <= 0.5 keeps probes short
    if (capacity > slots_.size()) rehash(capacity);
  }

  [[nodiscard]] std::size_t size() const noexcept { return size_; }

  /// The index of `name`, or no_task.
  [[nodiscard]] std::uint32_t find(std::string_view name,
                                   const std::vector<std::string>& names) const noexcept {
    return find_hashed(name, hash_of(name), names);
  }

  /// Adds `names[index]`; returns the index already stored under that name, or `index`.
  std::uint32_t insert(std::uint32_t index, const std::vector<std::string>& names) {
    if ((size_ + 1) * 2 > slots_.size()) rehash(slots_.empty() ? 16 : slots_.size() * 2);
    return insert_hashed(index, hash_of(names[index]), names);
  }

  /// Hash of a name as this index computes it, for the *_hashed calls.
  static std::uint32_t hash(std::string_view name) noexcept { return hash_of(name); }

  /// Starts loading the slot a lookup of `hash` will probe first (a batch of lookups
  /// overlaps its cache misses this way).
  void prefetch(std::uint32_t hash) const noexcept {
#if defined(__GNUC__) || defined(__clang__)
    if (!slots_.empty()) __builtin_prefetch(&slots_[hash & mask_]);
#else
    static_cast<void>(hash);
#endif
  }

  /// Runs `use(i, index)` for lookups i = 0 .. count-1 of names `name_at(i)` with hashes
  /// `hashes[i]`, in order, each slot and first-compared name prefetched ahead; `warm(i)`
  /// may start loading what name_at(i) will read.
  template <class NameAt, class Warm, class Use>
  void find_each(std::size_t count, const std::uint32_t* hashes,
                 const std::vector<std::string>& names, NameAt name_at, Warm warm, Use use) const {
    constexpr std::size_t half = kLookupAhead / 2;
    for (std::size_t i = 0; i < count; ++i) {
      if (i + kLookupAhead < count) {
        prefetch(hashes[i + kLookupAhead]);
        warm(i + kLookupAhead);
      }
      if (i + half < count) prefetch_name(hashes[i + half], names);
      use(i, find_hashed(name_at(i), hashes[i], names));
    }
  }

  /// find() with the hash already computed.
  [[nodiscard]] TaskId find_hashed(std::string_view name, std::uint32_t hash,
                                   const std::vector<std::string>& names) const noexcept {
    if (slots_.empty()) return no_task;
    for (std::size_t pos = hash & mask_;; pos = (pos + 1) & mask_) {
      const Slot& slot = slots_[pos];
      if (slot.index == no_task) return no_task;
      if (slot.hash == hash && names[slot.index] == name) return slot.index;
    }
  }

  /// insert() with the hash computed: adds `names[index]` and returns `index`, or returns
  /// the index already stored under that name. Precondition: reserved for one more name.
  std::uint32_t insert_hashed(std::uint32_t index, std::uint32_t hash,
                              const std::vector<std::string>& names) noexcept {
    for (std::size_t pos = hash & mask_;; pos = (pos + 1) & mask_) {
      Slot& slot = slots_[pos];
      if (slot.index == no_task) {
        slot = Slot{hash, index};
        ++size_;
        return index;
      }
      if (slot.hash == hash && names[slot.index] == names[index]) return slot.index;
    }
  }

  /// Starts loading the name a lookup of `hash` will most likely compare against: the one
  /// in its first slot, once prefetch() has brought that slot in. A lookup then waits on
  /// neither the slot nor the name.
  void prefetch_name(std::uint32_t hash, const std::vector<std::string>& names) const noexcept {
#if defined(__GNUC__) || defined(__clang__)
    if (slots_.empty()) return;
    const Slot& slot = slots_[hash & mask_];
    if (slot.index != no_task && slot.hash == hash) __builtin_prefetch(&names[slot.index]);
#else
    static_cast<void>(hash);
    static_cast<void>(names);
#endif
  }

  /// Replaces every stored index i by new_id[i] (after the names were permuted likewise).
  void remap(const std::vector<std::uint32_t>& new_id) noexcept {
    for (Slot& slot : slots_) {
      if (slot.index != no_task) slot.index = new_id[slot.index];
    }
  }

 private:
  struct Slot {
    std::uint32_t hash = 0;
    std::uint32_t index = no_task;
  };

  static std::uint32_t hash_of(std::string_view name) noexcept {
    const std::size_t h = std::hash<std::string_view>{}(name);
    return static_cast<std::uint32_t>(h ^ (h >> 32));
  }

  void rehash(std::size_t capacity) {
    std::vector<Slot> old;
    resize_huge(old, capacity);
    old.swap(slots_);
    mask_ = capacity - 1;
    for (const Slot& slot : old) {
      if (slot.index == no_task) continue;
      std::size_t pos = slot.hash & mask_;
      while (slots_[pos].index != no_task) pos = (pos + 1) & mask_;
      slots_[pos] = slot;
    }
  }

  std::vector<Slot> slots_;
  std::size_t mask_ = 0;
  std::size_t size_ = 0;
};

}  // namespace taskmap::detail
