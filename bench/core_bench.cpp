// The core benchmark: building a graph and running it sequentially, in ns per task, on four
// shapes, each next to baselines measured in the same binary (see baselines.hpp).
//
// Headline rows use capturing tasks (bench/shapes.hpp: each task its own lambda capturing a
// pointer and a small value, `[out, k](int x) { *out = k; return x + 1; }`) and inputs built
// the way user code builds them: fresh FuncMap / DependencyMap filled with emplace in one
// loop, inside the timed region. Rows marked "stateless" use captureless lambdas instead.
//
//   BM_build/<shape>                   fill the two maps + create_graph (counters split it:
//                                      maps_ns_per_task, create_ns_per_task)
//   BM_build_stateless/<shape>         the same with stateless positional lambdas
//   BM_build_pairs/<shape>             the cheapest input: fresh std::vectors of (name,
//                                      function) and (name, dependency names) pairs, reserved
//                                      and filled with emplace_back in one loop (the same
//                                      capturing tasks), moved into create_graph and destroyed
//                                      inside the timed region
//   BM_one_pass/<shape>                baseline: the same maps + one_pass_build (the plain
//                                      one-pass build of the target)
//   BM_naive_build/<shape>             baseline: std::function maps + dependency map, then
//                                      unordered_map<string, Node> build + validation
//   BM_run_sequential/<shape>          taskmap::run on a fresh copy of a graph built the
//                                      user's way
//   BM_rerun_sequential/<shape>        reset_tasks(g, <every source task>) + taskmap::run on
//                                      the same graph, run after run
//   BM_run_sequential_stateless/<shape>, BM_run_sequential_span/<shape>
//                                      taskmap::run, stateless positional / span tasks
//   BM_handwritten_loop/<shape>        baseline: dependency-counting loop over std::function
//                                      holding the same capturing bodies
//   BM_handwritten_loop_stateless/<shape>  the same with stateless tasks
//   BM_handwritten_loop_maporder/<shape>
//                                      the capturing loop, tasks numbered in the order
//                                      create_graph numbers them (the DependencyMap's order)
//
// Manual timing: the build rows time everything from empty maps to the built graph (the maps
// are moved into the build, so destroying them is timed); the graph is destroyed after the
// clock stops. The run rows time only the run (or reset + run); the copy of the prototype
// is untimed. Results, and for capturing tasks the state every task wrote, are checked
// after each benchmark's first iteration.
//
// The build rows also run on 10,000 independent tasks (`<family>/independent_10k`), where
// everything the build touches fits in the caches, next to the 1,000,000 of `independent`.
//
// Counters: `tasks` (tasks per iteration) and `ns_per_task`; build rows also
// `maps_ns_per_task` and `create_ns_per_task`. bench/report.py turns the JSON output into
// the tables of docs/benchmarks.md.
//
// Extra flag (see harness.hpp): --sizes=small divides every shape by about 10, for quick
// checks.

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
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
using Clock = std::chrono::steady_clock;

bench::Options g_options;

/// Everything the benchmarks of one shape need, built on first use.
class ShapeData {
 public:
  explicit ShapeData(bench::Shape shape)
      : shape_(std::move(shape)), sink_(bench::make_sink(shape_.size())) {}

  [[nodiscard]] const bench::Shape& shape() const noexcept { return shape_; }
  [[nodiscard]] std::size_t size() const noexcept { return shape_.size(); }
  /// Where this shape's capturing tasks write (every capturing graph of the shape shares it).
  bench::Sink& sink() noexcept { return sink_; }

  enum class Tasks { capturing, stateless, span };

  /// A graph built the user's way, never run, to copy.
  const taskmap::TaskGraph<int>& prototype(Tasks tasks) {
    auto& slot = tasks == Tasks::capturing   ? capturing_
                 : tasks == Tasks::stateless ? stateless_
                                             : span_;
    if (!slot) {
      if (tasks == Tasks::capturing) {
        slot.emplace(bench::capturing_graph(shape_, sink_));
      } else if (tasks == Tasks::stateless) {
        taskmap::FuncMap<int> funcs;
        taskmap::DependencyMap deps;
        bench::fill_user_maps_stateless(shape_, funcs, deps);
        slot.emplace(taskmap::create_graph<int>(std::move(funcs), std::move(deps)));
      } else {
        slot.emplace(taskmap::create_graph<int>(bench::func_map(shape_, bench::TaskStyle::span),
                                                bench::dependency_map(shape_)));
      }
    }
    return *slot;
  }
  const bench::LoopGraph& loop(bool capturing, bool map_order) {
    auto& slot = !capturing ? loop_stateless_ : map_order ? loop_map_order_ : loop_;
    if (!slot) {
      std::vector<std::uint32_t> order = bench::identity_order(size());
      if (map_order) {
        taskmap::FuncMap<int> funcs;
        taskmap::DependencyMap deps;
        bench::fill_user_maps(shape_, sink_, funcs, deps);
        order = bench::map_order(shape_, deps);
      }
      slot = bench::loop_graph(shape_, order, capturing ? &sink_ : nullptr);
    }
    return *slot;
  }

 private:
  bench::Shape shape_;
  bench::Sink sink_;
  std::optional<taskmap::TaskGraph<int>> capturing_;
  std::optional<taskmap::TaskGraph<int>> stateless_;
  std::optional<taskmap::TaskGraph<int>> span_;
  std::optional<bench::LoopGraph> loop_;
  std::optional<bench::LoopGraph> loop_stateless_;
  std::optional<bench::LoopGraph> loop_map_order_;
};

bench::ShapeCache<ShapeData> g_shapes;

ShapeData& data_for(ShapeId id) { return g_shapes.get(id, g_options.sizes); }

double seconds(Clock::time_point from, Clock::time_point to) {
  return std::chrono::duration<double>(to - from).count();
}

/// The timed maps and build parts of every build row, per task.
class SplitTimes {
 public:
  void add(Clock::time_point start, Clock::time_point maps_done, Clock::time_point end) {
    maps_ += seconds(start, maps_done);
    build_ += seconds(maps_done, end);
  }
  void report(benchmark::State& state, std::size_t tasks) const {
    const double per =
        1e9 / (static_cast<double>(std::max<benchmark::IterationCount>(1, state.iterations())) *
               static_cast<double>(tasks));
    state.counters["maps_ns_per_task"] = maps_ * per;
    state.counters["create_ns_per_task"] = build_ * per;
  }

 private:
  double maps_ = 0;
  double build_ = 0;
};

/// The shape of the `independent_10k` build rows.
ShapeData& ten_thousand_independent() {
  static ShapeData data(bench::independent(10'000));
  return data;
}

enum class Build { capturing, stateless, one_pass, pairs };

using FuncPairs = std::vector<std::pair<std::string, taskmap::TaskFn<int>>>;
using DepPairs = std::vector<std::pair<std::string, std::vector<std::string>>>;

/// Fills fresh vectors of pairs the way the README recommends for big graphs: reserve, then
/// one loop of emplace_back with the same capturing tasks as fill_user_maps.
void fill_user_pairs(const bench::Shape& s, bench::Sink& sink, FuncPairs& funcs, DepPairs& deps) {
  funcs.reserve(s.size());
  deps.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    funcs.emplace_back(s.names[i],
                       bench::capturing_task(s.deps[i].size(), &sink[i], static_cast<int>(i)));
    std::vector<std::string> names;
    names.reserve(s.deps[i].size());
    for (const std::uint32_t d : s.deps[i]) names.push_back(s.names[d]);
    deps.emplace_back(s.names[i], std::move(names));
  }
}

/// BM_build from vectors of pairs; the vectors are destroyed inside the timed region, as the
/// maps moved into create_graph are.
void build_from_pairs(benchmark::State& state, ShapeData& data) {
  const bench::Shape& shape = data.shape();
  bench::Timer timer(state, true);
  SplitTimes split;
  for (auto _ : state) {
    timer.start();
    const Clock::time_point start = Clock::now();
    Clock::time_point maps_done;
    std::optional<taskmap::TaskGraph<int>> g;
    {
      FuncPairs funcs;
      DepPairs deps;
      fill_user_pairs(shape, data.sink(), funcs, deps);
      maps_done = Clock::now();
      g.emplace(taskmap::create_graph<int>(std::move(funcs), std::move(deps)));
    }
    split.add(start, maps_done, Clock::now());
    timer.stop();
    benchmark::DoNotOptimize(*g);
    if (g->size() != data.size()) {
      state.SkipWithError("build: wrong size");
      break;
    }
  }
  timer.report_per_task(data.size());
  split.report(state, data.size());
}

/// Fills fresh inputs the user's way, then builds (create_graph or the one-pass baseline).
void build_rows(benchmark::State& state, ShapeData& data, Build build) {
  if (build == Build::pairs) {
    build_from_pairs(state, data);
    return;
  }
  const bench::Shape& shape = data.shape();
  bench::Sink& sink = data.sink();
  bench::Timer timer(state, true);
  SplitTimes split;
  for (auto _ : state) {
    timer.start();
    const Clock::time_point start = Clock::now();
    taskmap::FuncMap<int> funcs;
    taskmap::DependencyMap deps;
    if (build == Build::stateless) {
      bench::fill_user_maps_stateless(shape, funcs, deps);
    } else {
      bench::fill_user_maps(shape, sink, funcs, deps);
    }
    const Clock::time_point maps_done = Clock::now();
    std::size_t built = 0;
    if (build == Build::one_pass) {
      bench::OnePassGraph g = bench::one_pass_build(std::move(funcs), std::move(deps));
      split.add(start, maps_done, Clock::now());
      timer.stop();
      built = g.size();
      benchmark::DoNotOptimize(g);
    } else {
      taskmap::TaskGraph<int> g = taskmap::create_graph<int>(std::move(funcs), std::move(deps));
      split.add(start, maps_done, Clock::now());
      timer.stop();
      built = g.size();
      benchmark::DoNotOptimize(g);
    }
    if (built != data.size()) {
      state.SkipWithError("build: wrong size");
      break;
    }
  }
  timer.report_per_task(data.size());
  split.report(state, data.size());
}

void BM_build(benchmark::State& state, ShapeId id, Build build) {
  build_rows(state, data_for(id), build);
}

void BM_build_10k(benchmark::State& state, Build build) {
  build_rows(state, ten_thousand_independent(), build);
}

void BM_naive_build(benchmark::State& state, ShapeId id) {
  ShapeData& data = data_for(id);
  const bench::Shape& shape = data.shape();
  bench::Timer timer(state, true);
  SplitTimes split;
  for (auto _ : state) {
    timer.start();
    const Clock::time_point start = Clock::now();
    bench::BaselineFuncMap funcs = bench::capturing_baseline_func_map(shape, data.sink());
    taskmap::DependencyMap deps;
    for (std::size_t i = 0; i < shape.size(); ++i) {
      std::vector<std::string> names;
      names.reserve(shape.deps[i].size());
      for (const std::uint32_t d : shape.deps[i]) names.push_back(shape.names[d]);
      deps.emplace(shape.names[i], std::move(names));
    }
    const Clock::time_point maps_done = Clock::now();
    bench::NaiveGraph g = bench::naive_build(std::move(funcs), std::move(deps));
    split.add(start, maps_done, Clock::now());
    timer.stop();
    benchmark::DoNotOptimize(g);
    if (g.size() != data.size()) {
      state.SkipWithError("naive_build: wrong size");
      break;
    }
  }
  timer.report_per_task(data.size());
  split.report(state, data.size());
}

/// True when the run gave the shape's known result and, for capturing tasks, every task
/// wrote its own state.
bool run_correct(ShapeData& data, const taskmap::TaskGraph<int>& g,
                 const taskmap::RunSummary& summary, bool capturing) {
  return summary.succeeded == data.size() &&
         g.result(data.shape().sink()) == data.shape().expected_max &&
         (!capturing || bench::sink_complete(data.sink()));
}

void BM_run_sequential(benchmark::State& state, ShapeId id, ShapeData::Tasks tasks) {
  ShapeData& data = data_for(id);
  const taskmap::TaskGraph<int>& prototype = data.prototype(tasks);
  const bool capturing = tasks == ShapeData::Tasks::capturing;
  std::fill(data.sink().begin(), data.sink().end(), -1);
  bench::Timer timer(state, true);
  bool checked = false;
  for (auto _ : state) {
    taskmap::TaskGraph<int> g = prototype;  // a fresh, all-pending graph
    timer.start();
    const taskmap::RunSummary summary = taskmap::run(g);
    timer.stop();
    if (!checked) {
      checked = true;
      if (!run_correct(data, g, summary, capturing)) {
        state.SkipWithError("run: wrong result");
        break;
      }
    }
  }
  timer.report_per_task(data.size());
}

/// Reset + run of one graph, run after run: what a user rerunning a graph does.
void BM_rerun_sequential(benchmark::State& state, ShapeId id) {
  ShapeData& data = data_for(id);
  taskmap::TaskGraph<int> g = data.prototype(ShapeData::Tasks::capturing);
  const std::vector<std::string> sources = bench::source_names(data.shape());
  taskmap::run(g);  // so that every timed iteration resets a finished graph
  std::fill(data.sink().begin(), data.sink().end(), -1);
  bench::Timer timer(state, true);
  bool checked = false;
  for (auto _ : state) {
    timer.start();
    taskmap::reset_tasks(g, sources);
    const taskmap::RunSummary summary = taskmap::run(g);
    timer.stop();
    if (!checked) {
      checked = true;
      if (!run_correct(data, g, summary, true)) {
        state.SkipWithError("rerun: wrong result");
        break;
      }
    }
  }
  timer.report_per_task(data.size());
}

void BM_handwritten_loop(benchmark::State& state, ShapeId id, bool capturing, bool map_order) {
  ShapeData& data = data_for(id);
  const bench::LoopGraph& loop = data.loop(capturing, map_order);
  std::fill(data.sink().begin(), data.sink().end(), -1);
  bench::Timer timer(state, true);
  bool checked = false;
  for (auto _ : state) {
    timer.start();
    std::vector<int> results = bench::run_loop(loop);
    timer.stop();
    benchmark::DoNotOptimize(results.data());
    if (!checked) {
      checked = true;
      if (*std::max_element(results.begin(), results.end()) != data.shape().expected_max ||
          (capturing && !bench::sink_complete(data.sink()))) {
        state.SkipWithError("handwritten_loop: wrong result");
        break;
      }
    }
  }
  timer.report_per_task(data.size());
}

void register_all() {
  auto common = [](benchmark::internal::Benchmark* b) {
    b->UseManualTime()->Unit(benchmark::kMillisecond);
  };
  using Tasks = ShapeData::Tasks;
  for (const auto& [family, build] :
       {std::pair{"BM_build", Build::capturing}, std::pair{"BM_build_pairs", Build::pairs},
        std::pair{"BM_one_pass", Build::one_pass}}) {
    common(benchmark::RegisterBenchmark((std::string(family) + "/independent_10k").c_str(),
                                        BM_build_10k, build));
  }
  for (const ShapeId id : bench::all_shapes) {
    common(bench::register_on_shape("BM_build", id, BM_build, Build::capturing));
    common(bench::register_on_shape("BM_build_pairs", id, BM_build, Build::pairs));
    common(bench::register_on_shape("BM_one_pass", id, BM_build, Build::one_pass));
    common(bench::register_on_shape("BM_naive_build", id, BM_naive_build));
    common(bench::register_on_shape("BM_build_stateless", id, BM_build, Build::stateless));
    common(bench::register_on_shape("BM_run_sequential", id, BM_run_sequential, Tasks::capturing));
    common(bench::register_on_shape("BM_rerun_sequential", id, BM_rerun_sequential));
    common(bench::register_on_shape("BM_handwritten_loop", id, BM_handwritten_loop, true, false));
    common(bench::register_on_shape("BM_handwritten_loop_maporder", id, BM_handwritten_loop, true,
                                    true));
    common(bench::register_on_shape("BM_run_sequential_stateless", id, BM_run_sequential,
                                    Tasks::stateless));
    common(bench::register_on_shape("BM_run_sequential_span", id, BM_run_sequential, Tasks::span));
    common(bench::register_on_shape("BM_handwritten_loop_stateless", id, BM_handwritten_loop, false,
                                    false));
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
