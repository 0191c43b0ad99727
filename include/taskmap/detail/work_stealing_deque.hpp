#pragma once
// A Chase-Lev work-stealing deque of task ids (Chase & Lev, SPAA 2005; memory orderings after
// Lê, Pop, Cohen, Zappa Nardelli, PPoPP 2013). The owner pushes and pops at the bottom;
// thieves steal from the top. The ring buffer grows when full; outgrown buffers are kept
// until clear(), between runs, so a thief never reads freed memory. Orderings are seq_cst
// where the algorithm needs a full fence, so ThreadSanitizer sees every edge.

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "taskmap/detail/cache_line.hpp"
#include "taskmap/detail/task_id.hpp"

namespace taskmap::detail {

/// A template only so that its code is compiled in the programs that start a pool.
template <class = void>
class BasicWorkStealingDeque {
 public:
  explicit BasicWorkStealingDeque(std::size_t capacity = 64) {
    buffers_.push_back(std::make_unique<Buffer>(capacity));
    buffer_.store(buffers_.back().get(), std::memory_order_relaxed);
  }
  BasicWorkStealingDeque(const BasicWorkStealingDeque&) = delete;
  BasicWorkStealingDeque& operator=(const BasicWorkStealingDeque&) = delete;

  /// Empties the deque and frees outgrown buffers. Only while no other thread uses it.
  /// Writes nothing when there is nothing to undo (a run leaves its deques empty), so
  /// starting a run does not pull every worker's deque into the caller's cache as modified.
  void clear() {
    if (buffers_.size() > 1) {
      buffers_.erase(buffers_.begin(), buffers_.end() - 1);
    }
    const std::int64_t bottom = bottom_.load(std::memory_order_relaxed);
    if (top_.load(std::memory_order_relaxed) != bottom)
      top_.store(bottom, std::memory_order_relaxed);
  }

  /// Owner only.
  void push(std::uint32_t item) {
    const std::int64_t b = bottom_.load(std::memory_order_relaxed);
    const std::int64_t t = top_.load(std::memory_order_acquire);
    Buffer* buffer = buffer_.load(std::memory_order_relaxed);
    if (b - t >= buffer->capacity) buffer = grow(buffer, t, b);
    buffer->at(b).store(item, std::memory_order_relaxed);
    bottom_.store(b + 1, std::memory_order_release);
  }

  /// Owner only: the most recently pushed item, or no_task.
  std::uint32_t pop() noexcept {
    const std::int64_t b = bottom_.load(std::memory_order_relaxed) - 1;
    Buffer* buffer = buffer_.load(std::memory_order_relaxed);
    bottom_.store(b, std::memory_order_seq_cst);
    std::int64_t t = top_.load(std::memory_order_seq_cst);
    if (t > b) {
      bottom_.store(b + 1, std::memory_order_relaxed);
      return no_task;
    }
    std::uint32_t item = buffer->at(b).load(std::memory_order_relaxed);
    if (t == b) {
      // The last item: race the thieves for it.
      if (!top_.compare_exchange_strong(t, t + 1, std::memory_order_seq_cst,
                                        std::memory_order_relaxed)) {
        item = no_task;
      }
      bottom_.store(b + 1, std::memory_order_relaxed);
    }
    return item;
  }

  /// Any thread: the oldest item, or no_task (also when it lost a race).
  std::uint32_t steal() noexcept {
    std::int64_t t = top_.load(std::memory_order_seq_cst);
    const std::int64_t b = bottom_.load(std::memory_order_seq_cst);
    if (t >= b) return no_task;
    Buffer* buffer = buffer_.load(std::memory_order_acquire);
    const std::uint32_t item = buffer->at(t).load(std::memory_order_relaxed);
    if (!top_.compare_exchange_strong(t, t + 1, std::memory_order_seq_cst,
                                      std::memory_order_relaxed)) {
      return no_task;
    }
    return item;
  }

  /// Any thread: a hint, exact only when no one else touches the deque.
  [[nodiscard]] bool looks_empty() const noexcept {
    return top_.load(std::memory_order_seq_cst) >= bottom_.load(std::memory_order_seq_cst);
  }

 private:
  struct Buffer {
    explicit Buffer(std::size_t size)
        : capacity(static_cast<std::int64_t>(size)),
          mask(static_cast<std::int64_t>(size) - 1),
          items(std::make_unique<std::atomic<std::uint32_t>[]>(size)) {}
    std::atomic<std::uint32_t>& at(std::int64_t index) noexcept {
      return items[static_cast<std::size_t>(index & mask)];
    }
    std::int64_t capacity;
    std::int64_t mask;
    std::unique_ptr<std::atomic<std::uint32_t>[]> items;
  };

  Buffer* grow(Buffer* old, std::int64_t top, std::int64_t bottom) {
    auto bigger = std::make_unique<Buffer>(static_cast<std::size_t>(old->capacity) * 2);
    for (std::int64_t i = top; i < bottom; ++i) {
      bigger->at(i).store(old->at(i).load(std::memory_order_relaxed), std::memory_order_relaxed);
    }
    Buffer* raw = bigger.get();
    buffers_.push_back(std::move(bigger));
    buffer_.store(raw, std::memory_order_release);
    return raw;
  }

  alignas(kCacheLine) std::atomic<std::int64_t> top_{0};
  alignas(kCacheLine) std::atomic<std::int64_t> bottom_{0};
  alignas(kCacheLine) std::atomic<Buffer*> buffer_{nullptr};
  std::vector<std::unique_ptr<Buffer>> buffers_;  // owner only; the last one is current
};

/// A work-stealing deque of task ids (see BasicWorkStealingDeque).
using WorkStealingDeque = BasicWorkStealingDeque<>;

}  // namespace taskmap::detail
