// reset_failed_tasks, reset_tasks, mark_as_done and mark_as_done_except.

#include <atomic>
#include <map>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

#include "executors.hpp"
#include "test_support.hpp"

using namespace taskmap;
using namespace taskmap_test;

namespace {

// a -> b -> c, a -> d; x independent. Counts calls per task.
struct Counted {
  std::map<std::string, std::atomic<int>> calls;
  bool fail_b = false;

  TaskGraph<int> graph() {
    for (const char* name : {"a", "b", "c", "d", "x"}) calls[name] = 0;
    return create_graph<int>({{"a",
                               [this] {
                                 ++calls["a"];
                                 return 1;
                               }},
                              {"b",
                               [this](int v) {
                                 ++calls["b"];
                                 if (fail_b) throw std::runtime_error("b broke");
                                 return v + 1;
                               }},
                              {"c",
                               [this](int v) {
                                 ++calls["c"];
                                 return v + 1;
                               }},
                              {"d",
                               [this](int v) {
                                 ++calls["d"];
                                 return v + 10;
                               }},
                              {"x",
                               [this] {
                                 ++calls["x"];
                                 return 100;
                               }}},
                             {{"a", {}}, {"b", {"a"}}, {"c", {"b"}}, {"d", {"a"}}, {"x", {}}});
  }
  std::map<std::string, int> snapshot() const {
    std::map<std::string, int> out;
    for (const auto& [name, n] : calls) out[name] = n.load();
    return out;
  }
};

}  // namespace

TEMPLATE_TEST_CASE("reset_failed_tasks reruns exactly the failed tasks and their dependents",
                   "[reset]", TASKMAP_TEST_EXECUTORS) {
  auto executor = make_executor<TestType>();
  Counted counted;
  counted.fail_b = true;
  auto g = counted.graph();
  executor.run(g, {});
  CHECK(g.failed() == std::vector<std::string>{"b"});
  CHECK(g.skipped() == std::vector<std::string>{"c"});

  counted.fail_b = false;
  reset_failed_tasks(g);
  CHECK(g.status("b") == TaskStatus::pending);
  CHECK(g.status("c") == TaskStatus::pending);
  CHECK(g.status("a") == TaskStatus::done);
  CHECK(g.ready_tasks() == std::vector<std::string>{"b"});
  const RunSummary summary = executor.run(g, {});
  CHECK(summary.succeeded == 2);
  CHECK(g.result("c") == 3);
  CHECK(counted.snapshot() ==
        std::map<std::string, int>{{"a", 1}, {"b", 2}, {"c", 1}, {"d", 1}, {"x", 1}});
}

TEMPLATE_TEST_CASE("reset_failed_tasks on a graph without failures changes nothing", "[reset]",
                   TASKMAP_TEST_EXECUTORS) {
  auto executor = make_executor<TestType>();
  Counted counted;
  auto g = counted.graph();
  executor.run(g, {});
  reset_failed_tasks(g);
  CHECK(g.done().size() == 5);
  CHECK(executor.run(g, {}).succeeded == 0);
}

TEMPLATE_TEST_CASE("reset_tasks reruns the named tasks and all their dependents, every time",
                   "[reset]", TASKMAP_TEST_EXECUTORS) {
  auto executor = make_executor<TestType>();
  Counted counted;
  auto g = counted.graph();
  executor.run(g, {});
  for (int round = 1; round <= 5; ++round) {
    reset_tasks(g, {"b"});
    CHECK(g.status("b") == TaskStatus::pending);
    CHECK(g.status("c") == TaskStatus::pending);
    CHECK_FALSE(g.has_result("b"));
    CHECK_FALSE(g.has_result("c"));
    CHECK(g.status("a") == TaskStatus::done);
    CHECK(g.status("d") == TaskStatus::done);
    CHECK(executor.run(g, {}).succeeded == 2);
    CHECK(g.result("c") == 3);
  }
  CHECK(counted.snapshot() ==
        std::map<std::string, int>{{"a", 1}, {"b", 6}, {"c", 6}, {"d", 1}, {"x", 1}});

  reset_tasks(g, std::vector<std::string>{"a"});  // everything below a
  CHECK(executor.run(g, {}).succeeded == 4);
  reset_tasks(g, "x");
  CHECK(executor.run(g, {}).succeeded == 1);
  reset_tasks(g, std::set<std::string>{"c", "x"});
  CHECK(executor.run(g, {}).succeeded == 2);
  CHECK(counted.snapshot() ==
        std::map<std::string, int>{{"a", 2}, {"b", 7}, {"c", 8}, {"d", 2}, {"x", 3}});
}

TEMPLATE_TEST_CASE("reset_tasks also clears failures and skips below the named task", "[reset]",
                   TASKMAP_TEST_EXECUTORS) {
  auto executor = make_executor<TestType>();
  Counted counted;
  counted.fail_b = true;
  auto g = counted.graph();
  executor.run(g, {});
  counted.fail_b = false;
  reset_tasks(g, {"a"});
  CHECK(g.failed().empty());
  CHECK(g.skipped().empty());
  executor.run(g, {});
  CHECK(g.result("c") == 3);
  CHECK(g.result("d") == 11);
}

TEMPLATE_TEST_CASE("a reset task below a still-failed task is skipped again", "[reset]",
                   TASKMAP_TEST_EXECUTORS) {
  auto executor = make_executor<TestType>();
  Counted counted;
  counted.fail_b = true;
  auto g = counted.graph();
  executor.run(g, {});
  reset_tasks(g, {"c"});
  CHECK(g.status("c") == TaskStatus::pending);
  const RunSummary summary = executor.run(g, {});
  CHECK(summary.skipped == 1);
  CHECK(g.status("c") == TaskStatus::skipped);
  CHECK(what_of(g.error("c")) == "Ancestor task b failed; task not run");
  CHECK(counted.calls["c"] == 0);
}

TEMPLATE_TEST_CASE("mark_as_done keeps tasks from running and feeds seeded values", "[reset]",
                   TASKMAP_TEST_EXECUTORS) {
  auto executor = make_executor<TestType>();
  Counted counted;
  auto g = create_graph<int>({{"a",
                               [&] {
                                 ++counted.calls["a"];
                                 return 1;
                               }},
                              {"b", fb}},
                             {{"a", {}}, {"b", {"a"}}}, {.results = {{"a", 5}}});
  counted.calls["a"] = 0;
  mark_as_done(g, {"a"});
  executor.run(g, {});
  CHECK(counted.calls["a"] == 0);
  CHECK(g.result("b") == 15);
}

TEMPLATE_TEST_CASE("mark_as_done_except leaves only the named tasks to run", "[reset]",
                   TASKMAP_TEST_EXECUTORS) {
  auto executor = make_executor<TestType>();
  Counted counted;
  auto g = counted.graph();
  mark_as_done_except(g, {"x", "c"});
  CHECK(g.done() == std::vector<std::string>{"a", "b", "d"});
  // c's dependency b is done but never produced a value: c is fed nothing and fails.
  executor.run(g, {});
  CHECK(counted.calls["x"] == 1);
  CHECK(counted.calls["a"] == 0);
  CHECK(g.status("c") == TaskStatus::failed);
  CHECK(holds<ArityError>(g.error("c")));
}

TEST_CASE("reset helpers refuse unknown names and change nothing", "[reset][errors]") {
  Counted counted;
  auto g = counted.graph();
  run(g);
  try {
    reset_tasks(g, {"b", "nope", "zilch"});
    FAIL("no UnknownTaskError");
  } catch (const UnknownTaskError& e) {
    CHECK(e.tasks() == std::vector<std::string>{"nope", "zilch"});
    CHECK(std::string(e.what()).find("'nope'") != std::string::npos);
  }
  CHECK(g.status("b") == TaskStatus::done);  // nothing was reset
  CHECK_THROWS_AS(mark_as_done(g, {"nope"}), UnknownTaskError);
  CHECK_THROWS_AS(mark_as_done(g, "nope"), UnknownTaskError);
  CHECK_THROWS_AS(mark_as_done_except(g, {"nope"}), UnknownTaskError);
  CHECK_THROWS_AS(reset_tasks(g, std::vector<std::string>{"nope"}), UnknownTaskError);
  CHECK(g.done().size() == 5);
}

TEST_CASE("helpers refuse to touch a graph while it runs", "[reset][errors]") {
  TaskGraph<int> g;
  std::string seen;
  g.add_task("a", [&] {
    try {
      reset_tasks(g, {"a"});
    } catch (const Error& e) {
      seen = e.what();
    }
    return 1;
  });
  run(g);
  CHECK(seen.find("running") != std::string::npos);
  CHECK(g.status("a") == TaskStatus::done);
}
