// The executors benchmark: every taskmap executor on the four shapes of the core benchmark
// (bench/shapes.hpp), in ns per task, next to oneTBB's flow graph measured in the same
// binary (and Taskflow's executor when built with TASKMAP_BENCH_TASKFLOW_INCLUDE), plus a few
// single-purpose measurements. bench/report.py turns the JSON output into the tables of
// docs/benchmarks.md ("Executors").
//
// Registered in this order: tiny runs, CPU-bound scaling and sleepers first (short, and the
// most sensitive to other load), then, per shape (<shape> = independent, chain, binary_tree,
// wavefront):
//   BM_seq_plain/<shape>      taskmap::run(g), plain-function tasks (positional lambdas)
//   BM_pool_plain/<shape>     ThreadPoolExecutor pool{2} (one object, reused), pool.run(g)
//   BM_tbb_flow/<shape>       oneTBB flow graph: one continue_node<continue_msg> per task, one
//                             make_edge per dependency, task_arena of 2 threads. The graph is
//                             built once per shape and reused (a continue_node resets its
//                             predecessor count when it fires); timed: arena.execute of the
//                             try_put on every source + wait_for_all.
//   BM_taskflow/<shape>       Taskflow (only when built with TASKMAP_BENCH_TASKFLOW_INCLUDE):
//                             one task per task, one precede per dependency, tf::Executor of 2
//                             workers; the taskflow is built once per shape and reused; timed:
//                             executor.run(taskflow).wait().
//   BM_async_coro/<shape>     taskmap::run_async(g), coroutine tasks (return Task<int>,
//                             co_return at once)
//   BM_coropool_coro/<shape>  CoroutinePoolExecutor pool{2} (reused), coroutine tasks
//   BM_async_plain/<shape>    taskmap::run_async(g), plain-function tasks (splits the cost of
//                             the executor from the cost of the coroutine frames)
// On independent only, right after BM_seq_plain:
//   BM_observers_empty        taskmap::run(g, RunOptions{.observers = {}})
//   BM_observers_noop         taskmap::run(g, {.observers = {one no-op observer}})
//   BM_observers_default      taskmap::run(g) again (same as BM_seq_plain), as the reference
// Tiny runs (a 1-task graph, or a 4 x 4 wavefront of 16 tasks; µs per run; "hot": run after
// run; "parked": 2 ms pause before each run, so idle workers have gone to sleep). The pool's
// calling thread runs tasks itself, so these show what a run costs when no worker needs
// waking (1 task) and when the wavefront's fan-outs offer work to a worker (16 tasks):
//   BM_tiny_seq, BM_tiny_pool/hot, BM_tiny_pool/parked, BM_tiny_tbb/hot, BM_tiny_tbb/parked,
//   BM_tiny_taskflow/hot, BM_tiny_taskflow/parked,
//   BM_wave16_seq, BM_wave16_pool/hot, BM_wave16_pool/parked, BM_wave16_tbb/hot,
//   BM_wave16_tbb/parked, BM_wave16_taskflow/hot
// CPU-bound scaling (64 independent tasks of ~50 µs of arithmetic each; ms per run):
//   BM_cpu_seq, BM_cpu_run_parallel/1, BM_cpu_run_parallel/2 (run_parallel makes its pool per
//   call), BM_cpu_pool/2 (reused ThreadPoolExecutor)
// Timer scalability (100,000 coroutine tasks each co_await sleep_for(200ms); ms per run):
//   BM_sleepers_async (run_async), BM_sleepers_coropool (CoroutinePoolExecutor{2})
//
// What is timed: only the run (manual timing). The graph to run is copied from a prototype
// (all tasks pending) before the clock starts and destroyed after it stops; the TBB graph
// is built before the first iteration. Results are checked after the first iteration.
//
// Counters: `tasks` and `ns_per_task` (shapes, observers); `us_per_run` (tiny runs);
// `ms_per_run` (cpu, sleepers); `ms_over_target` and `start_spread_ms` (sleepers);
// `task_us` (cpu: the calibrated duration of one task).
//
// Extra flag (see harness.hpp): --sizes=small divides every shape by about 10, for quick
// checks. Iteration counts are fixed per shape (see kIterations) so the
// full run stays within a few minutes; pass --benchmark_repetitions=N for repetitions.

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <benchmark/benchmark.h>

#include <taskmap/taskmap.hpp>

#include "harness.hpp"
#include "shapes.hpp"

#if TASKMAP_BENCH_HAVE_TBB
#include <oneapi/tbb/flow_graph.h>
#include <oneapi/tbb/task_arena.h>
#include <oneapi/tbb/version.h>
#endif

#if TASKMAP_BENCH_HAVE_TASKFLOW
#include <taskflow/taskflow.hpp>
#endif

namespace {

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

constexpr std::size_t kWorkers = 2;

using bench::ShapeId;

bench::Options g_options;

/// Timed iterations per repetition, per shape: a run of the big shapes takes 10-200 ms and
/// each iteration also copies the graph untimed, so fixed small counts bound the wall time.
std::int64_t iterations_for(ShapeId id) {
  switch (id) {
    case ShapeId::independent:
      return 5;
    case ShapeId::chain:
      return 30;
    case ShapeId::binary_tree:
      return 8;
    case ShapeId::wavefront:
      return 10;
  }
  return 5;
}

/// Capturing plain-function tasks (bench::capturing_task, the headline), stateless
/// plain-function tasks (bench::positional_task) or coroutine tasks (bench::coroutine_task).
enum class Style { capturing, plain, coroutine };

/// The stateless styles' functions (capturing graphs: bench::capturing_graph).
taskmap::FuncMap<int> func_map(const bench::Shape& s, Style style) {
  return style == Style::plain ? bench::func_map(s, bench::TaskStyle::positional)
                               : bench::coroutine_func_map(s);
}

// ---------------------------------------------------------------------------------------
// Shared executors: one of each, reused by every benchmark (as a user would keep one).

taskmap::ThreadPoolExecutor& thread_pool() {
  static taskmap::ThreadPoolExecutor pool{kWorkers};
  return pool;
}

taskmap::CoroutinePoolExecutor& coroutine_pool() {
  static taskmap::CoroutinePoolExecutor pool{kWorkers};
  return pool;
}

// ---------------------------------------------------------------------------------------
// The other libraries' task: the same computation as the taskmap tasks, "1 + the largest
// value fed", reading its dependencies' results from an array shared by the whole graph and
// writing its own (these libraries pass no values between tasks), and the same state write
// as the capturing taskmap tasks (bench::capturing_task): `*out = k`.

[[maybe_unused]] void compute_into(const bench::Shape& shape, int* results, std::uint32_t index,
                                   int* out, int k) {
  int best = 0;
  for (const std::uint32_t d : shape.deps[index]) best = std::max(best, results[d]);
  results[index] = best + 1;
  *out = k;
}

// ---------------------------------------------------------------------------------------
// oneTBB flow graph of a shape

#if TASKMAP_BENCH_HAVE_TBB

tbb::task_arena& tbb_arena() {
  static tbb::task_arena arena(static_cast<int>(kWorkers));
  return arena;
}

/// The body of the node of task `index`.
struct TbbBody {
  const bench::Shape* shape;
  int* results;
  std::uint32_t index;
  int* out;
  int k;

  tbb::flow::continue_msg operator()(const tbb::flow::continue_msg&) const {
    compute_into(*shape, results, index, out, k);
    return {};
  }
};

/// A shape as a flow graph. Built and waited for inside the arena, so its tasks run there.
class TbbGraph {
 public:
  /// Task i writes i into sink[i] (sink: shape.size() slots, outliving the graph).
  TbbGraph(const bench::Shape& shape, bench::Sink& sink) : results_(shape.size(), 0) {
    tbb_arena().execute([&] {
      graph_.emplace();
      for (std::uint32_t i = 0; i < shape.size(); ++i) {
        nodes_.emplace_back(*graph_,
                            TbbBody{&shape, results_.data(), i, &sink[i], static_cast<int>(i)});
      }
      for (std::uint32_t i = 0; i < shape.size(); ++i) {
        if (shape.deps[i].empty()) sources_.push_back(i);
        for (const std::uint32_t d : shape.deps[i]) tbb::flow::make_edge(nodes_[d], nodes_[i]);
      }
    });
  }
  TbbGraph(const TbbGraph&) = delete;
  TbbGraph& operator=(const TbbGraph&) = delete;
  ~TbbGraph() {
    tbb_arena().execute([&] {
      graph_->wait_for_all();
      nodes_.clear();
      graph_.reset();
    });
  }

  /// One run: the measured operation.
  void run() {
    tbb_arena().execute([&] {
      for (const std::uint32_t s : sources_) nodes_[s].try_put(tbb::flow::continue_msg{});
      graph_->wait_for_all();
    });
  }

  [[nodiscard]] int max_result() const {
    return *std::max_element(results_.begin(), results_.end());
  }
  [[nodiscard]] std::size_t size() const noexcept { return nodes_.size(); }

 private:
  std::vector<int> results_;
  std::optional<tbb::flow::graph> graph_;  // destroyed after the nodes (declared first)
  std::deque<tbb::flow::continue_node<tbb::flow::continue_msg>> nodes_;
  std::vector<std::uint32_t> sources_;
};

#endif

// ---------------------------------------------------------------------------------------
// Taskflow graph of a shape

#if TASKMAP_BENCH_HAVE_TASKFLOW

tf::Executor& taskflow_executor() {
  static tf::Executor executor(kWorkers);
  return executor;
}

/// A shape as a taskflow: one static task per task, one precede per dependency. Run again
/// and again (a taskflow is reusable once its run has finished).
class TaskflowGraph {
 public:
  /// Task i writes i into sink[i] (sink: shape.size() slots, outliving the graph).
  TaskflowGraph(const bench::Shape& shape, bench::Sink& sink) : results_(shape.size(), 0) {
    std::vector<tf::Task> tasks;
    tasks.reserve(shape.size());
    int* const results = results_.data();
    for (std::uint32_t i = 0; i < shape.size(); ++i) {
      const bench::Shape* const s = &shape;
      tasks.push_back(taskflow_.emplace([s, results, i, out = &sink[i], k = static_cast<int>(i)] {
        compute_into(*s, results, i, out, k);
      }));
    }
    for (std::uint32_t i = 0; i < shape.size(); ++i) {
      for (const std::uint32_t d : shape.deps[i]) tasks[d].precede(tasks[i]);
    }
  }
  TaskflowGraph(const TaskflowGraph&) = delete;
  TaskflowGraph& operator=(const TaskflowGraph&) = delete;

  /// One run: the measured operation.
  void run() { taskflow_executor().run(taskflow_).wait(); }

  [[nodiscard]] int max_result() const {
    return *std::max_element(results_.begin(), results_.end());
  }

 private:
  std::vector<int> results_;
  tf::Taskflow taskflow_;
};

/// What BM_taskflow_build times: a fresh taskflow of the shape, one capturing task per task
/// (unnamed, as Taskflow users usually leave them), one precede per dependency. Returns the
/// number of tasks.
std::size_t build_taskflow(const bench::Shape& shape, int* results, bench::Sink& sink) {
  tf::Taskflow taskflow;
  std::vector<tf::Task> tasks;
  tasks.reserve(shape.size());
  for (std::uint32_t i = 0; i < shape.size(); ++i) {
    const bench::Shape* const s = &shape;
    tasks.push_back(taskflow.emplace([s, results, i, out = &sink[i], k = static_cast<int>(i)] {
      compute_into(*s, results, i, out, k);
    }));
  }
  for (std::uint32_t i = 0; i < shape.size(); ++i) {
    for (const std::uint32_t d : shape.deps[i]) tasks[d].precede(tasks[i]);
  }
  return static_cast<std::size_t>(taskflow.num_tasks());
}

#endif

// ---------------------------------------------------------------------------------------
// Per-shape data, built on first use (bench::ShapeCache keeps one shape at a time).

class ShapeData {
 public:
  explicit ShapeData(bench::Shape shape)
      : shape_(std::move(shape)), sink_(bench::make_sink(shape_.size())) {}

  [[nodiscard]] const bench::Shape& shape() const noexcept { return shape_; }
  [[nodiscard]] std::size_t size() const noexcept { return shape_.size(); }
  /// Where every capturing task of this shape writes (taskmap's, oneTBB's and Taskflow's).
  bench::Sink& sink() noexcept { return sink_; }
  /// Sets every slot of the sink to -1, so that the next check sees only the next run.
  void clear_sink() { std::fill(sink_.begin(), sink_.end(), -1); }

  /// A graph never run, to copy; capturing graphs are built the user's way
  /// (bench::capturing_graph).
  const taskmap::TaskGraph<int>& prototype(Style style) {
    auto& slot = style == Style::capturing ? capturing_
                 : style == Style::plain   ? plain_
                                           : coroutine_;
    if (!slot) {
      if (style == Style::capturing) {
        slot.emplace(bench::capturing_graph(shape_, sink_));
      } else {
        slot.emplace(
            taskmap::create_graph<int>(func_map(shape_, style), bench::dependency_map(shape_)));
      }
    }
    return *slot;
  }

#if TASKMAP_BENCH_HAVE_TBB
  TbbGraph& tbb() {
    if (!tbb_) tbb_ = std::make_unique<TbbGraph>(shape_, sink_);
    return *tbb_;
  }
#endif
#if TASKMAP_BENCH_HAVE_TASKFLOW
  TaskflowGraph& taskflow() {
    if (!taskflow_) taskflow_ = std::make_unique<TaskflowGraph>(shape_, sink_);
    return *taskflow_;
  }
#endif

 private:
  bench::Shape shape_;
  bench::Sink sink_;
  std::optional<taskmap::TaskGraph<int>> capturing_;
  std::optional<taskmap::TaskGraph<int>> plain_;
  std::optional<taskmap::TaskGraph<int>> coroutine_;
  // The other libraries' graphs refer to shape_: declared after it, destroyed before.
#if TASKMAP_BENCH_HAVE_TBB
  std::unique_ptr<TbbGraph> tbb_;
#endif
#if TASKMAP_BENCH_HAVE_TASKFLOW
  std::unique_ptr<TaskflowGraph> taskflow_;
#endif
};

bench::ShapeCache<ShapeData> g_shapes;

ShapeData& data_for(ShapeId id) { return g_shapes.get(id, g_options.sizes); }

// ---------------------------------------------------------------------------------------
// The shapes

enum class Exec { seq, pool, async, coropool };

taskmap::RunSummary run_with(Exec exec, taskmap::TaskGraph<int>& g,
                             const taskmap::RunOptions& options) {
  switch (exec) {
    case Exec::seq:
      return taskmap::run(g, options);
    case Exec::pool:
      return thread_pool().run(g, options);
    case Exec::async:
      return taskmap::run_async(g, options);
    case Exec::coropool:
      return coroutine_pool().run(g, options);
  }
  std::abort();
}

/// True when the run gave the shape's known result and, for capturing tasks, every task
/// wrote its own state.
bool run_correct(ShapeData& data, const taskmap::TaskGraph<int>& g,
                 const taskmap::RunSummary& summary, bool capturing) {
  return summary.succeeded == data.size() &&
         g.result(data.shape().sink()) == data.shape().expected_max &&
         (!capturing || bench::sink_complete(data.sink()));
}

void BM_taskmap(benchmark::State& state, ShapeId id, Exec exec, Style style,
                const taskmap::RunOptions* options) {
  ShapeData& data = data_for(id);
  const taskmap::TaskGraph<int>& prototype = data.prototype(style);
  const taskmap::RunOptions defaults{};
  data.clear_sink();
  bench::Timer timer(state, true);
  bool checked = false;
  for (auto _ : state) {
    taskmap::TaskGraph<int> g = prototype;  // a fresh, all-pending graph
    timer.start();
    const taskmap::RunSummary summary = run_with(exec, g, options != nullptr ? *options : defaults);
    timer.stop();
    if (!checked) {
      checked = true;
      if (!run_correct(data, g, summary, style == Style::capturing)) {
        state.SkipWithError("taskmap: wrong result");
        break;
      }
    }
  }
  timer.report_per_task(data.size());
}

/// Reset + run of one capturing graph, run after run (no copy): a user rerunning a graph.
void BM_taskmap_rerun(benchmark::State& state, ShapeId id, Exec exec) {
  ShapeData& data = data_for(id);
  taskmap::TaskGraph<int> g = data.prototype(Style::capturing);
  const std::vector<std::string> sources = bench::source_names(data.shape());
  run_with(exec, g, {});  // so that every timed iteration resets a finished graph
  data.clear_sink();
  bench::Timer timer(state, true);
  bool checked = false;
  for (auto _ : state) {
    timer.start();
    taskmap::reset_tasks(g, sources);
    const taskmap::RunSummary summary = run_with(exec, g, {});
    timer.stop();
    if (!checked) {
      checked = true;
      if (!run_correct(data, g, summary, true)) {
        state.SkipWithError("taskmap rerun: wrong result");
        break;
      }
    }
  }
  timer.report_per_task(data.size());
}

/// Fresh maps filled the user's way (bench::fill_user_maps) + create_graph; the graph is
/// destroyed untimed. Counter `maps_ns_per_task`: the maps part alone.
void BM_build_capture(benchmark::State& state, ShapeId id) {
  ShapeData& data = data_for(id);
  bench::Timer timer(state, true);
  double maps = 0;
  for (auto _ : state) {
    timer.start();
    const Clock::time_point start = Clock::now();
    taskmap::FuncMap<int> funcs;
    taskmap::DependencyMap deps;
    bench::fill_user_maps(data.shape(), data.sink(), funcs, deps);
    maps += std::chrono::duration<double>(Clock::now() - start).count();
    taskmap::TaskGraph<int> g = taskmap::create_graph<int>(std::move(funcs), std::move(deps));
    timer.stop();
    if (g.size() != data.size()) {
      state.SkipWithError("build: wrong size");
      break;
    }
  }
  timer.report_per_task(data.size());
  state.counters["maps_ns_per_task"] =
      maps * 1e9 /
      (static_cast<double>(std::max<benchmark::IterationCount>(1, state.iterations())) *
       static_cast<double>(data.size()));
}

/// Times the runs of another library's graph of the shape (TbbGraph, TaskflowGraph). These
/// graphs are reused as they are (neither library resets anything between runs).
template <class Graph>
[[maybe_unused]] void time_library_graph(benchmark::State& state, ShapeData& data, Graph& g,
                                         const char* wrong_result) {
  data.clear_sink();
  bench::Timer timer(state, true);
  bool checked = false;
  for (auto _ : state) {
    timer.start();
    g.run();
    timer.stop();
    if (!checked) {
      checked = true;
      if (g.max_result() != data.shape().expected_max || !bench::sink_complete(data.sink())) {
        state.SkipWithError(wrong_result);
        break;
      }
    }
  }
  timer.report_per_task(data.size());
}

#if TASKMAP_BENCH_HAVE_TBB
void BM_tbb_flow(benchmark::State& state, ShapeId id) {
  ShapeData& data = data_for(id);
  time_library_graph(state, data, data.tbb(), "tbb: wrong result");
}
#endif

#if TASKMAP_BENCH_HAVE_TASKFLOW
void BM_taskflow(benchmark::State& state, ShapeId id) {
  ShapeData& data = data_for(id);
  time_library_graph(state, data, data.taskflow(), "taskflow: wrong result");
}

void BM_taskflow_build(benchmark::State& state, ShapeId id) {
  ShapeData& data = data_for(id);
  std::vector<int> results(data.size(), 0);
  bench::Timer timer(state, true);
  for (auto _ : state) {
    timer.start();
    const std::size_t built = build_taskflow(data.shape(), results.data(), data.sink());
    timer.stop();
    if (built != data.size()) {
      state.SkipWithError("taskflow build: wrong size");
      break;
    }
  }
  timer.report_per_task(data.size());
}
#endif

// ---------------------------------------------------------------------------------------
// Observers

class NoopObserver final : public taskmap::Observer {
 public:
  void on_event(const taskmap::TaskEvent& event) override { benchmark::DoNotOptimize(&event); }
};

const taskmap::RunOptions& empty_observers() {
  static const taskmap::RunOptions options{.observers = {}};
  return options;
}

const taskmap::RunOptions& noop_observer() {
  static const taskmap::RunOptions options{.observers = {std::make_shared<NoopObserver>()}};
  return options;
}

// ---------------------------------------------------------------------------------------
// Tiny runs: a 1-task graph

enum class Idle { hot, parked };

void pause_if(Idle idle) {
  if (idle == Idle::parked) std::this_thread::sleep_for(2ms);
}

/// The small graphs of the latency rows: a 1-task graph, or a 4 x 4 wavefront (16 tasks).
enum class Tiny { one, wave16 };

bench::Shape tiny_shape(Tiny tiny) {
  return tiny == Tiny::one ? bench::independent(1) : bench::wavefront(4);
}

/// A small capturing graph (built the user's way) run on `exec`; each timed run gets an
/// untimed fresh copy of it. Counter: `us_per_run`.
void BM_tiny_taskmap(benchmark::State& state, Exec exec, Idle idle, Tiny tiny) {
  const bench::Shape shape = tiny_shape(tiny);
  bench::Sink sink = bench::make_sink(shape.size());
  const taskmap::TaskGraph<int> prototype = bench::capturing_graph(shape, sink);
  bench::Timer timer(state);
  bool checked = false;
  for (auto _ : state) {
    taskmap::TaskGraph<int> g = prototype;
    pause_if(idle);
    timer.start();
    const taskmap::RunSummary summary = run_with(exec, g, {});
    timer.stop();
    if (!checked) {
      checked = true;
      if (summary.succeeded != shape.size() || g.result(shape.sink()) != shape.expected_max ||
          !bench::sink_complete(sink)) {
        state.SkipWithError("tiny: wrong result");
        break;
      }
    }
  }
  state.counters["us_per_run"] = timer.mean() * 1e6;
}

/// The same small graph of another library (TbbGraph, TaskflowGraph), reused run after run.
template <class Graph>
[[maybe_unused]] void BM_tiny_library(benchmark::State& state, Idle idle, Tiny tiny) {
  const bench::Shape shape = tiny_shape(tiny);
  bench::Sink sink = bench::make_sink(shape.size());
  Graph g(shape, sink);
  bench::Timer timer(state);
  for (auto _ : state) {
    pause_if(idle);
    timer.start();
    g.run();
    timer.stop();
  }
  if (g.max_result() != shape.expected_max || !bench::sink_complete(sink)) {
    state.SkipWithError("tiny: wrong result");
  }
  state.counters["us_per_run"] = timer.mean() * 1e6;
}

// ---------------------------------------------------------------------------------------
// CPU-bound scaling: 64 tasks of ~50 µs of arithmetic

constexpr std::size_t kCpuTasks = 64;
std::uint64_t g_spin_rounds = 0;  // calibrated so that spin(g_spin_rounds) takes ~50 µs
double g_spin_us = 0;

[[gnu::noinline]] int spin(std::uint64_t rounds) {
  std::uint64_t x = 0x9E3779B97F4A7C15ull;
  for (std::uint64_t i = 0; i < rounds; ++i) {  // xorshift: a serial dependency chain
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
  }
  return static_cast<int>(x & 0x7fff);
}

double time_spin_us(std::uint64_t rounds) {
  double best = 1e30;
  for (int k = 0; k < 5; ++k) {
    const auto start = Clock::now();
    benchmark::DoNotOptimize(spin(rounds));
    best = std::min(best, std::chrono::duration<double, std::micro>(Clock::now() - start).count());
  }
  return best;
}

void calibrate_spin() {
  const std::uint64_t probe = 1'000'000;
  const double us = time_spin_us(probe);
  g_spin_rounds = static_cast<std::uint64_t>(static_cast<double>(probe) * 50.0 / us);
  g_spin_us = time_spin_us(g_spin_rounds);
}

taskmap::TaskGraph<int> cpu_graph() {
  taskmap::FuncMap<int> funcs;
  taskmap::DependencyMap deps;
  for (std::size_t i = 0; i < kCpuTasks; ++i) {
    const std::uint64_t rounds = g_spin_rounds + i;  // distinct, so no call can be shared
    funcs.emplace(bench::task_name(i), [rounds] { return spin(rounds); });
    deps.emplace(bench::task_name(i), std::vector<std::string>{});
  }
  return taskmap::create_graph<int>(std::move(funcs), std::move(deps));
}

enum class CpuExec { seq, run_parallel, pool };

void BM_cpu(benchmark::State& state, CpuExec exec) {
  const taskmap::TaskGraph<int> prototype = cpu_graph();
  const auto workers = static_cast<std::size_t>(state.range(0));
  std::optional<taskmap::ThreadPoolExecutor> pool;
  if (exec == CpuExec::pool) pool.emplace(workers);
  bench::Timer timer(state);
  for (auto _ : state) {
    taskmap::TaskGraph<int> g = prototype;
    timer.start();
    taskmap::RunSummary summary;
    switch (exec) {
      case CpuExec::seq:
        summary = taskmap::run(g);
        break;
      case CpuExec::run_parallel:
        summary = taskmap::run_parallel(g, {.ncores = workers});
        break;
      case CpuExec::pool:
        summary = pool->run(g);
        break;
    }
    timer.stop();
    if (summary.succeeded != kCpuTasks) {
      state.SkipWithError("cpu: wrong result");
      break;
    }
  }
  state.counters["ms_per_run"] = timer.mean() * 1e3;
  state.counters["task_us"] = g_spin_us;
}

// ---------------------------------------------------------------------------------------
// Timer scalability: many coroutines sleeping at once

constexpr std::size_t kSleepers = 100'000;
constexpr auto kSleep = 200ms;
// First and last time a sleeper started (each sleeper's deadline is its start + 200 ms).
std::atomic<std::int64_t> g_first_start{0};
std::atomic<std::int64_t> g_last_start{0};

std::int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now().time_since_epoch())
      .count();
}

taskmap::TaskGraph<int> sleepers_graph() {
  taskmap::FuncMap<int> funcs;
  taskmap::DependencyMap deps;
  funcs.reserve(kSleepers);
  deps.reserve(kSleepers);
  for (std::size_t i = 0; i < kSleepers; ++i) {
    funcs.emplace(bench::task_name(i), []() -> taskmap::Task<int> {
      const std::int64_t t = now_ns();
      std::int64_t expected = 0;
      g_first_start.compare_exchange_strong(expected, t, std::memory_order_relaxed);
      std::int64_t last = g_last_start.load(std::memory_order_relaxed);
      while (t > last && !g_last_start.compare_exchange_weak(last, t, std::memory_order_relaxed)) {
      }
      co_await taskmap::sleep_for(kSleep);
      co_return 1;
    });
    deps.emplace(bench::task_name(i), std::vector<std::string>{});
  }
  return taskmap::create_graph<int>(std::move(funcs), std::move(deps));
}

void BM_sleepers(benchmark::State& state, Exec exec) {
  const taskmap::TaskGraph<int> prototype = sleepers_graph();
  bench::Timer timer(state);
  double spread = 0;
  for (auto _ : state) {
    taskmap::TaskGraph<int> g = prototype;
    g_first_start.store(0);
    g_last_start.store(0);
    timer.start();
    const taskmap::RunSummary summary = run_with(exec, g, {});
    timer.stop();
    spread += static_cast<double>(g_last_start.load() - g_first_start.load()) * 1e-6;
    if (summary.succeeded != kSleepers) {
      state.SkipWithError("sleepers: wrong result");
      break;
    }
  }
  const double ms = timer.mean() * 1e3;
  state.counters["tasks"] = static_cast<double>(kSleepers);
  state.counters["ms_per_run"] = ms;
  state.counters["ms_over_target"] = ms - std::chrono::duration<double, std::milli>(kSleep).count();
  state.counters["start_spread_ms"] =
      spread / static_cast<double>(std::max<std::int64_t>(1, state.iterations()));
}

// ---------------------------------------------------------------------------------------

void register_shapes() {
  for (const ShapeId id : bench::all_shapes) {
    const std::int64_t iterations = iterations_for(id);
    auto common = [iterations](benchmark::internal::Benchmark* b) {
      b->UseManualTime()->Unit(benchmark::kMillisecond)->Iterations(iterations);
    };
    auto add = [&](const char* family, Exec exec, Style style, const taskmap::RunOptions* options) {
      common(bench::register_on_shape(family, id, BM_taskmap, exec, style, options));
    };
    // Headline: capturing tasks, built the user's way; then the stateless rows.
    const std::int64_t build_iterations = id == ShapeId::chain ? 10 : 3;
    auto build = [&](benchmark::internal::Benchmark* b) {
      b->UseManualTime()->Unit(benchmark::kMillisecond)->Iterations(build_iterations);
    };
    build(bench::register_on_shape("BM_build_capture", id, BM_build_capture));
#if TASKMAP_BENCH_HAVE_TASKFLOW
    build(bench::register_on_shape("BM_taskflow_build", id, BM_taskflow_build));
#endif
    add("BM_seq_capture", Exec::seq, Style::capturing, nullptr);
    common(bench::register_on_shape("BM_seq_rerun_capture", id, BM_taskmap_rerun, Exec::seq));
    add("BM_pool_capture", Exec::pool, Style::capturing, nullptr);
    common(bench::register_on_shape("BM_pool_rerun_capture", id, BM_taskmap_rerun, Exec::pool));
#if TASKMAP_BENCH_HAVE_TBB
    common(bench::register_on_shape("BM_tbb_flow", id, BM_tbb_flow));
#endif
#if TASKMAP_BENCH_HAVE_TASKFLOW
    common(bench::register_on_shape("BM_taskflow", id, BM_taskflow));
#endif
    add("BM_seq_plain", Exec::seq, Style::plain, nullptr);
    if (id == ShapeId::independent) {
      // Right after BM_seq_plain, and bracketed by a second run(g) with default options, so
      // the three see the same heap.
      common(benchmark::RegisterBenchmark("BM_observers_empty", BM_taskmap, id, Exec::seq,
                                          Style::plain, &empty_observers()));
      common(benchmark::RegisterBenchmark("BM_observers_noop", BM_taskmap, id, Exec::seq,
                                          Style::plain, &noop_observer()));
      common(benchmark::RegisterBenchmark("BM_observers_default", BM_taskmap, id, Exec::seq,
                                          Style::plain, nullptr));
    }
    add("BM_pool_plain", Exec::pool, Style::plain, nullptr);
    add("BM_async_plain", Exec::async, Style::plain, nullptr);
    add("BM_async_coro", Exec::async, Style::coroutine, nullptr);
    add("BM_coropool_coro", Exec::coropool, Style::coroutine, nullptr);
  }
}

// The short benchmarks that need both cores free come first, while a quiet machine is most
// likely still quiet.
void register_small() {
  auto tiny = [](benchmark::internal::Benchmark* b, Idle idle) {
    b->UseManualTime()->Unit(benchmark::kMicrosecond);
    if (idle == Idle::parked) b->Iterations(200);
  };
  const auto add_tiny = [&](const char* name, Exec exec, Idle idle, Tiny t) {
    tiny(benchmark::RegisterBenchmark(name, BM_tiny_taskmap, exec, idle, t), idle);
  };
  add_tiny("BM_tiny_seq", Exec::seq, Idle::hot, Tiny::one);
  add_tiny("BM_tiny_pool/hot", Exec::pool, Idle::hot, Tiny::one);
  add_tiny("BM_tiny_pool/parked", Exec::pool, Idle::parked, Tiny::one);
  add_tiny("BM_wave16_seq", Exec::seq, Idle::hot, Tiny::wave16);
  add_tiny("BM_wave16_pool/hot", Exec::pool, Idle::hot, Tiny::wave16);
  add_tiny("BM_wave16_pool/parked", Exec::pool, Idle::parked, Tiny::wave16);
#if TASKMAP_BENCH_HAVE_TBB
  tiny(benchmark::RegisterBenchmark("BM_tiny_tbb/hot", BM_tiny_library<TbbGraph>, Idle::hot,
                                    Tiny::one),
       Idle::hot);
  tiny(benchmark::RegisterBenchmark("BM_tiny_tbb/parked", BM_tiny_library<TbbGraph>, Idle::parked,
                                    Tiny::one),
       Idle::parked);
  tiny(benchmark::RegisterBenchmark("BM_wave16_tbb/hot", BM_tiny_library<TbbGraph>, Idle::hot,
                                    Tiny::wave16),
       Idle::hot);
  tiny(benchmark::RegisterBenchmark("BM_wave16_tbb/parked", BM_tiny_library<TbbGraph>, Idle::parked,
                                    Tiny::wave16),
       Idle::parked);
#endif
#if TASKMAP_BENCH_HAVE_TASKFLOW
  tiny(benchmark::RegisterBenchmark("BM_tiny_taskflow/hot", BM_tiny_library<TaskflowGraph>,
                                    Idle::hot, Tiny::one),
       Idle::hot);
  tiny(benchmark::RegisterBenchmark("BM_tiny_taskflow/parked", BM_tiny_library<TaskflowGraph>,
                                    Idle::parked, Tiny::one),
       Idle::parked);
  tiny(benchmark::RegisterBenchmark("BM_wave16_taskflow/hot", BM_tiny_library<TaskflowGraph>,
                                    Idle::hot, Tiny::wave16),
       Idle::hot);
#endif

  auto cpu = [](benchmark::internal::Benchmark* b) {
    b->UseManualTime()->Unit(benchmark::kMillisecond)->Iterations(100);
  };
  cpu(benchmark::RegisterBenchmark("BM_cpu_seq", BM_cpu, CpuExec::seq)->Arg(1));
  cpu(benchmark::RegisterBenchmark("BM_cpu_run_parallel", BM_cpu, CpuExec::run_parallel)
          ->Arg(1)
          ->Arg(2));
  cpu(benchmark::RegisterBenchmark("BM_cpu_pool", BM_cpu, CpuExec::pool)->Arg(2));

  auto sleepers = [](benchmark::internal::Benchmark* b) {
    b->UseManualTime()->Unit(benchmark::kMillisecond)->Iterations(1);
  };
  sleepers(benchmark::RegisterBenchmark("BM_sleepers_async", BM_sleepers, Exec::async));
  sleepers(benchmark::RegisterBenchmark("BM_sleepers_coropool", BM_sleepers, Exec::coropool));
}

void register_all() {
  register_small();
  register_shapes();
}

}  // namespace

int main(int argc, char** argv) {
  g_options = bench::take_options(argc, argv);
  calibrate_spin();
  bench::add_context(g_options);
  benchmark::AddCustomContext("workers", std::to_string(kWorkers));
#if TASKMAP_BENCH_HAVE_TBB
  benchmark::AddCustomContext(
      "tbb_version", std::to_string(TBB_VERSION_MAJOR) + "." + std::to_string(TBB_VERSION_MINOR));
#else
  benchmark::AddCustomContext("tbb_version", "absent");
  std::fprintf(stderr,
               "taskmap_executors_bench: built without oneTBB; the BM_tbb_* benchmarks are "
               "skipped (install oneTBB and reconfigure to compare against it)\n");
#endif
#if TASKMAP_BENCH_HAVE_TASKFLOW
  benchmark::AddCustomContext("taskflow_version", std::to_string(TF_MAJOR_VERSION) + "." +
                                                      std::to_string(TF_MINOR_VERSION) + "." +
                                                      std::to_string(TF_PATCH_VERSION));
#endif
  register_all();
  const int status = bench::run_benchmarks(argc, argv);
  g_shapes.clear();  // the graphs of other libraries go before those libraries' static state
  return status;
}
