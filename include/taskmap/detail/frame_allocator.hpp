#pragma once
// Coroutine frames of tasks come and go once per task: each thread keeps a few freed frames
// per size class and reuses them, so a coroutine task costs no trip to the general heap.
// A frame freed on another thread than the one that made it goes to that thread's cache.
// Under AddressSanitizer the cache is off, so that use-after-free of frames is still found.

#include <cstddef>
#include <cstdint>
#include <new>
#include <utility>

#if defined(__SANITIZE_ADDRESS__)
#define TASKMAP_FRAME_CACHE 0
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define TASKMAP_FRAME_CACHE 0
#endif
#endif
#ifndef TASKMAP_FRAME_CACHE
#define TASKMAP_FRAME_CACHE 1
#endif

namespace taskmap::detail {

class FrameCache {
 public:
  static constexpr std::size_t kGranule = 64;        // size classes of 64, 128, ... bytes
  static constexpr std::size_t kClasses = 16;        // frames up to 1 KiB are cached
  static constexpr std::uint32_t kMaxPerClass = 64;  // bounds what a thread keeps

  FrameCache() = default;
  FrameCache(const FrameCache&) = delete;
  FrameCache& operator=(const FrameCache&) = delete;
  ~FrameCache() {
    destroyed_ = true;  // frames freed later on this thread (thread_local destructors) bypass it
    for (Node*& head : heads_) {
      while (head != nullptr) ::operator delete(std::exchange(head, head->next));
    }
  }

  static void* allocate(std::size_t size) {
#if TASKMAP_FRAME_CACHE
    const std::size_t cls = (size - 1) / kGranule;
    if (cls < kClasses) {
      if (!destroyed_) {
        FrameCache& cache = local();
        if (Node* node = cache.heads_[cls]) {
          cache.heads_[cls] = node->next;
          --cache.counts_[cls];
          return node;
        }
      }
      // Whole size classes only: another thread's cache may keep this block for reuse.
      return ::operator new((cls + 1) * kGranule);
    }
#endif
    return ::operator new(size);
  }

  static void deallocate(void* frame, std::size_t size) noexcept {
#if TASKMAP_FRAME_CACHE
    const std::size_t cls = (size - 1) / kGranule;
    if (cls < kClasses && !destroyed_) {
      FrameCache& cache = local();
      if (cache.counts_[cls] < kMaxPerClass) {
        cache.heads_[cls] = ::new (frame) Node{cache.heads_[cls]};
        ++cache.counts_[cls];
        return;
      }
    }
#else
    static_cast<void>(size);
#endif
    ::operator delete(frame);
  }

 private:
  struct Node {
    Node* next;
  };

  static FrameCache& local() noexcept {
    thread_local FrameCache cache;
    return cache;
  }

  static inline thread_local bool destroyed_ = false;
  Node* heads_[kClasses] = {};
  // Unused when the cache is compiled out (sanitizer builds).
  [[maybe_unused]] std::uint32_t counts_[kClasses] = {};
};

/// Base of promise types whose frames use the FrameCache.
struct CachedFrame {
  static void* operator new(std::size_t size) { return FrameCache::allocate(size); }
  static void operator delete(void* frame, std::size_t size) noexcept {
    FrameCache::deallocate(frame, size);
  }
};

}  // namespace taskmap::detail
