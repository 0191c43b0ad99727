// Trigger rules (all_success, all_done, n_success, n_done) on every executor: when a task with
// a rule runs or is skipped, what it is fed, what its dependents see, rules over tasks that
// ended before the run, fail_fast and stops, validation, the Trio scheduler's word-count
// scenario, and random DAGs checked against a reference model written here.
//
// Tests that need a dependency to still be running when a rule task starts use a gate: the
// slow dependency waits at it (for a bounded time) and the rule task opens it. Priorities make
// the single-threaded executors run the rule task first; the pools get two workers, so one may
// wait at the gate while the other runs what opens it. Each such test checks that the gate was
// opened, not timed out.

#include <algorithm>
#include <any>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <map>
#include <memory>
#include <mutex>
#include <numeric>
#include <optional>
#include <random>
#include <set>
#include <span>
#include <stdexcept>
#include <stop_token>
#include <string>
#include <type_traits>
#include <unordered_map>
#include <utility>
#include <vector>

#include "executors.hpp"
#include "test_support.hpp"

using namespace taskmap;
using namespace taskmap_test;

namespace {

/// Workers for the gated tests: two on the pools, so that one can wait at a gate while the
/// other runs the task that opens it; one for BatchExecutor, whose batch ends only when every
/// task of it has, so with one thread it runs tasks one at a time in ready order.
template <class E>
constexpr std::size_t trigger_gate_workers() {
  return std::is_same_v<E, custom::BatchExecutor> ? 1 : 2;
}

/// A one-shot gate: wait() returns true once open() was called, false after 20 s without.
class TriggerGate {
 public:
  void open() {
    {
      std::lock_guard lock(mutex_);
      open_ = true;
    }
    opened_.notify_all();
  }
  bool wait() {
    std::unique_lock lock(mutex_);
    return opened_.wait_for(lock, std::chrono::seconds(20), [this] { return open_; });
  }

 private:
  std::mutex mutex_;
  std::condition_variable opened_;
  bool open_ = false;
};

/// What tasks were fed, by task name. Thread-safe.
class TriggerFeeds {
 public:
  void record(const std::string& task, std::span<const int> values) {
    std::lock_guard lock(mutex_);
    spans_[task].assign(values.begin(), values.end());
    ++calls_[task];
  }
  void record(const std::string& task, std::vector<std::optional<int>> values) {
    std::lock_guard lock(mutex_);
    optionals_[task] = std::move(values);
    ++calls_[task];
  }
  std::vector<int> span_of(const std::string& task) {
    std::lock_guard lock(mutex_);
    return spans_[task];
  }
  std::vector<std::optional<int>> optionals_of(const std::string& task) {
    std::lock_guard lock(mutex_);
    return optionals_[task];
  }
  int calls(const std::string& task) {
    std::lock_guard lock(mutex_);
    return calls_[task];
  }

 private:
  std::mutex mutex_;
  std::map<std::string, std::vector<int>> spans_;
  std::map<std::string, std::vector<std::optional<int>>> optionals_;
  std::map<std::string, int> calls_;
};

/// A task that records the span it is fed under `name` and returns 100 + their sum.
TaskFn<int> trigger_span_task(TriggerFeeds& feeds, std::string name) {
  return [&feeds, name](std::span<const int> values) {
    feeds.record(name, values);
    return 100 + std::accumulate(values.begin(), values.end(), 0);
  };
}

/// Checks that `error` is the TriggerUnmet of `task`, whose rule is `rule`.
void check_trigger_unmet(const std::exception_ptr& error, const std::string& task, Trigger rule) {
  REQUIRE(holds<TriggerUnmet>(error));
  try {
    std::rethrow_exception(error);
  } catch (const TriggerUnmet& e) {
    CHECK(e.task() == task);
    CHECK(to_string(e.trigger()) == to_string(rule));
    const std::string what = e.what();
    CAPTURE(what);
    CHECK(what.find(task) != std::string::npos);
    CHECK(what.find(to_string(rule)) != std::string::npos);
  }
}

/// Checks that `error` is an AncestorFailed naming `ancestor`.
void check_trigger_ancestor(const std::exception_ptr& error, const std::string& ancestor) {
  REQUIRE(holds<AncestorFailed>(error));
  try {
    std::rethrow_exception(error);
  } catch (const AncestorFailed& e) {
    CHECK(e.ancestor() == ancestor);
  }
}

void check_trigger_summary(const RunSummary& s, std::size_t succeeded, std::size_t failed,
                           std::size_t skipped, std::size_t cancelled = 0) {
  CHECK(s.succeeded == succeeded);
  CHECK(s.failed == failed);
  CHECK(s.skipped == skipped);
  CHECK(s.cancelled == cancelled);
  CHECK(s.up_to_date == 0);
}

/// Records the rule each started task reported, and the error of each skipped one.
class TriggerEventLog : public Observer {
 public:
  void on_event(const TaskEvent& event) override {
    std::lock_guard lock(mutex_);
    if (event.kind == EventKind::started)
      started_.insert_or_assign(std::string(event.task), event.trigger);
    if (event.kind == EventKind::skipped)
      skipped_.insert_or_assign(std::string(event.task), event.error);
  }
  std::map<std::string, Trigger> started() {
    std::lock_guard lock(mutex_);
    return started_;
  }
  std::map<std::string, std::exception_ptr> skipped() {
    std::lock_guard lock(mutex_);
    return skipped_;
  }

 private:
  std::mutex mutex_;
  std::map<std::string, Trigger> started_;
  std::map<std::string, std::exception_ptr> skipped_;
};

}  // namespace

// ---------------------------------------------------------------------------------------
// all_done

TEMPLATE_TEST_CASE("all_done runs after a failure, fed only the values that succeeded",
                   "[conformance][trigger]", TASKMAP_CONFORMANCE_EXECUTORS) {
  auto executor = make_executor<TestType>();
  TriggerFeeds feeds;
  auto g = create_graph<int>({{"one", [] { return 1; }},
                              {"boom", fd},
                              {"middle", fb},
                              {"three", [] { return 3; }},
                              {"report", trigger_span_task(feeds, "report")},
                              {"after", fb}},
                             {{"one", {}},
                              {"boom", {}},
                              {"middle", {"boom"}},
                              {"three", {}},
                              {"report", {"one", "boom", "middle", "three"}},
                              {"after", {"report"}}},
                             {.triggers = {{"report", Trigger::all_done()}}});
  const RunSummary summary = executor.run(g, {});
  CHECK(g.status("boom") == TaskStatus::failed);
  CHECK(g.status("middle") == TaskStatus::skipped);
  check_trigger_ancestor(g.error("middle"), "boom");
  CHECK(g.status("report") == TaskStatus::done);
  CHECK(g.error("report") == nullptr);
  CHECK(feeds.calls("report") == 1);
  CHECK(feeds.span_of("report") == std::vector<int>{1, 3});
  CHECK(g.result("report") == 104);
  CHECK(g.result("after") == 114);
  check_trigger_summary(summary, 4, 1, 1);
  CHECK_FALSE(summary.ok());
}

TEMPLATE_TEST_CASE("all_done feeds std::nullopt to std::optional parameters of failed deps",
                   "[conformance][trigger]", TASKMAP_CONFORMANCE_EXECUTORS) {
  auto executor = make_executor<TestType>();
  TriggerFeeds feeds;
  auto g = create_graph<int>(
      {{"one", [] { return 1; }},
       {"boom", fd},
       {"three", [] { return 3; }},
       {"report",
        [&feeds](std::optional<int> a, std::optional<int> b, std::optional<int> c) {
          feeds.record("report", {a, b, c});
          return a.value_or(0) + b.value_or(0) + c.value_or(0);
        }},
       // A dependency that succeeded without a value feeds nothing, so positions shift.
       {"nothing", [] {}},
       {"shifted",
        [&feeds](std::optional<int> a, std::optional<int> b) {
          feeds.record("shifted", {a, b});
          return 0;
        }}},
      {{"one", {}},
       {"boom", {}},
       {"three", {}},
       {"report", {"one", "boom", "three"}},
       {"nothing", {}},
       {"shifted", {"nothing", "boom", "three"}}},
      {.triggers = {{"report", Trigger::all_done()}, {"shifted", Trigger::all_done()}}});
  const RunSummary summary = executor.run(g, {});
  CHECK(g.status("report") == TaskStatus::done);
  CHECK(feeds.optionals_of("report") == std::vector<std::optional<int>>{1, std::nullopt, 3});
  CHECK(g.result("report") == 4);
  CHECK(g.status("shifted") == TaskStatus::done);
  CHECK(feeds.optionals_of("shifted") == std::vector<std::optional<int>>{std::nullopt, 3});
  check_trigger_summary(summary, 5, 1, 0);
}

TEMPLATE_TEST_CASE("a rule task whose plain parameter gets no value fails with TypeError",
                   "[conformance][trigger]", TASKMAP_CONFORMANCE_EXECUTORS) {
  auto executor = make_executor<TestType>();
  std::atomic<int> calls{0};
  auto g = create_graph<int>({{"one", [] { return 1; }},
                              {"boom", fd},
                              {"three", [] { return 3; }},
                              {"report",
                               [&calls](int a, int b, int c) {
                                 ++calls;
                                 return a + b + c;
                               }},
                              {"below", fb}},
                             {{"one", {}},
                              {"boom", {}},
                              {"three", {}},
                              {"report", {"one", "boom", "three"}},
                              {"below", {"report"}}},
                             {.triggers = {{"report", Trigger::all_done()}}});
  const RunSummary summary = executor.run(g, {});
  CHECK(calls == 0);
  CHECK(g.status("report") == TaskStatus::failed);
  REQUIRE(holds<TypeError>(g.error("report")));
  try {
    std::rethrow_exception(g.error("report"));
  } catch (const TypeError& e) {
    CHECK(e.task() == "report");
    CHECK(e.position() == 1);
    const std::string what = e.what();
    CAPTURE(what);
    CHECK(what.find("report") != std::string::npos);
    CHECK(what.find("no value") != std::string::npos);
  }
  CHECK(g.status("below") == TaskStatus::skipped);
  check_trigger_ancestor(g.error("below"), "report");
  check_trigger_summary(summary, 2, 2, 1);
}

TEMPLATE_TEST_CASE("coroutine rule tasks are fed like plain ones", "[conformance][trigger]",
                   TASKMAP_CONFORMANCE_EXECUTORS) {
  auto executor = make_executor<TestType>();
  auto g = create_graph<int>({{"one", [] { return 1; }},
                              {"boom", fd},
                              {"by_span",
                               [](std::span<const int> values) -> Task<int> {
                                 co_return 100 + std::accumulate(values.begin(), values.end(), 0);
                               }},
                              {"by_position",
                               [](std::optional<int> a, std::optional<int> b) -> Task<int> {
                                 co_return a.value_or(-1) * 10 + (b ? 1 : 0);
                               }},
                              {"plain", [](int a, int b) -> Task<int> { co_return a + b; }}},
                             {{"one", {}},
                              {"boom", {}},
                              {"by_span", {"one", "boom"}},
                              {"by_position", {"one", "boom"}},
                              {"plain", {"one", "boom"}}},
                             {.triggers = {{"by_span", Trigger::all_done()},
                                           {"by_position", Trigger::n_done(2)},
                                           {"plain", Trigger::n_success(1)}}});
  const RunSummary summary = executor.run(g, {});
  CHECK(g.result("by_span") == 101);
  CHECK(g.result("by_position") == 10);
  CHECK(g.status("plain") == TaskStatus::failed);
  REQUIRE(holds<TypeError>(g.error("plain")));
  try {
    std::rethrow_exception(g.error("plain"));
  } catch (const TypeError& e) {
    CHECK(e.task() == "plain");
    CHECK(e.position() == 1);
  }
  check_trigger_summary(summary, 3, 2, 0);
}

TEMPLATE_TEST_CASE("all_done after a chain of skips runs: a skipped dependency has ended",
                   "[conformance][trigger]", TASKMAP_CONFORMANCE_EXECUTORS) {
  // The Trio scheduler left C waiting forever here: the failure reached only one level.
  auto executor = make_executor<TestType>();
  TriggerFeeds feeds;
  auto g = create_graph<int>(
      {{"a", fd}, {"b", fb}, {"b2", fb}, {"c", trigger_span_task(feeds, "c")}, {"d", fb}},
      {{"a", {}}, {"b", {"a"}}, {"b2", {"b"}}, {"c", {"b2"}}, {"d", {"c"}}},
      {.triggers = {{"c", Trigger::all_done()}}});
  const RunSummary summary = executor.run(g, {});
  CHECK(g.status("a") == TaskStatus::failed);
  CHECK(g.status("b") == TaskStatus::skipped);
  CHECK(g.status("b2") == TaskStatus::skipped);
  check_trigger_ancestor(g.error("b2"), "a");
  CHECK(g.status("c") == TaskStatus::done);
  CHECK(feeds.span_of("c").empty());
  CHECK(g.result("c") == 100);
  CHECK(g.result("d") == 110);
  check_trigger_summary(summary, 2, 1, 2);
}

// ---------------------------------------------------------------------------------------
// n_success and n_done

TEMPLATE_TEST_CASE("n_success(2) of 3 runs after one failure", "[conformance][trigger]",
                   TASKMAP_CONFORMANCE_EXECUTORS) {
  // The Trio scheduler gave up here at the first failure (an off-by-one).
  auto executor = make_executor<TestType>();
  TriggerFeeds feeds;
  auto g = create_graph<int>(
      {{"boom", fd},
       {"two", [] { return 2; }},
       {"three", [] { return 3; }},
       {"rule", trigger_span_task(feeds, "rule")},
       {"below", fb}},
      {{"boom", {}},
       {"two", {}},
       {"three", {}},
       {"rule", {"boom", "two", "three"}},
       {"below", {"rule"}}},
      {.priority = {{"boom", 10}}, .triggers = {{"rule", Trigger::n_success(2)}}});
  const RunSummary summary = executor.run(g, {});
  CHECK(g.status("boom") == TaskStatus::failed);
  CHECK(g.status("rule") == TaskStatus::done);
  CHECK(feeds.span_of("rule") == std::vector<int>{2, 3});
  CHECK(g.result("rule") == 105);
  CHECK(g.result("below") == 115);
  check_trigger_summary(summary, 4, 1, 0);
}

TEMPLATE_TEST_CASE("n_success(2) of 3 after two failures is skipped with TriggerUnmet",
                   "[conformance][trigger]", TASKMAP_CONFORMANCE_EXECUTORS) {
  auto executor = make_executor<TestType>();
  TriggerFeeds feeds;
  std::atomic<int> rule_calls{0};
  auto g = create_graph<int>(
      {{"boom1", fd},
       {"boom2", fd},
       {"three", [] { return 3; }},
       {"rule",
        [&rule_calls](std::span<const int>) {
          ++rule_calls;
          return 0;
        }},
       {"below", fb},
       {"further", fb},
       {"rescue", trigger_span_task(feeds, "rescue")}},
      {{"boom1", {}},
       {"boom2", {}},
       {"three", {}},
       {"rule", {"boom1", "three", "boom2"}},
       {"below", {"rule"}},
       {"further", {"below"}},
       {"rescue", {"rule", "three"}}},
      {.triggers = {{"rule", Trigger::n_success(2)}, {"rescue", Trigger::all_done()}}});
  const RunSummary summary = executor.run(g, {});
  CHECK(rule_calls == 0);
  CHECK(g.status("rule") == TaskStatus::skipped);
  CHECK_FALSE(g.has_result("rule"));
  check_trigger_unmet(g.error("rule"), "rule", Trigger::n_success(2));
  // Its all_success dependents are skipped with that same TriggerUnmet.
  for (const char* task : {"below", "further"}) {
    CAPTURE(task);
    CHECK(g.status(task) == TaskStatus::skipped);
    check_trigger_unmet(g.error(task), "rule", Trigger::n_success(2));
  }
  // A skipped rule task has ended: all_done below it runs.
  CHECK(g.status("rescue") == TaskStatus::done);
  CHECK(feeds.span_of("rescue") == std::vector<int>{3});
  CHECK(g.skipped() == std::vector<std::string>{"below", "further", "rule"});
  check_trigger_summary(summary, 2, 2, 3);
}

TEMPLATE_TEST_CASE("n_success is skipped as soon as it cannot be met, while a dep still runs",
                   "[conformance][trigger]", TASKMAP_CONFORMANCE_EXECUTORS) {
  auto executor = make_executor<TestType>(trigger_gate_workers<TestType>());
  TriggerGate gate;
  std::atomic<bool> released{false};
  std::atomic<bool> gated_ended{false};
  std::atomic<bool> gated_ended_before_watcher{true};
  auto g = create_graph<int>(
      {{"boom1", fd},
       {"boom2", fd},
       {"gated",
        [&] {
          released = gate.wait();
          gated_ended = true;
          return 3;
        }},
       {"rule", [](std::span<const int>) { return 0; }},
       {"watcher",
        [&](std::span<const int> values) {
          gated_ended_before_watcher = gated_ended.load();
          gate.open();
          return static_cast<int>(values.size());
        }}},
      {{"boom1", {}},
       {"boom2", {}},
       {"gated", {}},
       {"rule", {"boom1", "boom2", "gated"}},
       {"watcher", {"rule"}}},
      {.priority = {{"boom1", 10}, {"boom2", 10}, {"watcher", 5}},
       .triggers = {{"rule", Trigger::n_success(2)}, {"watcher", Trigger::all_done()}}});
  const RunSummary summary = executor.run(g, {});
  CHECK(released);
  CHECK_FALSE(gated_ended_before_watcher);
  CHECK(g.status("rule") == TaskStatus::skipped);
  check_trigger_unmet(g.error("rule"), "rule", Trigger::n_success(2));
  CHECK(g.result("watcher") == 0);
  CHECK(g.result("gated") == 3);
  check_trigger_summary(summary, 2, 2, 1);
}

TEMPLATE_TEST_CASE("n_success(1) runs while another dependency still runs",
                   "[conformance][trigger]", TASKMAP_CONFORMANCE_EXECUTORS) {
  auto executor = make_executor<TestType>(trigger_gate_workers<TestType>());
  TriggerGate gate;
  TriggerFeeds feeds;
  std::atomic<int> rules_started{0};
  std::atomic<bool> released{false};
  std::atomic<bool> slow_ended{false};
  std::atomic<int> slow_ended_before_rule{0};
  auto rule_started = [&] {
    if (slow_ended) ++slow_ended_before_rule;
    if (++rules_started == 2) gate.open();
  };
  auto g = create_graph<int>(
      {{"fast", [] { return 1; }},
       {"slow",
        [&] {
          released = gate.wait();
          slow_ended = true;
          return 2;
        }},
       {"by_span",
        [&](std::span<const int> values) {
          rule_started();
          feeds.record("by_span", values);
          return 10;
        }},
       {"by_position",
        [&](std::optional<int> fast, std::optional<int> slow) {
          rule_started();
          feeds.record("by_position", {fast, slow});
          return 20;
        }}},
      {{"fast", {}},
       {"slow", {}},
       {"by_span", {"fast", "slow"}},
       {"by_position", {"fast", "slow"}}},
      {.priority = {{"fast", 10}, {"by_span", 5}, {"by_position", 5}},
       .triggers = {{"by_span", Trigger::n_success(1)}, {"by_position", Trigger::n_success(1)}}});
  const RunSummary summary = executor.run(g, {});
  // Both rule tasks started while slow waited for them: each was fed what had succeeded then.
  CHECK(released);
  CHECK(slow_ended_before_rule == 0);
  CHECK(feeds.span_of("by_span") == std::vector<int>{1});
  CHECK(feeds.optionals_of("by_position") == std::vector<std::optional<int>>{1, std::nullopt});
  CHECK(g.result("slow") == 2);
  CHECK(g.result("by_span") == 10);
  CHECK(g.result("by_position") == 20);
  check_trigger_summary(summary, 4, 0, 0);
}

TEMPLATE_TEST_CASE("n_done runs once n dependencies ended, fed what succeeded by then",
                   "[conformance][trigger]", TASKMAP_CONFORMANCE_EXECUTORS) {
  auto executor = make_executor<TestType>(trigger_gate_workers<TestType>());
  TriggerGate gate;
  TriggerFeeds feeds;
  std::atomic<bool> released{false};
  std::atomic<bool> gated_ended{false};
  std::atomic<bool> gated_ended_before_rule{true};
  auto g = create_graph<int>({{"boom", fd},
                              {"one", [] { return 1; }},
                              {"gated",
                               [&] {
                                 released = gate.wait();
                                 gated_ended = true;
                                 return 3;
                               }},
                              {"two_ended",
                               [&](std::span<const int> values) {
                                 gated_ended_before_rule = gated_ended.load();
                                 feeds.record("two_ended", values);
                                 gate.open();
                                 return 0;
                               }},
                              {"all_ended", trigger_span_task(feeds, "all_ended")},
                              {"one_ended", trigger_span_task(feeds, "one_ended")}},
                             {{"boom", {}},
                              {"one", {}},
                              {"gated", {}},
                              {"two_ended", {"boom", "one", "gated"}},
                              {"all_ended", {"boom", "one", "gated"}},
                              {"one_ended", {"boom"}}},
                             {.priority = {{"boom", 10}, {"one", 10}, {"two_ended", 5}},
                              .triggers = {{"two_ended", Trigger::n_done(2)},
                                           {"all_ended", Trigger::n_done(3)},
                                           {"one_ended", Trigger::n_done(1)}}});
  const RunSummary summary = executor.run(g, {});
  CHECK(released);
  CHECK_FALSE(gated_ended_before_rule);
  CHECK(feeds.span_of("two_ended") == std::vector<int>{1});
  CHECK(feeds.span_of("all_ended") == std::vector<int>{1, 3});
  CHECK(feeds.span_of("one_ended").empty());
  CHECK(g.status("one_ended") == TaskStatus::done);
  check_trigger_summary(summary, 5, 1, 0);
}

// ---------------------------------------------------------------------------------------
// Rules over tasks that ended before the run

TEMPLATE_TEST_CASE("rules over tasks seeded as done fire at once", "[conformance][trigger]",
                   TASKMAP_CONFORMANCE_EXECUTORS) {
  auto executor = make_executor<TestType>(trigger_gate_workers<TestType>());
  TriggerGate gate;
  TriggerFeeds feeds;
  std::atomic<bool> released{false};
  std::atomic<bool> blocked_ended{false};
  std::atomic<bool> blocked_ended_before_rule{true};
  // The seeded tasks throw if they ever run: their status staying done proves they did not.
  auto g = create_graph<int>({{"seeded", fd},
                              {"empty", fd},
                              {"blocked",
                               [&] {
                                 released = gate.wait();
                                 blocked_ended = true;
                                 return 9;
                               }},
                              {"two", trigger_span_task(feeds, "two")},
                              {"alld", trigger_span_task(feeds, "alld")},
                              {"first",
                               [&](std::optional<int> seeded, std::optional<int> blocked) {
                                 blocked_ended_before_rule = blocked_ended.load();
                                 feeds.record("first", {seeded, blocked});
                                 gate.open();
                                 return 1;
                               }}},
                             {{"seeded", {}},
                              {"empty", {}},
                              {"blocked", {}},
                              {"two", {"seeded", "empty"}},
                              {"alld", {"empty", "seeded"}},
                              {"first", {"seeded", "blocked"}}},
                             {.done = {"seeded", "empty"},
                              .results = {{"seeded", 5}},
                              .priority = {{"first", 5}},
                              .triggers = {{"two", Trigger::n_success(2)},
                                           {"alld", Trigger::all_done()},
                                           {"first", Trigger::n_success(1)}}});
  const RunSummary summary = executor.run(g, {});
  CHECK(g.status("seeded") == TaskStatus::done);
  CHECK(g.status("empty") == TaskStatus::done);
  CHECK(feeds.span_of("two") == std::vector<int>{5});
  CHECK(feeds.span_of("alld") == std::vector<int>{5});
  CHECK(released);
  CHECK_FALSE(blocked_ended_before_rule);
  CHECK(feeds.optionals_of("first") == std::vector<std::optional<int>>{5, std::nullopt});
  CHECK(g.result("blocked") == 9);
  check_trigger_summary(summary, 4, 0, 0);
}

TEMPLATE_TEST_CASE("rules over tasks that ended in an earlier run fire or skip at once",
                   "[conformance][trigger]", TASKMAP_CONFORMANCE_EXECUTORS) {
  auto executor = make_executor<TestType>();
  TriggerFeeds feeds;
  auto g = create_graph<int>(
      {{"a", fd}, {"b", [] { return 2; }}, {"s", fb}, {"r", trigger_span_task(feeds, "r")}},
      {{"a", {}}, {"b", {}}, {"s", {"a"}}, {"r", {"a", "b"}}});
  check_trigger_summary(executor.run(g, {}), 1, 1, 2);
  CHECK(g.status("r") == TaskStatus::skipped);
  check_trigger_ancestor(g.error("r"), "a");

  // The rule changes, r is reset: its dependencies ended last run, so it fires at once.
  g.set_trigger("r", Trigger::all_done());
  reset_tasks(g, {"r"});
  check_trigger_summary(executor.run(g, {}), 1, 0, 0);
  CHECK(g.status("a") == TaskStatus::failed);
  CHECK(feeds.span_of("r") == std::vector<int>{2});
  CHECK(g.result("r") == 102);

  // Tasks added after the run, over ended tasks: one that can never fire is skipped at once,
  // and the skip is itself an ending that the next rule counts.
  g.add_task("late", trigger_span_task(feeds, "late"), {"a", "b"});
  g.set_trigger("late", Trigger::n_success(2));
  g.add_task("after_late", trigger_span_task(feeds, "after_late"), {"late", "a"});
  g.set_trigger("after_late", Trigger::n_done(2));
  g.add_task("below_late", fb, {"late"});
  // A skip of an earlier run is an ending too.
  g.add_task("on_old_skip", trigger_span_task(feeds, "on_old_skip"), {"s"});
  g.set_trigger("on_old_skip", Trigger::all_done());
  check_trigger_summary(executor.run(g, {}), 2, 0, 2);
  CHECK(feeds.calls("late") == 0);
  CHECK(g.status("late") == TaskStatus::skipped);
  check_trigger_unmet(g.error("late"), "late", Trigger::n_success(2));
  CHECK(g.status("below_late") == TaskStatus::skipped);
  check_trigger_unmet(g.error("below_late"), "late", Trigger::n_success(2));
  CHECK(g.status("after_late") == TaskStatus::done);
  CHECK(feeds.span_of("after_late").empty());
  CHECK(g.status("on_old_skip") == TaskStatus::done);
  CHECK(feeds.span_of("on_old_skip").empty());

  // Nothing is left to do: a run changes nothing.
  check_trigger_summary(executor.run(g, {}), 0, 0, 0);
  CHECK(g.status("late") == TaskStatus::skipped);
  CHECK(feeds.calls("r") == 1);

  // Fix a, rerun what failed: every rule now sees two successes.
  g.set_func("a", fa);
  reset_failed_tasks(g);
  check_trigger_summary(executor.run(g, {}), 7, 0, 0);
  CHECK(feeds.span_of("r") == std::vector<int>{5, 2});
  CHECK(feeds.span_of("on_old_skip") == std::vector<int>{15});
  CHECK(feeds.span_of("late") == std::vector<int>{5, 2});
  CHECK(g.result("late") == 107);
  CHECK(feeds.span_of("after_late") == std::vector<int>{107, 5});
  CHECK(g.result("below_late") == 117);
  CHECK(g.error("late") == nullptr);
}

// ---------------------------------------------------------------------------------------
// Rules in combination

TEMPLATE_TEST_CASE("rule tasks feed rule tasks; a rule task without dependencies runs at once",
                   "[conformance][trigger]", TASKMAP_CONFORMANCE_EXECUTORS) {
  auto executor = make_executor<TestType>();
  TriggerFeeds feeds;
  FuncMap<int> funcs{{"a", fd}, {"b", [] { return 2; }}, {"r5", fb}, {"r7", fb}};
  for (const char* name : {"r1", "r2", "r3", "r4", "r6", "lonely"}) {
    funcs.emplace(name, trigger_span_task(feeds, name));
  }
  auto g = create_graph<int>(std::move(funcs),
                             {{"a", {}},
                              {"b", {}},
                              {"r1", {"a", "b"}},
                              {"r2", {"a", "r1"}},
                              {"r3", {"a", "b"}},
                              {"r4", {"r3", "r2"}},
                              {"r5", {"r3"}},
                              {"r6", {"r5"}},
                              {"r7", {"r5"}},
                              {"lonely", {}}},
                             {.triggers = {{"r1", Trigger::all_done()},
                                           {"r2", Trigger::n_success(1)},
                                           {"r3", Trigger::n_success(2)},
                                           {"r4", Trigger::all_done()},
                                           {"r6", Trigger::n_done(1)},
                                           {"lonely", Trigger::all_done()}}});
  const RunSummary summary = executor.run(g, {});
  CHECK(feeds.span_of("r1") == std::vector<int>{2});
  CHECK(g.result("r1") == 102);
  CHECK(feeds.span_of("r2") == std::vector<int>{102});
  CHECK(g.result("r2") == 202);
  CHECK(g.status("r3") == TaskStatus::skipped);
  check_trigger_unmet(g.error("r3"), "r3", Trigger::n_success(2));
  CHECK(feeds.span_of("r4") == std::vector<int>{202});
  CHECK(g.status("r5") == TaskStatus::skipped);
  check_trigger_unmet(g.error("r5"), "r3", Trigger::n_success(2));
  CHECK(g.status("r7") == TaskStatus::skipped);
  check_trigger_unmet(g.error("r7"), "r3", Trigger::n_success(2));
  CHECK(g.status("r6") == TaskStatus::done);
  CHECK(feeds.span_of("r6").empty());
  CHECK(feeds.calls("lonely") == 1);
  CHECK(g.result("lonely") == 100);
  CHECK(feeds.calls("r3") == 0);
  check_trigger_summary(summary, 6, 1, 3);
}

TEMPLATE_TEST_CASE("fail_fast leaves satisfied rule tasks pending and skips unmet ones",
                   "[conformance][trigger]", TASKMAP_CONFORMANCE_EXECUTORS) {
  auto executor = make_executor<TestType>(1);
  TriggerFeeds feeds;
  auto g = create_graph<int>(
      {{"boom", fd},
       {"child", fb},
       {"rescue", trigger_span_task(feeds, "rescue")},
       {"unmet", trigger_span_task(feeds, "unmet")},
       {"unrelated", fa}},
      {{"boom", {}},
       {"child", {"boom"}},
       {"rescue", {"boom"}},
       {"unmet", {"boom"}},
       {"unrelated", {}}},
      {.priority = {{"boom", 100}},
       .triggers = {{"rescue", Trigger::all_done()}, {"unmet", Trigger::n_success(1)}}});
  const RunSummary summary = executor.run(g, {.fail_fast = true});
  check_trigger_summary(summary, 0, 1, 2);
  CHECK(g.status("child") == TaskStatus::skipped);
  CHECK(g.status("unmet") == TaskStatus::skipped);
  check_trigger_unmet(g.error("unmet"), "unmet", Trigger::n_success(1));
  // Its rule holds, but fail_fast starts nothing more: it stays pending for the next run.
  CHECK(g.status("rescue") == TaskStatus::pending);
  CHECK(g.status("unrelated") == TaskStatus::pending);
  CHECK(feeds.calls("rescue") == 0);

  check_trigger_summary(executor.run(g, {}), 2, 0, 0);
  CHECK(g.status("rescue") == TaskStatus::done);
  CHECK(feeds.span_of("rescue").empty());
  CHECK(feeds.calls("unmet") == 0);
}

TEMPLATE_TEST_CASE("a stop request cancels rule tasks; the next run completes them",
                   "[conformance][trigger]", TASKMAP_CONFORMANCE_EXECUTORS) {
  auto executor = make_executor<TestType>(1);
  std::stop_source stop;
  TriggerFeeds feeds;
  auto g = create_graph<int>({{"first",
                               [&stop] {
                                 stop.request_stop();
                                 return 1;
                               }},
                              {"second", fb},
                              {"rule", trigger_span_task(feeds, "rule")},
                              {"both", trigger_span_task(feeds, "both")},
                              {"either",
                               [&feeds](std::optional<int> a, std::optional<int> b) {
                                 feeds.record("either", {a, b});
                                 return 0;
                               }}},
                             {{"first", {}},
                              {"second", {"first"}},
                              {"rule", {"first"}},
                              {"both", {"first", "second"}},
                              {"either", {"first", "second"}}},
                             {.triggers = {{"rule", Trigger::all_done()},
                                           {"both", Trigger::n_done(2)},
                                           {"either", Trigger::n_done(1)}}});
  const RunSummary summary = executor.run(g, {.stop_token = stop.get_token()});
  check_trigger_summary(summary, 1, 0, 0, 4);
  // both had counted one of its two dependencies when the run stopped: the next run counts
  // again from what the dependencies did.
  for (const char* task : {"second", "rule", "both", "either"}) {
    CAPTURE(task);
    CHECK(g.status(task) == TaskStatus::cancelled);
  }
  CHECK(feeds.calls("rule") == 0);
  CHECK(feeds.calls("either") == 0);

  check_trigger_summary(executor.run(g, {}), 4, 0, 0);
  CHECK(feeds.span_of("rule") == std::vector<int>{1});
  CHECK(feeds.span_of("both") == std::vector<int>{1, 11});
  const std::vector<std::optional<int>> either = feeds.optionals_of("either");
  REQUIRE(either.size() == 2);
  CHECK(either[0] == 1);
  // second may or may not have ended when either started (n_done(1) held at once).
  CHECK((either[1] == std::nullopt || either[1] == 11));
}

TEMPLATE_TEST_CASE("a rule task met while its concurrency group is full waits for room",
                   "[conformance][trigger]", TASKMAP_CONFORMANCE_EXECUTORS) {
  auto executor = make_executor<TestType>(trigger_gate_workers<TestType>());
  TriggerGate gate;
  TriggerFeeds feeds;
  std::atomic<int> in_group{0};
  std::atomic<int> most_in_group{0};
  std::atomic<bool> released{false};
  auto enter = [&] {
    const int now = ++in_group;
    int seen = most_in_group.load();
    while (now > seen && !most_in_group.compare_exchange_weak(seen, now)) {
    }
  };
  // On the pools the failure usually meets the rule of `rule` while `member` holds the
  // group's only place (member waits at the gate until opener runs); whichever order the
  // executor picks, the group never holds two tasks.
  auto g = create_graph<int>(
      {{"boom", fd},
       {"member",
        [&] {
          enter();
          released = gate.wait();
          --in_group;
          return 1;
        }},
       {"opener",
        [&](std::span<const int>) {
          gate.open();
          return 0;
        }},
       {"rule",
        [&](std::span<const int> values) {
          enter();
          feeds.record("rule", values);
          --in_group;
          return 2;
        }}},
      {{"boom", {}}, {"member", {}}, {"opener", {"boom"}}, {"rule", {"boom"}}},
      {.priority = {{"boom", 10}, {"opener", 5}},
       .groups = {{"one_at_a_time", {.tasks = {"member", "rule"}}}},
       .triggers = {{"opener", Trigger::all_done()}, {"rule", Trigger::all_done()}}});
  const RunSummary summary = executor.run(g, {});
  CHECK(released);
  CHECK(most_in_group == 1);
  CHECK(g.status("rule") == TaskStatus::done);
  CHECK(feeds.span_of("rule").empty());
  check_trigger_summary(summary, 3, 1, 0);
}

TEMPLATE_TEST_CASE("observers see each task's rule and the TriggerUnmet of a skipped one",
                   "[conformance][trigger]", TASKMAP_CONFORMANCE_EXECUTORS) {
  auto executor = make_executor<TestType>();
  auto log = std::make_shared<TriggerEventLog>();
  auto g = create_graph<int>(
      {{"a", fd},
       {"ok", fa},
       {"unmet", [](std::span<const int>) { return 0; }},
       {"counted", [](std::span<const int>) { return 0; }},
       {"plain", fb}},
      {{"a", {}},
       {"ok", {}},
       {"unmet", {"a"}},
       {"counted", {"a", "unmet", "ok"}},
       {"plain", {"counted"}}},
      {.triggers = {{"unmet", Trigger::n_success(1)}, {"counted", Trigger::n_done(3)}}});
  executor.run(g, {.observers = {log}});
  const auto started = log->started();
  CHECK(started.size() == 4);
  CHECK(started.count("unmet") == 0);
  REQUIRE(started.count("counted") == 1);
  CHECK(to_string(started.at("counted")) == "n_done(3)");
  REQUIRE(started.count("plain") == 1);
  CHECK(started.at("plain") == Trigger::all_success());
  REQUIRE(started.count("a") == 1);
  CHECK(started.at("a") == Trigger::all_success());
  const auto skipped = log->skipped();
  REQUIRE(skipped.count("unmet") == 1);
  check_trigger_unmet(skipped.at("unmet"), "unmet", Trigger::n_success(1));
}

// ---------------------------------------------------------------------------------------
// Declaring and validating rules

TEMPLATE_TEST_CASE("set_trigger gives a rule to a graph built with add_task",
                   "[conformance][trigger]", TASKMAP_CONFORMANCE_EXECUTORS) {
  auto executor = make_executor<TestType>();
  TriggerFeeds feeds;
  TaskGraph<int> g("built");
  g.add_task("a", fd).add_task("b", [] { return 2; });
  g.add_task("r", trigger_span_task(feeds, "r"), {"a", "b"});
  g.add_task("s", fb, {"r"});
  CHECK(g.trigger("r") == Trigger::all_success());
  CHECK(&g.set_trigger("r", Trigger::n_success(1)) == &g);
  CHECK(g.trigger("r") == Trigger::n_success(1));
  CHECK(g.trigger("s") == Trigger::all_success());
  check_trigger_summary(executor.run(g, {}), 3, 1, 0);
  CHECK(feeds.span_of("r") == std::vector<int>{2});
  CHECK(g.result("s") == 112);

  // Back to the default rule: the failure skips r again.
  g.set_trigger("r", Trigger::all_success());
  CHECK(g.trigger("r") == Trigger::all_success());
  reset_tasks(g, {"r"});
  check_trigger_summary(executor.run(g, {}), 0, 0, 2);
  check_trigger_ancestor(g.error("r"), "a");

  // Not while the graph runs.
  TaskGraph<int> running("running");
  running.add_task("x", fa).add_task("y",
                                     [&running](int x) {
                                       running.set_trigger("y", Trigger::all_done());
                                       return x;
                                     },
                                     {"x"});
  executor.run(running, {});
  CHECK(running.status("y") == TaskStatus::failed);
  CHECK(what_of(running.error("y")).find("while it is running") != std::string::npos);
  CHECK(running.trigger("y") == Trigger::all_success());
}

TEST_CASE("triggers are checked when the graph is built", "[trigger][errors]") {
  const DependencyMap deps{{"a", {}}, {"b", {}}, {"c", {}}, {"r", {"a", "b", "c"}}, {"s", {}}};
  const FuncMap<int> funcs{
      {"a", fa}, {"b", fa}, {"c", fa}, {"r", [](std::span<const int>) { return 0; }}, {"s", fa}};

  try {
    static_cast<void>(create_graph<int>(
        funcs, deps, {.triggers = {{"ghost", Trigger::all_done()}, {"r", Trigger::all_done()}}}));
    FAIL("no UnknownTaskError");
  } catch (const UnknownTaskError& e) {
    CHECK(e.tasks() == std::vector<std::string>{"ghost"});
    CHECK(std::string(e.what()).find("ghost") != std::string::npos);
  }

  struct Bad {
    Trigger rule;
    const char* task;
  };
  for (const Bad& bad : {Bad{Trigger::n_success(0), "r"}, Bad{Trigger::n_done(0), "r"},
                         Bad{Trigger::n_done(4), "r"}, Bad{Trigger::n_success(4), "r"},
                         Bad{Trigger::n_success(1), "s"}, Bad{Trigger::n_done(1), "s"}}) {
    CAPTURE(to_string(bad.rule), bad.task);
    try {
      static_cast<void>(create_graph<int>(funcs, deps, {.triggers = {{bad.task, bad.rule}}}));
      FAIL("no TriggerError");
    } catch (const TriggerError& e) {
      CHECK(e.tasks() == std::vector<std::string>{bad.task});
      const std::string what = e.what();
      CAPTURE(what);
      CHECK(what.find(std::string("'") + bad.task + "'") != std::string::npos);
      CHECK(what.find(to_string(bad.rule)) != std::string::npos);
    }
  }

  // Every offending task is named, sorted; a TriggerError is a TaskListError.
  try {
    static_cast<void>(create_graph<int>(
        funcs, deps, {.triggers = {{"s", Trigger::n_done(1)}, {"r", Trigger::n_success(9)}}}));
    FAIL("no TriggerError");
  } catch (const TaskListError& e) {
    CHECK(dynamic_cast<const TriggerError*>(&e) != nullptr);
    CHECK(e.tasks() == std::vector<std::string>{"r", "s"});
  }

  // The limits themselves are fine.
  auto g = create_graph<int>(funcs, deps,
                             {.triggers = {{"r", Trigger::n_done(3)}, {"s", Trigger::all_done()}}});
  CHECK(g.trigger("r") == Trigger::n_done(3));
  CHECK(g.trigger("s") == Trigger::all_done());
  CHECK(g.trigger("a") == Trigger::all_success());
  CHECK_THROWS_AS(g.trigger("ghost"), UnknownTaskError);
}

TEST_CASE("set_trigger checks its task and rule, and changes nothing when it throws",
          "[trigger][errors]") {
  auto g = create_graph<int>({{"a", fa}, {"b", fa}, {"r", fc}},
                             {{"a", {}}, {"b", {}}, {"r", {"a", "b"}}},
                             {.name = "checked", .triggers = {{"r", Trigger::n_success(1)}}});
  try {
    g.set_trigger("ghost", Trigger::all_done());
    FAIL("no UnknownTaskError");
  } catch (const UnknownTaskError& e) {
    CHECK(e.tasks() == std::vector<std::string>{"ghost"});
  }
  for (const Trigger bad :
       {Trigger::n_success(0), Trigger::n_success(3), Trigger::n_done(0), Trigger::n_done(3)}) {
    CAPTURE(to_string(bad));
    try {
      g.set_trigger("r", bad);
      FAIL("no TriggerError");
    } catch (const TriggerError& e) {
      CHECK(e.tasks() == std::vector<std::string>{"r"});
      const std::string what = e.what();
      CHECK(what.find("'r'") != std::string::npos);
      CHECK(what.find(to_string(bad)) != std::string::npos);
    }
    CHECK(g.trigger("r") == Trigger::n_success(1));
  }
  CHECK_THROWS_AS(g.set_trigger("a", Trigger::n_done(1)), TriggerError);
  CHECK(g.trigger("a") == Trigger::all_success());
  g.set_trigger("a", Trigger::all_done());
  CHECK(g.trigger("a") == Trigger::all_done());
  g.set_trigger("r", Trigger::n_done(2));
  CHECK(g.trigger("r") == Trigger::n_done(2));
}

TEST_CASE("Trigger values and their texts", "[trigger]") {
  static_assert(Trigger() == Trigger::all_success());
  static_assert(Trigger::all_done().kind() == Trigger::Kind::all_done);
  static_assert(Trigger::n_success(2).kind() == Trigger::Kind::n_success);
  static_assert(Trigger::n_success(2).n() == 2);
  static_assert(Trigger::n_done(3).kind() == Trigger::Kind::n_done);
  static_assert(Trigger::n_done(3).n() == 3);
  static_assert(Trigger::all_success().n() == 0 && Trigger::all_done().n() == 0);
  static_assert(Trigger::n_success(2) != Trigger::n_success(3));
  static_assert(Trigger::n_success(2) != Trigger::n_done(2));
  CHECK(to_string(Trigger()) == "all_success");
  CHECK(to_string(Trigger::all_success()) == "all_success");
  CHECK(to_string(Trigger::all_done()) == "all_done");
  CHECK(to_string(Trigger::n_success(2)) == "n_success(2)");
  CHECK(to_string(Trigger::n_done(3)) == "n_done(3)");
  CHECK(to_string(Trigger::n_success(4000000000u)) == "n_success(4000000000)");
}

// ---------------------------------------------------------------------------------------
// The Trio graph scheduler's example: fetch three pages (one fails), count the words of each,
// combine the counts under all_done so the successful ones are kept.

namespace {

using TriggerWordCounts = std::map<std::string, int>;

TriggerWordCounts trigger_count_words(const std::string& text) {
  TriggerWordCounts counts;
  std::string word;
  for (const char c : text + " ") {
    if (c >= 'a' && c <= 'z') {
      word += c;
    } else if (!word.empty()) {
      ++counts[word];
      word.clear();
    }
  }
  return counts;
}

}  // namespace

TEMPLATE_TEST_CASE("the Trio word-count scenario keeps the counts that succeeded",
                   "[conformance][trigger]", TASKMAP_CONFORMANCE_EXECUTORS) {
  auto executor = make_executor<TestType>();
  const std::map<std::string, std::string> pages{
      {"alpha", "the quick brown fox jumps over the lazy dog"},
      {"beta", ""},
      {"gamma", "the dog sleeps and the fox runs quick quick"}};
  FuncMap<std::any> funcs;
  DependencyMap deps;
  std::vector<std::string> counts;
  for (const auto& [page, text] : pages) {
    funcs.emplace("fetch_" + page, [name = page, body = text]() -> std::string {
      if (name == "beta") throw std::runtime_error("fetching beta: HTTP 404");
      return body;
    });
    funcs.emplace("count_" + page,
                  [](const std::string& body) { return trigger_count_words(body); });
    deps["fetch_" + page] = {};
    deps["count_" + page] = {"fetch_" + page};
    counts.push_back("count_" + page);
  }
  std::atomic<int> combined_inputs{-1};
  funcs.emplace("combine", [&combined_inputs](std::span<const std::any> all) {
    combined_inputs = static_cast<int>(all.size());
    TriggerWordCounts total;
    for (const std::any& one : all) {
      for (const auto& [word, n] : std::any_cast<const TriggerWordCounts&>(one)) total[word] += n;
    }
    return total;
  });
  deps["combine"] = counts;
  auto g = create_graph<std::any>(std::move(funcs), std::move(deps),
                                  {.io_bound = {"fetch_alpha", "fetch_beta", "fetch_gamma"},
                                   .name = "word_count",
                                   .triggers = {{"combine", Trigger::all_done()}}});
  const RunSummary summary = executor.run(g, {});
  CHECK(g.status("fetch_beta") == TaskStatus::failed);
  CHECK(what_of(g.error("fetch_beta")) == "fetching beta: HTTP 404");
  CHECK(g.status("count_beta") == TaskStatus::skipped);
  check_trigger_ancestor(g.error("count_beta"), "fetch_beta");
  REQUIRE(g.status("combine") == TaskStatus::done);
  CHECK(combined_inputs == 2);
  const TriggerWordCounts want{{"and", 1},   {"brown", 1},  {"dog", 2},  {"fox", 2},
                               {"jumps", 1}, {"lazy", 1},   {"over", 1}, {"quick", 3},
                               {"runs", 1},  {"sleeps", 1}, {"the", 4}};
  CHECK(std::any_cast<const TriggerWordCounts&>(g.result("combine")) == want);
  check_trigger_summary(summary, 5, 1, 1);
}

// ---------------------------------------------------------------------------------------
// Random DAGs with random rules, against a reference model.
//
// The model is order-independent: all_success and all_done depend only on how the
// dependencies finally ended, and so does whether an n_success(n) task runs (it runs iff at
// least n dependencies succeed: "n succeeded" and "more than deps - n did not succeed" cannot
// both become true) and that an n_done task runs. The values an n_* task is fed depend on
// timing, so those tasks return a value that ignores their inputs (keeping every value below
// them exact) and record what they were fed, which is checked to be an in-order subsequence
// of what the dependencies produced, long enough for the rule.

namespace {

using TriggerValue = std::uint64_t;

enum class TriggerTaskKind : std::uint8_t { value, nothing, throws };

class TriggerBoom : public std::runtime_error {
 public:
  explicit TriggerBoom(std::uint32_t task)
      : std::runtime_error("trigger boom " + std::to_string(task)), id(task) {}
  std::uint32_t id;
};

constexpr TriggerValue trigger_mix(TriggerValue h, TriggerValue v) noexcept {
  TriggerValue x = h ^ (v + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2));
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ULL;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebULL;
  x ^= x >> 31;
  return x;
}

TriggerValue trigger_task_value(std::uint32_t id, TriggerValue salt,
                                std::span<const TriggerValue> inputs) noexcept {
  TriggerValue h = trigger_mix(id, salt);
  for (const TriggerValue input : inputs) h = trigger_mix(h, input);
  return trigger_mix(h, inputs.size());
}

bool trigger_counted(Trigger rule) {
  return rule.kind() == Trigger::Kind::n_success || rule.kind() == Trigger::Kind::n_done;
}

struct TriggerDag {
  std::vector<std::string> names;
  std::unordered_map<std::string, std::uint32_t> id_of;
  std::vector<std::vector<std::uint32_t>> deps;
  std::vector<std::vector<std::uint32_t>> children;
  std::vector<TriggerTaskKind> kind;
  std::vector<TriggerValue> salt;
  std::vector<Trigger> rule;
  std::vector<std::uint8_t> preset_done;            // GraphOptions::done
  std::vector<std::optional<TriggerValue>> seeded;  // GraphOptions::results

  [[nodiscard]] std::uint32_t size() const noexcept {
    return static_cast<std::uint32_t>(names.size());
  }
};

TriggerDag make_trigger_dag(std::uint32_t seed, std::uint32_t n) {
  std::mt19937 rng(seed);
  TriggerDag dag;
  std::vector<std::uint32_t> perm(n);
  std::iota(perm.begin(), perm.end(), 0u);
  std::shuffle(perm.begin(), perm.end(), rng);
  for (std::uint32_t i = 0; i < n; ++i) {
    dag.names.push_back("t" + std::to_string(perm[i]));
    dag.id_of.emplace(dag.names.back(), i);
  }
  dag.deps.resize(n);
  dag.children.resize(n);
  dag.kind.resize(n);
  dag.salt.resize(n);
  dag.rule.resize(n);
  dag.preset_done.resize(n, 0);
  dag.seeded.resize(n);
  std::uniform_int_distribution<std::uint32_t> edge_count(0, 5);
  std::uniform_int_distribution<int> percent(0, 99);
  std::uniform_int_distribution<TriggerValue> any_value;
  for (std::uint32_t i = 0; i < n; ++i) {
    const std::uint32_t low = i > 15 && percent(rng) < 60 ? i - 15 : 0;
    const std::uint32_t wanted = std::min(edge_count(rng), i - low);
    std::uniform_int_distribution<std::uint32_t> pick(low, i == 0 ? 0 : i - 1);
    while (dag.deps[i].size() < wanted) {
      const std::uint32_t dep = pick(rng);
      if (std::find(dag.deps[i].begin(), dag.deps[i].end(), dep) == dag.deps[i].end()) {
        dag.deps[i].push_back(dep);
      }
    }
    for (const std::uint32_t dep : dag.deps[i]) dag.children[dep].push_back(i);
    const int roll = percent(rng);
    dag.kind[i] = roll < 12   ? TriggerTaskKind::throws
                  : roll < 20 ? TriggerTaskKind::nothing
                              : TriggerTaskKind::value;
    dag.salt[i] = any_value(rng);
    const auto k = static_cast<std::uint32_t>(dag.deps[i].size());
    const int rule_roll = percent(rng);
    std::uniform_int_distribution<std::uint32_t> pick_n(1, std::max(k, 1u));
    if (k == 0) {
      dag.rule[i] = rule_roll < 20 ? Trigger::all_done() : Trigger::all_success();
    } else if (rule_roll < 45) {
      dag.rule[i] = Trigger::all_success();
    } else if (rule_roll < 60) {
      dag.rule[i] = Trigger::all_done();
    } else if (rule_roll < 80) {
      dag.rule[i] = Trigger::n_success(pick_n(rng));
    } else {
      dag.rule[i] = Trigger::n_done(pick_n(rng));
    }
    if (percent(rng) < 3) {
      dag.preset_done[i] = 1;
      if (percent(rng) < 50) dag.seeded[i] = any_value(rng);
    }
  }
  return dag;
}

/// The reference outcome of one task. `causes` lists the errors a skipped task may hold:
/// (false, a) for AncestorFailed(a), (true, r) for the TriggerUnmet of rule task r.
struct TriggerExpected {
  TaskStatus status = TaskStatus::pending;
  std::optional<TriggerValue> value;
  std::set<std::pair<bool, std::uint32_t>> causes;
};

/// Evaluates the graph in index (topological) order; `done` marks the tasks that never run.
std::vector<TriggerExpected> trigger_reference(const TriggerDag& dag,
                                               const std::vector<std::uint8_t>& done) {
  std::vector<TriggerExpected> out(dag.size());
  std::vector<TriggerValue> fed;
  for (std::uint32_t i = 0; i < dag.size(); ++i) {
    TriggerExpected& me = out[i];
    if (done[i] != 0) {
      me.status = TaskStatus::done;
      me.value = dag.seeded[i];
      continue;
    }
    std::uint32_t succeeded = 0;
    fed.clear();
    for (const std::uint32_t dep : dag.deps[i]) {
      const TriggerExpected& d = out[dep];
      if (d.status == TaskStatus::done) ++succeeded;
      if (d.value) fed.push_back(*d.value);
    }
    bool runs = true;
    switch (dag.rule[i].kind()) {
      case Trigger::Kind::all_success:
        for (const std::uint32_t dep : dag.deps[i]) {
          if (out[dep].status == TaskStatus::failed) {
            me.causes.emplace(false, dep);
            runs = false;
          } else if (out[dep].status == TaskStatus::skipped) {
            me.causes.insert(out[dep].causes.begin(), out[dep].causes.end());
            runs = false;
          }
        }
        break;
      case Trigger::Kind::n_success:
        if (succeeded < dag.rule[i].n()) {
          me.causes.emplace(true, i);
          runs = false;
        }
        break;
      case Trigger::Kind::all_done:
      case Trigger::Kind::n_done:
        break;
    }
    if (!runs) {
      me.status = TaskStatus::skipped;
      continue;
    }
    me.causes.clear();
    switch (dag.kind[i]) {
      case TriggerTaskKind::throws:
        me.status = TaskStatus::failed;
        break;
      case TriggerTaskKind::nothing:
        me.status = TaskStatus::done;
        break;
      case TriggerTaskKind::value:
        me.status = TaskStatus::done;
        me.value = trigger_counted(dag.rule[i]) ? trigger_task_value(i, dag.salt[i], {})
                                                : trigger_task_value(i, dag.salt[i], fed);
        break;
    }
  }
  return out;
}

/// What the task functions of one graph saw: calls and, for n_* tasks, what they were fed.
/// Each task writes only its own slots.
struct TriggerProbe {
  explicit TriggerProbe(std::uint32_t n) : calls(n, 0), fed(n) {}
  std::vector<int> calls;
  std::vector<std::vector<TriggerValue>> fed;
};

TaskGraph<TriggerValue> make_trigger_graph(const TriggerDag& dag, TriggerProbe& probe) {
  std::vector<std::pair<std::string, TaskFn<TriggerValue>>> funcs;
  std::vector<std::pair<std::string, std::vector<std::string>>> deps;
  GraphOptions<TriggerValue> options{.name = "random_triggers"};
  for (std::uint32_t i = 0; i < dag.size(); ++i) {
    const TriggerTaskKind kind = dag.kind[i];
    const TriggerValue salt = dag.salt[i];
    const bool counted = trigger_counted(dag.rule[i]);
    funcs.emplace_back(dag.names[i],
                       [&probe, i, kind, salt, counted](
                           std::span<const TriggerValue> inputs) -> std::optional<TriggerValue> {
                         ++probe.calls[i];
                         if (counted) probe.fed[i].assign(inputs.begin(), inputs.end());
                         switch (kind) {
                           case TriggerTaskKind::throws:
                             throw TriggerBoom(i);
                           case TriggerTaskKind::nothing:
                             return std::nullopt;
                           case TriggerTaskKind::value:
                             break;
                         }
                         return counted ? trigger_task_value(i, salt, {})
                                        : trigger_task_value(i, salt, inputs);
                       });
    std::vector<std::string> names;
    for (const std::uint32_t dep : dag.deps[i]) names.push_back(dag.names[dep]);
    deps.emplace_back(dag.names[i], std::move(names));
    if (dag.rule[i] != Trigger::all_success()) options.triggers.emplace(dag.names[i], dag.rule[i]);
    if (dag.preset_done[i] != 0) {
      options.done.push_back(dag.names[i]);
      if (dag.seeded[i]) options.results.emplace(dag.names[i], *dag.seeded[i]);
    }
  }
  return create_graph<TriggerValue>(std::move(funcs), std::move(deps), std::move(options));
}

/// Compares the graph with the reference. `ran` marks the tasks the last run could start;
/// each of those ran once unless the reference skips it (or it is done before the run).
std::vector<std::string> trigger_compare(const TaskGraph<TriggerValue>& g, const TriggerDag& dag,
                                         const std::vector<TriggerExpected>& want,
                                         const std::vector<std::uint8_t>& done,
                                         const std::vector<std::uint8_t>& ran,
                                         const TriggerProbe& probe) {
  std::vector<std::string> problems;
  auto problem = [&](std::uint32_t i, const std::string& what) {
    if (problems.size() < 20) {
      problems.push_back(dag.names[i] + " (" + to_string(dag.rule[i]) + "): " + what);
    }
  };
  for (std::uint32_t i = 0; i < dag.size(); ++i) {
    const std::string& name = dag.names[i];
    const TriggerExpected& w = want[i];
    const TaskStatus status = g.status(name);
    if (status != w.status) {
      problem(i, "status " + std::string(to_string(status)) + ", expected " +
                     std::string(to_string(w.status)));
      continue;
    }
    if (g.has_result(name) != w.value.has_value()) {
      problem(i, g.has_result(name) ? "has a value, expected none" : "has no value");
    } else if (w.value && g.result(name) != *w.value) {
      problem(i, "wrong value");
    }
    const std::exception_ptr error = g.error(name);
    if (w.status == TaskStatus::done && error) problem(i, "done with an error");
    if (w.status == TaskStatus::failed) {
      try {
        if (error) std::rethrow_exception(error);
        problem(i, "failed without an error");
      } catch (const TriggerBoom& boom) {
        if (boom.id != i) problem(i, "holds another task's exception");
      } catch (...) {
        problem(i, "failed with an exception it did not throw: " + what_of(error));
      }
    }
    if (w.status == TaskStatus::skipped) {
      std::pair<bool, std::uint32_t> cause{false, 0};
      try {
        if (error) std::rethrow_exception(error);
        problem(i, "skipped without an error");
        continue;
      } catch (const AncestorFailed& e) {
        cause = {false, dag.id_of.count(e.ancestor()) ? dag.id_of.at(e.ancestor()) : i};
      } catch (const TriggerUnmet& e) {
        cause = {true, dag.id_of.count(e.task()) ? dag.id_of.at(e.task()) : i};
        if (to_string(e.trigger()) != to_string(dag.rule[cause.second])) {
          problem(i, "TriggerUnmet names the rule " + to_string(e.trigger()));
        }
      } catch (...) {
        problem(i, "skipped with " + what_of(error));
        continue;
      }
      if (w.causes.count(cause) == 0) {
        problem(i, std::string(cause.first ? "TriggerUnmet of " : "AncestorFailed of ") +
                       dag.names[cause.second] + ", which is not a cause");
      }
    }
    const bool runs = ran[i] != 0 && done[i] == 0 && w.status != TaskStatus::skipped;
    if (probe.calls[i] != (runs ? 1 : 0)) {
      problem(i, "ran " + std::to_string(probe.calls[i]) + " times");
    }
    if (runs && trigger_counted(dag.rule[i])) {
      // Fed: an in-order subsequence of the values of the dependencies that succeeded, at
      // least n of them for n_success less those that succeeded without a value.
      std::vector<TriggerValue> produced;
      std::uint32_t without_value = 0;
      for (const std::uint32_t dep : dag.deps[i]) {
        if (want[dep].value) produced.push_back(*want[dep].value);
        if (want[dep].status == TaskStatus::done && !want[dep].value) ++without_value;
      }
      const std::vector<TriggerValue>& fed = probe.fed[i];
      std::size_t at = 0;
      for (const TriggerValue v : produced) {
        if (at < fed.size() && fed[at] == v) ++at;
      }
      if (at != fed.size()) problem(i, "fed values out of order or not produced");
      if (dag.rule[i].kind() == Trigger::Kind::n_success &&
          fed.size() + without_value < dag.rule[i].n()) {
        problem(i, "started with " + std::to_string(fed.size()) + " values fed");
      }
    }
  }
  return problems;
}

RunSummary trigger_expected_summary(const std::vector<TriggerExpected>& want,
                                    const std::vector<std::uint8_t>& done,
                                    const std::vector<std::uint8_t>& ran) {
  RunSummary s;
  for (std::size_t i = 0; i < want.size(); ++i) {
    if (ran[i] == 0 || done[i] != 0) continue;
    s.succeeded += want[i].status == TaskStatus::done ? 1 : 0;
    s.failed += want[i].status == TaskStatus::failed ? 1 : 0;
    s.skipped += want[i].status == TaskStatus::skipped ? 1 : 0;
  }
  return s;
}

}  // namespace

TEMPLATE_TEST_CASE("random DAGs with trigger rules match the reference model",
                   "[conformance][trigger]", TASKMAP_CONFORMANCE_EXECUTORS) {
  auto executor = make_executor<TestType>();
  const std::uint32_t tasks = kSanitized ? 150 : 300;
  for (const std::uint32_t seed : {1u, 2u, 3u, 4u, 5u}) {
    CAPTURE(seed);
    const TriggerDag dag = make_trigger_dag(seed, tasks);
    TriggerProbe probe(dag.size());
    auto g = make_trigger_graph(dag, probe);
    const std::vector<TriggerExpected> want = trigger_reference(dag, dag.preset_done);
    const std::vector<std::uint8_t> everything(dag.size(), 1);
    const RunSummary summary = executor.run(g, {});
    CHECK(trigger_compare(g, dag, want, dag.preset_done, everything, probe) ==
          std::vector<std::string>{});
    const RunSummary expected = trigger_expected_summary(want, dag.preset_done, everything);
    CHECK(summary.succeeded == expected.succeeded);
    CHECK(summary.failed == expected.failed);
    CHECK(summary.skipped == expected.skipped);
    CHECK(summary.cancelled == 0);

    // Reset a few tasks (seeded ones included): they and everything below them run again,
    // over dependencies that ended in the first run. Seeded tasks that were reset now run.
    std::mt19937 rng(seed + 1000);
    std::uniform_int_distribution<std::uint32_t> pick(0, dag.size() - 1);
    std::vector<std::string> roots;
    std::vector<std::uint8_t> reset(dag.size(), 0);
    for (int r = 0; r < 6; ++r) roots.push_back(dag.names[pick(rng)]);
    for (std::uint32_t i = 0; i < dag.size(); ++i) {
      if (dag.preset_done[i] != 0 && roots.size() < 8) roots.push_back(dag.names[i]);
    }
    std::vector<std::uint32_t> stack;
    for (const std::string& root : roots) {
      const std::uint32_t id = dag.id_of.at(root);
      if (reset[id] == 0) {
        reset[id] = 1;
        stack.push_back(id);
      }
    }
    while (!stack.empty()) {
      const std::uint32_t task = stack.back();
      stack.pop_back();
      for (const std::uint32_t child : dag.children[task]) {
        if (reset[child] == 0) {
          reset[child] = 1;
          stack.push_back(child);
        }
      }
    }
    std::vector<std::uint8_t> still_done = dag.preset_done;
    for (std::uint32_t i = 0; i < dag.size(); ++i) {
      if (reset[i] != 0) {
        still_done[i] = 0;
        probe.calls[i] = 0;
        probe.fed[i].clear();
      } else {
        probe.calls[i] = 0;
      }
    }
    reset_tasks(g, roots);
    const std::vector<TriggerExpected> want2 = trigger_reference(dag, still_done);
    const RunSummary again = executor.run(g, {});
    CHECK(trigger_compare(g, dag, want2, still_done, reset, probe) == std::vector<std::string>{});
    const RunSummary expected2 = trigger_expected_summary(want2, still_done, reset);
    CHECK(again.succeeded == expected2.succeeded);
    CHECK(again.failed == expected2.failed);
    CHECK(again.skipped == expected2.skipped);
    CHECK(again.cancelled == 0);
  }
}
