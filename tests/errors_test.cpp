// The exception hierarchy and what each error carries.

#include <set>
#include <string>
#include <utility>
#include <vector>

#include "test_support.hpp"

using namespace taskmap;

TEST_CASE("every error derives from taskmap::Error and std::runtime_error", "[errors]") {
  STATIC_REQUIRE(std::is_base_of_v<std::runtime_error, Error>);
  STATIC_REQUIRE(std::is_base_of_v<Error, GraphError>);
  STATIC_REQUIRE(std::is_base_of_v<GraphError, MissingDependencyError>);
  STATIC_REQUIRE(std::is_base_of_v<GraphError, CycleError>);
  STATIC_REQUIRE(std::is_base_of_v<GraphError, MissingFunctionError>);
  STATIC_REQUIRE(std::is_base_of_v<GraphError, UnknownTaskError>);
  STATIC_REQUIRE(std::is_base_of_v<GraphError, DuplicateTaskError>);
  STATIC_REQUIRE(std::is_base_of_v<Error, TaskError>);
  STATIC_REQUIRE(std::is_base_of_v<Error, AncestorFailed>);
  STATIC_REQUIRE(std::is_base_of_v<Error, ArityError>);
  STATIC_REQUIRE(std::is_base_of_v<Error, TypeError>);
  STATIC_REQUIRE(std::is_base_of_v<Error, BadResultAccess>);
}

TEST_CASE("AncestorFailed says which ancestor failed", "[errors]") {
  const AncestorFailed error("d");
  CHECK(std::string(error.what()) == "Ancestor task d failed; task not run");
  CHECK(error.ancestor() == "d");
}

TEST_CASE("error messages of huge graphs stay short", "[errors]") {
  FuncMap<int> funcs;
  DependencyMap deps;
  for (int i = 0; i < 1000; ++i) deps["t" + std::to_string(i)] = {};
  try {
    (void)create_graph<int>(funcs, deps);
    FAIL("no MissingFunctionError");
  } catch (const MissingFunctionError& e) {
    CHECK(e.tasks().size() == 1000);
    CHECK(std::string(e.what()).size() < 600);
    CHECK(std::string(e.what()).find("1000 in all") != std::string::npos);
  }
}

TEST_CASE("a cycle's message shows a short cycle whole and a long one by its ends", "[errors]") {
  const auto cycle_of = [](std::size_t length) {
    DependencyMap deps;
    for (std::size_t i = 0; i < length; ++i) {
      deps["t" + std::to_string(i)] = {"t" + std::to_string((i + 1) % length)};
    }
    return deps;
  };
  const auto error_of = [](DependencyMap deps) -> CycleError {
    FuncMap<int> funcs;
    for (const auto& entry : deps) funcs[entry.first] = [] { return 0; };
    try {
      (void)create_graph<int>(std::move(funcs), std::move(deps), {.name = "ring"});
    } catch (const CycleError& e) {
      return e;
    }
    FAIL("no CycleError");
    throw;
  };

  SECTION("up to ten tasks: the whole path") {
    const CycleError e = error_of(cycle_of(10));
    CHECK(e.cycle().size() == 11);
    CHECK(std::string(e.what()) ==
          "graph 'ring' has a dependency cycle: t0 -> t1 -> t2 -> t3 -> t4 -> t5 -> t6 -> t7 -> "
          "t8 -> t9 -> t0");
  }
  SECTION("eleven tasks: the first five, the last four and the length") {
    const CycleError e = error_of(cycle_of(11));
    CHECK(e.cycle().size() == 12);
    CHECK(std::string(e.what()) ==
          "graph 'ring' has a dependency cycle: t0 -> t1 -> t2 -> t3 -> t4 -> ... -> t7 -> t8 -> "
          "t9 -> t10 -> t0 (11 tasks in the cycle)");
  }
  SECTION("a million tasks: the whole path in cycle(), a message of a few hundred bytes") {
    // Was a message of 10.9 MB. Under sanitizers a tenth of it shows the same.
    const std::size_t length = taskmap_test::kSanitized ? 100'000 : 1'000'000;
    const CycleError e = error_of(cycle_of(length));
    const std::vector<std::string>& cycle = e.cycle();
    REQUIRE(cycle.size() == length + 1);
    CHECK(cycle.front() == "t0");
    CHECK(cycle.back() == "t0");
    CHECK(std::set<std::string>(cycle.begin(), cycle.end()).size() == length);
    const std::string what = e.what();
    CHECK(what.size() < 300);
    CHECK(what.find("t0 -> ") != std::string::npos);
    CHECK(what.find("(" + std::to_string(length) + " tasks in the cycle)") != std::string::npos);
  }
}
