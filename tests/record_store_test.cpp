// RecordStore's own rules, through a store that keeps its records in memory: loads see
// queued changes, later changes replace waiting ones, batches start on max_batch, on
// max_delay, on flush() and in the destructor, and write errors reach flush() once.

#include <taskmap/record_store.hpp>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <map>
#include <mutex>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include <taskmap/errors.hpp>

#include "catch.hpp"

namespace record_store_test {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

// What the memory store holds and did, outliving the store; write() may be held or failed.
struct Backing {
  std::mutex mutex;
  std::condition_variable changed;
  std::map<std::string, std::string, std::less<>> records;
  std::vector<std::vector<taskmap::RecordStore::Change>> batches;  // every write() call
  std::size_t entered = 0;                                         // write() calls begun
  bool hold = false;                                               // write() waits while it is set
  bool fail = false;  // write() throws a StoreError naming the batch's first task

  std::optional<std::string> stored(const std::string& name) {
    std::lock_guard lock(mutex);
    const auto at = records.find(name);
    return at == records.end() ? std::nullopt : std::optional<std::string>(at->second);
  }
  std::size_t batch_count() {
    std::lock_guard lock(mutex);
    return batches.size();
  }
  void set_hold(bool value) {
    {
      std::lock_guard lock(mutex);
      hold = value;
    }
    changed.notify_all();
  }
  void set_fail(bool value) {
    std::lock_guard lock(mutex);
    fail = value;
  }
  // Waits until `count` write() calls have begun; false after 20 s.
  bool wait_for_entered(std::size_t count) {
    std::unique_lock lock(mutex);
    return changed.wait_for(lock, 20s, [&] { return entered >= count; });
  }
  // Waits until write() has been called `count` times; false after 20 s.
  bool wait_for_batches(std::size_t count) {
    std::unique_lock lock(mutex);
    return changed.wait_for(lock, 20s, [&] { return batches.size() >= count; });
  }
};

class MemoryStore final : public taskmap::RecordStore {
 public:
  explicit MemoryStore(Backing& backing, taskmap::Durability durability = {})
      : RecordStore(durability), backing_(backing) {
    open();
  }
  ~MemoryStore() override { close(); }
  MemoryStore(const MemoryStore&) = delete;
  MemoryStore& operator=(const MemoryStore&) = delete;

  [[nodiscard]] std::string describe() const override { return "memory"; }

 private:
  void read(std::span<const std::string_view> names,
            std::span<std::optional<std::string>> out) override {
    std::lock_guard lock(backing_.mutex);
    for (std::size_t i = 0; i < names.size(); ++i) {
      const auto at = backing_.records.find(names[i]);
      if (at != backing_.records.end()) out[i] = at->second;
    }
  }

  void write(std::span<const Change> batch) override {
    std::unique_lock lock(backing_.mutex);
    ++backing_.entered;
    backing_.changed.notify_all();
    backing_.changed.wait(lock, [&] { return !backing_.hold; });
    backing_.batches.emplace_back(batch.begin(), batch.end());
    backing_.changed.notify_all();
    if (backing_.fail) {
      throw taskmap::StoreError("memory store: cannot write the record of task '" +
                                batch.front().name + "'");
    }
    for (const Change& change : batch) {
      if (change.bytes) {
        backing_.records[change.name] = *change.bytes;
      } else {
        backing_.records.erase(change.name);
      }
    }
  }

  Backing& backing_;
};

// Writes only when asked (flush, max_batch, the destructor).
constexpr taskmap::Durability kNoTimer{.max_delay = std::chrono::hours(1), .max_batch = 1024};

TEST_CASE("RecordStore: load sees saves and erases that are not written yet", "[record_store]") {
  Backing backing;
  MemoryStore store(backing, kNoTimer);
  CHECK_FALSE(store.load("a").has_value());
  store.save("a", "1");
  CHECK(store.load("a") == "1");
  CHECK_FALSE(backing.stored("a").has_value());  // still waiting
  store.flush();
  CHECK(backing.stored("a") == "1");

  const std::string_view a = "a";
  store.erase({&a, 1});
  CHECK_FALSE(store.load("a").has_value());  // the erase waits, the record is still stored
  CHECK(backing.stored("a") == "1");
  store.flush();
  CHECK_FALSE(backing.stored("a").has_value());
  CHECK_FALSE(store.load("a").has_value());
}

TEST_CASE("RecordStore: load sees the batch being written, and newer saves over it",
          "[record_store]") {
  Backing backing;
  MemoryStore store(backing, kNoTimer);
  backing.set_hold(true);
  store.save("a", "1");
  std::thread flusher([&] { store.flush(); });
  // The writer has taken "a" and waits inside write(): a load must still find it.
  REQUIRE(backing.wait_for_entered(1));
  CHECK(store.load("a") == "1");
  store.save("a", "2");
  CHECK(store.load("a") == "2");
  backing.set_hold(false);
  flusher.join();
  store.flush();
  CHECK(backing.stored("a") == "2");
  CHECK(store.load("a") == "2");
}

TEST_CASE("RecordStore: a later change to a name replaces the waiting one", "[record_store]") {
  Backing backing;
  {
    MemoryStore store(backing, kNoTimer);
    store.save("a", "1");
    store.save("b", "x");
    store.save("a", "2");
    const std::string_view b = "b";
    store.erase({&b, 1});
    store.save("a", "3");
    store.flush();
  }
  REQUIRE(backing.batches.size() == 1);
  const auto& batch = backing.batches.front();
  REQUIRE(batch.size() == 2);  // one change per name
  CHECK(batch[0].name == "a");
  CHECK(batch[0].bytes == "3");
  CHECK(batch[1].name == "b");
  CHECK_FALSE(batch[1].bytes.has_value());
  CHECK(backing.stored("a") == "3");
  CHECK_FALSE(backing.stored("b").has_value());
}

TEST_CASE("RecordStore: max_batch waiting records start a write before max_delay",
          "[record_store]") {
  Backing backing;
  MemoryStore store(backing, {.max_delay = std::chrono::hours(1), .max_batch = 4});
  for (int i = 0; i < 3; ++i) store.save("t" + std::to_string(i), "v");
  std::this_thread::sleep_for(50ms);
  CHECK(backing.batch_count() == 0);  // three of four: nothing asks for a write yet
  store.save("t3", "v");
  REQUIRE(backing.wait_for_batches(1));
  std::lock_guard lock(backing.mutex);
  CHECK(backing.batches.front().size() == 4);
}

TEST_CASE("RecordStore: a saved record is written within max_delay, unasked", "[record_store]") {
  Backing backing;
  constexpr auto kDelay = 50ms;
  MemoryStore store(backing, {.max_delay = kDelay, .max_batch = 1024});
  // Twice: the first save into an empty queue, and again after the writer has gone idle.
  for (int round = 0; round < 2; ++round) {
    const std::string name = "t" + std::to_string(round);
    const auto start = Clock::now();
    store.save(name, "v");
    REQUIRE(backing.wait_for_batches(static_cast<std::size_t>(round) + 1));
    const auto took = Clock::now() - start;
    const double ms = std::chrono::duration<double, std::milli>(took).count();
    INFO("written after " << ms << " ms");
    CHECK(took < 20 * kDelay);  // loose: a busy machine may be slow, but not 20 times
    CHECK(backing.stored(name) == "v");
  }
}

TEST_CASE("RecordStore: flush() rethrows the first write error once, then works again",
          "[record_store]") {
  Backing backing;
  MemoryStore store(backing, {.max_delay = std::chrono::hours(1), .max_batch = 1});
  backing.set_fail(true);
  store.save("first", "1");  // max_batch 1: each save is a batch of its own
  REQUIRE(backing.wait_for_batches(1));
  store.save("second", "2");
  REQUIRE(backing.wait_for_batches(2));
  try {
    store.flush();
    FAIL("flush() did not report the failed writes");
  } catch (const taskmap::StoreError& e) {
    CHECK(std::string_view(e.what()).find("'first'") != std::string_view::npos);
  }
  CHECK_NOTHROW(store.flush());  // reported once
  backing.set_fail(false);
  store.save("third", "3");
  CHECK_NOTHROW(store.flush());
  CHECK(backing.stored("third") == "3");
  CHECK_FALSE(store.load("first").has_value());  // lost: its task runs again
}

TEST_CASE("RecordStore: erasing a name that was never saved", "[record_store]") {
  Backing backing;
  MemoryStore store(backing, kNoTimer);
  const std::string_view ghost = "ghost";
  store.erase({&ghost, 1});
  CHECK_FALSE(store.load("ghost").has_value());
  CHECK_NOTHROW(store.flush());
  CHECK_FALSE(store.load("ghost").has_value());
  CHECK(backing.records.empty());
}

TEST_CASE("RecordStore: the destructor writes what waits", "[record_store]") {
  Backing backing;
  {
    MemoryStore store(backing, kNoTimer);
    store.save("a", "1");
    store.save("b", "2");
  }
  CHECK(backing.stored("a") == "1");
  CHECK(backing.stored("b") == "2");
}

TEST_CASE("RecordStore: load_many answers each name, and wants one output per name",
          "[record_store]") {
  Backing backing;
  MemoryStore store(backing, kNoTimer);
  store.save("written", "w");
  store.flush();
  store.save("waiting", "q");
  const std::vector<std::string_view> names{"waiting", "absent", "written"};
  std::vector<std::optional<std::string>> out(names.size(), std::string("stale"));
  store.load_many(names, out);
  CHECK(out[0] == "q");
  CHECK_FALSE(out[1].has_value());
  CHECK(out[2] == "w");
  std::vector<std::optional<std::string>> short_out(2);
  CHECK_THROWS_AS(store.load_many(names, short_out), std::invalid_argument);
}

TEST_CASE("RecordStore: save, load and flush from four threads at once", "[record_store]") {
  Backing backing;
  constexpr int kThreads = 4;
  constexpr int kRounds = 300;
  {
    MemoryStore store(backing, {.max_delay = 1ms, .max_batch = 16});
    std::atomic<int> mismatches{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&, t] {
        for (int i = 0; i < kRounds; ++i) {
          const std::string name = "t" + std::to_string(t) + "-" + std::to_string(i % 10);
          const std::string value = std::to_string(i);
          store.save(name, value);
          // A thread reads its own latest change back, whichever batch holds it.
          if (store.load(name) != value) ++mismatches;
          const std::string other = "t" + std::to_string((t + 1) % kThreads) + "-0";
          static_cast<void>(store.load(other));
          if (i % 50 == 0) store.flush();
        }
      });
    }
    for (std::thread& thread : threads) thread.join();
    store.flush();
    CHECK(mismatches == 0);
  }
  for (int t = 0; t < kThreads; ++t) {
    for (int k = 0; k < 10; ++k) {
      const int last = kRounds - 10 + k;  // the last i with i % 10 == k
      CHECK(backing.stored("t" + std::to_string(t) + "-" + std::to_string(k)) ==
            std::to_string(last));
    }
  }
}

}  // namespace record_store_test
