// The executors benchmark: every taskmap executor on the four shapes of the core benchmark
// (bench/shapes.hpp), in ns per task, next to oneTBB's flow graph measured in the same
// binary, plus a few single-purpose measurements. bench/report_executors.py turns the JSON
// output into the tables of docs/benchmarks.md ("Executors").
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
//   BM_async_coro/<shape>     taskmap::run_async(g), coroutine tasks (return Task<int>,
//                             co_return at once)
//   BM_coropool_coro/<shape>  CoroutinePoolExecutor pool{2} (reused), coroutine tasks
//   BM_async_plain/<shape>    taskmap::run_async(g), plain-function tasks (splits the cost of
//                             the executor from the cost of the coroutine frames)
// On independent only, right after BM_seq_plain:
//   BM_observers_empty        taskmap::run(g, RunOptions{.observers = {}})
//   BM_observers_noop         taskmap::run(g, {.observers = {one no-op observer}})
//   BM_observers_default      taskmap::run(g) again (same as BM_seq_plain), as the reference
// Tiny runs (a 1-task graph, µs per run; "hot": run after run; "parked": 2 ms pause before
// each run, so idle workers have gone to sleep):
//   BM_tiny_seq, BM_tiny_pool/hot, BM_tiny_pool/parked, BM_tiny_tbb/hot, BM_tiny_tbb/parked
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
// Extra flag (before the Google Benchmark flags): --sizes=small divides every shape by
// about 10, for quick checks. Iteration counts are fixed per shape (see kIterations) so the
// full run stays within a few minutes; pass --benchmark_repetitions=N for repetitions.

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <benchmark/benchmark.h>

#include <taskmap/taskmap.hpp>

#include "shapes.hpp"

#if TASKMAP_BENCH_HAVE_TBB
#include <oneapi/tbb/flow_graph.h>
#include <oneapi/tbb/task_arena.h>
#include <oneapi/tbb/version.h>
#endif

namespace {

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

constexpr std::size_t kWorkers = 2;

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

// ---------------------------------------------------------------------------------------
// Coroutine tasks: the same computation as bench::positional_task, as coroutines that
// finish at once.

taskmap::TaskFn<int> coroutine_task(std::size_t arity) {
  switch (arity) {
    case 0:
      return []() -> taskmap::Task<int> { co_return 1; };
    case 1:
      return [](int x) -> taskmap::Task<int> { co_return x + 1; };
    case 2:
      return [](int a, int b) -> taskmap::Task<int> { co_return std::max(a, b) + 1; };
    default:
      std::abort();
  }
}

enum class Style { plain, coroutine };

taskmap::FuncMap<int> func_map(const bench::Shape& s, Style style) {
  if (style == Style::plain) return bench::func_map(s, bench::TaskStyle::positional);
  taskmap::FuncMap<int> funcs;
  funcs.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i)
    funcs.emplace(s.names[i], coroutine_task(s.deps[i].size()));
  return funcs;
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
// oneTBB flow graph of a shape

#if TASKMAP_BENCH_HAVE_TBB

tbb::task_arena& tbb_arena() {
  static tbb::task_arena arena(static_cast<int>(kWorkers));
  return arena;
}

/// The body of the node of task `index`: the same computation as the taskmap tasks, "1 +
/// the largest value fed", reading its dependencies' results from a shared array.
struct TbbBody {
  const bench::Shape* shape;
  int* results;
  std::uint32_t index;

  tbb::flow::continue_msg operator()(const tbb::flow::continue_msg&) const {
    int best = 0;
    for (const std::uint32_t d : shape->deps[index]) best = std::max(best, results[d]);
    results[index] = best + 1;
    return {};
  }
};

/// A shape as a flow graph. Built and waited for inside the arena, so its tasks run there.
class TbbGraph {
 public:
  explicit TbbGraph(const bench::Shape& shape) : results_(shape.size(), 0) {
    tbb_arena().execute([&] {
      graph_.emplace();
      for (std::uint32_t i = 0; i < shape.size(); ++i) {
        nodes_.emplace_back(*graph_, TbbBody{&shape, results_.data(), i});
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
// Per-shape data, built on first use; one shape is kept at a time to bound memory.

class ShapeData {
 public:
  explicit ShapeData(ShapeId id) : id_(id), shape_(make_shape(id)) {}

  [[nodiscard]] ShapeId id() const noexcept { return id_; }
  [[nodiscard]] const bench::Shape& shape() const noexcept { return shape_; }
  [[nodiscard]] std::size_t size() const noexcept { return shape_.size(); }
  [[nodiscard]] const std::string& sink() const { return shape_.names.back(); }

  const taskmap::TaskGraph<int>& prototype(Style style) {
    auto& slot = style == Style::plain ? plain_ : coroutine_;
    if (!slot)
      slot.emplace(
          taskmap::create_graph<int>(func_map(shape_, style), bench::dependency_map(shape_)));
    return *slot;
  }

#if TASKMAP_BENCH_HAVE_TBB
  TbbGraph& tbb() {
    if (!tbb_) tbb_ = std::make_unique<TbbGraph>(shape_);
    return *tbb_;
  }
#endif

 private:
  ShapeId id_;
  bench::Shape shape_;
  std::optional<taskmap::TaskGraph<int>> plain_;
  std::optional<taskmap::TaskGraph<int>> coroutine_;
#if TASKMAP_BENCH_HAVE_TBB
  std::unique_ptr<TbbGraph> tbb_;  // refers to shape_: declared after it, destroyed before
#endif
};

std::unique_ptr<ShapeData> g_current;

ShapeData& data_for(ShapeId id) {
  if (!g_current || g_current->id() != id) {
    g_current.reset();
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
  /// Mean timed seconds per iteration.
  [[nodiscard]] double mean() const {
    const auto iterations = static_cast<double>(state_.iterations());
    return iterations > 0 ? total_ / iterations : 0.0;
  }
  void report_per_task(std::size_t tasks) {
    state_.counters["tasks"] = static_cast<double>(tasks);
    state_.counters["ns_per_task"] = mean() * 1e9 / static_cast<double>(tasks);
  }

 private:
  benchmark::State& state_;
  Clock::time_point start_{};
  double total_ = 0;
};

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

void BM_taskmap(benchmark::State& state, ShapeId id, Exec exec, Style style,
                const taskmap::RunOptions* options) {
  ShapeData& data = data_for(id);
  const taskmap::TaskGraph<int>& prototype = data.prototype(style);
  const taskmap::RunOptions defaults{};
  Timer timer(state);
  bool checked = false;
  for (auto _ : state) {
    taskmap::TaskGraph<int> g = prototype;  // a fresh, all-pending graph
    timer.start();
    const taskmap::RunSummary summary = run_with(exec, g, options != nullptr ? *options : defaults);
    timer.stop();
    if (!checked) {
      checked = true;
      if (summary.succeeded != data.size() || g.result(data.sink()) != data.shape().expected_max) {
        state.SkipWithError("taskmap: wrong result");
        break;
      }
    }
  }
  timer.report_per_task(data.size());
}

#if TASKMAP_BENCH_HAVE_TBB
void BM_tbb_flow(benchmark::State& state, ShapeId id) {
  ShapeData& data = data_for(id);
  TbbGraph& g = data.tbb();
  Timer timer(state);
  bool checked = false;
  for (auto _ : state) {
    timer.start();
    g.run();
    timer.stop();
    if (!checked) {
      checked = true;
      if (g.max_result() != data.shape().expected_max) {
        state.SkipWithError("tbb: wrong result");
        break;
      }
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

void BM_tiny_taskmap(benchmark::State& state, Exec exec, Idle idle) {
  auto prototype = taskmap::create_graph<int>({{"t", [] { return 1; }}}, {{"t", {}}});
  Timer timer(state);
  for (auto _ : state) {
    taskmap::TaskGraph<int> g = prototype;
    pause_if(idle);
    timer.start();
    const taskmap::RunSummary summary = run_with(exec, g, {});
    timer.stop();
    if (summary.succeeded != 1) {
      state.SkipWithError("tiny: wrong result");
      break;
    }
  }
  state.counters["us_per_run"] = timer.mean() * 1e6;
}

#if TASKMAP_BENCH_HAVE_TBB
void BM_tiny_tbb(benchmark::State& state, Idle idle) {
  const bench::Shape shape = bench::independent(1);
  TbbGraph g(shape);
  Timer timer(state);
  for (auto _ : state) {
    pause_if(idle);
    timer.start();
    g.run();
    timer.stop();
  }
  if (g.max_result() != 1) state.SkipWithError("tiny tbb: wrong result");
  state.counters["us_per_run"] = timer.mean() * 1e6;
}
#endif

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
  Timer timer(state);
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
  Timer timer(state);
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
  const std::pair<ShapeId, const char*> shapes[] = {
      {ShapeId::independent, "independent"},
      {ShapeId::chain, "chain"},
      {ShapeId::binary_tree, "binary_tree"},
      {ShapeId::wavefront, "wavefront"},
  };
  for (const auto& [id, label] : shapes) {
    const std::string suffix = std::string("/") + label;
    const std::int64_t iterations = iterations_for(id);
    auto common = [iterations](benchmark::internal::Benchmark* b) {
      b->UseManualTime()->Unit(benchmark::kMillisecond)->Iterations(iterations);
    };
    auto add = [&](const char* family, Exec exec, Style style, const taskmap::RunOptions* options) {
      common(benchmark::RegisterBenchmark((std::string(family) + suffix).c_str(), BM_taskmap, id,
                                          exec, style, options));
    };
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
#if TASKMAP_BENCH_HAVE_TBB
    common(benchmark::RegisterBenchmark(("BM_tbb_flow" + suffix).c_str(), BM_tbb_flow, id));
#endif
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
  tiny(benchmark::RegisterBenchmark("BM_tiny_seq", BM_tiny_taskmap, Exec::seq, Idle::hot),
       Idle::hot);
  tiny(benchmark::RegisterBenchmark("BM_tiny_pool/hot", BM_tiny_taskmap, Exec::pool, Idle::hot),
       Idle::hot);
  tiny(benchmark::RegisterBenchmark("BM_tiny_pool/parked", BM_tiny_taskmap, Exec::pool,
                                    Idle::parked),
       Idle::parked);
#if TASKMAP_BENCH_HAVE_TBB
  tiny(benchmark::RegisterBenchmark("BM_tiny_tbb/hot", BM_tiny_tbb, Idle::hot), Idle::hot);
  tiny(benchmark::RegisterBenchmark("BM_tiny_tbb/parked", BM_tiny_tbb, Idle::parked), Idle::parked);
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
  calibrate_spin();
  benchmark::AddCustomContext("taskmap_sizes", g_small ? "small" : "full");
  benchmark::AddCustomContext("taskmap_version", taskmap::version_string);
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
  register_all();
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  g_current.reset();
  return 0;
}
