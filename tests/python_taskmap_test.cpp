// The scenarios of Python taskmap's test suite that run a graph, ported, keeping their
// numbers (T4, T14, ...). The ones that only inspect a graph's structure (T1-T9, T18) are in
// graph_test.cpp, the coroutine ones in coroutine_test.cpp, the logging ones
// (T10-T13) in log_observer_test.cpp.

#include <stdexcept>
#include <string>
#include <vector>

#include "executors.hpp"
#include "test_support.hpp"

using namespace taskmap;
using namespace taskmap_test;

TEMPLATE_TEST_CASE("Python T4: cached results are used", "[python][conformance]",
                   TASKMAP_TEST_EXECUTORS) {
  auto executor = make_executor<TestType>();
  auto g = create_graph<int>({{"a", fa}, {"b", fb}}, {{"b", {"a"}}, {"a", {}}},
                             {.done = {"a"}, .results = {{"a", 5}}});
  executor.run(g, {});
  CHECK(g.result("b") == 15);
}

TEMPLATE_TEST_CASE("Python T14: run passes arguments", "[python][conformance]",
                   TASKMAP_TEST_EXECUTORS) {
  auto executor = make_executor<TestType>();
  auto g = create_graph<int>({{"a", fa}, {"b", fb}, {"c", fc}},
                             {{"c", {"a", "b"}}, {"b", {"a"}}, {"a", {}}});
  executor.run(g, {});
  CHECK(g.results() == ResultMap<int>{{"a", 5}, {"b", 15}, {"c", 40}});
}

namespace {

void check_t15_outcome(const TaskGraph<int>& g) {
  CHECK(g.status("c") == TaskStatus::skipped);
  CHECK(what_of(g.error("c")) == "Ancestor task d failed; task not run");
  CHECK(g.status("d") == TaskStatus::failed);
  CHECK(holds<std::runtime_error>(g.error("d")));
  CHECK(what_of(g.error("d")) == "some error");
}

}  // namespace

TEMPLATE_TEST_CASE("Python T15: sync error handling", "[python][conformance]",
                   TASKMAP_TEST_EXECUTORS) {
  auto executor = make_executor<TestType>();
  // (b) a fresh graph
  auto g = create_graph<int>({{"d", fd}, {"c", fb}}, {{"c", {"d"}}, {"d", {}}});
  executor.run(g, {});
  check_t15_outcome(g);
  // (a) the already-completed graph: returns at once, nothing re-run, outcome kept
  const RunSummary again = executor.run(g, {});
  CHECK(again.succeeded + again.failed + again.skipped + again.cancelled == 0);
  check_t15_outcome(g);
}

TEMPLATE_TEST_CASE("Python T15a: raise_errors surfaces the original error", "[python][conformance]",
                   TASKMAP_TEST_EXECUTORS) {
  auto executor = make_executor<TestType>();
  auto g = create_graph<int>({{"d", fd}, {"c", fb}}, {{"c", {"d"}}, {"d", {}}});
  CHECK_THROWS_WITH(executor.run(g, {.raise_errors = true}),
                    Catch::Matchers::Contains("some error"));
  auto h = create_graph<int>({{"d", fd}, {"c", fb}}, {{"c", {"d"}}, {"d", {}}});
  CHECK_THROWS_AS(executor.run(h, {.raise_errors = true}), std::runtime_error);
}

TEMPLATE_TEST_CASE("Python T17: rebuilding a graph from failure", "[python][conformance]",
                   TASKMAP_TEST_EXECUTORS) {
  // Python used coroutines here; plain functions show the same bookkeeping.
  auto executor = make_executor<TestType>();
  auto g =
      create_graph<int>({{"e", fd}, {"c", fb}, {"w", [] {}}}, {{"c", {"e"}}, {"e", {}}, {"w", {}}});
  executor.run(g, {});
  reset_failed_tasks(g);
  CHECK(g.done() == std::vector<std::string>{"w"});
  CHECK(g.status("e") == TaskStatus::pending);
  CHECK(g.status("c") == TaskStatus::pending);
  CHECK(g.error("e") == nullptr);
  CHECK(g.error("c") == nullptr);
  CHECK_FALSE(g.has_result("c"));
}
