// The core benchmark: create_graph and the sequential run, in ns per task, on four shapes,
// each next to a baseline measured in the same binary (see baselines.hpp).
//
//   BM_create_graph/<shape>            taskmap::create_graph from the two name maps
//   BM_naive_build/<shape>             baseline: unordered_map<string, Node> build + validation
//   BM_run_sequential/<shape>          taskmap::run, positional tasks ([](int x) { ... })
//   BM_run_sequential_span/<shape>     taskmap::run, std::span<const int> tasks
//   BM_handwritten_loop/<shape>        baseline: dependency-counting loop over std::function
//   BM_handwritten_loop_maporder/<shape>
//                                      the same loop, tasks numbered in the order create_graph
//                                      numbers them (the DependencyMap's iteration order)
//
// Only the measured call is timed (manual timing): the input maps are copied, and the
// graph to run is copied from a prototype, before the clock starts; results and graphs are
// destroyed after it stops. create_graph takes its maps by value, so destroying the
// (moved-in) maps is part of the measured call, as it is for naive_build.
//
// Counters: `tasks` (tasks per iteration) and `ns_per_task`. bench/report.py turns the JSON
// output into the tables of docs/benchmarks.md.
//
// Extra flag (before the Google Benchmark flags): --sizes=small divides every shape by
// about 10, for quick checks.

#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <benchmark/benchmark.h>

#include <taskmap/taskmap.hpp>

#include "baselines.hpp"
#include "shapes.hpp"

namespace {

using Clock = std::chrono::steady_clock;

enum class ShapeId { independent, chain, binary_tree, wavefront };

bool g_small = false;

bench::Shape make_shape(ShapeId id) {
  switch (id) {
    case ShapeId::independent:
      return bench::independent(g_small ? 100'000 : 1'000'000);
    case ShapeId::chain:
      return bench::chain(g_small ? 10'000 : 100'000);
    case ShapeId::binary_tree:
      return bench::binary_tree(g_small ? 15 : 18);
    case ShapeId::wavefront:
      return bench::wavefront(g_small ? 160 : 512);
  }
  std::abort();
}

/// Everything the benchmarks of one shape need, built on first use. One shape is kept at a
/// time (benchmarks are registered shape by shape) to bound memory.
class ShapeData {
 public:
  explicit ShapeData(ShapeId id) : id_(id), shape_(make_shape(id)) {}

  [[nodiscard]] ShapeId id() const noexcept { return id_; }
  [[nodiscard]] const bench::Shape& shape() const noexcept { return shape_; }
  [[nodiscard]] std::size_t size() const noexcept { return shape_.size(); }

  const taskmap::FuncMap<int>& funcs(bench::TaskStyle style) {
    auto& slot = style == bench::TaskStyle::positional ? positional_funcs_ : span_funcs_;
    if (!slot) slot = bench::func_map(shape_, style);
    return *slot;
  }
  const taskmap::DependencyMap& deps() {
    if (!deps_) deps_ = bench::dependency_map(shape_);
    return *deps_;
  }
  const bench::BaselineFuncMap& baseline_funcs() {
    if (!baseline_funcs_) baseline_funcs_ = bench::baseline_func_map(shape_);
    return *baseline_funcs_;
  }
  const taskmap::TaskGraph<int>& prototype(bench::TaskStyle style) {
    auto& slot = style == bench::TaskStyle::positional ? positional_graph_ : span_graph_;
    if (!slot) slot.emplace(taskmap::create_graph<int>(funcs(style), deps()));
    return *slot;
  }
  const bench::LoopGraph& loop(bool map_order) {
    auto& slot = map_order ? loop_map_order_ : loop_;
    if (!slot) {
      slot = bench::loop_graph(
          shape_, map_order ? bench::map_order(shape_, deps()) : bench::identity_order(size()));
    }
    return *slot;
  }
  /// The name of a task with the largest value (the last one in topological order).
  [[nodiscard]] const std::string& sink() const { return shape_.names.back(); }

 private:
  ShapeId id_;
  bench::Shape shape_;
  std::optional<taskmap::FuncMap<int>> positional_funcs_;
  std::optional<taskmap::FuncMap<int>> span_funcs_;
  std::optional<taskmap::DependencyMap> deps_;
  std::optional<bench::BaselineFuncMap> baseline_funcs_;
  std::optional<taskmap::TaskGraph<int>> positional_graph_;
  std::optional<taskmap::TaskGraph<int>> span_graph_;
  std::optional<bench::LoopGraph> loop_;
  std::optional<bench::LoopGraph> loop_map_order_;
};

std::unique_ptr<ShapeData> g_current;

ShapeData& data_for(ShapeId id) {
  if (!g_current || g_current->id() != id) {
    g_current.reset();  // free the previous shape first
    g_current = std::make_unique<ShapeData>(id);
  }
  return *g_current;
}

/// Accumulates the timed part of each iteration and reports it.
class Timer {
 public:
  explicit Timer(benchmark::State& state) : state_(state) {}
  void start() { start_ = Clock::now(); }
  void stop() {
    const double seconds = std::chrono::duration<double>(Clock::now() - start_).count();
    state_.SetIterationTime(seconds);
    total_ += seconds;
  }
  void report(std::size_t tasks) {
    const auto iterations = static_cast<double>(state_.iterations());
    state_.counters["tasks"] = static_cast<double>(tasks);
    state_.counters["ns_per_task"] =
        iterations > 0 ? total_ * 1e9 / (iterations * static_cast<double>(tasks)) : 0.0;
  }

 private:
  benchmark::State& state_;
  Clock::time_point start_{};
  double total_ = 0;
};

void BM_create_graph(benchmark::State& state, ShapeId id) {
  ShapeData& data = data_for(id);
  const auto& funcs = data.funcs(bench::TaskStyle::positional);
  const auto& deps = data.deps();
  Timer timer(state);
  for (auto _ : state) {
    taskmap::FuncMap<int> f = funcs;
    taskmap::DependencyMap d = deps;
    timer.start();
    taskmap::TaskGraph<int> g = taskmap::create_graph<int>(std::move(f), std::move(d));
    timer.stop();
    benchmark::DoNotOptimize(g);
    if (g.size() != data.size()) state.SkipWithError("create_graph: wrong size");
  }
  timer.report(data.size());
}

void BM_naive_build(benchmark::State& state, ShapeId id) {
  ShapeData& data = data_for(id);
  const auto& funcs = data.baseline_funcs();
  const auto& deps = data.deps();
  Timer timer(state);
  for (auto _ : state) {
    bench::BaselineFuncMap f = funcs;
    taskmap::DependencyMap d = deps;
    timer.start();
    bench::NaiveGraph g = bench::naive_build(std::move(f), std::move(d));
    timer.stop();
    benchmark::DoNotOptimize(g);
    if (g.size() != data.size()) state.SkipWithError("naive_build: wrong size");
  }
  timer.report(data.size());
}

void BM_run_sequential(benchmark::State& state, ShapeId id, bench::TaskStyle style) {
  ShapeData& data = data_for(id);
  const taskmap::TaskGraph<int>& prototype = data.prototype(style);
  Timer timer(state);
  bool checked = false;
  for (auto _ : state) {
    taskmap::TaskGraph<int> g = prototype;  // a fresh, all-pending graph
    timer.start();
    const taskmap::RunSummary summary = taskmap::run(g);
    timer.stop();
    if (!checked) {
      checked = true;
      if (summary.succeeded != data.size() || g.result(data.sink()) != data.shape().expected_max) {
        state.SkipWithError("run: wrong result");
      }
    }
  }
  timer.report(data.size());
}

void BM_handwritten_loop(benchmark::State& state, ShapeId id, bool map_order) {
  ShapeData& data = data_for(id);
  const bench::LoopGraph& loop = data.loop(map_order);
  Timer timer(state);
  bool checked = false;
  for (auto _ : state) {
    timer.start();
    std::vector<int> results = bench::run_loop(loop);
    timer.stop();
    benchmark::DoNotOptimize(results.data());
    if (!checked) {
      checked = true;
      if (*std::max_element(results.begin(), results.end()) != data.shape().expected_max) {
        state.SkipWithError("handwritten_loop: wrong result");
      }
    }
  }
  timer.report(data.size());
}

void register_all() {
  const std::pair<ShapeId, const char*> shapes[] = {
      {ShapeId::independent, "independent"},
      {ShapeId::chain, "chain"},
      {ShapeId::binary_tree, "binary_tree"},
      {ShapeId::wavefront, "wavefront"},
  };
  auto common = [](benchmark::internal::Benchmark* b) {
    b->UseManualTime()->Unit(benchmark::kMillisecond);
  };
  for (const auto& [id, label] : shapes) {
    const std::string suffix = std::string("/") + label;
    common(benchmark::RegisterBenchmark(("BM_create_graph" + suffix).c_str(), BM_create_graph, id));
    common(benchmark::RegisterBenchmark(("BM_naive_build" + suffix).c_str(), BM_naive_build, id));
    common(benchmark::RegisterBenchmark(("BM_run_sequential" + suffix).c_str(), BM_run_sequential,
                                        id, bench::TaskStyle::positional));
    common(benchmark::RegisterBenchmark(("BM_run_sequential_span" + suffix).c_str(),
                                        BM_run_sequential, id, bench::TaskStyle::span));
    common(benchmark::RegisterBenchmark(("BM_handwritten_loop" + suffix).c_str(),
                                        BM_handwritten_loop, id, false));
    common(benchmark::RegisterBenchmark(("BM_handwritten_loop_maporder" + suffix).c_str(),
                                        BM_handwritten_loop, id, true));
  }
}

}  // namespace

int main(int argc, char** argv) {
  // Strip our own flag before Google Benchmark parses the rest.
  int kept = 1;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--sizes=small") == 0) {
      g_small = true;
    } else if (std::strcmp(argv[i], "--sizes=full") == 0) {
      g_small = false;
    } else {
      argv[kept++] = argv[i];
    }
  }
  argc = kept;
  benchmark::AddCustomContext("taskmap_sizes", g_small ? "small" : "full");
  benchmark::AddCustomContext("taskmap_version", taskmap::version_string);
  register_all();
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
