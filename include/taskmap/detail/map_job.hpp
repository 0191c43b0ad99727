#pragma once
// Context::map's machinery: the items' indices 0..n-1 handed out in chunks claimed with one
// atomic counter, with no graph, no names and no per-item allocation. On a pool whose job
// takes nested jobs the range is a NestedJob attached to it (as a child graph is, see
// nested_jobs.hpp): the calling worker claims chunks and the others join; elsewhere the
// items run inline, in order.
//
// Chunks are guided: each claim takes the remaining items divided by twice the workers (at
// least one), so cheap items cost a few claims in all and costly ones still spread over the
// workers at the end. Within a chunk, items run in index order.
//
// Failures: the lowest failing index is kept. A worker runs no item above the lowest failure
// seen so far but still runs the items below it; chunks are claimed in index order, so every
// item below a failing one is claimed before it, runs, and, if it throws, replaces it: the
// failure reported is the lowest index whose call throws, whatever the timing (the one
// the sequential loop stops at). Items above it may or may not have been called.

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <exception>
#include <limits>
#include <memory>
#include <mutex>
#include <optional>
#include <stop_token>
#include <string>
#include <string_view>
#include <thread>
#include <type_traits>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "taskmap/detail/cache_line.hpp"
#include "taskmap/detail/describe_exception.hpp"
#include "taskmap/detail/nested_jobs.hpp"
#include "taskmap/detail/worker_pool.hpp"
#include "taskmap/errors.hpp"

namespace taskmap::detail {

inline constexpr std::size_t no_item = std::numeric_limits<std::size_t>::max();

/// How a map over n items ended: the lowest failing item and its exception, else the lowest
/// item a stop request left uncalled, else (both no_item) every item succeeded.
struct MapOutcome {
  std::size_t failed = no_item;
  std::exception_ptr error;
  std::size_t stopped = no_item;
};

/// Throws what `outcome` says went wrong, if anything: TaskError naming "item N" (the
/// lowest failing item, its exception nested; or the first item a stop left uncalled).
inline void raise_map_outcome(const MapOutcome& outcome, std::string_view task_name) {
  if (outcome.failed != no_item) {
    try {
      std::rethrow_exception(outcome.error);
    } catch (...) {
      const std::string what = describe_current_exception();
      std::string item = fmt::format("item {}", outcome.failed);
      std::string message =
          fmt::format("task '{}' of graph '{}/map' failed: {}", item, task_name, what);
      std::throw_with_nested(TaskError(std::move(message), std::move(item), outcome.error));
    }
  }
  if (outcome.stopped != no_item) {
    std::string item = fmt::format("item {}", outcome.stopped);
    std::string message =
        fmt::format("the run was asked to stop before '{}' of graph '{}/map' ran", item, task_name);
    const std::exception_ptr original = std::make_exception_ptr(Error(message));
    try {
      std::rethrow_exception(original);
    } catch (...) {
      std::throw_with_nested(TaskError(std::move(message), std::move(item), original));
    }
  }
}

/// Calls `call(i)` for i in [0, size) on this thread, in order, up to the first that throws
/// or the first a stop request finds uncalled.
template <class Call>
MapOutcome map_inline(std::size_t size, const std::stop_token& stop, Call& call) {
  MapOutcome outcome;
  for (std::size_t i = 0; i < size; ++i) {
    if (stop.stop_requested()) {
      outcome.stopped = i;
      break;
    }
    try {
      call(i);
    } catch (...) {
      outcome.failed = i;
      outcome.error = std::current_exception();
      break;
    }
  }
  return outcome;
}

/// The items of one map as pool work (see the top of this file). `Call` is called as
/// `call(i)` from several workers at once.
template <class Call>
class MapJob final : public NestedJob {
 public:
  MapJob(std::size_t size, std::size_t workers, const std::stop_token& stop, Call& call,
         WorkerPool& pool) noexcept
      : size_(size),
        split_(2 * std::max<std::size_t>(workers, 1)),
        stop_(stop),
        call_(call),
        pool_(pool) {}

  /// True when more than one chunk is to be claimed (asked before attach).
  bool seed(std::size_t) override { return size_ > 1; }

  bool run_one(std::size_t) override {
    std::size_t begin = next_.load(std::memory_order_relaxed);
    std::size_t end = 0;
    do {
      if (begin >= size_) return false;
      end = begin + std::max<std::size_t>(1, (size_ - begin) / split_);
    } while (!next_.compare_exchange_weak(begin, end, std::memory_order_relaxed));
    // Items are left: bring in one more worker, which does the same (one wake-up per claim,
    // nothing when no worker is parked).
    if (end < size_) pool_.notify_work();
    for (std::size_t i = begin; i < end; ++i) {
      if (i > failed_.load(std::memory_order_relaxed)) break;  // a lower item failed
      if (stop_.stop_requested()) {
        note_stopped(i);
        break;
      }
      try {
        call_(i);
      } catch (...) {
        note_failed(i, std::current_exception());
      }
    }
    // The results written above become visible to whoever sees the count complete.
    done_.fetch_add(end - begin, std::memory_order_acq_rel);
    return true;
  }

  [[nodiscard]] bool has_work() const noexcept override {
    return next_.load(std::memory_order_relaxed) < size_;
  }

  [[nodiscard]] bool finished() const noexcept override {
    return done_.load(std::memory_order_acquire) == size_;
  }

  /// How the map ended; call once finished.
  [[nodiscard]] MapOutcome outcome() {
    std::lock_guard lock(mutex_);
    MapOutcome out;
    out.failed = failed_.load(std::memory_order_relaxed);
    out.error = error_;
    out.stopped = stopped_;
    return out;
  }

 private:
  void note_failed(std::size_t i, std::exception_ptr error) noexcept {
    std::lock_guard lock(mutex_);
    if (i < failed_.load(std::memory_order_relaxed)) {
      failed_.store(i, std::memory_order_relaxed);
      error_ = std::move(error);
    }
  }

  void note_stopped(std::size_t i) noexcept {
    std::lock_guard lock(mutex_);
    stopped_ = std::min(stopped_, i);
  }

  const std::size_t size_;
  const std::size_t split_;
  const std::stop_token& stop_;
  Call& call_;
  WorkerPool& pool_;
  alignas(kCacheLine) std::atomic<std::size_t> next_{0};
  alignas(kCacheLine) std::atomic<std::size_t> done_{0};
  alignas(kCacheLine) std::atomic<std::size_t> failed_{no_item};
  std::mutex mutex_;
  std::exception_ptr error_;
  std::size_t stopped_ = no_item;
};

/// Calls `call(i)` for every i in [0, size) from a task running on the calling thread: in
/// parallel on the pool whose worker the thread is, if that pool's job takes nested jobs and
/// has more than one worker, else inline on this thread.
template <class Call>
MapOutcome map_indices(std::size_t size, const std::stop_token& stop, Call& call) {
  if (size > 1) {
    if (const NestSite site = current_nest_site();
        site.host != nullptr && site.pool->max_workers() > 1) {
      // On the heap, as a child graph's run: a recursion keeps one such call per level.
      auto job =
          std::make_unique<MapJob<Call>>(size, site.pool->max_workers(), stop, call, *site.pool);
      // This worker claims chunks until none is left, then helps newer nested jobs.
      run_attached(site, *job, true);
      return job->outcome();
    }
  }
  return map_inline(size, stop, call);
}

/// The results of `get(i)` for every i in [0, size), in index order (see map_indices).
/// Throws: TaskError naming "item N" (raise_map_outcome).
template <class R, class Get>
std::vector<R> map_results(std::size_t size, std::string_view task_name,
                           const std::stop_token& stop, Get& get) {
  if constexpr (std::is_trivially_default_constructible_v<R> && std::is_trivially_copyable_v<R> &&
                std::is_assignable_v<R&, R> && !std::is_same_v<R, bool>) {
    // Written in place: zeroing first costs less than a buffer and a copy. Not for bool:
    // std::vector<bool> packs its elements, so two workers would write the same word.
    std::vector<R> out(size);
    auto call = [&out, &get](std::size_t i) { out[i] = get(i); };
    raise_map_outcome(map_indices(size, stop, call), task_name);
    return out;
  } else {
    // Any R, also one without a default constructor: each slot is made by its item.
    std::vector<std::optional<R>> slots(size);
    auto call = [&slots, &get](std::size_t i) { slots[i].emplace(get(i)); };
    raise_map_outcome(map_indices(size, stop, call), task_name);
    std::vector<R> out;
    out.reserve(size);
    for (std::optional<R>& slot : slots) out.push_back(std::move(*slot));
    return out;
  }
}

}  // namespace taskmap::detail
