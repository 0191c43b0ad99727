#pragma once
// Behaviour every executor shares, each scenario a TEMPLATE_TEST_CASE over the executor types
// the including file names in TASKMAP_SCENARIO_EXECUTORS: conformance_test.cpp runs the
// in-process executors and one written with the public executor API
// (examples/batch_executor.hpp); process_pool_conformance_test.cpp runs ProcessPoolExecutor.
//
// A task of a ProcessPoolExecutor runs in a forked process, so the scenarios count calls with
// Shared<T> (memory every forked process writes), compare errors by thrown_type() and
// thrown_message() (a RemoteTaskError names the type and message of what the task threw), and
// say where crossing a process boundary changes the outcome (crosses_processes<E>).

#include <any>
#include <atomic>
#include <mutex>
#include <optional>
#include <span>
#include <stdexcept>
#include <stop_token>
#include <string>
#include <vector>

#include "executors.hpp"
#include "test_support.hpp"

#ifndef TASKMAP_SCENARIO_EXECUTORS
#error "define TASKMAP_SCENARIO_EXECUTORS to the executor types before including this file"
#endif

using namespace taskmap;
using namespace taskmap_test;

namespace {

struct NotAStdException {
  int code;
};

// Records every event, thread-safely.
class Recorder : public Observer {
 public:
  void on_run_start(const RunInfo& run) override {
    std::lock_guard lock(mutex_);
    starts.push_back(run);
    events_before_start = events.size();
  }
  void on_event(const TaskEvent& event) override {
    std::lock_guard lock(mutex_);
    events.push_back({event.kind, std::string(event.task)});
    if (event.error) errors.push_back({event.kind, thrown_message(event.error)});
  }
  void on_run_end(const RunInfo& run, const RunSummary& summary) override {
    std::lock_guard lock(mutex_);
    ends.push_back({run, summary});
    events_before_end = events.size();
  }
  std::vector<std::pair<EventKind, std::string>> events;
  std::vector<std::pair<EventKind, std::string>> errors;
  std::vector<RunInfo> starts;
  std::vector<std::pair<RunInfo, RunSummary>> ends;
  std::size_t events_before_start = 0;
  std::size_t events_before_end = 0;
  std::size_t count(EventKind kind) const {
    std::size_t n = 0;
    for (const auto& e : events) n += e.first == kind ? 1 : 0;
    return n;
  }

 private:
  std::mutex mutex_;
};

}  // namespace

TEMPLATE_TEST_CASE("results are fed in dependency order", "[conformance]",
                   TASKMAP_SCENARIO_EXECUTORS) {
  auto executor = make_executor<TestType>();
  auto g = create_graph<int>({{"a", fa}, {"b", fb}, {"c", fc}},
                             {{"c", {"a", "b"}}, {"b", {"a"}}, {"a", {}}});
  const RunSummary summary = executor.run(g, {});
  CHECK(g.results() == ResultMap<int>{{"a", 5}, {"b", 15}, {"c", 40}});
  CHECK(summary.succeeded == 3);
  CHECK(summary.failed == 0);
  CHECK(summary.skipped == 0);
  CHECK(summary.cancelled == 0);
  CHECK(summary.ok());
  CHECK(g.done() == std::vector<std::string>{"a", "b", "c"});

  auto reversed =
      create_graph<int>({{"a", fa}, {"b", fb}, {"c", [](int x, int y) { return x * 100 + y; }}},
                        {{"c", {"b", "a"}}, {"b", {"a"}}, {"a", {}}});
  executor.run(reversed, {});
  CHECK(reversed.result("c") == 15 * 100 + 5);
}

TEMPLATE_TEST_CASE("done tasks never run and their seeded results are fed", "[conformance]",
                   TASKMAP_SCENARIO_EXECUTORS) {
  auto executor = make_executor<TestType>();
  Shared<int> a_calls;
  auto g = create_graph<int>({{"a",
                               [&] {
                                 ++a_calls;
                                 return 1;
                               }},
                              {"b", fb}},
                             {{"b", {"a"}}, {"a", {}}}, {.done = {"a"}, .results = {{"a", 5}}});
  const RunSummary summary = executor.run(g, {});
  CHECK(a_calls.load() == 0);
  CHECK(g.result("b") == 15);
  CHECK(summary.succeeded == 1);
}

TEMPLATE_TEST_CASE("a done task without a seeded value feeds nothing", "[conformance]",
                   TASKMAP_SCENARIO_EXECUTORS) {
  auto executor = make_executor<TestType>();
  auto g = create_graph<int>(
      {{"a", fa}, {"b", [](std::span<const int> xs) { return static_cast<int>(xs.size()); }}},
      {{"b", {"a"}}, {"a", {}}}, {.done = {"a"}});
  executor.run(g, {});
  CHECK(g.result("b") == 0);
}

TEMPLATE_TEST_CASE("no-value results are not fed to dependents", "[conformance]",
                   TASKMAP_SCENARIO_EXECUTORS) {
  auto executor = make_executor<TestType>();
  auto g = create_graph<int>({{"nothing", [] {}},
                              {"none", []() -> std::optional<int> { return std::nullopt; }},
                              {"some", []() -> std::optional<int> { return 7; }},
                              {"five", fa},
                              {"sum", [](int x, int y) { return x * 10 + y; }}},
                             {{"nothing", {}},
                              {"none", {}},
                              {"some", {}},
                              {"five", {}},
                              {"sum", {"nothing", "some", "none", "five"}}});
  const RunSummary summary = executor.run(g, {});
  CHECK(summary.succeeded == 5);
  CHECK(g.result("sum") == 75);
  CHECK_FALSE(g.has_result("nothing"));
  CHECK_FALSE(g.has_result("none"));
  CHECK(g.status("nothing") == TaskStatus::done);
  CHECK(g.results() == ResultMap<int>{{"some", 7}, {"five", 5}, {"sum", 75}});
  CHECK_THROWS_AS(g.result("nothing"), BadResultAccess);
}

TEMPLATE_TEST_CASE("a failure is recorded, its dependents skipped, other branches run",
                   "[conformance]", TASKMAP_SCENARIO_EXECUTORS) {
  auto executor = make_executor<TestType>();
  auto g = create_graph<int>(
      {{"d", fd}, {"c", fb}, {"gc", fb}, {"ggc", fc}, {"control", fa}, {"after", fb}},
      {{"d", {}},
       {"c", {"d"}},
       {"gc", {"c"}},
       {"ggc", {"gc", "control"}},
       {"control", {}},
       {"after", {"control"}}});
  const RunSummary summary = executor.run(g, {});
  CHECK(summary.failed == 1);
  CHECK(summary.skipped == 3);
  CHECK(summary.succeeded == 2);
  CHECK_FALSE(summary.ok());
  CHECK(g.status("d") == TaskStatus::failed);
  CHECK(g.failed() == std::vector<std::string>{"d"});
  CHECK(g.skipped() == std::vector<std::string>{"c", "gc", "ggc"});
  CHECK(g.result("after") == 15);
  CHECK(thrown_type(g.error("d")) == "std::runtime_error");
  CHECK(thrown_message(g.error("d")) == "some error");
  for (const char* task : {"c", "gc", "ggc"}) {
    CAPTURE(task);
    CHECK(g.status(task) == TaskStatus::skipped);
    CHECK(what_of(g.error(task)) == "Ancestor task d failed; task not run");
    try {
      std::rethrow_exception(g.error(task));
    } catch (const AncestorFailed& e) {
      CHECK(e.ancestor() == "d");
    }
    CHECK_FALSE(g.has_result(task));
  }
  CHECK(g.error("control") == nullptr);
}

TEMPLATE_TEST_CASE("a failed task keeps its exception exactly as thrown", "[conformance]",
                   TASKMAP_SCENARIO_EXECUTORS) {
  auto executor = make_executor<TestType>();
  auto g = create_graph<int>({{"custom", []() -> int { throw NotAStdException{42}; }},
                              {"integer", []() -> int { throw 7; }},
                              {"logic", []() -> int { throw std::logic_error("bad logic"); }}},
                             {{"custom", {}}, {"integer", {}}, {"logic", {}}});
  executor.run(g, {});
  CHECK(g.failed() == std::vector<std::string>{"custom", "integer", "logic"});
  CHECK(thrown_type(g.error("custom")) == "(anonymous namespace)::NotAStdException");
  CHECK(thrown_type(g.error("integer")) == "int");
  CHECK(thrown_type(g.error("logic")) == "std::logic_error");
  CHECK(thrown_message(g.error("logic")) == "bad logic");
  if constexpr (crosses_processes<TestType>) {
    // The object stayed in the worker: its type and message came back, naming the task.
    const std::exception_ptr error = g.error("custom");
    REQUIRE(holds<RemoteTaskError>(error));
    CHECK(thrown_message(error).empty());
    CHECK(what_of(error).find("'custom'") != std::string::npos);
  } else {
    try {
      std::rethrow_exception(g.error("custom"));
    } catch (const NotAStdException& e) {
      CHECK(e.code == 42);
    }
    try {
      std::rethrow_exception(g.error("integer"));
    } catch (int e) {
      CHECK(e == 7);
    }
    CHECK(holds<std::logic_error>(g.error("logic")));
  }
}

TEMPLATE_TEST_CASE("raise_errors throws TaskError naming the task, original nested",
                   "[conformance]", TASKMAP_SCENARIO_EXECUTORS) {
  auto executor = make_executor<TestType>();
  auto g = create_graph<int>({{"d", fd}, {"c", fb}}, {{"c", {"d"}}, {"d", {}}});
  try {
    executor.run(g, {.raise_errors = true});
    FAIL("no TaskError");
  } catch (const TaskError& e) {
    CHECK(e.task() == "d");
    const std::string what = e.what();
    CHECK(what.find("'d'") != std::string::npos);
    CHECK(what.find("some error") != std::string::npos);
    CHECK(thrown_type(e.original()) == "std::runtime_error");
    try {
      std::rethrow_if_nested(e);
      FAIL("TaskError has nothing nested");
    } catch (const std::runtime_error& nested) {  // RemoteTaskError is one too
      CHECK(std::string(nested.what()).find("some error") != std::string::npos);
    }
  }
  // The graph records the same outcome as without raise_errors.
  CHECK(g.status("d") == TaskStatus::failed);
  CHECK(g.status("c") == TaskStatus::skipped);
  // Catchable as the standard base too, with the original message in it.
  auto again = create_graph<int>({{"d", fd}}, {{"d", {}}});
  CHECK_THROWS_WITH(executor.run(again, {.raise_errors = true}),
                    Catch::Matchers::Contains("some error"));
}

TEMPLATE_TEST_CASE("raise_errors describes exceptions that are not std::exception", "[conformance]",
                   TASKMAP_SCENARIO_EXECUTORS) {
  auto executor = make_executor<TestType>();
  auto g = create_graph<int>({{"x", []() -> int { throw NotAStdException{1}; }}}, {{"x", {}}});
  try {
    executor.run(g, {.raise_errors = true});
    FAIL("no TaskError");
  } catch (const TaskError& e) {
    CHECK(std::string(e.what()).find("NotAStdException") != std::string::npos);
    if constexpr (crosses_processes<TestType>) {
      CHECK(thrown_type(e.original()) == "(anonymous namespace)::NotAStdException");
    } else {
      try {
        std::rethrow_if_nested(e);
      } catch (const NotAStdException& nested) {
        CHECK(nested.code == 1);
      }
    }
  }
}

TEMPLATE_TEST_CASE("raise_errors without a failure throws nothing", "[conformance]",
                   TASKMAP_SCENARIO_EXECUTORS) {
  auto executor = make_executor<TestType>();
  auto g = create_graph<int>({{"a", fa}}, {{"a", {}}});
  CHECK_NOTHROW(executor.run(g, {.raise_errors = true}));
}

TEMPLATE_TEST_CASE("a completed graph runs nothing again and keeps its results", "[conformance]",
                   TASKMAP_SCENARIO_EXECUTORS) {
  auto executor = make_executor<TestType>();
  Shared<int> calls;
  auto g = create_graph<int>({{"d", fd},
                              {"c", fb},
                              {"a",
                               [&] {
                                 ++calls;
                                 return 5;
                               }}},
                             {{"c", {"d"}}, {"d", {}}, {"a", {}}});
  executor.run(g, {});
  const RunSummary again = executor.run(g, {});
  CHECK(calls.load() == 1);
  CHECK(again.succeeded == 0);
  CHECK(again.failed == 0);
  CHECK(again.skipped == 0);
  CHECK(g.result("a") == 5);
  CHECK(what_of(g.error("c")) == "Ancestor task d failed; task not run");
  CHECK(thrown_message(g.error("d")) == "some error");
}

TEMPLATE_TEST_CASE("a task fed the wrong number of values fails with ArityError", "[conformance]",
                   TASKMAP_SCENARIO_EXECUTORS) {
  auto executor = make_executor<TestType>();
  auto g = create_graph<int>({{"a", fa}, {"b", fa}, {"two", fb}, {"child", fb}},
                             {{"a", {}}, {"b", {}}, {"two", {"a", "b"}}, {"child", {"two"}}});
  executor.run(g, {});
  CHECK(g.status("two") == TaskStatus::failed);
  CHECK(g.status("child") == TaskStatus::skipped);
  CHECK(thrown_type(g.error("two")) == "taskmap::ArityError");
  CHECK(thrown_message(g.error("two")).find("'two'") != std::string::npos);
  if constexpr (!crosses_processes<TestType>) {  // the worker's ArityError stayed there
    REQUIRE(holds<ArityError>(g.error("two")));
    try {
      std::rethrow_exception(g.error("two"));
    } catch (const ArityError& e) {
      CHECK(e.task() == "two");
      CHECK(e.expected() == 1);
      CHECK(e.received() == 2);
    }
  }
}

TEMPLATE_TEST_CASE("fail_fast starts nothing after the first failure", "[conformance]",
                   TASKMAP_SCENARIO_EXECUTORS) {
  auto executor = make_executor<TestType>(1);
  Shared<int> started;
  FuncMap<int> funcs{{"boom", fd}, {"child", fb}};
  DependencyMap deps{{"boom", {}}, {"child", {"boom"}}};
  for (int i = 0; i < 20; ++i) {
    const std::string name = "t" + std::to_string(i);
    funcs.emplace(name, [&] {
      ++started;
      return 1;
    });
    deps[name] = {"boom"};  // only startable after boom: fail_fast must keep them pending
  }
  funcs.emplace("after", [&] {
    ++started;
    return 1;
  });
  deps["after"] = {};
  auto g = create_graph<int>(funcs, deps, {.priority = {{"boom", 100}}});
  const RunSummary summary = executor.run(g, {.fail_fast = true});
  CHECK(summary.failed == 1);
  CHECK(g.status("boom") == TaskStatus::failed);
  // Every dependent of the failure is skipped, as without fail_fast.
  CHECK(g.status("child") == TaskStatus::skipped);
  CHECK(g.status("t3") == TaskStatus::skipped);
  CHECK(started.load() == 0);
  // The unrelated task was never started: it stays pending and the next run does it.
  CHECK(g.status("after") == TaskStatus::pending);
  executor.run(g, {});
  CHECK(g.status("after") == TaskStatus::done);
}

TEMPLATE_TEST_CASE("a stop request cancels unstarted tasks; the next run completes them",
                   "[conformance]", TASKMAP_SCENARIO_EXECUTORS) {
  // In process, the first task asks to stop and sees its own request. A task in a worker
  // process changes only its copy of the stop_source, so there an observer in the parent
  // asks when the first task starts; the request reaches the worker through a relay that
  // may arrive after the task looked (process_pool_test.cpp waits for it).
  struct StopWhenStarted : Observer {
    explicit StopWhenStarted(std::stop_source& s) : stop(s) {}
    void on_event(const TaskEvent& event) override {
      if (event.kind == EventKind::started && event.task == "first") stop.request_stop();
    }
    std::stop_source& stop;
  };
  auto executor = make_executor<TestType>(1);
  std::stop_source stop;
  Shared<bool> saw_stop{false};
  Shared<int> calls;
  auto g = create_graph<int>({{"first",
                               [&](Context& ctx) {
                                 ++calls;
                                 if (!crosses_processes<TestType>) stop.request_stop();
                                 saw_stop = ctx.stop_requested();
                                 return 1;
                               }},
                              {"second",
                               [&](int x) {
                                 ++calls;
                                 return x + 1;
                               }},
                              {"third",
                               [&](int x) {
                                 ++calls;
                                 return x + 1;
                               }}},
                             {{"first", {}}, {"second", {"first"}}, {"third", {"second"}}});
  RunOptions options{.stop_token = stop.get_token()};
  if (crosses_processes<TestType>) options.observers = {std::make_shared<StopWhenStarted>(stop)};
  const RunSummary summary = executor.run(g, options);
  if (!crosses_processes<TestType>) CHECK(saw_stop.load());
  CHECK(g.status("first") == TaskStatus::done);
  CHECK(g.status("second") == TaskStatus::cancelled);
  CHECK(g.status("third") == TaskStatus::cancelled);
  CHECK(summary.succeeded == 1);
  CHECK(summary.cancelled == 2);
  CHECK(g.ready_tasks() == std::vector<std::string>{"second"});

  const RunSummary rest = executor.run(g, {});
  CHECK(rest.succeeded == 2);
  CHECK(g.result("third") == 3);
  CHECK(calls.load() == 3);
}

TEMPLATE_TEST_CASE("a stop requested before the run cancels every pending task", "[conformance]",
                   TASKMAP_SCENARIO_EXECUTORS) {
  auto executor = make_executor<TestType>();
  std::stop_source stop;
  stop.request_stop();
  auto g = create_graph<int>({{"a", fa}, {"b", fb}}, {{"b", {"a"}}, {"a", {}}}, {.done = {}});
  const RunSummary summary = executor.run(g, {.stop_token = stop.get_token()});
  CHECK(summary.cancelled == 2);
  CHECK(g.status("a") == TaskStatus::cancelled);
  executor.run(g, {});
  CHECK(g.result("b") == 15);
}

TEMPLATE_TEST_CASE("tasks may take a Context", "[conformance]", TASKMAP_SCENARIO_EXECUTORS) {
  auto executor = make_executor<TestType>();
  auto g = create_graph<std::string>(
      {{"who",
        [](Context& ctx) { return std::string(ctx.graph_name()) + "/" + std::string(ctx.name()); }},
       {"len",
        [](Context& ctx, const std::string& s) { return s + ":" + std::string(ctx.name()); }}},
      {{"who", {}}, {"len", {"who"}}}, {.name = "g1"});
  executor.run(g, {});
  CHECK(g.result("len") == "g1/who:len");
}

TEMPLATE_TEST_CASE("observers see every event of a run", "[conformance]",
                   TASKMAP_SCENARIO_EXECUTORS) {
  auto executor = make_executor<TestType>();
  auto recorder = std::make_shared<Recorder>();
  auto g =
      create_graph<int>({{"a", fa}, {"d", fd}, {"c", fb}}, {{"a", {}}, {"d", {}}, {"c", {"d"}}});
  executor.run(g, {.observers = {recorder}});
  CHECK(recorder->count(EventKind::queued) == 2);
  CHECK(recorder->count(EventKind::started) == 2);
  CHECK(recorder->count(EventKind::finished) == 1);
  CHECK(recorder->count(EventKind::failed) == 1);
  CHECK(recorder->count(EventKind::skipped) == 1);

  // Failed and skipped events carry the recorded exception; no other event has one.
  using Error = std::pair<EventKind, std::string>;
  CHECK(recorder->errors ==
        std::vector<Error>{{EventKind::failed, "some error"},
                           {EventKind::skipped, "Ancestor task d failed; task not run"}});

  // The run is framed by one start (before any event) and one end (after the last).
  REQUIRE(recorder->starts.size() == 1);
  CHECK(recorder->starts[0].graph == "taskmap");
  CHECK(recorder->starts[0].tasks == 3);
  CHECK(recorder->starts[0].pending == 3);
  CHECK(recorder->starts[0].workers >= 1);
  CHECK(recorder->events_before_start == 0);
  REQUIRE(recorder->ends.size() == 1);
  CHECK(recorder->events_before_end == recorder->events.size());
  CHECK(recorder->ends[0].second.succeeded == 1);
  CHECK(recorder->ends[0].second.failed == 1);
  CHECK(recorder->ends[0].second.skipped == 1);

  // A rerun after a reset counts only what it may start.
  reset_tasks(g, {"a"});
  executor.run(g, {.observers = {recorder}});
  REQUIRE(recorder->starts.size() == 2);
  CHECK(recorder->starts[1].pending == 1);
  CHECK(recorder->ends[1].second.succeeded == 1);
}

TEMPLATE_TEST_CASE("a graph cannot be run while it runs", "[conformance]",
                   TASKMAP_SCENARIO_EXECUTORS) {
  auto executor = make_executor<TestType>();
  TaskGraph<int> g;
  g.add_task("inner", [&g] {
    run(g);  // the same graph, from inside one of its tasks
    return 1;
  });
  executor.run(g, {});
  CHECK(g.status("inner") == TaskStatus::failed);
  CHECK(what_of(g.error("inner")).find("already being run") != std::string::npos);
}

TEMPLATE_TEST_CASE("an observer that throws ends the run and leaves nothing running",
                   "[conformance]", TASKMAP_SCENARIO_EXECUTORS) {
  struct Throwing : Observer {
    void on_event(const TaskEvent& event) override {
      if (event.kind == EventKind::started) throw std::runtime_error("observer broke");
    }
  };
  auto executor = make_executor<TestType>();
  auto g = create_graph<int>({{"a", fa}}, {{"a", {}}});
  auto recorder = std::make_shared<Recorder>();
  CHECK_THROWS_WITH(executor.run(g, {.observers = {recorder, std::make_shared<Throwing>()}}),
                    "observer broke");
  CHECK(g.status("a") == TaskStatus::pending);
  // Every observer told of the start is told of the end, even of a run an observer broke.
  CHECK(recorder->starts.size() == 1);
  CHECK(recorder->ends.size() == 1);
  executor.run(g, {});
  CHECK(g.result("a") == 5);
}

TEMPLATE_TEST_CASE("std::any graphs feed typed parameters", "[conformance]",
                   TASKMAP_SCENARIO_EXECUTORS) {
  if constexpr (crosses_processes<TestType>) {
    SUCCEED("std::any has no Codec: a ProcessPoolExecutor refuses such a graph at compile time");
  } else {
    auto executor = make_executor<TestType>();
    auto g = create_graph<std::any>({{"n", [] { return 4; }},
                                     {"s", [] { return std::string("x"); }},
                                     {"rep",
                                      [](int n, const std::string& s) {
                                        std::string out;
                                        for (int i = 0; i < n; ++i) out += s;
                                        return out;
                                      }},
                                     {"bad", [](double d) { return d; }}},
                                    {{"n", {}}, {"s", {}}, {"rep", {"n", "s"}}, {"bad", {"s"}}});
    executor.run(g, {});
    CHECK(std::any_cast<std::string>(g.result("rep")) == "xxxx");
    CHECK(g.status("bad") == TaskStatus::failed);
    CHECK(holds<TypeError>(g.error("bad")));
  }
}
