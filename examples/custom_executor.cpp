// A user-written executor (batch_executor.hpp) running a small ETL graph: two downloads that
// share one connection (a concurrency group), a parse that fails and takes its report down
// with it, and a summary that still runs. The executor uses only taskmap's public API.
#include <atomic>
#include <cstdio>
#include <stdexcept>
#include <string>

#include <taskmap/taskmap.hpp>

#include "batch_executor.hpp"

int main() {
  std::atomic<int> downloading{0};
  std::atomic<int> most_at_once{0};
  auto download = [&](int size) {
    return [&, size] {
      const int now = ++downloading;
      int seen = most_at_once.load();
      while (now > seen && !most_at_once.compare_exchange_weak(seen, now)) {
      }
      --downloading;
      return size;
    };
  };
  taskmap::FuncMap<int> funcs{
      {"fetch_users", download(120)},
      {"fetch_orders", download(80)},
      {"parse_users", [](int bytes) { return bytes / 2; }},
      {"parse_orders", [](int) -> int { throw std::runtime_error("orders.csv: bad header"); }},
      {"report", [](int users, int orders) { return users + orders; }},
      {"summary", [](int users) { return users * 10; }},
  };
  taskmap::DependencyMap deps{
      {"fetch_users", {}},
      {"fetch_orders", {}},
      {"parse_users", {"fetch_users"}},
      {"parse_orders", {"fetch_orders"}},
      {"report", {"parse_users", "parse_orders"}},
      {"summary", {"parse_users"}},
  };
  auto graph = taskmap::create_graph<int>(
      funcs, deps,
      {.name = "etl",
       .groups = {
           {"connection", {.max_concurrency = 1, .tasks = {"fetch_users", "fetch_orders"}}}}});

  custom::BatchExecutor executor(4);
  const taskmap::RunSummary summary = executor.run(graph);

  std::printf("succeeded %zu, failed %zu, skipped %zu\n", summary.succeeded, summary.failed,
              summary.skipped);
  for (const std::string& task : graph.tasks()) {
    std::printf("  %-13s %s\n", task.c_str(), std::string(to_string(graph.status(task))).c_str());
  }
  std::printf("summary = %d; downloads at once: %d\n", graph.result("summary"),
              most_at_once.load());
  const bool as_expected = summary.succeeded == 4 && summary.failed == 1 && summary.skipped == 1 &&
                           graph.result("summary") == 600 &&
                           graph.status("report") == taskmap::TaskStatus::skipped &&
                           most_at_once.load() == 1;
  return as_expected ? 0 : 1;
}
