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
// Extra flag (see harness.hpp): --sizes=small divides every shape by about 10, for quick
// checks.

#include <algorithm>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <benchmark/benchmark.h>

#include <taskmap/taskmap.hpp>

#include "baselines.hpp"
#include "harness.hpp"
#include "shapes.hpp"

namespace {

using bench::ShapeId;

bench::Options g_options;

/// Everything the benchmarks of one shape need, built on first use.
class ShapeData {
 public:
  explicit ShapeData(bench::Shape shape) : shape_(std::move(shape)) {}

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

 private:
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

bench::ShapeCache<ShapeData> g_shapes;

ShapeData& data_for(ShapeId id) { return g_shapes.get(id, g_options.sizes); }

void BM_create_graph(benchmark::State& state, ShapeId id) {
  ShapeData& data = data_for(id);
  const auto& funcs = data.funcs(bench::TaskStyle::positional);
  const auto& deps = data.deps();
  bench::Timer timer(state);
  for (auto _ : state) {
    taskmap::FuncMap<int> f = funcs;
    taskmap::DependencyMap d = deps;
    timer.start();
    taskmap::TaskGraph<int> g = taskmap::create_graph<int>(std::move(f), std::move(d));
    timer.stop();
    benchmark::DoNotOptimize(g);
    if (g.size() != data.size()) state.SkipWithError("create_graph: wrong size");
  }
  timer.report_per_task(data.size());
}

void BM_naive_build(benchmark::State& state, ShapeId id) {
  ShapeData& data = data_for(id);
  const auto& funcs = data.baseline_funcs();
  const auto& deps = data.deps();
  bench::Timer timer(state);
  for (auto _ : state) {
    bench::BaselineFuncMap f = funcs;
    taskmap::DependencyMap d = deps;
    timer.start();
    bench::NaiveGraph g = bench::naive_build(std::move(f), std::move(d));
    timer.stop();
    benchmark::DoNotOptimize(g);
    if (g.size() != data.size()) state.SkipWithError("naive_build: wrong size");
  }
  timer.report_per_task(data.size());
}

void BM_run_sequential(benchmark::State& state, ShapeId id, bench::TaskStyle style) {
  ShapeData& data = data_for(id);
  const taskmap::TaskGraph<int>& prototype = data.prototype(style);
  bench::Timer timer(state);
  bool checked = false;
  for (auto _ : state) {
    taskmap::TaskGraph<int> g = prototype;  // a fresh, all-pending graph
    timer.start();
    const taskmap::RunSummary summary = taskmap::run(g);
    timer.stop();
    if (!checked) {
      checked = true;
      if (summary.succeeded != data.size() ||
          g.result(data.shape().sink()) != data.shape().expected_max) {
        state.SkipWithError("run: wrong result");
      }
    }
  }
  timer.report_per_task(data.size());
}

void BM_handwritten_loop(benchmark::State& state, ShapeId id, bool map_order) {
  ShapeData& data = data_for(id);
  const bench::LoopGraph& loop = data.loop(map_order);
  bench::Timer timer(state);
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
  timer.report_per_task(data.size());
}

void register_all() {
  auto common = [](benchmark::internal::Benchmark* b) {
    b->UseManualTime()->Unit(benchmark::kMillisecond);
  };
  for (const ShapeId id : bench::all_shapes) {
    common(bench::register_on_shape("BM_create_graph", id, BM_create_graph));
    common(bench::register_on_shape("BM_naive_build", id, BM_naive_build));
    common(bench::register_on_shape("BM_run_sequential", id, BM_run_sequential,
                                    bench::TaskStyle::positional));
    common(bench::register_on_shape("BM_run_sequential_span", id, BM_run_sequential,
                                    bench::TaskStyle::span));
    common(bench::register_on_shape("BM_handwritten_loop", id, BM_handwritten_loop, false));
    common(bench::register_on_shape("BM_handwritten_loop_maporder", id, BM_handwritten_loop, true));
  }
}

}  // namespace

int main(int argc, char** argv) {
  g_options = bench::take_options(argc, argv);
  bench::add_context(g_options);
  register_all();
  const int status = bench::run_benchmarks(argc, argv);
  g_shapes.clear();
  return status;
}
