#pragma once
// BatchedWrites: the queue and writer thread behind RecordStore. Changes wait in a map keyed
// by name (a later change to a name replaces the waiting one), then the writer thread takes
// them all as one batch once the oldest has waited max_delay, once max_batch wait, or when a
// flush asks. load_many answers from the waiting and the batch being written before it asks
// the store, so a load never misses a change made before it.

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <functional>
#include <mutex>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <utility>
#include <vector>

namespace taskmap::detail {

/// One change to a store: `bytes` to keep under `name`, or nullopt to erase its record.
struct RecordChange {
  std::string name;
  std::optional<std::string> bytes;
};

class BatchedWrites {
 public:
  using Write = std::function<void(std::span<const RecordChange>)>;

  template <class Durability>
  explicit BatchedWrites(const Durability& durability)
      : max_delay_(std::clamp<std::chrono::milliseconds>(
            durability.max_delay, std::chrono::milliseconds::zero(), kLongestDelay)),
        max_batch_(std::max<std::size_t>(durability.max_batch, 1)) {}

  BatchedWrites(const BatchedWrites&) = delete;
  BatchedWrites& operator=(const BatchedWrites&) = delete;

  // The owner should have called stop() while write() could still run; if it did not, the
  // waiting changes are dropped rather than handed to a store that no longer exists.
  ~BatchedWrites() {
    {
      std::lock_guard lock(mutex_);
      discard_ = true;
    }
    stop_thread();
  }

  void start(Write write) {
    std::lock_guard lock(mutex_);
    if (thread_.joinable()) return;
    write_ = std::move(write);
    thread_ = std::thread([this] { write_loop(); });
  }

  // Writes what waits (a failure is dropped: the owner is going away) and joins the thread.
  void stop(const Write& write) noexcept {
    bool started = false;
    {
      std::lock_guard lock(mutex_);
      started = thread_.joinable();
    }
    if (started) {
      stop_thread();
      return;
    }
    // Never started (the owner's constructor failed after queueing): write here, once.
    std::vector<RecordChange> changes;
    {
      std::lock_guard lock(mutex_);
      changes.swap(waiting_.changes);
      waiting_.index.clear();
    }
    if (changes.empty() || !write) return;
    try {
      write(changes);
    } catch (...) {  // NOLINT(bugprone-empty-catch): nobody is left to report it to
    }
  }

  // Wakes the writer for the first change into an empty queue, which starts its max_delay
  // clock (it sleeps without a timeout while nothing waits), and when max_batch wait.
  void queue(RecordChange change) {
    {
      std::lock_guard lock(mutex_);
      const bool first = waiting_.changes.empty();
      if (first) oldest_ = std::chrono::steady_clock::now();
      waiting_.put(std::move(change));
      ++queued_;
      if (!first && waiting_.changes.size() < max_batch_) return;
    }
    wake_writer_.notify_one();
  }

  void flush() {
    std::unique_lock lock(mutex_);
    if (!thread_.joinable()) {
      throw std::logic_error("taskmap: flush() on a record store whose writer never started");
    }
    const std::uint64_t target = queued_;
    flush_to_ = std::max(flush_to_, target);
    wake_writer_.notify_one();
    written_cv_.wait(lock, [&] { return written_ >= target; });
    if (error_) {
      std::exception_ptr error = std::exchange(error_, nullptr);
      std::rethrow_exception(error);
    }
  }

  template <class Read>
  void load_many(std::span<const std::string_view> names, std::span<std::optional<std::string>> out,
                 Read&& read) {
    if (names.size() != out.size()) {
      throw std::invalid_argument("taskmap: load_many needs one output per name");
    }
    std::vector<std::string_view> missing;
    std::vector<std::size_t> where;
    {
      std::lock_guard lock(mutex_);
      for (std::size_t i = 0; i < names.size(); ++i) {
        if (const RecordChange* change = waiting_.find(names[i])) {
          out[i] = change->bytes;
        } else if (const RecordChange* written = writing_.find(names[i])) {
          out[i] = written->bytes;
        } else {
          out[i].reset();
          missing.push_back(names[i]);
          where.push_back(i);
        }
      }
    }
    if (missing.empty()) return;
    if (missing.size() == names.size()) {
      read(names, out);
      return;
    }
    std::vector<std::optional<std::string>> found(missing.size());
    read(std::span<const std::string_view>(missing), std::span<std::optional<std::string>>(found));
    for (std::size_t k = 0; k < missing.size(); ++k) out[where[k]] = std::move(found[k]);
  }

 private:
  // Changes in the order first made, at most one per name.
  struct Changes {
    struct Hash {
      using is_transparent = void;
      std::size_t operator()(std::string_view s) const noexcept {
        return std::hash<std::string_view>{}(s);
      }
    };
    std::vector<RecordChange> changes;
    std::unordered_map<std::string, std::size_t, Hash, std::equal_to<>> index;

    void put(RecordChange change) {
      const auto [at, added] = index.try_emplace(change.name, changes.size());
      if (added) {
        changes.push_back(std::move(change));
      } else {
        changes[at->second].bytes = std::move(change.bytes);
      }
    }
    [[nodiscard]] const RecordChange* find(std::string_view name) const {
      const auto at = index.find(name);
      return at == index.end() ? nullptr : &changes[at->second];
    }
    void clear() {
      changes.clear();
      index.clear();
    }
  };

  void write_loop() {
    std::unique_lock lock(mutex_);
    for (;;) {
      wake_writer_.wait(lock, [&] { return stopping_ || !waiting_.changes.empty(); });
      if (waiting_.changes.empty()) return;  // stopping, nothing left
      wake_writer_.wait_until(lock, oldest_ + max_delay_, [&] {
        return stopping_ || flush_to_ > written_ || waiting_.changes.size() >= max_batch_;
      });
      if (discard_) return;
      std::swap(writing_, waiting_);
      const std::uint64_t batch_end = queued_;
      lock.unlock();
      // writing_ is only read by others while it is written out: no copy is needed.
      std::exception_ptr failure;
      try {
        write_(writing_.changes);
      } catch (...) {
        failure = std::current_exception();
      }
      lock.lock();
      writing_.clear();
      if (failure && !error_) error_ = failure;
      written_ = batch_end;
      written_cv_.notify_all();
    }
  }

  void stop_thread() noexcept {
    {
      std::lock_guard lock(mutex_);
      stopping_ = true;
    }
    wake_writer_.notify_one();
    if (thread_.joinable()) thread_.join();
    std::lock_guard lock(mutex_);
    written_ = queued_;  // nothing more will be written: no flush may wait for it
    written_cv_.notify_all();
  }

  // A longer max_delay would overflow the writer's deadline (and in nanoseconds, the
  // conversion itself): a day is "never, unless max_batch or a flush asks".
  static constexpr std::chrono::hours kLongestDelay{24};

  const std::chrono::steady_clock::duration max_delay_;
  const std::size_t max_batch_;
  std::mutex mutex_;
  std::condition_variable wake_writer_;
  std::condition_variable written_cv_;
  Changes waiting_;
  Changes writing_;
  std::chrono::steady_clock::time_point oldest_{};
  std::uint64_t queued_ = 0;    // changes queued so far
  std::uint64_t written_ = 0;   // of those, how many are durable (or failed)
  std::uint64_t flush_to_ = 0;  // a flush waits for the first flush_to_ changes
  std::exception_ptr error_;
  bool stopping_ = false;
  bool discard_ = false;
  Write write_;
  std::thread thread_;
};

}  // namespace taskmap::detail
