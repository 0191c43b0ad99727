// A profiling driver for the core benchmark: builds the inputs of one shape, then runs the
// measured operation `repeat` times, so a profiler sees that operation and little else.
//
//   taskmap_profile_core <independent|chain|binary_tree|wavefront> <create_graph|run|run_span>
//                        [scale] [repeat]
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

[[gnu::noinline]] taskmap::RunSummary measured_run(taskmap::TaskGraph<int>& g) {
  return taskmap::run(g);
}

}  // namespace bench

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr,
                 "usage: %s <independent|chain|binary_tree|wavefront> <create_graph|run|run_span> "
                 "[scale] [repeat]\n",
                 argv[0]);
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

  const auto style = what == "run_span" ? bench::TaskStyle::span : bench::TaskStyle::positional;
  const taskmap::FuncMap<int> funcs = bench::func_map(shape, style);
  const taskmap::DependencyMap deps = bench::dependency_map(shape);
  long long checksum = 0;
  if (what == "create_graph") {
    for (int i = 0; i < repeat; ++i) {
      taskmap::FuncMap<int> f = funcs;
      taskmap::DependencyMap d = deps;
      const taskmap::TaskGraph<int> g = bench::measured_create_graph(std::move(f), std::move(d));
      checksum += static_cast<long long>(g.size());
    }
  } else if (what == "run" || what == "run_span") {
    const taskmap::TaskGraph<int> prototype = taskmap::create_graph<int>(funcs, deps);
    for (int i = 0; i < repeat; ++i) {
      taskmap::TaskGraph<int> g = prototype;
      checksum += static_cast<long long>(bench::measured_run(g).succeeded);
      if (g.result(shape.sink()) != shape.expected_max) {
        std::fprintf(stderr, "wrong result\n");
        return 1;
      }
    }
  } else {
    std::fprintf(stderr, "unknown operation %s\n", what.c_str());
    return 2;
  }
  std::printf("%s %s: %zu tasks, checksum %lld\n", shape_name.c_str(), what.c_str(), shape.size(),
              checksum);
  return 0;
}
