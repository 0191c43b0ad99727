// Building, validating and inspecting graphs (no task runs here unless stated).

#include <algorithm>
#include <any>
#include <set>
#include <string>
#include <unordered_set>
#include <vector>

#include "test_support.hpp"

using namespace taskmap;
using namespace taskmap_test;

namespace {

TaskGraph<int> python_t1_graph() {
  // deps a:{b,c}, b:{c}, c:{}
  return create_graph<int>({{"a", fc}, {"b", fb}, {"c", fa}},
                           {{"a", {"b", "c"}}, {"b", {"c"}}, {"c", {}}});
}

}  // namespace

TEST_CASE("create_graph interns names and keeps dependency order", "[graph]") {
  auto g = create_graph<int>({{"a", fa}, {"b", fb}, {"c", fc}},
                             {{"a", {}}, {"b", {"a"}}, {"c", {"b", "a"}}}, {.name = "demo"});
  CHECK(g.name() == "demo");
  CHECK(g.size() == 3);
  CHECK(g.contains("a"));
  CHECK_FALSE(g.contains("zz"));
  CHECK(g.tasks() == std::vector<std::string>{"a", "b", "c"});
  CHECK(g.dependencies("c") == std::vector<std::string>{"b", "a"});
  CHECK(g.status("a") == TaskStatus::pending);
  CHECK_FALSE(g.has_result("a"));
  CHECK(g.results().empty());
  CHECK(g.error("a") == nullptr);
  CHECK(g.done().empty());
  CHECK(g.failed().empty());
  CHECK(g.skipped().empty());
}

TEST_CASE("the default graph name is taskmap", "[graph]") {
  auto g = create_graph<int>({{"a", fa}}, {{"a", {}}});
  CHECK(g.name() == "taskmap");
}

TEST_CASE("Python T1: ready tasks are those with every dependency done", "[graph][python]") {
  auto g = python_t1_graph();
  CHECK(g.ready_tasks() == std::vector<std::string>{"c"});
}

TEST_CASE("Python T2: io_bound tasks are ready first", "[graph][python]") {
  auto g = create_graph<int>({{"a", fa}, {"b", fa}}, {{"a", {}}, {"b", {}}}, {.io_bound = {"a"}});
  CHECK(g.ready_tasks() == std::vector<std::string>{"a", "b"});
  auto h = create_graph<int>({{"a", fa}, {"b", fa}}, {{"a", {}}, {"b", {}}}, {.io_bound = {"b"}});
  CHECK(h.ready_tasks() == std::vector<std::string>{"b", "a"});
}

TEST_CASE("ready_tasks orders io_bound, then priority, then name", "[graph]") {
  auto g = create_graph<int>(
      {{"a", fa}, {"b", fa}, {"c", fa}, {"d", fa}, {"e", fa}, {"f", fb}},
      {{"a", {}}, {"b", {}}, {"c", {}}, {"d", {}}, {"e", {}}, {"f", {"a"}}},
      {.io_bound = {"d"}, .priority = {{"c", 5}, {"b", 5}, {"e", -1}, {"f", 100}}});
  CHECK(g.ready_tasks() == std::vector<std::string>{"d", "b", "c", "a", "e"});
  // Same inputs, same order, every time.
  for (int i = 0; i < 5; ++i) CHECK(g.ready_tasks() == g.ready_tasks());
}

TEST_CASE("Python T3: tasks given as done are not ready", "[graph][python]") {
  auto g = create_graph<int>({{"a", fb}, {"b", fa}}, {{"a", {"b"}}, {"b", {}}}, {.done = {"b"}});
  CHECK(g.ready_tasks() == std::vector<std::string>{"a"});
  CHECK(g.status("b") == TaskStatus::done);
  CHECK(g.done() == std::vector<std::string>{"b"});
}

TEST_CASE("Python T5: marking ready tasks done makes their dependents ready", "[graph][python]") {
  auto g = python_t1_graph();
  const auto ready = g.ready_tasks();
  for (const auto& task : ready) mark_as_done(g, task);
  CHECK(g.ready_tasks() == std::vector<std::string>{"b"});
  mark_as_done(g, g.ready_tasks());
  CHECK(g.ready_tasks() == std::vector<std::string>{"a"});
}

TEST_CASE("Python T6: mark_as_done_except", "[graph][python]") {
  auto g = python_t1_graph();
  mark_as_done_except(g, {"c"});
  CHECK(g.done() == std::vector<std::string>{"a", "b"});
  CHECK(g.ready_tasks() == std::vector<std::string>{"c"});
}

TEST_CASE("Python T7: a cycle is refused with its path", "[graph][python][errors]") {
  try {
    (void)create_graph<int>({{"a", fa}, {"b", fa}, {"c", fa}},
                            {{"a", {"b"}}, {"b", {"c"}}, {"c", {"a"}}});
    FAIL("no CycleError");
  } catch (const CycleError& e) {
    CHECK(e.cycle() == std::vector<std::string>{"a", "b", "c", "a"});
    CHECK(std::string(e.what()).find("a -> b -> c -> a") != std::string::npos);
  }
}

TEST_CASE("a cycle error derives from GraphError and Error", "[graph][errors]") {
  auto build = [] {
    return create_graph<int>({{"a", fa}, {"b", fa}}, {{"a", {"b"}}, {"b", {"a"}}});
  };
  CHECK_THROWS_AS(build(), CycleError);
  CHECK_THROWS_AS(build(), GraphError);
  CHECK_THROWS_AS(build(), Error);
  CHECK_THROWS_AS(build(), std::runtime_error);
}

TEST_CASE("a self-loop is a cycle", "[graph][errors]") {
  try {
    (void)create_graph<int>({{"a", fa}, {"b", fa}}, {{"a", {"a"}}, {"b", {}}});
    FAIL("no CycleError");
  } catch (const CycleError& e) {
    CHECK(e.cycle() == std::vector<std::string>{"a", "a"});
    CHECK(std::string(e.what()).find("a -> a") != std::string::npos);
  }
}

TEST_CASE("a cycle behind thousands of acyclic tasks is found and printed whole",
          "[graph][errors]") {
  FuncMap<int> funcs;
  DependencyMap deps;
  const int n = 5000;
  for (int i = 0; i < n; ++i) {
    const std::string name = "t" + std::to_string(i);
    funcs.emplace(name, [] { return 1; });
    deps[name] =
        i == 0 ? std::vector<std::string>{} : std::vector<std::string>{"t" + std::to_string(i - 1)};
  }
  // x1 -> x2 -> x3 -> x1 hangs below the end of the chain.
  for (const char* name : {"x1", "x2", "x3"}) funcs.emplace(name, [] { return 1; });
  deps["x1"] = {"t4999", "x2"};
  deps["x2"] = {"x3"};
  deps["x3"] = {"x1"};
  try {
    (void)create_graph<int>(funcs, deps);
    FAIL("no CycleError");
  } catch (const CycleError& e) {
    CHECK(e.cycle() == std::vector<std::string>{"x1", "x2", "x3", "x1"});
    CHECK(std::string(e.what()).find("x1 -> x2 -> x3 -> x1") != std::string::npos);
  }
}

TEST_CASE("Python T8: dependencies that are not tasks are refused", "[graph][python][errors]") {
  try {
    (void)create_graph<int>({{"a", fc}, {"b", fa}, {"c", fa}}, {{"a", {"b", "c"}}});
    FAIL("no MissingDependencyError");
  } catch (const MissingDependencyError& e) {
    const std::string what = e.what();
    CHECK(what.find("'b'") != std::string::npos);
    CHECK(what.find("'c'") != std::string::npos);
    CHECK(what.find("'a'") != std::string::npos);  // who needs them
    REQUIRE(e.edges().size() == 2);
    CHECK(e.edges()[0] == MissingDependencyError::Edge{"a", "b"});
    CHECK(e.edges()[1] == MissingDependencyError::Edge{"a", "c"});
  }
}

TEST_CASE("Python T9: every task needs a function; extra functions are fine",
          "[graph][python][errors]") {
  try {
    (void)create_graph<int>({{"a", fa}, {"b", fb}, {"c", fc}}, {{"d", {"a"}}, {"a", {}}});
    FAIL("no MissingFunctionError");
  } catch (const MissingFunctionError& e) {
    CHECK(e.tasks() == std::vector<std::string>{"d"});
    CHECK(std::string(e.what()).find("'d'") != std::string::npos);
  }
  CHECK_NOTHROW(create_graph<int>({{"a", fa}, {"b", fb}, {"c", fc}}, {{"a", {}}}));
}

TEST_CASE("an empty function counts as missing", "[graph][errors]") {
  CHECK_THROWS_AS(create_graph<int>({{"a", TaskFn<int>{}}}, {{"a", {}}}), MissingFunctionError);
  int (*null_fn)() = nullptr;
  CHECK_THROWS_AS(create_graph<int>({{"a", null_fn}}, {{"a", {}}}), MissingFunctionError);
  std::function<int()> empty;
  CHECK_THROWS_AS(create_graph<int>({{"a", empty}}, {{"a", {}}}), MissingFunctionError);
}

TEST_CASE("options naming unknown tasks are refused, every name listed", "[graph][errors]") {
  try {
    (void)create_graph<int>(
        {{"a", fa}}, {{"a", {}}},
        {.io_bound = {"x"}, .done = {"y"}, .results = {{"z", 1}}, .priority = {{"w", 1}}});
    FAIL("no UnknownTaskError");
  } catch (const UnknownTaskError& e) {
    CHECK(e.tasks() == std::vector<std::string>{"w", "x", "y", "z"});
    const std::string what = e.what();
    for (const char* field : {"io_bound", "done", "results", "priority"}) {
      CHECK(what.find(field) != std::string::npos);
    }
  }
}

TEST_CASE("inspection of an unknown task throws UnknownTaskError naming it", "[graph][errors]") {
  auto g = create_graph<int>({{"a", fa}}, {{"a", {}}});
  CHECK_THROWS_AS(g.status("nope"), UnknownTaskError);
  CHECK_THROWS_AS(g.result("nope"), UnknownTaskError);
  CHECK_THROWS_AS(g.has_result("nope"), UnknownTaskError);
  CHECK_THROWS_AS(g.error("nope"), UnknownTaskError);
  CHECK_THROWS_AS(g.children("nope"), UnknownTaskError);
  CHECK_THROWS_AS(g.dependencies("nope"), UnknownTaskError);
  CHECK_THROWS_AS(g.set_func("nope", fa), UnknownTaskError);
  try {
    (void)g.status("nope");
  } catch (const UnknownTaskError& e) {
    CHECK(e.tasks() == std::vector<std::string>{"nope"});
    CHECK(std::string(e.what()).find("'nope'") != std::string::npos);
  }
}

TEST_CASE("result of a task without a value throws BadResultAccess naming task and status",
          "[graph][errors]") {
  auto g = create_graph<int>({{"a", fa}}, {{"a", {}}});
  try {
    (void)g.result("a");
    FAIL("no BadResultAccess");
  } catch (const BadResultAccess& e) {
    CHECK(e.task() == "a");
    CHECK(std::string(e.what()).find("'a'") != std::string::npos);
    CHECK(std::string(e.what()).find("pending") != std::string::npos);
  }
}

TEST_CASE("Python T18: children are all transitive dependents", "[graph][python]") {
  auto g = create_graph<int>({{"a", fa}, {"b", fb}, {"c", fb}, {"d", fd}},
                             {{"d", {"a"}}, {"c", {"b"}}, {"b", {"a"}}, {"a", {}}});
  CHECK(g.children("a") == std::vector<std::string>{"b", "c", "d"});
  CHECK(g.children("a") == std::set<std::string>{"b", "c", "d"});
  CHECK(g.children("a") == std::unordered_set<std::string>{"d", "c", "b"});
  CHECK(g.children("b") == std::vector<std::string>{"c"});
  CHECK(g.children("c").empty());
  CHECK(g.children("d").empty());
}

TEST_CASE("NameList compares with sets by content, not only by order", "[graph]") {
  NameList names{"b", "a"};
  CHECK(names == std::set<std::string>{"a", "b"});
  CHECK_FALSE(names == std::set<std::string>{"a"});
  CHECK_FALSE(NameList{"a", "a"} == std::set<std::string>{"a"});
  CHECK(names == std::vector<std::string>{"b", "a"});
}

TEST_CASE("seeded done tasks and results", "[graph]") {
  auto g = create_graph<int>({{"a", fa}, {"b", fb}}, {{"b", {"a"}}, {"a", {}}},
                             {.done = {"a"}, .results = {{"a", 7}}});
  CHECK(g.status("a") == TaskStatus::done);
  CHECK(g.has_result("a"));
  CHECK(g.result("a") == 7);
  CHECK(g.results() == ResultMap<int>{{"a", 7}});
  CHECK(g.ready_tasks() == std::vector<std::string>{"b"});
}

TEST_CASE("add_task builds a graph step by step with the same checks", "[graph]") {
  TaskGraph<int> g("steps");
  g.add_task("a", fa).add_task("b", fb, {"a"}).add_task("c", fc, {"a", "b"});
  CHECK(g.size() == 3);
  CHECK(g.ready_tasks() == std::vector<std::string>{"a"});
  CHECK(g.children("a") == std::vector<std::string>{"b", "c"});
  run(g);
  CHECK(g.result("c") == 40);

  CHECK_THROWS_AS(g.add_task("a", fa), DuplicateTaskError);
  CHECK_THROWS_AS(g.add_task("d", fb, {"zz"}), MissingDependencyError);
  CHECK_THROWS_AS(g.add_task("d", fb, {"d"}), CycleError);
  CHECK_THROWS_AS(g.add_task("d", TaskFn<int>{}), MissingFunctionError);
  CHECK(g.size() == 3);  // failed add_task calls change nothing
  try {
    g.add_task("e", fb, {"nope"});
  } catch (const MissingDependencyError& e) {
    CHECK(std::string(e.what()).find("'nope'") != std::string::npos);
    CHECK(std::string(e.what()).find("'e'") != std::string::npos);
  }
}

TEST_CASE("add_task extends a graph made by create_graph", "[graph]") {
  auto g = create_graph<int>({{"a", fa}, {"b", fb}}, {{"b", {"a"}}, {"a", {}}});
  g.add_task("c", fb, {"b"});
  // children() before any run sees the new task though the index is stale.
  CHECK(g.children("a") == std::vector<std::string>{"b", "c"});
  run(g);
  CHECK(g.result("c") == 25);
}

TEST_CASE("set_func replaces a task's function", "[graph]") {
  auto g = create_graph<int>({{"a", fa}, {"b", fb}}, {{"b", {"a"}}, {"a", {}}});
  run(g);
  CHECK(g.result("b") == 15);
  g.set_func("a", [] { return 100; });
  reset_tasks(g, {"a"});
  run(g);
  CHECK(g.result("b") == 110);
  CHECK_THROWS_AS(g.set_func("a", TaskFn<int>{}), MissingFunctionError);
}

TEST_CASE("to_string names every status", "[graph]") {
  CHECK(to_string(TaskStatus::pending) == "pending");
  CHECK(to_string(TaskStatus::running) == "running");
  CHECK(to_string(TaskStatus::done) == "done");
  CHECK(to_string(TaskStatus::failed) == "failed");
  CHECK(to_string(TaskStatus::skipped) == "skipped");
  CHECK(to_string(TaskStatus::cancelled) == "cancelled");
}

TEST_CASE("graphs can be copied and moved; a copy is independent", "[graph]") {
  auto g = create_graph<int>({{"a", fa}, {"b", fb}}, {{"b", {"a"}}, {"a", {}}});
  TaskGraph<int> copy = g;
  run(g);
  CHECK(g.result("b") == 15);
  CHECK(copy.status("b") == TaskStatus::pending);
  run(copy);
  CHECK(copy.result("b") == 15);
  TaskGraph<int> moved = std::move(copy);
  CHECK(moved.result("a") == 5);
}

TEST_CASE("a graph of strings with names that need care", "[graph]") {
  auto g = create_graph<std::string>(
      {{"with space", [] { return std::string("x"); }},
       {"quote\"d", [](const std::string& s) { return s + "y"; }},
       {"ünïcode", [](std::string s) { return s + "z"; }}},
      {{"with space", {}}, {"quote\"d", {"with space"}}, {"ünïcode", {"quote\"d"}}});
  run(g);
  CHECK(g.result("ünïcode") == "xyz");
}
