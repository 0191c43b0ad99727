// A graph run on the ranks of an MPI job through taskmap::mpi; every rank ends with the value.
#include <taskmap/mpi.hpp>
#include <taskmap/taskmap.hpp>

#include <cstdio>

int main(int argc, char** argv) {
  taskmap::MpiSession session(argc, argv);
  taskmap::MpiExecutor executor;
  auto graph = taskmap::create_graph<int>({{"a", [] { return 20; }},
                                           {"b", [] { return 1; }},
                                           {"c", [](int a, int b) { return a * 2 + b; }}},
                                          {{"a", {}}, {"b", {}}, {"c", {"a", "b"}}});
  executor.run(graph);
  std::printf("rank %d: c = %d\n", executor.rank(), graph.result("c"));
  return graph.result("c") == 41 ? 0 : 1;
}
