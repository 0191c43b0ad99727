// Continuations (issue 12 §1): a task returns a Continue<T> and ends with the named result of
// a child graph that runs after it returned. A recursion of continuations 10,000 levels deep
// runs on every executor (one and two workers) without a C++ frame per level; failures deep
// in a chain name the task that threw; other child failures fail the task; a stop request
// cancels the continued task; a missing named task is an error naming both tasks; chains of
// continuations and ordinary dependents mix.

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <random>
#include <stdexcept>
#include <stop_token>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "executors.hpp"
#include "test_support.hpp"

using namespace taskmap;
using namespace taskmap_test;

namespace {

// (F(n), F(n+1)) modulo 2^64.
using FibPair = std::array<std::uint64_t, 2>;

// Fibonacci by continuations, one level per n: level n's graph continues with level n-1 in
// "smaller" and steps once in "step", whose value ends the level's task.
Continue<FibPair> fibonacci_pair(std::uint64_t n) {
  if (n == 0) return Continue<FibPair>(FibPair{0, 1});
  TaskGraph<FibPair> level("fibonacci " + std::to_string(n));
  level.add_task("smaller", [n] { return fibonacci_pair(n - 1); });
  level.add_task("step",
                 [](const FibPair& below) {
                   return FibPair{below[1], below[0] + below[1]};
                 },
                 {"smaller"});
  return continue_with(std::move(level), "step");
}

FibPair fibonacci_pair_loop(std::uint64_t n) {
  FibPair pair{0, 1};
  for (std::uint64_t i = 0; i < n; ++i) pair = FibPair{pair[1], pair[0] + pair[1]};
  return pair;
}

// Runs a 10,000-level Fibonacci as one task of a graph with an ordinary dependent.
template <class E>
void check_deep_fibonacci(E& executor) {
  constexpr std::uint64_t kDepth = 10'000;
  TaskGraph<FibPair> graph("deep");
  graph.add_task("fibonacci", [] { return fibonacci_pair(kDepth); });
  graph.add_task("first", [](const FibPair& pair) { return FibPair{pair[0], 0}; }, {"fibonacci"});
  const RunSummary summary = executor.run(graph, {});
  CHECK(summary.ok());
  CHECK(summary.succeeded == 2);
  CHECK(graph.result("fibonacci") == fibonacci_pair_loop(kDepth));
  CHECK(graph.result("first")[0] == fibonacci_pair_loop(kDepth)[0]);
}

// Quicksort by continuations: each level continues with "left" and "right" (themselves
// continuing) and "join"; on sorted input every level's left half is empty.
Continue<std::vector<int>> continued_quicksort(std::vector<int> values) {
  if (values.size() <= 1) return Continue<std::vector<int>>(std::move(values));
  const int pivot = values.front();
  std::vector<int> left;
  std::vector<int> right;
  for (std::size_t i = 1; i < values.size(); ++i) {
    (values[i] < pivot ? left : right).push_back(values[i]);
  }
  TaskGraph<std::vector<int>> level("quicksort");
  level.add_task("left", [part = std::move(left)] { return continued_quicksort(part); });
  level.add_task("right", [part = std::move(right)] { return continued_quicksort(part); });
  level.add_task("join",
                 [pivot](std::vector<int> lower, const std::vector<int>& upper) {
                   lower.push_back(pivot);
                   lower.insert(lower.end(), upper.begin(), upper.end());
                   return lower;
                 },
                 {"left", "right"});
  return continue_with(std::move(level), "join");
}

}  // namespace

TEMPLATE_TEST_CASE("a Fibonacci recursion of continuations runs 10,000 levels deep",
                   "[continuation]", TASKMAP_CONFORMANCE_EXECUTORS) {
  auto executor = make_executor<TestType>(2);
  check_deep_fibonacci(executor);
}

TEMPLATE_TEST_CASE("a recursion of continuations runs 10,000 levels deep on one worker",
                   "[continuation]", ThreadPoolExecutor, CoroutinePoolExecutor) {
  auto executor = make_executor<TestType>(1);
  check_deep_fibonacci(executor);
}

TEMPLATE_TEST_CASE("a quicksort of continuations sorts random and sorted input", "[continuation]",
                   TASKMAP_CONFORMANCE_EXECUTORS) {
  auto executor = make_executor<TestType>(2);
  std::mt19937 random(12);
  std::vector<int> shuffled(5000);
  for (int& value : shuffled) value = static_cast<int>(random() % 1000);
  std::vector<int> sorted(1000);
  for (std::size_t i = 0; i < sorted.size(); ++i) sorted[i] = static_cast<int>(i);
  TaskGraph<std::vector<int>> graph("sort");
  graph.add_task("shuffled", [shuffled] { return continued_quicksort(shuffled); });
  graph.add_task("sorted", [sorted] { return continued_quicksort(sorted); });  // 1,000 deep
  const RunSummary summary = executor.run(graph, {});
  REQUIRE(summary.ok());
  std::vector<int> expected = shuffled;
  std::sort(expected.begin(), expected.end());
  CHECK(graph.result("shuffled") == expected);
  CHECK(graph.result("sorted") == sorted);
}

TEMPLATE_TEST_CASE("a continuation's tasks may continue again, each with its own graph",
                   "[continuation]", TASKMAP_CONFORMANCE_EXECUTORS) {
  auto executor = make_executor<TestType>(2);
  TaskGraph<std::string> graph("outer");
  graph.add_task("seed", [] { return std::string("s"); });
  graph.add_task("grow",
                 [](const std::string& seed) {
                   TaskGraph<std::string> middle("middle");
                   middle.add_task("m", [seed] {
                     TaskGraph<std::string> inner("inner");
                     inner.add_task("i1", [seed] { return seed + "-i1"; });
                     inner.add_task("i2", [](const std::string& s) { return s + "-i2"; }, {"i1"});
                     return continue_with(std::move(inner), "i2");
                   });
                   middle.add_task("m2", [](const std::string& s) { return s + "-m2"; }, {"m"});
                   return continue_with(std::move(middle), "m2");
                 },
                 {"seed"});
  graph.add_task("plain", [](const std::string& seed) { return seed + "-plain"; }, {"seed"});
  graph.add_task(
      "after",
      [](const std::string& grown, const std::string& plain) { return grown + "+" + plain; },
      {"grow", "plain"});
  graph.add_task("at once", [] { return Continue<std::string>(std::string("now")); });
  const RunSummary summary = executor.run(graph, {});
  CHECK(summary.ok());
  CHECK(summary.succeeded == 5);
  CHECK(graph.result("grow") == "s-i1-i2-m2");
  CHECK(graph.result("after") == "s-i1-i2-m2+s-plain");
  CHECK(graph.result("at once") == "now");
}

namespace {

// A chain `depth` levels deep whose last level throws from task "boom".
Continue<int> failing_chain(int depth) {
  TaskGraph<int> level("chain " + std::to_string(depth));
  if (depth == 0) {
    level.add_task("boom", []() -> int { throw std::runtime_error("deep failure"); });
    return continue_with(std::move(level), "boom");
  }
  level.add_task("down", [depth] { return failing_chain(depth - 1); });
  return continue_with(std::move(level), "down");
}

}  // namespace

TEMPLATE_TEST_CASE("a failure deep in a chain fails the task, naming the task that threw",
                   "[continuation]", TASKMAP_CONFORMANCE_EXECUTORS) {
  auto executor = make_executor<TestType>(2);
  // Deep enough to show the error is not wrapped once per level (its message would grow
  // with every level).
  constexpr int kDepth = 2000;
  TaskGraph<int> graph("failing");
  graph.add_task("spawn", [] { return failing_chain(kDepth); });
  graph.add_task("after", [](int x) { return x; }, {"spawn"});
  graph.add_task("other", [] { return 7; });
  const RunSummary summary = executor.run(graph, {});
  CHECK(summary.failed == 1);
  CHECK(summary.skipped == 1);
  CHECK(summary.succeeded == 1);
  CHECK(graph.status("spawn") == TaskStatus::failed);
  CHECK(graph.status("after") == TaskStatus::skipped);
  bool saw_original = false;
  try {
    std::rethrow_exception(graph.error("spawn"));
  } catch (const TaskError& error) {
    CHECK(error.task() == "boom");
    CHECK(std::string(error.what()) == "task 'boom' of graph 'chain 0' failed: deep failure");
    try {
      std::rethrow_if_nested(error);
    } catch (const std::runtime_error& original) {
      saw_original = std::string(original.what()) == "deep failure";
    }
  }
  CHECK(saw_original);
}

TEMPLATE_TEST_CASE("a failed child task other than the named one fails the task", "[continuation]",
                   TASKMAP_CONFORMANCE_EXECUTORS) {
  auto executor = make_executor<TestType>(2);
  TaskGraph<int> graph("parent");
  graph.add_task("spawn", [] {
    TaskGraph<int> child("child");
    child.add_task("result", [] { return 1; });
    child.add_task("side", []() -> int { throw std::logic_error("side broke"); });
    return continue_with(std::move(child), "result");
  });
  const RunSummary summary = executor.run(graph, {});
  CHECK(summary.failed == 1);
  try {
    std::rethrow_exception(graph.error("spawn"));
  } catch (const TaskError& error) {
    CHECK(error.task() == "side");
  }
  REQUIRE_THROWS_AS(std::rethrow_exception(graph.error("spawn")), TaskError);
}

TEMPLATE_TEST_CASE("a continuation naming a task its graph lacks fails, naming both tasks",
                   "[continuation]", TASKMAP_CONFORMANCE_EXECUTORS) {
  auto executor = make_executor<TestType>(2);
  TaskGraph<int> graph("parent");
  graph.add_task("spawn", [] {
    TaskGraph<int> child("child");
    child.add_task("present", [] { return 1; });
    return continue_with(std::move(child), "absent");
  });
  const RunSummary summary = executor.run(graph, {});
  CHECK(summary.failed == 1);
  try {
    std::rethrow_exception(graph.error("spawn"));
  } catch (const UnknownTaskError& error) {
    CHECK(std::string(error.what()) ==
          "task 'spawn' of graph 'parent' continues with graph 'child', which has no task "
          "'absent' to take its result from");
    CHECK(error.tasks() == std::vector<std::string>{"absent"});
  }
  REQUIRE_THROWS_AS(std::rethrow_exception(graph.error("spawn")), UnknownTaskError);
}

TEMPLATE_TEST_CASE("a stop request in a continuation cancels the continued task", "[continuation]",
                   TASKMAP_CONFORMANCE_EXECUTORS) {
  auto executor = make_executor<TestType>(2);
  std::stop_source source;
  bool saw_stop = false;
  TaskGraph<int> graph("parent");
  graph.add_task("spawn", [&] {
    TaskGraph<int> child("child");
    child.add_task("stopper", [&](Context& ctx) {
      source.request_stop();
      saw_stop = ctx.stop_requested();
      return 1;
    });
    child.add_task("later", [](int x) { return x; }, {"stopper"});
    return continue_with(std::move(child), "later");
  });
  graph.add_task("after", [](int x) { return x; }, {"spawn"});
  const RunSummary summary = executor.run(graph, {.stop_token = source.get_token()});
  CHECK(saw_stop);
  CHECK(summary.succeeded == 0);
  CHECK(summary.failed == 0);
  CHECK(summary.cancelled == 2);
  CHECK(graph.status("spawn") == TaskStatus::cancelled);
  CHECK(graph.status("after") == TaskStatus::cancelled);
  // A later run without the stop runs the task again, continuation and all.
  const RunSummary again = executor.run(graph, {});
  CHECK(again.ok());
  CHECK(graph.result("after") == 1);
}

TEST_CASE("a plain task may return Continue<T> of its graph's T, a coroutine may not",
          "[continuation]") {
  STATIC_REQUIRE(TaskCallable<Continue<int> (*)(), int>);
  STATIC_REQUIRE(TaskCallable<Continue<int> (*)(Context&, const int&), int>);
  STATIC_REQUIRE_FALSE(TaskCallable<Continue<long> (*)(), int>);
  STATIC_REQUIRE_FALSE(TaskCallable<Task<Continue<int>> (*)(), int>);
}

TEMPLATE_TEST_CASE("a continued task holds its group place until its continuation ends",
                   "[continuation]", TASKMAP_CONFORMANCE_EXECUTORS) {
  auto executor = make_executor<TestType>(2);
  std::atomic<int> inside{0};
  std::atomic<int> most{0};
  auto visit = [&] {
    const int now = ++inside;
    int seen = most.load();
    while (now > seen && !most.compare_exchange_weak(seen, now)) {
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
    --inside;
  };
  FuncMap<int> funcs;
  DependencyMap deps;
  ConcurrencyGroup group;
  for (int i = 0; i < 4; ++i) {
    const std::string name = "member " + std::to_string(i);
    funcs.emplace(name, [&visit, i] {
      TaskGraph<int> child("child");
      child.add_task("work", [&visit, i] {
        visit();
        return i;
      });
      return continue_with(std::move(child), "work");
    });
    deps[name] = {};
    group.tasks.push_back(name);
  }
  funcs.emplace("plain", [&visit] {
    visit();
    return 10;
  });
  deps["plain"] = {};
  group.tasks.push_back("plain");
  auto graph = create_graph<int>(std::move(funcs), std::move(deps), {.groups = {{"one", group}}});
  const RunSummary summary = executor.run(graph, {});
  CHECK(summary.ok());
  CHECK(summary.succeeded == 5);
  CHECK(most.load() == 1);
  CHECK(graph.result("member 3") == 3);
  CHECK(graph.result("plain") == 10);
}
