// A consumer of taskmap::taskmap: the packaging tests configure, build and run this program
// against an installed taskmap (find_package), add_subdirectory and FetchContent.
#include <cstdio>
#include <string_view>

#include <taskmap/taskmap.hpp>

int main() {
  auto graph = taskmap::create_graph<int>({{"a", [] { return 5; }},
                                           {"b", [](int a) { return a + 10; }},
                                           {"c", [](int a, int b) { return a + b + 20; }}},
                                          {{"a", {}}, {"b", {"a"}}, {"c", {"a", "b"}}});
  const taskmap::RunSummary summary = taskmap::run(graph);

  if (summary.succeeded != 3 || !graph.has_result("c") || graph.result("c") != 40) {
    std::fprintf(stderr, "wrong result: %zu of 3 tasks succeeded, c = %d\n", summary.succeeded,
                 graph.has_result("c") ? graph.result("c") : -1);
    return 1;
  }
  if (std::string_view{taskmap::version_string} != TASKMAP_EXPECTED_VERSION) {
    std::fprintf(stderr, "headers say version %s, CMake said %s\n", taskmap::version_string,
                 TASKMAP_EXPECTED_VERSION);
    return 1;
  }
  std::printf("taskmap %s consumer: c = %d\n", taskmap::version_string, graph.result("c"));
  return 0;
}
