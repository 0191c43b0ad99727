// The README's "Isolating crashes": a task that crashes its process fails alone.
#include <cstdio>
#include <string>

#include <taskmap/executors/process_pool.hpp>
#include <taskmap/taskmap.hpp>

int main() {
  auto graph = taskmap::create_graph<std::string>(
      {{"load", [] { return std::string("tile 42"); }},
       {"native_solver",
        [](const std::string&) -> std::string {
          int* volatile nowhere = nullptr;  // volatile: the compiler cannot see it is null
          return std::to_string(*nowhere);  // a plugin bug: a segmentation fault
        }},
       {"report", [](const std::string& tile) { return "report on " + tile; }}},
      {{"load", {}}, {"native_solver", {"load"}}, {"report", {"load"}}});

  taskmap::ProcessPoolExecutor pool{2};
  const taskmap::RunSummary summary = pool.run(graph);

  try {
    std::rethrow_exception(graph.error("native_solver"));
  } catch (const taskmap::WorkerCrashed& e) {
    std::printf("%s\n", e.what());
  }
  std::printf("%s (%zu succeeded, %zu failed)\n", graph.result("report").c_str(), summary.succeeded,
              summary.failed);
  return summary.succeeded == 2 && summary.failed == 1 ? 0 : 1;
}
