// Runs with a store: what is skipped as up to date, what reruns and why (explain), targets,
// transient tasks, failures, resets, observers — on every executor, over a RecordStore kept
// in memory (MemoryStore below), so these cases test the rules and not a medium. The real
// stores' own cases, and the crash and corruption cases, are in directory_store_test.cpp
// and sqlite_store_test.cpp.

#include <any>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <taskmap/record_store.hpp>
#include <taskmap/taskmap.hpp>

#include "catch.hpp"
#include "executors.hpp"
#include "test_support.hpp"

using namespace taskmap;
using taskmap_test::make_executor;
using taskmap_test::TempDir;

namespace {

// A RecordStore whose medium is a map: what write() is handed is what read() returns.
class MemoryStore : public RecordStore {
 public:
  MemoryStore() : RecordStore({std::chrono::milliseconds(5), 64}) { open(); }
  ~MemoryStore() override { close(); }
  [[nodiscard]] std::string describe() const override { return "memory"; }
  [[nodiscard]] std::size_t size() {
    std::lock_guard lock(mutex_);
    return records_.size();
  }
  // From now on, reading fails with a StoreError (a store that cannot be read).
  void fail_reads() { fail_reads_ = true; }
  // Replaces a record's bytes behind the store's back (a damaged record).
  void corrupt(const std::string& name, std::string bytes) {
    flush();
    std::lock_guard lock(mutex_);
    records_[name] = std::move(bytes);
  }

 protected:
  void read(std::span<const std::string_view> names,
            std::span<std::optional<std::string>> out) override {
    if (fail_reads_) throw StoreError("memory store: reads fail (as asked)");
    std::lock_guard lock(mutex_);
    for (std::size_t i = 0; i < names.size(); ++i) {
      const auto found = records_.find(std::string(names[i]));
      if (found != records_.end()) out[i] = found->second;
    }
  }
  void write(std::span<const Change> batch) override {
    std::lock_guard lock(mutex_);
    for (const Change& change : batch) {
      if (change.bytes) {
        records_[change.name] = *change.bytes;
      } else {
        records_.erase(change.name);
      }
    }
  }

 private:
  std::mutex mutex_;
  std::map<std::string, std::string> records_;
  std::atomic<bool> fail_reads_{false};
};

}  // namespace

// Not in the anonymous namespace: a type of internal linkage in taskmap's coroutine frames
// draws -Wsubobject-linkage.
namespace persistence_test {
// A value type whose Codec rejects bytes by throwing its own exception, not DecodeError.
struct Picky {
  int value = 0;
  friend bool operator==(const Picky&, const Picky&) = default;
};
}  // namespace persistence_test
using persistence_test::Picky;

namespace {

void write_file(const std::filesystem::path& path, const std::string& text) {
  std::ofstream(path, std::ios::binary) << text;
}

std::string normal(const std::string& path) {
  return std::filesystem::path(path).lexically_normal().string();
}

std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// Moves a file's modification time, as an edit a second later would.
void touch_later(const std::filesystem::path& path) {
  std::filesystem::last_write_time(
      path, std::filesystem::last_write_time(path) + std::chrono::seconds(1));
}

// a -> b -> c, counting calls; b's value is a's plus `offset`.
struct Chain {
  std::atomic<int> a_calls{0}, b_calls{0}, c_calls{0};
  int a_value = 5;
  int offset = 10;

  TaskGraph<int> graph(GraphOptions<int> options = {}) {
    return create_graph<int>({{"a",
                               [this] {
                                 ++a_calls;
                                 return a_value;
                               }},
                              {"b",
                               [this](int a) {
                                 ++b_calls;
                                 return a + offset;
                               }},
                              {"c",
                               [this](int b) {
                                 ++c_calls;
                                 return b * 2;
                               }}},
                             {{"a", {}}, {"b", {"a"}}, {"c", {"b"}}}, std::move(options));
  }
};
}  // namespace

template <>
struct taskmap::Codec<Picky> {
  static constexpr std::string_view name = "test::Picky";
  static void encode(ByteWriter& out, const Picky& p) { out.write<std::int32_t>(p.value); }
  static Picky decode(ByteReader& in) {
    const auto value = in.read<std::int32_t>();
    if (value == 5) throw std::runtime_error("Picky refuses 5");
    return {value};
  }
};

TEMPLATE_TEST_CASE("a second graph over the same store skips every task and gets its values",
                   "[persistence]", TASKMAP_TEST_EXECUTORS) {
  auto executor = make_executor<TestType>();
  MemoryStore store;
  Chain chain;
  auto first = chain.graph();
  const RunSummary ran = executor.run(first, {.store = &store});
  CHECK(ran.succeeded == 3);
  CHECK(ran.up_to_date == 0);
  CHECK(store.size() == 3);

  auto second = chain.graph();
  const RunSummary skipped = executor.run(second, {.store = &store});
  CHECK(skipped.succeeded == 0);
  CHECK(skipped.up_to_date == 3);
  CHECK(skipped.ok());
  CHECK(chain.a_calls == 1);
  CHECK(chain.b_calls == 1);
  CHECK(chain.c_calls == 1);
  CHECK(second.results() == ResultMap<int>{{"a", 5}, {"b", 15}, {"c", 30}});
  CHECK(second.done() == std::vector<std::string>{"a", "b", "c"});
  CHECK(explain(second, store, "c") ==
        "done in this graph: a run does not start it until it is reset");
  auto third = chain.graph();
  CHECK(explain(third, store, "c") == "up to date");
}

TEMPLATE_TEST_CASE("a new version reruns the task; its dependents rerun only if its value changed",
                   "[persistence]", TASKMAP_TEST_EXECUTORS) {
  auto executor = make_executor<TestType>();
  MemoryStore store;
  Chain chain;
  auto first = chain.graph();
  executor.run(first, {.store = &store});

  // Same value under a new version: only b reruns.
  auto same = chain.graph({.persistence = {{"b", {.version = "2"}}}});
  CHECK(explain(same, store, "b") == "version (none) -> 2");
  CHECK(explain(same, store, "c") == "dependency b will run (version (none) -> 2)");
  const RunSummary second = executor.run(same, {.store = &store});
  CHECK(second.succeeded == 1);
  CHECK(second.up_to_date == 2);
  CHECK(chain.b_calls == 2);
  CHECK(chain.c_calls == 1);

  // A different value under a newer version: c reruns too, and says why.
  chain.offset = 20;
  auto changed = chain.graph({.persistence = {{"b", {.version = "3"}}}});
  const RunSummary third = executor.run(changed, {.store = &store});
  CHECK(third.succeeded == 2);
  CHECK(third.up_to_date == 1);
  CHECK(changed.result("c") == 50);
  CHECK(chain.c_calls == 2);
  CHECK(explain(chain.graph({.persistence = {{"b", {.version = "3"}}}}), store, "c") ==
        "up to date");
}

TEST_CASE("a dependency that fed a different value, or none, is named", "[persistence]") {
  MemoryStore store;
  Chain chain;
  auto first = chain.graph();
  run(first, {.store = &store});
  auto seeded = chain.graph({.done = {"a"}, .results = {{"a", 7}}});
  CHECK(explain(seeded, store, "b") == "dependency a produced a different value");
  CHECK(explain(seeded, store, "c") ==
        "dependency b will run (dependency a produced a different value)");
  run(seeded, {.store = &store});
  CHECK(seeded.result("c") == 34);
  CHECK(chain.a_calls == 1);
  auto valueless = chain.graph({.done = {"a"}});
  CHECK(explain(valueless, store, "b") == "dependency a produced no value");
  auto same = chain.graph({.done = {"a"}, .results = {{"a", 7}}});
  CHECK(explain(same, store, "c") == "up to date");
}

TEST_CASE("input files: changed by stamp, by content, or only their existence", "[persistence]") {
  TempDir dir;
  const std::string data = (dir / "data.csv").string();
  write_file(data, "1,2,3");
  MemoryStore store;
  std::atomic<int> calls{0};
  auto make = [&](FileCheck check) {
    return create_graph<int>({{"load",
                               [&] {
                                 ++calls;
                                 return static_cast<int>(read_file(data).size());
                               }}},
                             {{"load", {}}},
                             {.persistence = {{"load", {.inputs = {data}, .input_check = check}}}});
  };
  auto g1 = make(FileCheck::stamp);
  run(g1, {.store = &store});
  CHECK(calls == 1);
  touch_later(data);
  auto g2 = make(FileCheck::stamp);
  CHECK(explain(g2, store, "load") == "input file " + data + " changed (mtime)");
  run(g2, {.store = &store});
  CHECK(calls == 2);

  // By content: a touch changes nothing, an edit does.
  auto g3 = make(FileCheck::content);
  CHECK(explain(g3, store, "load") == "input files compared by content instead of stamp");
  run(g3, {.store = &store});
  CHECK(calls == 3);
  touch_later(data);
  auto g4 = make(FileCheck::content);
  CHECK(explain(g4, store, "load") == "up to date");
  write_file(data, "1,2,4");
  CHECK(explain(g4, store, "load") == "input file " + data + " changed (content)");
  run(g4, {.store = &store});
  CHECK(calls == 4);

  std::filesystem::remove(data);
  auto g5 = make(FileCheck::content);
  CHECK(explain(g5, store, "load") == "input file " + data + " missing");
  run(g5, {.store = &store});
  // Missing then and missing now is no change.
  auto g6 = make(FileCheck::content);
  CHECK(explain(g6, store, "load") == "up to date");
}

TEST_CASE("targets: must be produced, are checked on rerun, and their order does not matter",
          "[persistence]") {
  TempDir dir;
  const std::string out1 = (dir / "out1.txt").string();
  const std::string out2 = (dir / "out2.txt").string();
  MemoryStore store;
  std::atomic<int> calls{0};
  auto make = [&](std::vector<std::string> targets, bool write_second = true) {
    return create_graph<int>({{"make",
                               [&, write_second] {
                                 ++calls;
                                 write_file(out1, "word");
                                 if (write_second) write_file(out2, "word");
                                 return 1;
                               }}},
                             {{"make", {}}},
                             {.persistence = {{"make", {.targets = std::move(targets)}}}});
  };
  auto g1 = make({out1, out2});
  run(g1, {.store = &store});
  CHECK(calls == 1);
  const auto made_at = std::filesystem::last_write_time(out1);
  auto g2 = make({out2, out1});  // the same targets in another order: the same task
  CHECK(explain(g2, store, "make") == "up to date");
  run(g2, {.store = &store});
  CHECK(calls == 1);
  CHECK(std::filesystem::last_write_time(out1) == made_at);  // not made again
  CHECK(read_file(out1) == "word");

  std::filesystem::remove(out2);
  auto g3 = make({out1, out2});
  CHECK(explain(g3, store, "make") == "target " + normal(out2) + " missing");
  run(g3, {.store = &store});
  CHECK(calls == 2);

  // A task that does not produce a declared target fails, naming it, and is not recorded.
  std::filesystem::remove(out2);
  auto g4 = make({out1, out2}, false);
  const RunSummary failed = run(g4, {.store = &store});
  CHECK(failed.failed == 1);
  CHECK(g4.failed() == std::vector<std::string>{"make"});
  try {
    std::rethrow_exception(g4.error("make"));
  } catch (const TargetMissingError& e) {
    CHECK(e.task() == "make");
    CHECK(e.missing() == std::vector<std::string>{normal(out2)});
    CHECK(std::string(e.what()).find(normal(out2)) != std::string::npos);
  }
  // Its earlier record stands, and no longer matches: out1 was rewritten (unless within the
  // file system's clock tick), out2 is gone.
  auto g5 = make({out1, out2});
  const std::string reason = explain(g5, store, "make");
  CHECK((reason == "target " + normal(out1) + " changed (mtime)" ||
         reason == "target " + normal(out2) + " missing"));
}

TEST_CASE("a target compared only by existence survives hand edits", "[persistence]") {
  TempDir dir;
  const std::string target = (dir / "once.txt").string();
  MemoryStore store;
  std::atomic<int> calls{0};
  auto make = [&] {
    return create_graph<int>(
        {{"once",
          [&] {
            if (++calls > 1) throw std::runtime_error("called twice");
            write_file(target, "test");
            return 0;
          }}},
        {{"once", {}}},
        {.persistence = {{"once", {.targets = {target}, .target_check = FileCheck::exists}}}});
  };
  auto g1 = make();
  run(g1, {.raise_errors = true, .store = &store});
  std::ofstream(target, std::ios::app) << "updated";
  auto g2 = make();
  run(g2, {.raise_errors = true, .store = &store});
  CHECK(read_file(target) == "testupdated");
  CHECK(calls == 1);
}

TEST_CASE("transient tasks always run and are never recorded", "[persistence]") {
  MemoryStore store;
  Chain chain;
  auto first = chain.graph({.persistence = {{"c", {.transient = true}}}});
  run(first, {.store = &store});
  CHECK(store.size() == 2);
  auto second = chain.graph({.persistence = {{"c", {.transient = true}}}});
  CHECK(explain(second, store, "c") == "transient: always runs");
  const RunSummary summary = run(second, {.store = &store});
  CHECK(summary.up_to_date == 2);
  CHECK(summary.succeeded == 1);
  CHECK(chain.c_calls == 2);
  CHECK(second.result("c") == 30);
  // A task recorded before it was declared transient runs all the same.
  auto third = chain.graph({.persistence = {{"b", {.transient = true}}}});
  run(third, {.store = &store});
  CHECK(chain.b_calls == 2);
}

TEMPLATE_TEST_CASE("a failed task is not recorded; its dependents do not run; a rerun retries it",
                   "[persistence]", TASKMAP_TEST_EXECUTORS) {
  auto executor = make_executor<TestType>();
  MemoryStore store;
  std::atomic<bool> fail{true};
  std::atomic<int> c_calls{0};
  auto make = [&] {
    return create_graph<int>({{"a", [] { return 1; }},
                              {"b",
                               [&](int a) {
                                 if (fail) throw std::runtime_error("b broke");
                                 return a + 1;
                               }},
                              {"c",
                               [&](int b) {
                                 ++c_calls;
                                 return b + 1;
                               }}},
                             {{"a", {}}, {"b", {"a"}}, {"c", {"b"}}});
  };
  auto g1 = make();
  const RunSummary broken = executor.run(g1, {.store = &store});
  CHECK(broken.failed == 1);
  CHECK(broken.skipped == 1);
  CHECK(c_calls == 0);
  CHECK(store.size() == 1);
  fail = false;
  auto g2 = make();
  CHECK(explain(g2, store, "b") == "no record");
  CHECK(explain(g2, store, "c") == "dependency b will run (no record)");
  const RunSummary fixed = executor.run(g2, {.store = &store});
  CHECK(fixed.up_to_date == 1);
  CHECK(fixed.succeeded == 2);
  CHECK(g2.result("c") == 3);
}

TEST_CASE("reset_tasks and reset_failed_tasks forget the records of what they reset",
          "[persistence]") {
  MemoryStore store;
  Chain chain;
  auto g = chain.graph();
  run(g, {.store = &store});
  reset_tasks(g, "b", store);
  CHECK(g.status("a") == TaskStatus::done);
  auto other = chain.graph();
  CHECK(explain(other, store, "a") == "up to date");
  CHECK(explain(other, store, "b") == "no record");
  CHECK(explain(other, store, "c") == "dependency b will run (no record)");
  run(g, {.store = &store});
  CHECK(chain.b_calls == 2);
  CHECK(chain.c_calls == 2);

  std::atomic<bool> fail{true};
  auto flaky = create_graph<int>({{"x", [] { return 1; }},
                                  {"y",
                                   [&](int x) {
                                     if (fail) throw std::runtime_error("no");
                                     return x;
                                   }}},
                                 {{"x", {}}, {"y", {"x"}}});
  run(flaky, {.store = &store});
  fail = false;
  reset_failed_tasks(flaky, store);
  CHECK(run(flaky, {.store = &store}).succeeded == 1);
}

TEST_CASE("a damaged record, or one written for another value type, reruns the task",
          "[persistence]") {
  MemoryStore store;
  Chain chain;
  auto g1 = chain.graph();
  run(g1, {.store = &store});
  store.corrupt("a", "not a record");
  auto g2 = chain.graph();
  CHECK(explain(g2, store, "a") ==
        "its record cannot be read (damaged, or written by another version)");
  run(g2, {.store = &store});
  CHECK(chain.a_calls == 2);
  CHECK(chain.b_calls == 1);  // a produced the same value

  auto strings =
      create_graph<std::string>({{"a", [] { return std::string("five"); }}}, {{"a", {}}});
  CHECK(explain(strings, store, "a") ==
        "its recorded value does not decode as this graph's value type");
  run(strings, {.store = &store});
  CHECK(strings.result("a") == "five");
}

TEST_CASE("values without a Codec: value-less tasks are recorded, valued ones always run",
          "[persistence]") {
  MemoryStore store;
  std::atomic<int> side_calls{0}, value_calls{0};
  auto make = [&] {
    return create_graph<std::any>({{"side", [&] { ++side_calls; }},
                                   {"value",
                                    [&] {
                                      ++value_calls;
                                      return std::any(1);
                                    }}},
                                  {{"side", {}}, {"value", {}}});
  };
  auto g1 = make();
  run(g1, {.store = &store});
  auto g2 = make();
  CHECK(explain(g2, store, "side") == "up to date");
  CHECK(explain(g2, store, "value") == "no record");
  const RunSummary summary = run(g2, {.store = &store});
  CHECK(summary.up_to_date == 1);
  CHECK(side_calls == 1);
  CHECK(value_calls == 2);
}

TEST_CASE("the log says which tasks were up to date", "[persistence]") {
  MemoryStore store;
  Chain chain;
  auto g1 = chain.graph();
  run(g1, {.store = &store});
  taskmap_test::TempPath log("persist-log");
  auto g2 = chain.graph();
  run(g2, {.observers = {std::make_shared<LogObserver>(log.path())}, .store = &store});
  const std::string text = read_file(log.path());
  CHECK(text.find("up-to-date task a") != std::string::npos);
  CHECK(text.find("starting task") == std::string::npos);
  CHECK(text.find("0 succeeded, 0 failed, 0 skipped, 0 cancelled, 3 up to date") !=
        std::string::npos);
  CHECK(in_progress(log.path()).in_progress.empty());
}

TEMPLATE_TEST_CASE("coroutine tasks are recorded when they finish and skipped when up to date",
                   "[persistence][coroutine]", TASKMAP_TEST_EXECUTORS) {
  auto executor = make_executor<TestType>();
  MemoryStore store;
  std::atomic<int> calls{0};
  auto make = [&] {
    return create_graph<int>({{"a",
                               [&]() -> Task<int> {
                                 ++calls;
                                 co_await yield();
                                 co_return 5;
                               }},
                              {"b",
                               [&](int a) -> Task<int> {
                                 ++calls;
                                 co_await sleep_for(std::chrono::milliseconds(1));
                                 co_return a + 10;
                               }}},
                             {{"a", {}}, {"b", {"a"}}});
  };
  auto first = make();
  CHECK(executor.run(first, {.store = &store}).succeeded == 2);
  auto second = make();
  const RunSummary summary = executor.run(second, {.store = &store});
  CHECK(summary.up_to_date == 2);
  CHECK(calls == 2);
  CHECK(second.result("b") == 15);
}

TEMPLATE_TEST_CASE("a Codec that throws its own exception on decode makes the task rerun",
                   "[persistence]", TASKMAP_TEST_EXECUTORS) {
  auto executor = make_executor<TestType>();
  MemoryStore store;
  std::atomic<int> calls{0};
  auto make = [&] {
    return create_graph<Picky>({{"p",
                                 [&] {
                                   ++calls;
                                   return Picky{5};
                                 }}},
                               {{"p", {}}});
  };
  auto first = make();
  executor.run(first, {.store = &store});
  auto second = make();
  CHECK(explain(second, store, "p") ==
        "its recorded value does not decode as this graph's value type");
  const RunSummary summary = executor.run(second, {.store = &store});
  CHECK(summary.succeeded == 1);
  CHECK(calls == 2);
  CHECK(second.result("p") == Picky{5});
}

TEST_CASE("targets are checked for tasks that are not recorded too", "[persistence]") {
  TempDir dir;
  const std::string never = (dir / "never.txt").string();
  MemoryStore store;
  auto transient = create_graph<int>(
      {{"t", [] { return 1; }}, {"after", [](int t) { return t; }}}, {{"t", {}}, {"after", {"t"}}},
      {.persistence = {{"t", {.targets = {never}, .transient = true}}}});
  const RunSummary summary = run(transient, {.store = &store});
  CHECK(summary.failed == 1);
  CHECK(summary.skipped == 1);
  CHECK_THROWS_AS(std::rethrow_exception(transient.error("t")), TargetMissingError);

  auto any = create_graph<std::any>({{"v", [] { return std::any(1); }}}, {{"v", {}}},
                                    {.persistence = {{"v", {.targets = {never}}}}});
  CHECK(run(any, {.store = &store}).failed == 1);
  CHECK_THROWS_AS(std::rethrow_exception(any.error("v")), TargetMissingError);
}

TEST_CASE("a task reset without the store still runs in the next run with it", "[persistence]") {
  MemoryStore store;
  Chain chain;
  auto g = chain.graph();
  run(g, {.store = &store});
  // The recipe of failures-and-reruns.md: a new function, then reset_tasks (no store).
  g.set_func("b", [](int a) { return a + 100; });
  reset_tasks(g, "b");
  CHECK(explain(g, store, "b") == "reset in this graph since it last ran");
  const RunSummary summary = run(g, {.store = &store});
  CHECK(summary.succeeded == 2);  // b and, fed a new value, c
  CHECK(g.result("c") == 210);
  // Its new record counts from then on.
  auto again = chain.graph();
  again.set_func("b", [](int a) { return a + 100; });
  CHECK(explain(again, store, "c") == "up to date");
}

TEST_CASE("a directory as a target or input compares by its stamp, also with content checks",
          "[persistence]") {
  TempDir dir;
  const std::string out = (dir / "outdir").string();
  MemoryStore store;
  auto make = [&] {
    return create_graph<int>(
        {{"mk",
          [&] {
            std::filesystem::create_directories(out);
            return 1;
          }}},
        {{"mk", {}}},
        {.persistence = {{"mk", {.targets = {out}, .target_check = FileCheck::content}}}});
  };
  auto g1 = make();
  CHECK(run(g1, {.store = &store}).succeeded == 1);
  auto g2 = make();
  CHECK(explain(g2, store, "mk") == "up to date");
}

TEMPLATE_TEST_CASE("a store that cannot be read: the run ends for its observers and throws",
                   "[persistence]", TASKMAP_TEST_EXECUTORS) {
  auto executor = make_executor<TestType>();
  MemoryStore store;
  Chain chain;
  auto g = chain.graph();
  store.fail_reads();
  taskmap_test::TempPath log("persist-fail");
  CHECK_THROWS_AS(
      executor.run(g, {.observers = {std::make_shared<LogObserver>(log.path())}, .store = &store}),
      StoreError);
  CHECK(read_file(log.path()).find("finished run") != std::string::npos);
  CHECK(g.status("a") == TaskStatus::pending);
}

TEMPLATE_TEST_CASE("trigger rules with a store: only an all_done task fed by successes is recorded",
                   "[persistence][trigger]", TASKMAP_TEST_EXECUTORS) {
  auto executor = make_executor<TestType>();
  TempDir dir;
  const std::string made = (dir / "made.txt").string();
  MemoryStore store;
  std::atomic<int> report_calls{0};
  std::atomic<int> quorum_calls{0};
  // `a` returns 5 but fails in its first run: its declared target is not written.
  auto make = [&](bool write_target) {
    return create_graph<int>(
        {{"a",
          [&, write_target] {
            if (write_target) write_file(made, "a");
            return 5;
          }},
         {"b", [] { return 2; }},
         {"report",
          [&](std::optional<int> a, std::optional<int> b) {
            ++report_calls;
            return a.value_or(-100) + b.value_or(-100);
          }},
         {"quorum",
          [&](std::span<const int> values) {
            ++quorum_calls;
            return static_cast<int>(values.size());
          }}},
        {{"a", {}}, {"b", {}}, {"report", {"a", "b"}}, {"quorum", {"a", "b"}}},
        {.persistence = {{"a", {.targets = {made}}}},
         .triggers = {{"report", Trigger::all_done()}, {"quorum", Trigger::n_success(1)}}});
  };
  auto g1 = make(false);
  const RunSummary first = executor.run(g1, {.store = &store});
  CHECK(g1.status("a") == TaskStatus::failed);
  CHECK(g1.result("report") == -98);  // a fed nothing though its function returned 5
  CHECK(first.succeeded == 3);
  CHECK(report_calls == 1);
  // The target is there now: a succeeds with 5, and report must run again, not take -98.
  auto g2 = make(true);
  CHECK(explain(g2, store, "report") == "dependency a will run (no record)");
  const RunSummary second = executor.run(g2, {.store = &store});
  CHECK(g2.result("report") == 7);
  CHECK(report_calls == 2);
  CHECK(second.up_to_date == 1);  // b
  // Every dependency succeeded: report is recorded and reused like any task; an n_* task,
  // fed whatever ended first, always runs.
  auto g3 = make(true);
  CHECK(explain(g3, store, "report") == "up to date");
  CHECK(explain(g3, store, "quorum") ==
        "its trigger n_success(1) runs it on whichever dependencies end first: never taken from "
        "a record");
  const RunSummary third = executor.run(g3, {.store = &store});
  CHECK(third.up_to_date == 3);
  CHECK(third.succeeded == 1);
  CHECK(report_calls == 2);
  CHECK(quorum_calls == 3);
  CHECK(g3.result("report") == 7);
}
