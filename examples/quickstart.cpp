// The README's quick start: three tasks, results fed along dependencies.
#include <cstdio>

#include <taskmap/taskmap.hpp>

int main() {
  auto graph = taskmap::create_graph<int>({{"a", [] { return 5; }},
                                           {"b", [](int a) { return a + 10; }},
                                           {"c", [](int a, int b) { return a + b + 20; }}},
                                          {{"a", {}}, {"b", {"a"}}, {"c", {"a", "b"}}});

  const taskmap::RunSummary summary = taskmap::run(graph);

  std::printf("c = %d (%zu tasks succeeded)\n", graph.result("c"), summary.succeeded);
  return graph.result("c") == 40 ? 0 : 1;
}
