// A task fails, its dependents are skipped, an unrelated branch still runs; after fixing the
// function, reset_failed_tasks reruns exactly what did not complete.
#include <cstdio>
#include <exception>
#include <stdexcept>
#include <string>

#include <taskmap/taskmap.hpp>

namespace {

std::string what(const std::exception_ptr& error) {
  try {
    std::rethrow_exception(error);
  } catch (const std::exception& e) {
    return e.what();
  }
}

}  // namespace

int main() {
  int downloads = 0;
  auto graph = taskmap::create_graph<std::string>(
      {{"download",
        [&] {
          ++downloads;
          return std::string("raw data");
        }},
       {"parse", [](const std::string&) -> std::string { throw std::runtime_error("bad header"); }},
       {"report", [](const std::string& parsed) { return "report of " + parsed; }},
       {"audit", [](const std::string& raw) { return "audited " + raw; }}},
      {{"download", {}}, {"parse", {"download"}}, {"report", {"parse"}}, {"audit", {"download"}}},
      {.name = "etl"});

  taskmap::RunSummary first = taskmap::run(graph);
  std::printf("first run: %zu succeeded, %zu failed, %zu skipped\n", first.succeeded, first.failed,
              first.skipped);
  std::printf("  parse:  %s\n", what(graph.error("parse")).c_str());
  std::printf("  report: %s\n", what(graph.error("report")).c_str());
  std::printf("  audit:  %s\n", graph.result("audit").c_str());

  // Fix the function, reset what failed (and its dependents), run again.
  graph.set_func("parse", [](const std::string& raw) { return "parsed " + raw; });
  taskmap::reset_failed_tasks(graph);
  taskmap::RunSummary second = taskmap::run(graph, {.raise_errors = true});
  std::printf("second run: %zu succeeded; report = %s\n", second.succeeded,
              graph.result("report").c_str());

  const bool ok = first.failed == 1 && first.skipped == 1 && second.succeeded == 2 &&
                  downloads == 1 && graph.result("report") == "report of parsed raw data";
  return ok ? 0 : 1;
}
