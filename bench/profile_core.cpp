// A profiling driver for the core benchmark: builds the inputs of one shape, then runs the
// measured operation `repeat` times, so a profiler sees that operation and little else.
//
//   taskmap_profile_core <independent|chain|binary_tree|wavefront> <create_graph|run|run_span>
//                        [scale] [repeat]
//   taskmap_profile_async <independent|chain|binary_tree|wavefront> <run_async|run_async_coro>
//                         [scale] [repeat]
//
// run and run_span: taskmap::run with positional or span tasks; run_async and run_async_coro:
// taskmap::run_async (single-threaded, so its counts are as repeatable as run's) with
// positional plain-function or coroutine tasks. The two programs are this file built twice
// (TASKMAP_PROFILE_ASYNC 0 or 1) because what else a translation unit instantiates changes
// the compiler's inlining: measuring run_async in taskmap_profile_core as well made its `run`
// count 23 % more instructions per task, and counts must stay comparable across commits.
//
// scale divides the shape's size (default 1 = the benchmark's sizes; see bench::scaled_shape).
// Under callgrind, use --toggle-collect='bench::measured*' to count only the measured calls
// (`bench/report.py instructions` does that for every shape and operation).
//
// The command line and the measured functions are kept as they are so that instruction
// counts compare across builds of different commits.

#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>

#include <taskmap/taskmap.hpp>

#include "shapes.hpp"

namespace bench {

// Not inlined, so profilers can attribute costs to them.
[[gnu::noinline]] taskmap::TaskGraph<int> measured_create_graph(taskmap::FuncMap<int>&& funcs,
                                                                taskmap::DependencyMap&& deps) {
  return taskmap::create_graph<int>(std::move(funcs), std::move(deps));
}

#if TASKMAP_PROFILE_ASYNC
[[gnu::noinline]] taskmap::RunSummary measured_run(taskmap::TaskGraph<int>& g) {
  return taskmap::run_async(g);
}
#else
[[gnu::noinline]] taskmap::RunSummary measured_run(taskmap::TaskGraph<int>& g) {
  return taskmap::run(g);
}
#endif

}  // namespace bench

int main(int argc, char** argv) {
#if TASKMAP_PROFILE_ASYNC
  constexpr const char* operations = "<run_async|run_async_coro>";
#else
  constexpr const char* operations = "<create_graph|run|run_span>";
#endif
  if (argc < 3) {
    std::fprintf(stderr,
                 "usage: %s <independent|chain|binary_tree|wavefront> %s [scale] [repeat]\n",
                 argv[0], operations);
    return 2;
  }
  const std::string shape_name = argv[1];
  const std::string what = argv[2];
  const std::size_t scale = argc > 3 ? std::strtoull(argv[3], nullptr, 10) : 1;
  const int repeat = argc > 4 ? std::atoi(argv[4]) : 1;
  if (scale == 0 || repeat <= 0) return 2;

  const std::optional<bench::ShapeId> id = bench::parse_shape(shape_name);
  if (!id) {
    std::fprintf(stderr, "unknown shape %s\n", shape_name.c_str());
    return 2;
  }
  const bench::Shape shape = bench::scaled_shape(*id, scale);

#if TASKMAP_PROFILE_ASYNC
  const taskmap::FuncMap<int> funcs = what == "run_async_coro"
                                          ? bench::coroutine_func_map(shape)
                                          : bench::func_map(shape, bench::TaskStyle::positional);
#else
  const taskmap::FuncMap<int> funcs = bench::func_map(
      shape, what == "run_span" ? bench::TaskStyle::span : bench::TaskStyle::positional);
#endif
  const taskmap::DependencyMap deps = bench::dependency_map(shape);
  long long checksum = 0;
#if TASKMAP_PROFILE_ASYNC
  const bool known = what == "run_async" || what == "run_async_coro";
  const bool build = false;
#else
  const bool known = what == "create_graph" || what == "run" || what == "run_span";
  const bool build = what == "create_graph";
#endif
  if (!known) {
    std::fprintf(stderr, "unknown operation %s (expected %s)\n", what.c_str(), operations);
    return 2;
  }
  if (build) {
    for (int i = 0; i < repeat; ++i) {
      taskmap::FuncMap<int> f = funcs;
      taskmap::DependencyMap d = deps;
      const taskmap::TaskGraph<int> g = bench::measured_create_graph(std::move(f), std::move(d));
      checksum += static_cast<long long>(g.size());
    }
  } else {
    const taskmap::TaskGraph<int> prototype = taskmap::create_graph<int>(funcs, deps);
    for (int i = 0; i < repeat; ++i) {
      taskmap::TaskGraph<int> g = prototype;
      checksum += static_cast<long long>(bench::measured_run(g).succeeded);
      if (g.result(shape.sink()) != shape.expected_max) {
        std::fprintf(stderr, "wrong result\n");
        return 1;
      }
    }
  }
  std::printf("%s %s: %zu tasks, checksum %lld\n", shape_name.c_str(), what.c_str(), shape.size(),
              checksum);
  return 0;
}
