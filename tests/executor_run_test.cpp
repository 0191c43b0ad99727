// ExecutorRun and ReadyQueue as a custom executor meets them: the queue built from the run's
// first ready tasks, and end() queueing straight onto a ReadyQueue, each against the plain
// calls they replace.

#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include "test_support.hpp"

using namespace taskmap;
using namespace taskmap_test;

namespace {

// A graph of `n` tasks where task i depends on up to three earlier tasks, picked at random
// (the same graph for the same seed), with priorities on some tasks when `hinted`.
TaskGraph<int> random_graph(std::size_t n, unsigned seed, bool hinted) {
  std::mt19937 rng(seed);
  FuncMap<int> funcs;
  DependencyMap deps;
  GraphOptions<int> options;
  for (std::size_t i = 0; i < n; ++i) {
    const std::string name = "t" + std::to_string(i);
    funcs.emplace(name, [](std::span<const int> in) {
      int sum = 1;
      for (const int v : in) sum += v;
      return sum % 1000;
    });
    std::vector<std::string>& mine = deps[name];
    for (int k = 0; k < 3 && i > 0; ++k) {
      if (rng() % 2 == 0) mine.push_back("t" + std::to_string(rng() % i));
    }
    if (hinted && rng() % 4 == 0) options.priority[name] = static_cast<int>(rng() % 5);
  }
  return create_graph<int>(std::move(funcs), std::move(deps), std::move(options));
}

// The names in start order, run one task at a time with the plain calls (span from end(),
// a ReadyQueue filled from first_ready()) or with the shortcuts.
std::vector<std::string> start_order(TaskGraph<int>& graph, bool shortcuts) {
  const RunOptions options;  // the run keeps a reference: it must outlive the run
  ExecutorRun<int, Threads::one> run(graph, options);
  std::vector<std::string> order;
  auto loop = [&](ReadyQueue& ready) {
    for (TaskId task = ready.pop(); task != no_task; task = ready.pop()) {
      if (!run.start(task, 0)) continue;
      order.push_back(run.name(task));
      if (shortcuts) {
        run.end(task, 0, run.invoke(task, 0), ready);
      } else {
        ready.push(run.end(task, 0, run.invoke(task, 0)));
      }
    }
  };
  if (shortcuts) {
    ReadyQueue ready = run.first_ready_queue();
    loop(ready);
  } else {
    ReadyQueue ready(run);
    ready.push(run.first_ready());
    loop(ready);
  }
  run.finish();
  return order;
}

}  // namespace

TEST_CASE("ExecutorRun: first_ready_queue holds first_ready in start order and empties it",
          "[executor_run]") {
  auto g = create_graph<int>({{"a", [] { return 1; }},
                              {"b", [] { return 2; }},
                              {"c", [] { return 3; }},
                              {"d", [](int a) { return a; }}},
                             {{"a", {}}, {"b", {}}, {"c", {}}, {"d", {"a"}}},
                             {.priority = {{"c", 5}, {"b", 3}, {"a", 1}}});
  const RunOptions options;
  ExecutorRun<int, Threads::one> run(g, options);
  REQUIRE(run.first_ready().size() == 3);
  ReadyQueue ready = run.first_ready_queue();
  CHECK(run.first_ready().empty());
  CHECK(ready.size() == 3);
  CHECK(ready.by_hints());
  std::vector<std::string> popped;
  for (TaskId task = ready.pop(); task != no_task; task = ready.pop()) {
    popped.push_back(run.name(task));
    REQUIRE(run.start(task, 0));
    run.end(task, 0, run.invoke(task, 0), ready);
  }
  // By priority; d (priority 0) became ready when a, the last root, ended.
  CHECK(popped == std::vector<std::string>{"c", "b", "a", "d"});
  const RunSummary summary = run.finish();
  CHECK(summary.succeeded == 4);
  CHECK(g.result("d") == 1);
}

TEST_CASE("ExecutorRun: end onto a ReadyQueue queues nothing below a failure", "[executor_run]") {
  auto g = create_graph<int>(
      {{"a", []() -> int { throw std::runtime_error("boom"); }}, {"b", [](int a) { return a; }}},
      {{"a", {}}, {"b", {"a"}}});
  const RunOptions options{.raise_errors = false};
  ExecutorRun<int, Threads::one> run(g, options);
  ReadyQueue ready = run.first_ready_queue();
  const TaskId a = ready.pop();
  REQUIRE(a != no_task);
  REQUIRE(run.start(a, 0));
  run.end(a, 0, run.invoke(a, 0), ready);
  CHECK(ready.empty());
  CHECK(run.finished());
  const RunSummary summary = run.finish();
  CHECK(summary.failed == 1);
  CHECK(summary.skipped == 1);
  CHECK(g.status("b") == TaskStatus::skipped);
}

TEST_CASE("ExecutorRun: the shortcuts start tasks in the same order as the plain calls",
          "[executor_run]") {
  for (const bool hinted : {false, true}) {
    for (unsigned seed = 1; seed <= 5; ++seed) {
      TaskGraph<int> plain = random_graph(300, seed, hinted);
      TaskGraph<int> shortcut = random_graph(300, seed, hinted);
      const std::vector<std::string> expected = start_order(plain, false);
      CHECK(expected.size() == 300);
      CHECK(start_order(shortcut, true) == expected);
    }
  }
}
