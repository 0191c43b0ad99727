// Coroutine tasks: Task<R>, sleep_for/yield, run_async and run_parallel_async, and the async
// scenarios ported from Python taskmap's test suite (T16, T16a, T17, T20-T22, T24, T25).

#include <any>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <coroutine>
#include <mutex>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "executors.hpp"
#include "test_support.hpp"

using namespace taskmap;
using namespace taskmap_test;
using namespace std::chrono_literals;

namespace {

// Python's async fixtures.
Task<int> control() { co_return 5; }
Task<int> e_fails() {
  throw std::runtime_error("some error");
  co_return 0;
}
Task<int> g_identity(int x) { co_return x; }
Task<int> along_task() {
  co_await sleep_for(20ms);
  co_return 5;
}
Task<int> ab(int x) { co_return x + 10; }
Task<int> ac(int x, int y) { co_return x + y + 20; }
Task<int> x_wait() {
  co_await sleep_for(400ms);
  co_return 5;
}
Task<void> r_wait() { co_await sleep_for(400ms); }
Task<void> w_block() {
  std::this_thread::sleep_for(400ms);
  co_return;
}

// An awaitable resumed by another thread, like an I/O completion callback. It records the
// id of the thread that calls resume().
struct ForeignThreadWait {
  std::chrono::milliseconds delay;
  std::thread::id* resumer;
  bool await_ready() const noexcept { return false; }
  void await_suspend(std::coroutine_handle<> handle) const {
    std::thread([handle, d = delay, out = resumer] {
      std::this_thread::sleep_for(d);
      *out = std::this_thread::get_id();
      handle.resume();
    }).detach();
  }
  void await_resume() const noexcept {}
};

}  // namespace

TEMPLATE_TEST_CASE("coroutine tasks pass results through chains (Python T20, T21)",
                   "[coroutine][python]", TASKMAP_TEST_EXECUTORS) {
  auto executor = make_executor<TestType>();
  auto g =
      create_graph<int>({{"along_task", along_task}, {"ab", ab}, {"ac", ac}},
                        {{"ac", {"along_task", "ab"}}, {"ab", {"along_task"}}, {"along_task", {}}});
  const RunSummary summary = executor.run(g, {});
  CHECK(summary.succeeded == 3);
  CHECK(g.results() == ResultMap<int>{{"along_task", 5}, {"ab", 15}, {"ac", 40}});
}

TEMPLATE_TEST_CASE("a failing coroutine skips its child; the control task runs (Python T16)",
                   "[coroutine][python]", TASKMAP_TEST_EXECUTORS) {
  auto executor = make_executor<TestType>();
  auto g = create_graph<int>({{"e", e_fails}, {"g", g_identity}, {"control", control}},
                             {{"g", {"e"}}, {"e", {}}, {"control", {}}});
  executor.run(g, {});
  CHECK(what_of(g.error("g")) == "Ancestor task e failed; task not run");
  CHECK(g.status("g") == TaskStatus::skipped);
  CHECK(holds<std::runtime_error>(g.error("e")));
  CHECK(what_of(g.error("e")) == "some error");
  CHECK(g.result("control") == 5);
}

TEMPLATE_TEST_CASE("raise_errors after a failing coroutine (Python T16a)", "[coroutine][python]",
                   TASKMAP_TEST_EXECUTORS) {
  auto executor = make_executor<TestType>();
  auto g = create_graph<int>({{"e", e_fails}, {"control", control}}, {{"e", {}}, {"control", {}}});
  CHECK_THROWS_AS(executor.run(g, {.raise_errors = true}), TaskError);
  CHECK(g.result("control") == 5);
  // Unlike Python's HEAD, a run without failures raises nothing.
  auto ok = create_graph<int>({{"control", control}}, {{"control", {}}});
  CHECK_NOTHROW(executor.run(ok, {.raise_errors = true}));
}

TEST_CASE("Python T17: rebuilding a graph after a coroutine failure", "[coroutine][python]") {
  auto g = create_graph<int>({{"e", e_fails}, {"c", fb}, {"w", w_block}},
                             {{"c", {"e"}}, {"e", {}}, {"w", {}}});
  run_parallel_async(g, {.ncores = 2});
  reset_failed_tasks(g);
  CHECK(g.done() == std::vector<std::string>{"w"});
  CHECK_FALSE(g.has_result("e"));
  CHECK_FALSE(g.has_result("c"));
}

TEST_CASE("Python T22: two 0.4 s sleeps overlap on run_async", "[coroutine][python][timing]") {
  auto g = create_graph<int>({{"x", x_wait}, {"y", x_wait}}, {{"x", {}}, {"y", {}}});
  const auto start = Clock::now();
  run_async(g);
  CHECK(seconds_since(start) < 0.8);
  CHECK(g.result("x") == 5);
}

TEST_CASE("Python T24: io waits overlap with blocking coroutines on 2 threads",
          "[coroutine][python][timing]") {
  auto g =
      create_graph<int>({{"r", r_wait}, {"t", r_wait}, {"w", w_block}, {"p", w_block}},
                        {{"r", {}}, {"t", {}}, {"w", {}}, {"p", {}}}, {.io_bound = {"r", "t"}});
  const auto start = Clock::now();
  const RunSummary summary = run_parallel_async(g, {.ncores = 2});
  CHECK(seconds_since(start) < 0.8);
  CHECK(summary.succeeded == 4);
}

TEST_CASE("Python T25: the README demo on run_parallel_async", "[coroutine][python][timing]") {
  auto g = create_graph<std::string>({{"io_bound_a",
                                       []() -> Task<std::string> {
                                         co_await sleep_for(400ms);
                                         co_return "io_a";
                                       }},
                                      {"io_bound_b",
                                       [](std::string x) -> Task<std::string> {
                                         co_await sleep_for(400ms);
                                         co_return x + " io_b";
                                       }},
                                      {"cpu_bound_a",
                                       [](std::string x) -> Task<std::string> {
                                         std::this_thread::sleep_for(400ms);
                                         co_return x + " cpu_a";
                                       }},
                                      {"cpu_bound_b",
                                       []() -> Task<std::string> {
                                         std::this_thread::sleep_for(400ms);
                                         co_return "cpu_b";
                                       }}},
                                     {{"io_bound_a", {}},
                                      {"io_bound_b", {"cpu_bound_b"}},
                                      {"cpu_bound_a", {"io_bound_a"}},
                                      {"cpu_bound_b", {}}},
                                     {.io_bound = {"io_bound_a", "io_bound_b"}});
  const auto start = Clock::now();
  run_parallel_async(g, {.ncores = 2});
  CHECK(seconds_since(start) < 1.2);
  CHECK(g.result("io_bound_a") == "io_a");
  CHECK(g.result("io_bound_b") == "cpu_b io_b");
  CHECK(g.result("cpu_bound_a") == "io_a cpu_a");
  CHECK(g.result("cpu_bound_b") == "cpu_b");
}

TEST_CASE("10,000 coroutines sleep concurrently on one thread", "[coroutine][scale]") {
  FuncMap<int> funcs;
  DependencyMap deps;
  for (int i = 0; i < 10000; ++i) {
    const std::string name = "s" + std::to_string(i);
    funcs.emplace(name, [i]() -> Task<int> {
      co_await sleep_for(std::chrono::milliseconds(200 + i % 50));
      co_return i;
    });
    deps[name] = {};
  }
  auto g = create_graph<int>(funcs, deps);
  const auto start = Clock::now();
  const RunSummary summary = run_async(g);
  CHECK(summary.succeeded == 10000);
  CHECK(seconds_since(start) < 5.0);  // serially this would take over 2000 s
  CHECK(g.result("s9999") == 9999);
}

TEMPLATE_TEST_CASE("a chain of 100,000 coroutine tasks does not grow the stack",
                   "[coroutine][scale]", taskmap::CoroutineExecutor,
                   taskmap::CoroutinePoolExecutor) {
  auto executor = make_executor<TestType>();
  FuncMap<int> funcs;
  DependencyMap deps;
  const int n = 100000;
  for (int i = 0; i < n; ++i) {
    const std::string name = "c" + std::to_string(i);
    if (i == 0) {
      funcs.emplace(name, []() -> Task<int> { co_return 0; });
      deps[name] = {};
    } else {
      funcs.emplace(name, [](int x) -> Task<int> { co_return x + 1; });
      deps[name] = {"c" + std::to_string(i - 1)};
    }
  }
  auto g = create_graph<int>(funcs, deps);
  executor.run(g, {});
  CHECK(g.result("c99999") == n - 1);
}

TEST_CASE("a deep chain of awaited Tasks inside one task uses symmetric transfer",
          "[coroutine][scale]") {
  struct Deep {
    static Task<int> down(int depth) {
      if (depth == 0) co_return 0;
      co_return 1 + co_await down(depth - 1);
    }
  };
  auto g = create_graph<int>({{"deep", [] { return Deep::down(20000); }}}, {{"deep", {}}});
  run_async(g);
  CHECK(g.result("deep") == 20000);
}

TEMPLATE_TEST_CASE("a coroutine resumed from a foreign thread continues on the executor",
                   "[coroutine][foreign]", TASKMAP_TEST_EXECUTORS) {
  auto executor = make_executor<TestType>();
  std::mutex mutex;
  std::vector<std::string> problems;
  const std::thread::id caller = std::this_thread::get_id();
  constexpr bool single_threaded =
      std::is_same_v<TestType, CoroutineExecutor> || std::is_same_v<TestType, SequentialExecutor>;
  auto task = [&](Context& ctx) -> Task<int> {
    std::thread::id resumer;
    co_await ForeignThreadWait{5ms, &resumer};
    const std::thread::id now = std::this_thread::get_id();
    std::lock_guard lock(mutex);
    if (now == resumer)
      problems.push_back(std::string(ctx.name()) + ": ran on the callback thread");
    if (single_threaded && now != caller)
      problems.push_back(std::string(ctx.name()) + ": left the caller");
    co_return 1;
  };
  FuncMap<int> funcs;
  DependencyMap deps;
  for (int i = 0; i < 6; ++i) {
    funcs.emplace("f" + std::to_string(i), task);
    deps["f" + std::to_string(i)] = {};
  }
  auto g = create_graph<int>(funcs, deps);
  const RunSummary summary = executor.run(g, {});
  CHECK(summary.succeeded == 6);
  CHECK(problems.empty());
}

TEST_CASE("CoroutineExecutor: io_bound coroutines start first", "[coroutine]") {
  std::vector<std::string> order;
  auto task = [&](std::string name) {
    return [&order, name]() -> Task<int> {
      order.push_back(name);
      co_await yield();
      co_return 0;
    };
  };
  FuncMap<int> funcs;
  for (const char* name : {"a", "b", "io"}) funcs.emplace(name, task(name));
  auto g = create_graph<int>(funcs, {{"a", {}}, {"b", {}}, {"io", {}}},
                             {.io_bound = {"io"}, .priority = {{"b", 1}}});
  run_async(g);
  CHECK(order == std::vector<std::string>{"io", "b", "a"});
}

TEST_CASE("CoroutineExecutor: waiting coroutines interleave on one thread", "[coroutine]") {
  std::vector<std::string> log;
  auto g = create_graph<int>({{"slow",
                               [&]() -> Task<int> {
                                 log.push_back("slow start");
                                 co_await sleep_for(50ms);
                                 log.push_back("slow end");
                                 co_return 1;
                               }},
                              {"fast",
                               [&]() -> Task<int> {
                                 log.push_back("fast start");
                                 co_await sleep_for(10ms);
                                 log.push_back("fast end");
                                 co_return 2;
                               }}},
                             {{"slow", {}}, {"fast", {}}}, {.priority = {{"slow", 1}}});
  run_async(g);
  CHECK(log == std::vector<std::string>{"slow start", "fast start", "fast end", "slow end"});
}

TEMPLATE_TEST_CASE("a stop while coroutines are suspended lets them finish and cancels the rest",
                   "[coroutine]", TASKMAP_TEST_EXECUTORS) {
  auto executor = make_executor<TestType>(2);
  std::stop_source stop;
  std::atomic<int> saw_stop{0};
  FuncMap<int> funcs;
  DependencyMap deps;
  funcs.emplace("stopper", [&](Context& ctx) -> Task<int> {
    co_await sleep_for(10ms);
    stop.request_stop();
    if (ctx.stop_requested()) ++saw_stop;
    co_return 0;
  });
  deps["stopper"] = {};
  for (int i = 0; i < 10; ++i) {
    funcs.emplace("after" + std::to_string(i), [](int x) -> Task<int> {
      co_await sleep_for(1ms);
      co_return x + 1;
    });
    deps["after" + std::to_string(i)] = {"stopper"};
  }
  auto g = create_graph<int>(funcs, deps);
  const RunSummary summary = executor.run(g, {.stop_token = stop.get_token()});
  CHECK(saw_stop == 1);
  CHECK(summary.succeeded == 1);
  CHECK(summary.cancelled == 10);
  executor.run(g, {});
  CHECK(g.result("after9") == 1);
}

TEST_CASE("sleep_for and yield outside an executor throw", "[coroutine][errors]") {
  auto outside = []() -> Task<int> {
    co_await sleep_for(1ms);
    co_return 1;
  };
  auto awaiting = [&]() -> Task<int> { co_return co_await outside(); };
  // Driven by hand, with no executor: the awaitable refuses with a clear error.
  std::optional<std::string> message;
  auto driver = [&]() -> Task<void> {
    try {
      co_await awaiting();
    } catch (const Error& e) {
      message = e.what();
    }
  };
  Task<void> t = driver();
  start_outside_executor(t);
  REQUIRE(message.has_value());
  CHECK(message->find("sleep_for") != std::string::npos);
}

TEST_CASE("coroutine task shapes: void, optional, span, Context", "[coroutine][task_fn]") {
  STATIC_REQUIRE(TaskCallable<decltype([]() -> Task<int> { co_return 1; }), int>);
  STATIC_REQUIRE(TaskCallable<decltype([](int) -> Task<void> { co_return; }), int>);
  STATIC_REQUIRE(
      TaskCallable<decltype([](std::span<const int>) -> Task<std::optional<int>> { co_return 1; }),
                   int>);
  STATIC_REQUIRE(
      TaskCallable<decltype([](Context&, const int&) -> Task<long> { co_return 1; }), int>);
  STATIC_REQUIRE_FALSE(TaskCallable<decltype([]() -> Task<std::string> { co_return ""; }), int>);
  STATIC_REQUIRE_FALSE(
      TaskCallable<decltype([]() -> Task<Task<int>> { co_return Task<int>{}; }), int>);

  auto g = create_graph<int>(
      {{"nothing", []() -> Task<void> { co_return; }},
       {"none", []() -> Task<std::optional<int>> { co_return std::nullopt; }},
       {"three", []() -> Task<std::optional<int>> { co_return 3; }},
       {"count",
        [](Context& ctx, std::span<const int> xs) -> Task<int> {
          co_await yield();
          co_return static_cast<int>(xs.size()) * 10 + static_cast<int>(ctx.name().size());
        }},
       {"arity", [](int a, int b) -> Task<int> { co_return a + b; }}},
      {{"nothing", {}},
       {"none", {}},
       {"three", {}},
       {"count", {"nothing", "none", "three"}},
       {"arity", {"three"}}});
  run_async(g);
  CHECK(g.result("count") == 15);
  CHECK_FALSE(g.has_result("nothing"));
  CHECK_FALSE(g.has_result("none"));
  CHECK(g.status("arity") == TaskStatus::failed);
  CHECK(holds<ArityError>(g.error("arity")));
}

// Coroutine tasks start in one of two ways: directly (their own frame is the only one) when
// every argument outlives the call, or through a driver frame that holds the arguments
// (Context&, a span, converted values bound to references). Each waits once before reading
// its arguments, so a dangling argument shows under ASan.
TEMPLATE_TEST_CASE("coroutine arguments stay valid across a suspension, on both start paths",
                   "[coroutine][task_fn]", TASKMAP_TEST_EXECUTORS) {
  auto executor = make_executor<TestType>();
  auto g = create_graph<std::any>(
      {{"s", []() -> Task<std::any> { co_return std::string(40, 's'); }},
       {"n", []() -> Task<std::any> { co_return 7; }},
       {"by_value",  // direct: copied into the frame
        [](std::string s, int n) -> Task<std::any> {
          co_await yield();
          co_return s.size() + static_cast<std::size_t>(n);
        }},
       {"by_ref",  // direct: refers to the stored result
        [](const std::string& s, const int& n) -> Task<std::any> {
          co_await yield();
          co_return s + std::to_string(n);
        }},
       {"by_rvalue",  // driver: a converted value bound to an rvalue reference
        [](std::string&& s) -> Task<std::any> {
          co_await yield();
          co_return s.size();
        }},
       {"with_context",  // driver: Context& must live in a frame
        [](Context& ctx, const std::string& s) -> Task<std::any> {
          co_await yield();
          co_return std::string(ctx.name()) + ":" + std::to_string(s.size());
        }},
       {"span",  // driver: the span views values copied into the driver frame
        [](std::span<const std::any> xs) -> Task<std::any> {
          co_await yield();
          co_return xs.size();
        }},
       {"wrong_type", [](double d) -> Task<std::any> { co_return d; }},
       {"wrong_arity", [](int a, int b) -> Task<std::any> { co_return a + b; }}},
      {{"s", {}},
       {"n", {}},
       {"by_value", {"s", "n"}},
       {"by_ref", {"s", "n"}},
       {"by_rvalue", {"s"}},
       {"with_context", {"s"}},
       {"span", {"s", "n", "by_value"}},
       {"wrong_type", {"n"}},
       {"wrong_arity", {"n"}}});
  const RunSummary summary = executor.run(g, {});
  CHECK(summary.succeeded == 7);
  CHECK(std::any_cast<std::size_t>(g.result("by_value")) == 47);
  CHECK(std::any_cast<std::string>(g.result("by_ref")) == std::string(40, 's') + "7");
  CHECK(std::any_cast<std::size_t>(g.result("by_rvalue")) == 40);
  CHECK(std::any_cast<std::string>(g.result("with_context")) == "with_context:40");
  CHECK(std::any_cast<std::size_t>(g.result("span")) == 3);
  CHECK(holds<TypeError>(g.error("wrong_type")));
  CHECK(holds<ArityError>(g.error("wrong_arity")));
}

TEMPLATE_TEST_CASE("a callable returning an empty or throwing Task fails its task",
                   "[coroutine][task_fn][errors]", TASKMAP_TEST_EXECUTORS) {
  auto executor = make_executor<TestType>();
  // Not coroutines themselves: they return a Task or throw before making one.
  auto g = create_graph<int>(
      {{"empty", []() { return Task<int>{}; }},
       {"throws_first", [](int) -> Task<int> { throw std::runtime_error("before any frame"); }},
       {"one", []() -> Task<int> { co_return 1; }},
       {"child", [](int x) { return x; }}},
      {{"empty", {}}, {"one", {}}, {"throws_first", {"one"}}, {"child", {"throws_first"}}});
  executor.run(g, {});
  CHECK(g.status("empty") == TaskStatus::failed);
  CHECK(what_of(g.error("empty")).find("empty task") != std::string::npos);
  CHECK(g.status("throws_first") == TaskStatus::failed);
  CHECK(what_of(g.error("throws_first")) == "before any frame");
  CHECK(g.status("child") == TaskStatus::skipped);
  CHECK(g.result("one") == 1);
}
