// The memory benchmark: bytes per task of a 1,000,000-task named chain, taskmap against
// Taskflow (when built with TASKMAP_BENCH_TASKFLOW_INCLUDE), with the same capturing tasks.
//
//   taskmap   fresh FuncMap / DependencyMap filled with emplace in a loop
//             (bench::fill_user_maps), then create_graph (the maps are moved in and gone)
//   taskflow  one tf::Taskflow, one capturing task per task named with the same name
//             (`.name(...)`), one precede per dependency; the tf::Executor (2 workers) is
//             made before the first reading, so its own memory is not counted
//
// Each library is measured once, in its own forked child, so that neither sees the other's
// freed memory. The child reads its memory before building, after building and after one
// run; before each reading it hands freed memory back to the system (malloc_trim), so what
// remains is what the graph holds. Two readings:
//   rss   resident set growth, from /proc/self/statm (what the system sees)
//   heap  growth of the bytes malloc has handed out and not had back (mallinfo2: uordblks +
//         hblkhd), which page granularity and allocator caches do not blur
// The shape's own names and dependency lists, the sink the tasks write to and the results
// array of the Taskflow tasks exist before the first reading and are not counted.
//
// Usage: taskmap_memory_bench [--tasks=N] [--out=FILE]
//   --tasks  chain length (default 1,000,000)
//   --out    also write the figures as JSON, for `bench/report.py tables`
// Exits with status 1 if a run gives a wrong result.

#include <malloc.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>
#include <string_view>
#include <vector>

#include <taskmap/taskmap.hpp>

#include "shapes.hpp"

#if TASKMAP_BENCH_HAVE_TASKFLOW
#include <taskflow/taskflow.hpp>
#endif

namespace {

/// Memory in use at one moment.
struct Reading {
  double rss = 0;   // bytes resident
  double heap = 0;  // bytes allocated by malloc and not freed
};

Reading read_memory() {
  malloc_trim(0);
  Reading r;
  long pages = 0;
  long resident = 0;
  if (std::FILE* f = std::fopen("/proc/self/statm", "r")) {
    if (std::fscanf(f, "%ld %ld", &pages, &resident) != 2) resident = 0;
    std::fclose(f);
  }
  r.rss = static_cast<double>(resident) * static_cast<double>(sysconf(_SC_PAGESIZE));
  const struct mallinfo2 info = mallinfo2();
  r.heap = static_cast<double>(info.uordblks + info.hblkhd);
  return r;
}

/// What a child sends back: growth per task after building and after one run.
struct Growth {
  double built_rss = 0;
  double built_heap = 0;
  double run_rss = 0;
  double run_heap = 0;
  int ok = 0;
};

Growth per_task(const Reading& before, const Reading& built, const Reading& ran, std::size_t n) {
  const double tasks = static_cast<double>(n);
  return {(built.rss - before.rss) / tasks, (built.heap - before.heap) / tasks,
          (ran.rss - before.rss) / tasks, (ran.heap - before.heap) / tasks, 0};
}

Growth measure_taskmap(const bench::Shape& shape) {
  bench::Sink sink = bench::make_sink(shape.size());
  const Reading before = read_memory();
  taskmap::FuncMap<int> funcs;
  taskmap::DependencyMap deps;
  bench::fill_user_maps(shape, sink, funcs, deps);
  taskmap::TaskGraph<int> g = taskmap::create_graph<int>(std::move(funcs), std::move(deps));
  const Reading built = read_memory();
  const taskmap::RunSummary summary = taskmap::run(g);
  const Reading ran = read_memory();
  Growth growth = per_task(before, built, ran, shape.size());
  growth.ok = summary.succeeded == shape.size() && g.result(shape.sink()) == shape.expected_max &&
              bench::sink_complete(sink);
  return growth;
}

#if TASKMAP_BENCH_HAVE_TASKFLOW
Growth measure_taskflow(const bench::Shape& shape) {
  bench::Sink sink = bench::make_sink(shape.size());
  std::vector<int> results(shape.size(), 0);
  tf::Executor executor(2);
  const Reading before = read_memory();
  tf::Taskflow taskflow;
  {
    std::vector<tf::Task> tasks;
    tasks.reserve(shape.size());
    int* const res = results.data();
    const bench::Shape* const s = &shape;
    for (std::uint32_t i = 0; i < shape.size(); ++i) {
      tasks.push_back(taskflow
                          .emplace([s, res, i, out = &sink[i], k = static_cast<int>(i)] {
                            int best = 0;
                            for (const std::uint32_t d : s->deps[i]) best = std::max(best, res[d]);
                            res[i] = best + 1;
                            *out = k;
                          })
                          .name(shape.names[i]));
    }
    for (std::uint32_t i = 0; i < shape.size(); ++i) {
      for (const std::uint32_t d : shape.deps[i]) tasks[d].precede(tasks[i]);
    }
  }  // the tf::Task handles go, as they would in user code once the taskflow is built
  const Reading built = read_memory();
  executor.run(taskflow).wait();
  const Reading ran = read_memory();
  Growth growth = per_task(before, built, ran, shape.size());
  growth.ok = *std::max_element(results.begin(), results.end()) == shape.expected_max &&
              bench::sink_complete(sink);
  return growth;
}
#endif

/// Runs `measure` in a forked child (a fresh copy of this still small process) and returns
/// what it measured.
template <class Measure>
Growth in_child(Measure measure) {
  int fds[2];
  if (pipe(fds) != 0) {
    std::perror("pipe");
    std::exit(2);
  }
  const pid_t pid = fork();
  if (pid < 0) {
    std::perror("fork");
    std::exit(2);
  }
  if (pid == 0) {
    close(fds[0]);
    const Growth growth = measure();
    const ssize_t written = write(fds[1], &growth, sizeof growth);
    _exit(written == static_cast<ssize_t>(sizeof growth) ? 0 : 3);
  }
  close(fds[1]);
  Growth growth;
  const ssize_t got = read(fds[0], &growth, sizeof growth);
  close(fds[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  if (got != static_cast<ssize_t>(sizeof growth) || !WIFEXITED(status) ||
      WEXITSTATUS(status) != 0) {
    std::fprintf(stderr, "taskmap_memory_bench: a measuring child failed\n");
    std::exit(2);
  }
  return growth;
}

struct Row {
  std::string name;
  Growth growth;
};

}  // namespace

int main(int argc, char** argv) {
  std::size_t n = 1'000'000;
  std::string out;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg.starts_with("--tasks=")) {
      n = std::strtoull(argv[i] + std::strlen("--tasks="), nullptr, 10);
    } else if (arg.starts_with("--out=")) {
      out = std::string(arg.substr(std::strlen("--out=")));
    } else {
      std::fprintf(stderr, "usage: %s [--tasks=N] [--out=FILE]\n", argv[0]);
      return 2;
    }
  }
  if (n == 0) {
    std::fprintf(stderr, "%s: --tasks must be at least 1\n", argv[0]);
    return 2;
  }
  const bench::Shape shape = bench::chain(n);

  std::vector<Row> rows;
  rows.push_back({"taskmap", in_child([&] { return measure_taskmap(shape); })});
#if TASKMAP_BENCH_HAVE_TASKFLOW
  rows.push_back({"taskflow", in_child([&] { return measure_taskflow(shape); })});
#endif

  bool ok = true;
  std::printf("named chain of %zu tasks, bytes per task (growth over the empty process)\n", n);
  std::printf("%-10s %12s %12s %12s %12s\n", "library", "rss built", "heap built", "rss run",
              "heap run");
  for (const Row& row : rows) {
    const Growth& g = row.growth;
    std::printf("%-10s %12.1f %12.1f %12.1f %12.1f%s\n", row.name.c_str(), g.built_rss,
                g.built_heap, g.run_rss, g.run_heap, g.ok ? "" : "  WRONG RESULT");
    ok = ok && g.ok != 0;
  }

  if (!out.empty()) {
    std::ofstream json(out);
    json << "{\n  \"context\": {\"taskmap_version\": \"" << taskmap::version_string
         << "\", \"tasks\": " << n << ", \"shape\": \"named chain\"},\n  \"memory\": [\n";
    for (std::size_t i = 0; i < rows.size(); ++i) {
      const Growth& g = rows[i].growth;
      json << "    {\"library\": \"" << rows[i].name << "\", \"rss_built\": " << g.built_rss
           << ", \"heap_built\": " << g.built_heap << ", \"rss_run\": " << g.run_rss
           << ", \"heap_run\": " << g.run_heap << ", \"ok\": " << (g.ok ? "true" : "false") << "}"
           << (i + 1 < rows.size() ? "," : "") << "\n";
    }
    json << "  ]\n}\n";
    if (!json) {
      std::fprintf(stderr, "%s: cannot write %s\n", argv[0], out.c_str());
      return 2;
    }
  }
  return ok ? 0 : 1;
}
