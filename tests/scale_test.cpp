// Large graphs: nothing may recurse per task (no stack overflow on a 100,000-task chain) and
// nothing may be quadratic. Sizes are fixed and no time is asserted (a loaded machine took
// 55 s where a 20 s bound was checked): a quadratic step at these sizes takes hours, which
// the scale group's ctest timeout (300 s) reports; speed is the benchmarks' question.

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <numeric>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

#include "executors.hpp"
#include "test_support.hpp"

using namespace taskmap;
using namespace taskmap_test;

namespace {

constexpr int kChain = 100'000;
constexpr int kFanIn = 200'000;

std::string chain_name(int i) { return "c" + std::to_string(i); }

/// c0 returns 0, each next task adds one: c(i) == i. `close` makes c0 depend on the last task.
TaskGraph<int> make_chain(bool close = false) {
  FuncMap<int> funcs;
  DependencyMap deps;
  funcs.reserve(kChain);
  deps.reserve(kChain);
  const TaskFn<int> plus_one = [](int x) { return x + 1; };
  funcs.emplace(chain_name(0), [] { return 0; });
  deps.emplace(chain_name(0), close ? std::vector<std::string>{chain_name(kChain - 1)}
                                    : std::vector<std::string>{});
  for (int i = 1; i < kChain; ++i) {
    funcs.emplace(chain_name(i), plus_one);
    deps.emplace(chain_name(i), std::vector<std::string>{chain_name(i - 1)});
  }
  return create_graph<int>(std::move(funcs), std::move(deps), {.name = "chain"});
}

/// Every chain name except c0, sorted as children() sorts them.
std::vector<std::string> chain_children_sorted() {
  std::vector<std::string> names;
  names.reserve(kChain - 1);
  for (int i = 1; i < kChain; ++i) names.push_back(chain_name(i));
  std::sort(names.begin(), names.end());
  return names;
}

}  // namespace

TEMPLATE_TEST_CASE("a 100,000-task chain builds, runs, resets and reruns", "[scale]",
                   TASKMAP_TEST_EXECUTORS) {
  auto executor = make_executor<TestType>();
  TaskGraph<int> g = make_chain();
  REQUIRE(g.size() == static_cast<std::size_t>(kChain));

  const RunSummary first = executor.run(g, {});
  CHECK(first.succeeded == static_cast<std::size_t>(kChain));
  CHECK(first.failed == 0);
  CHECK(g.result(chain_name(0)) == 0);
  CHECK(g.result(chain_name(kChain / 2)) == kChain / 2);
  CHECK(g.result(chain_name(kChain - 1)) == kChain - 1);

  const NameList children = g.children(chain_name(0));
  CHECK(children.size() == static_cast<std::size_t>(kChain - 1));
  CHECK(children == chain_children_sorted());
  CHECK(g.children(chain_name(kChain - 1)).empty());

  // Give the head a new function and rerun everything below it.
  g.set_func(chain_name(0), [] { return 1000; });
  reset_tasks(g, chain_name(0));
  CHECK(g.status(chain_name(0)) == TaskStatus::pending);
  CHECK(g.status(chain_name(kChain - 1)) == TaskStatus::pending);
  CHECK_FALSE(g.has_result(chain_name(kChain - 1)));
  CHECK(g.done().empty());

  const RunSummary second = executor.run(g, {});
  CHECK(second.succeeded == static_cast<std::size_t>(kChain));
  CHECK(g.result(chain_name(kChain - 1)) == 1000 + kChain - 1);
  CHECK(g.done().size() == static_cast<std::size_t>(kChain));

  // Resetting the middle reruns only the lower half.
  reset_tasks(g, chain_name(kChain / 2));
  CHECK(g.status(chain_name(kChain / 2 - 1)) == TaskStatus::done);
  const RunSummary third = executor.run(g, {});
  CHECK(third.succeeded == static_cast<std::size_t>(kChain / 2));
  CHECK(g.result(chain_name(kChain - 1)) == 1000 + kChain - 1);
}

TEMPLATE_TEST_CASE("a failure at the head of a 100,000-task chain skips all the rest", "[scale]",
                   TASKMAP_TEST_EXECUTORS) {
  auto executor = make_executor<TestType>();
  TaskGraph<int> g = make_chain();
  g.set_func(chain_name(0), []() -> int { throw std::runtime_error("head failed"); });
  const RunSummary summary = executor.run(g, {});
  CHECK(summary.failed == 1);
  CHECK(summary.skipped == static_cast<std::size_t>(kChain - 1));
  CHECK(g.skipped().size() == static_cast<std::size_t>(kChain - 1));
  CHECK(what_of(g.error(chain_name(kChain - 1))) == "Ancestor task c0 failed; task not run");

  g.set_func(chain_name(0), [] { return 0; });
  reset_failed_tasks(g);
  const RunSummary retry = executor.run(g, {});
  CHECK(retry.succeeded == static_cast<std::size_t>(kChain));
  CHECK(g.result(chain_name(kChain - 1)) == kChain - 1);
}

TEST_CASE("a 100,000-task chain built with add_task runs", "[scale]") {
  TaskGraph<int> g("added");
  g.add_task(chain_name(0), [] { return 0; });
  for (int i = 1; i < kChain; ++i)
    g.add_task(chain_name(i), [](int x) { return x + 1; }, {chain_name(i - 1)});
  REQUIRE(g.size() == static_cast<std::size_t>(kChain));
  run(g);
  CHECK(g.result(chain_name(kChain - 1)) == kChain - 1);
  CHECK(g.children(chain_name(0)).size() == static_cast<std::size_t>(kChain - 1));
}

TEMPLATE_TEST_CASE("a 200,000-task fan-in feeds every value to one span sink", "[scale]",
                   TASKMAP_TEST_EXECUTORS) {
  auto executor = make_executor<TestType>();
  FuncMap<int> funcs;
  DependencyMap deps;
  funcs.reserve(kFanIn + 1);
  deps.reserve(kFanIn + 1);
  std::vector<std::string> sources;
  sources.reserve(kFanIn);
  for (int i = 0; i < kFanIn; ++i) {
    sources.push_back("s" + std::to_string(i));
    funcs.emplace(sources.back(), [i] { return i % 1000; });
    deps.emplace(sources.back(), std::vector<std::string>{});
  }
  // The sink checks it got every value in dependency order, then sums them.
  std::size_t fed = 0;
  std::size_t out_of_order = 0;
  funcs.emplace("sink", [&fed, &out_of_order](std::span<const int> xs) {
    fed = xs.size();
    for (std::size_t k = 0; k < xs.size(); ++k) {
      if (xs[k] != static_cast<int>(k % 1000)) ++out_of_order;
    }
    return std::accumulate(xs.begin(), xs.end(), 0);
  });
  deps.emplace("sink", sources);
  TaskGraph<int> g = create_graph<int>(std::move(funcs), std::move(deps));
  REQUIRE(g.size() == static_cast<std::size_t>(kFanIn + 1));

  const RunSummary summary = executor.run(g, {});
  CHECK(summary.succeeded == static_cast<std::size_t>(kFanIn + 1));
  CHECK(fed == static_cast<std::size_t>(kFanIn));
  CHECK(out_of_order == 0);
  constexpr int kSum = (kFanIn / 1000) * (999 * 1000 / 2);
  CHECK(g.result("sink") == kSum);
  CHECK(g.children("s0") == std::vector<std::string>{"sink"});
  CHECK(g.dependencies("sink").size() == static_cast<std::size_t>(kFanIn));

  // Resetting one source reruns it and the sink only.
  reset_tasks(g, "s12345");
  CHECK(g.status("sink") == TaskStatus::pending);
  CHECK(g.status("s12344") == TaskStatus::done);
  fed = 0;
  const RunSummary again = executor.run(g, {});
  CHECK(again.succeeded == 2);
  CHECK(fed == static_cast<std::size_t>(kFanIn));
  CHECK(g.result("sink") == kSum);
}

TEST_CASE("a cycle closing a 100,000-task chain is reported whole", "[scale]") {
  try {
    static_cast<void>(make_chain(/*close=*/true));
    FAIL("create_graph accepted a cycle");
  } catch (const CycleError& e) {
    const std::vector<std::string>& cycle = e.cycle();
    REQUIRE(cycle.size() == static_cast<std::size_t>(kChain + 1));
    CHECK(cycle.front() == cycle.back());
    // Each task depends on the next: c0 on c99999, c99999 on c99998, ..., c1 on c0.
    CHECK(cycle.front() == "c0");
    std::size_t bad_steps = 0;
    for (std::size_t k = 0; k + 1 < cycle.size(); ++k) {
      const int from = std::stoi(cycle[k].substr(1));
      const int to = std::stoi(cycle[k + 1].substr(1));
      const int depends_on = from == 0 ? kChain - 1 : from - 1;
      if (to != depends_on) ++bad_steps;
    }
    CHECK(bad_steps == 0);
    const std::string message = e.what();
    CHECK(message.find("c0 -> c99999 -> c99998 -> ") != std::string::npos);
    CHECK(message.find("c2 -> c1 -> c0") != std::string::npos);
  }
}
