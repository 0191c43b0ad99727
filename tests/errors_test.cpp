// The exception hierarchy and what each error carries.

#include <string>

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
