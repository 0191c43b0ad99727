#pragma once
// What the Google Benchmark programs share besides the shapes: their own flags, the manual
// timer that reports per-task counters, the one-shape-at-a-time data cache, and main().
//
// Flags (anywhere on the command line; removed before Google Benchmark parses the rest):
//   --sizes=small   about 10 times fewer tasks per shape (bench::Sizes::small), for quick checks
//   --sizes=full    the sizes of docs/benchmarks.md (the default)

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#if defined(__linux__)
#include <sys/resource.h>
#endif

#include <benchmark/benchmark.h>

#include <taskmap/taskmap.hpp>

#include "shapes.hpp"

namespace bench {

/// The flags of the benchmark programs (see the top of this file).
struct Options {
  Sizes sizes = Sizes::full;
};

/// Removes the flags of the benchmark programs from argv, leaving Google Benchmark's, and
/// returns them. Exits with status 2 and a message on a `--sizes=` value it does not know.
inline Options take_options(int& argc, char** argv) {
  Options options;
  int kept = 1;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg.starts_with("--sizes=")) {
      const std::string_view value = arg.substr(std::strlen("--sizes="));
      if (value == "small") {
        options.sizes = Sizes::small;
      } else if (value == "full") {
        options.sizes = Sizes::full;
      } else {
        std::fprintf(stderr, "%s: unknown --sizes value '%.*s' (expected small or full)\n", argv[0],
                     static_cast<int>(value.size()), value.data());
        std::exit(2);
      }
    } else {
      argv[kept++] = argv[i];
    }
  }
  argc = kept;
  return options;
}

/// The context every benchmark program writes into its JSON output (report.py reads it).
inline void add_context(const Options& options) {
  benchmark::AddCustomContext("taskmap_sizes", options.sizes == Sizes::small ? "small" : "full");
  benchmark::AddCustomContext("taskmap_version", taskmap::version_string);
}

/// Hands the remaining arguments to Google Benchmark and runs what was registered; returns
/// main's exit status.
inline int run_benchmarks(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}

/// Accumulates the timed part of each iteration (manual timing) and reports it.
class Timer {
 public:
  /// With `count_faults`, also counts the page faults inside the clock: two system calls per
  /// iteration, outside the clock but not free for the caches, so only for runs of
  /// milliseconds (a microsecond run measured after a system call measures a cold cache).
  explicit Timer(benchmark::State& state, bool count_faults = false)
      : state_(state), count_faults_(count_faults) {}
  void start() {
    if (count_faults_) faults_at_start_ = minor_faults();
    start_ = Clock::now();
  }
  void stop() {
    const double seconds = std::chrono::duration<double>(Clock::now() - start_).count();
    if (count_faults_) faults_ += minor_faults() - faults_at_start_;
    state_.SetIterationTime(seconds);
    total_ += seconds;
  }
  /// Mean timed seconds per iteration.
  [[nodiscard]] double mean() const {
    const auto iterations = static_cast<double>(state_.iterations());
    return iterations > 0 ? total_ / iterations : 0.0;
  }
  /// Sets the counters `tasks` and `ns_per_task` (the mean timed time per task).
  void report_per_task(std::size_t tasks) {
    state_.counters["tasks"] = static_cast<double>(tasks);
    state_.counters["ns_per_task"] = mean() * 1e9 / static_cast<double>(tasks);
    // Page faults inside the clock: on a virtual machine each costs microseconds, so they
    // can be most of a big graph's figure (docs/performance.md, "Big graphs and page faults").
    const auto iterations = static_cast<double>(state_.iterations());
    if (count_faults_ && iterations > 0) {
      state_.counters["faults_per_1k_tasks"] =
          static_cast<double>(faults_) / iterations * 1000.0 / static_cast<double>(tasks);
    }
  }

 private:
  using Clock = std::chrono::steady_clock;

  // Minor page faults of the whole process so far (workers' included); 0 where unknown.
  static long minor_faults() noexcept {
#if defined(__linux__)
    rusage usage{};
    if (getrusage(RUSAGE_SELF, &usage) == 0) return usage.ru_minflt;
#endif
    return 0;
  }

  benchmark::State& state_;
  bool count_faults_;
  Clock::time_point start_{};
  double total_ = 0;
  long faults_at_start_ = 0;
  long faults_ = 0;
};

/// The data the benchmarks of one shape need (`Data`, constructed from the Shape), for one
/// shape at a time: benchmarks are registered shape by shape, and keeping every shape's
/// graphs at once would take several GiB at the full sizes.
template <class Data>
class ShapeCache {
 public:
  /// The data of shape `id`, at the given sizes; frees the previous shape's first.
  Data& get(ShapeId id, Sizes sizes) {
    if (!data_ || id_ != id || sizes_ != sizes) {
      data_.reset();
      data_ = std::make_unique<Data>(make_shape(id, sizes));
      id_ = id;
      sizes_ = sizes;
    }
    return *data_;
  }
  void clear() { data_.reset(); }

 private:
  std::unique_ptr<Data> data_;
  ShapeId id_ = ShapeId::independent;
  Sizes sizes_ = Sizes::full;
};

/// Registers the benchmark `<family>/<shape name>`, which calls fn(state, id, args...);
/// returns it for configuration.
template <class Fn, class... Args>
benchmark::internal::Benchmark* register_on_shape(const std::string& family, ShapeId id, Fn fn,
                                                  Args... args) {
  return benchmark::RegisterBenchmark((family + "/" + shape_name(id)).c_str(), fn, id, args...);
}

}  // namespace bench
