// co_await ctx.run_async(child) in coroutine tasks on every executor: results and summary, a
// sibling that goes on while the child's coroutines wait (the parent is suspended, not
// blocking, on the coroutine executors), failures, stops, 100 nested levels (10,000 where a
// loop drives coroutine tasks, which ctx.run cannot reach: the stack stays flat). And the parent
// run's observers seeing child tasks (ctx.run, run_async; not map's items) as "parent/child", with
// the real log, progress and trace observers.

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdio>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <stop_token>
#include <string>
#include <vector>

#include "executors.hpp"
#include "test_support.hpp"

using namespace taskmap;
using namespace taskmap_test;
using namespace std::chrono_literals;

namespace {

// A child graph per level, each awaited by the level above: the depth of the recursion.
Task<int> nested_levels(Context& ctx, int level) {
  if (level == 0) co_return 0;
  TaskGraph<int> child("level");
  child.add_task("down", [level](Context& c) { return nested_levels(c, level - 1); });
  const RunSummary summary = co_await ctx.run_async(child);
  if (summary.succeeded != 1) throw std::logic_error("the child did not run its task");
  co_return child.result("down") + 1;
}

// Every event and run start it sees, as "kind graph task".
class Recorder final : public Observer {
 public:
  void on_run_start(const RunInfo& run) override {
    std::lock_guard lock(mutex_);
    starts_.emplace_back(run.graph);
  }
  void on_event(const TaskEvent& event) override {
    std::lock_guard lock(mutex_);
    events_.push_back(std::string(to_string(event.kind)) + " " + std::string(event.graph) + " " +
                      std::string(event.task));
  }
  [[nodiscard]] std::vector<std::string> events() const {
    std::lock_guard lock(mutex_);
    return events_;
  }
  [[nodiscard]] std::vector<std::string> starts() const {
    std::lock_guard lock(mutex_);
    return starts_;
  }
  [[nodiscard]] bool saw(const std::string& event) const {
    const std::vector<std::string> all = events();
    return std::find(all.begin(), all.end(), event) != all.end();
  }

 private:
  mutable std::mutex mutex_;
  std::vector<std::string> events_;
  std::vector<std::string> starts_;
};

}  // namespace

TEMPLATE_TEST_CASE("co_await ctx.run_async runs a child graph and yields its summary",
                   "[subgraph][run_async]", TASKMAP_TEST_EXECUTORS) {
  auto executor = make_executor<TestType>(2);
  TaskGraph<int> parent("parent");
  parent.add_task("spawn", [](Context& ctx) -> Task<int> {
    TaskGraph<int> child("child");
    child.add_task("plain", [] { return 3; });
    child.add_task("wait",
                   [](int x) -> Task<int> {
                     co_await sleep_for(2ms);
                     co_return x + 4;
                   },
                   {"plain"});
    child.add_task("inner",
                   [](Context& c, int x) -> Task<int> {
                     // A child's coroutine task may await a grandchild.
                     TaskGraph<int> grandchild("grandchild");
                     grandchild.add_task("g", [x] { return x * 10; });
                     co_await c.run_async(grandchild);
                     co_return grandchild.result("g");
                   },
                   {"wait"});
    const RunSummary summary = co_await ctx.run_async(child);
    co_return static_cast<int>(summary.succeeded) * 1000 + child.result("inner");
  });
  REQUIRE(executor.run(parent, {}).ok());
  CHECK(parent.result("spawn") == 3070);
}

TEMPLATE_TEST_CASE("while a child's coroutines wait, a sibling task goes on",
                   "[subgraph][run_async]", CoroutineExecutor, CoroutinePoolExecutor) {
  // One thread: a parent blocked in its child would stop the sibling until the child ends.
  auto executor = make_executor<TestType>(1);
  std::atomic<bool> child_started{false};
  std::atomic<bool> child_done{false};
  std::atomic<int> ticks_during_child{0};
  TaskGraph<int> parent("parent");
  parent.add_task("spawn", [&](Context& ctx) -> Task<int> {
    TaskGraph<int> child("child");
    for (const char* name : {"a", "b"}) {
      child.add_task(name, [&]() -> Task<int> {
        child_started = true;
        for (int i = 0; i < 5; ++i) co_await sleep_for(10ms);
        co_return 1;
      });
    }
    co_await ctx.run_async(child);
    child_done = true;
    co_return child.result("a") + child.result("b");
  });
  parent.add_task("ticker", [&]() -> Task<int> {
    for (int i = 0; i < 40 && !child_done; ++i) {
      co_await sleep_for(2ms);
      if (child_started && !child_done) ++ticks_during_child;
    }
    co_return 0;
  });
  REQUIRE(executor.run(parent, {}).ok());
  CHECK(parent.result("spawn") == 2);
  CHECK(ticks_during_child.load() >= 3);
}

TEMPLATE_TEST_CASE("a failed child task makes co_await ctx.run_async throw, nested",
                   "[subgraph][run_async]", TASKMAP_TEST_EXECUTORS) {
  auto executor = make_executor<TestType>(2);
  TaskGraph<int> parent("parent");
  parent.add_task("uncaught", [](Context& ctx) -> Task<int> {
    TaskGraph<int> child("child");
    child.add_task("bad", []() -> Task<int> {
      co_await sleep_for(1ms);
      throw std::runtime_error("child broke");
    });
    child.add_task("after", [](int x) { return x; }, {"bad"});
    co_await ctx.run_async(child);
    co_return 1;
  });
  parent.add_task("below", [](int x) { return x; }, {"uncaught"});
  parent.add_task("caught", [](Context& ctx) -> Task<int> {
    TaskGraph<int> child("child2");
    child.add_task("bad", []() -> int { throw std::runtime_error("again"); });
    child.add_task("good", [] { return 5; });
    try {
      co_await ctx.run_async(child);
    } catch (const TaskError& error) {
      if (error.task() != "bad") throw;
      co_return child.result("good");
    }
    co_return 0;
  });
  const RunSummary summary = executor.run(parent, {});
  CHECK(summary.failed == 1);
  CHECK(summary.skipped == 1);
  CHECK(parent.status("uncaught") == TaskStatus::failed);
  CHECK(parent.status("below") == TaskStatus::skipped);
  CHECK(parent.result("caught") == 5);
  bool named = false;
  try {
    std::rethrow_exception(parent.error("uncaught"));
  } catch (const TaskError& error) {
    named = error.task() == "bad" && what_of(error.original()) == "child broke";
  }
  CHECK(named);
}

TEMPLATE_TEST_CASE("a stop request reaches a child run with run_async", "[subgraph][run_async]",
                   TASKMAP_TEST_EXECUTORS) {
  auto executor = make_executor<TestType>(2);
  std::stop_source source;
  std::atomic<bool> child_saw_stop{false};
  RunSummary child_summary;
  TaskGraph<int> parent("parent");
  parent.add_task("spawn", [&](Context& ctx) -> Task<int> {
    TaskGraph<int> child("child");
    child.add_task("stopper", [&](Context& c) -> Task<int> {
      co_await sleep_for(1ms);
      source.request_stop();
      child_saw_stop = c.stop_requested();
      co_return 1;
    });
    child.add_task("later", [](int x) { return x; }, {"stopper"});
    child_summary = co_await ctx.run_async(child);
    co_return 0;
  });
  executor.run(parent, {.stop_token = source.get_token()});
  CHECK(child_saw_stop.load());
  CHECK(child_summary.succeeded == 1);
  CHECK(child_summary.cancelled == 1);
}

TEMPLATE_TEST_CASE("co_await ctx.run_async nests 100 levels deep", "[subgraph][run_async]",
                   TASKMAP_TEST_EXECUTORS) {
  auto executor = make_executor<TestType>(2);
  TaskGraph<int> parent("parent");
  parent.add_task("top", [](Context& ctx) { return nested_levels(ctx, 100); });
  REQUIRE(executor.run(parent, {}).ok());
  CHECK(parent.result("top") == 100);
}

TEMPLATE_TEST_CASE("nested run_async keeps the stack flat where a loop drives the task",
                   "[subgraph][run_async]", SequentialExecutor, CoroutineExecutor,
                   CoroutinePoolExecutor) {
  // ctx.run keeps about 1.4 KiB of stack per level and cannot go 10,000 deep on 8 MiB
  // stacks (docs/dynamic.md): these levels fit only if each one returns to the loop.
  constexpr int kLevels = kSanitized ? 1000 : 10'000;
  auto executor = make_executor<TestType>(2);
  TaskGraph<int> parent("parent");
  parent.add_task("top", [](Context& ctx) { return nested_levels(ctx, kLevels); });
  REQUIRE(executor.run(parent, {}).ok());
  CHECK(parent.result("top") == kLevels);
}

TEMPLATE_TEST_CASE("a child graph with no task to run completes the await at once",
                   "[subgraph][run_async]", TASKMAP_TEST_EXECUTORS) {
  auto executor = make_executor<TestType>(2);
  TaskGraph<int> parent("parent");
  parent.add_task("spawn", [](Context& ctx) -> Task<int> {
    TaskGraph<int> child("empty");
    const RunSummary summary = co_await ctx.run_async(child);
    co_return static_cast<int>(summary.succeeded) + 7;
  });
  REQUIRE(executor.run(parent, {}).ok());
  CHECK(parent.result("spawn") == 7);
}

TEMPLATE_TEST_CASE("the parent's observers see child tasks as parent/child",
                   "[subgraph][observers]", TASKMAP_TEST_EXECUTORS) {
  auto executor = make_executor<TestType>(2);
  auto recorder = std::make_shared<Recorder>();
  TaskGraph<int> parent("top");
  parent.add_task("outer", [](Context& ctx) {
    TaskGraph<int> child("kid");
    child.add_task("a", [](Context& c) {
      TaskGraph<int> grandchild("grandkid");
      grandchild.add_task("g", [] { return 1; });
      c.run(grandchild);
      return grandchild.result("g");
    });
    ctx.run(child);
    return child.result("a");
  });
  parent.add_task("async", [](Context& ctx) -> Task<int> {
    TaskGraph<int> child("kid2");
    child.add_task("b", []() -> Task<int> { co_return 2; });
    co_await ctx.run_async(child);
    co_return child.result("b");
  });
  parent.add_task("fan", [](Context& ctx) {
    const std::vector<int> items{1, 2};
    const std::vector<int> doubled = ctx.map(items, [](int x) { return 2 * x; });
    return doubled[1];
  });
  REQUIRE(executor.run(parent, {.observers = {recorder}}).ok());
  for (const char* event :
       {"started top outer/a", "finished top outer/a", "finished top outer/a/g",
        "queued top outer/a/g", "finished top async/b", "finished top fan", "finished top outer"}) {
    INFO(event);
    CHECK(recorder->saw(event));
  }
  // ctx.map's items are not tasks: observers see the task that maps, not its items.
  // Child runs send task events only: one run start, the parent's.
  CHECK(recorder->starts() == std::vector<std::string>{"top"});
  for (const std::string& event : recorder->events()) {
    INFO(event);
    CHECK(event.find("kid") == std::string::npos);
    CHECK(event.find("fan/") == std::string::npos);
  }
}

TEMPLATE_TEST_CASE("log, progress and trace observers show child tasks in the parent's run",
                   "[subgraph][observers]", TASKMAP_TEST_EXECUTORS) {
  auto executor = make_executor<TestType>(2);
  TempDir dir("taskmap-child-observers");
  std::FILE* progress_stream = std::fopen((dir / "progress.txt").string().c_str(), "wb");
  REQUIRE(progress_stream != nullptr);
  {
    auto log = std::make_shared<LogObserver>(dir / "run.log");
    auto progress = std::make_shared<ProgressObserver>(
        ProgressOptions{.stream = progress_stream, .mode = ProgressMode::plain});
    auto trace = std::make_shared<TraceObserver>(dir / "trace.json");
    TaskGraph<int> parent("top");
    parent.add_task("outer", [](Context& ctx) -> Task<int> {
      TaskGraph<int> child("kid");
      for (const char* name : {"x", "y", "z"}) {
        child.add_task(name, []() -> Task<int> {
          co_await sleep_for(1ms);
          co_return 1;
        });
      }
      co_await ctx.run_async(child);
      co_return 3;
    });
    parent.add_task("last", [](int x) { return x; }, {"outer"});
    REQUIRE(executor.run(parent, {.observers = {log, progress, trace}}).ok());
  }
  std::fclose(progress_stream);
  const std::string log = read_file(dir / "run.log");
  CHECK(count_of(log, "finished task outer/x") == 1);
  CHECK(count_of(log, "starting task outer/z") == 1);
  CHECK(log.find("kid") == std::string::npos);
  // One run in the log: the child's run start and end are not passed on.
  CHECK(count_of(log, "starting run: ") == 1);
  CHECK(count_of(log, "nested run") == 0);
  const std::string progress = read_file(dir / "progress.txt");
  // The bar counts the parent's two tasks only; the child's do not overflow it.
  CHECK(progress.find("top: 2/2 tasks done") != std::string::npos);
  const std::string trace = read_file(dir / "trace.json");
  CHECK(trace.find("outer/y") != std::string::npos);
  CHECK(trace.find("kid") == std::string::npos);
}

TEMPLATE_TEST_CASE("child runs of an unobserved run have no observers", "[subgraph][observers]",
                   SequentialExecutor, CoroutinePoolExecutor) {
  auto executor = make_executor<TestType>(2);
  auto recorder = std::make_shared<Recorder>();
  TaskGraph<int> observed("observed");
  TaskGraph<int> quiet("quiet");
  // A child of the quiet run, started while the observed run is going on, stays quiet.
  quiet.add_task("spawn", [](Context& ctx) {
    TaskGraph<int> child("child");
    child.add_task("c", [] { return 1; });
    ctx.run(child);
    return 0;
  });
  observed.add_task("inner", [&](Context& ctx) {
    SequentialExecutor{}.run(quiet, {});
    TaskGraph<int> child("child");
    child.add_task("d", [] { return 1; });
    ctx.run(child);
    return 0;
  });
  REQUIRE(executor.run(observed, {.observers = {recorder}}).ok());
  CHECK(recorder->saw("finished observed inner/d"));
  for (const std::string& event : recorder->events()) {
    INFO(event);
    CHECK(event.find("spawn") == std::string::npos);
    CHECK(event.find("/c") == std::string::npos);
  }
}
