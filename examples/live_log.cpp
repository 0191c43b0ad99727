// A live log: a log that in_progress() reads back (while the run goes on, from another
// process, or after a crash), and a progress display on stderr.
#include <cstdio>
#include <filesystem>
#include <memory>
#include <set>
#include <string>

#include <taskmap/observers/log_observer.hpp>
#include <taskmap/observers/progress_observer.hpp>
#include <taskmap/taskmap.hpp>

int main() {
  const std::filesystem::path log =
      std::filesystem::temp_directory_path() / "taskmap-example-live-log.log";
  taskmap::InProgress seen;
  auto graph = taskmap::create_graph<int>(
      {{"fetch", [] { return 42; }},
       {"parse", [](int raw) { return raw + 1; }},
       {"report",
        [&](int parsed) {
          seen = taskmap::in_progress(log);  // what the log says is running right now
          return parsed * 2;
        }}},
      {{"fetch", {}}, {"parse", {"fetch"}}, {"report", {"parse"}}}, {.name = "etl"});

  auto logger = std::make_shared<taskmap::LogObserver>(log, taskmap::LogOptions{.append = false});
  auto progress = std::make_shared<taskmap::ProgressObserver>();  // a bar on a terminal
  taskmap::run_parallel(graph, {.ncores = 2, .observers = {logger, progress}});

  std::printf("while report ran, the log said in progress:");
  for (const std::string& task : seen.in_progress) std::printf(" %s", task.c_str());
  const taskmap::InProgress after = taskmap::in_progress(log);
  std::printf("\nafter the run: %zu in progress, %zu queued\n", after.in_progress.size(),
              after.queued.size());
  std::filesystem::remove(log);
  const bool ok = seen.in_progress == std::set<std::string>{"report"} &&
                  after == taskmap::InProgress{} && graph.result("report") == 86;
  return ok ? 0 : 1;
}
