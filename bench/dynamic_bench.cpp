// The dynamic-work benchmark (issue 12 §1): what a task that fans out N small pieces of work
// pays per piece, in ns, on ThreadPoolExecutor{2}, next to Taskflow and oneTBB doing the same
// work in the same binary:
//   BM_dyn_map             a 1-task graph whose task calls ctx.map(items, fn) over N items
//   BM_dyn_child           a 1-task graph whose task builds a child graph of N named tasks
//                          ("task_<i>") and runs it with ctx.run; counter run_ns_per_task:
//                          ctx.run alone (measured inside the task)
//   BM_dyn_static          the same N tasks as a static graph built the user's way (untimed,
//                          copied before each run, as BM_pool_capture of the executors bench);
//                          the reference of the target (map within 2x of it)
//   BM_taskflow_for_each   a taskflow of one for_each_index(0, N, 1, fn) task (built inside
//                          the clock), run on a tf::Executor of 2 workers
//   BM_taskflow_subflow    a taskflow of one task that spawns N tasks in its subflow (joined)
//   BM_taskflow_static     a taskflow of N independent tasks, built once, run again
//   BM_tbb_parallel_for    tbb::parallel_for over blocked_range(0, N) in a task_arena(2)
//   BM_tbb_task_group      a tbb::task_group that runs N tasks, then waits, in the arena
// Every piece of work is the same: read items[i], write a captured state (`*out = k` style:
// sink[i] = i) and produce items[i] + 1, kept in a result vector allocated inside the clock
// (ctx.map returns its vector; the others write into one). What is timed: from building the
// parent graph / taskflow to the end of the run; nothing the run depends on is prepared
// before the clock except the input items and the sink, shared by all (and the static
// graphs, whose point is to be built once). Results are checked after every iteration.
//
// Flag (see harness.hpp): --sizes=small uses N = 10,000 instead of 100,000.

#include <chrono>
#include <cstddef>
#include <cstdio>
#include <numeric>
#include <string>
#include <vector>

#include <benchmark/benchmark.h>

#include <taskmap/taskmap.hpp>

#include "harness.hpp"

#if TASKMAP_BENCH_HAVE_TBB
#include <oneapi/tbb/blocked_range.h>
#include <oneapi/tbb/parallel_for.h>
#include <oneapi/tbb/task_arena.h>
#include <oneapi/tbb/task_group.h>
#include <oneapi/tbb/version.h>
#endif

#if TASKMAP_BENCH_HAVE_TASKFLOW
#include <taskflow/algorithm/for_each.hpp>
#include <taskflow/taskflow.hpp>
#endif

namespace {

constexpr std::size_t kWorkers = 2;
constexpr std::int64_t kIterations = 20;
constexpr std::int64_t kChildIterations = 5;  // building 100,000 named tasks takes ~0.1 s

bench::Options g_options;

/// The input items and the sink every benchmark's work writes to.
struct Work {
  explicit Work(std::size_t n) : items(n), sink(n, -1) { std::iota(items.begin(), items.end(), 0); }
  [[nodiscard]] std::size_t size() const noexcept { return items.size(); }
  /// True when `out` holds items[i] + 1 and the sink i for every i; clears the sink.
  bool check(const std::vector<int>& out) {
    bool ok = out.size() == items.size();
    for (std::size_t i = 0; ok && i < out.size(); ++i) {
      ok = out[i] == items[i] + 1 && sink[i] == static_cast<int>(i);
    }
    std::fill(sink.begin(), sink.end(), -1);
    return ok;
  }
  std::vector<int> items;
  std::vector<int> sink;
};

Work& work() {
  static Work w(g_options.sizes == bench::Sizes::small ? 10'000 : 100'000);
  return w;
}

taskmap::ThreadPoolExecutor& thread_pool() {
  static taskmap::ThreadPoolExecutor pool{kWorkers};
  return pool;
}

void fail(benchmark::State& state, const char* what) {
  state.SkipWithError(what);
  std::fprintf(stderr, "%s\n", what);
}

// ---------------------------------------------------------------------------------------
// taskmap

void BM_dyn_map(benchmark::State& state) {
  Work& w = work();
  bench::Timer timer(state);
  for (auto _ : state) {
    timer.start();
    taskmap::TaskGraph<std::vector<int>> g("parent");
    g.add_task("fan", [items = &w.items, sink = w.sink.data()](taskmap::Context& ctx) {
      return ctx.map(*items, [sink](int x) {
        sink[x] = x;
        return x + 1;
      });
    });
    const taskmap::RunSummary summary = thread_pool().run(g, {});
    timer.stop();
    if (!summary.ok() || !w.check(g.result("fan"))) {
      fail(state, "BM_dyn_map: wrong result");
      break;
    }
  }
  timer.report_per_task(w.size());
}

void BM_dyn_child(benchmark::State& state) {
  Work& w = work();
  bench::Timer timer(state);
  double run_seconds = 0;
  for (auto _ : state) {
    timer.start();
    taskmap::TaskGraph<std::vector<int>> g("parent");
    g.add_task("grow", [&w, &run_seconds](taskmap::Context& ctx) {
      // The results go where the other libraries' tasks put theirs (a vector, by index);
      // each task also returns its value, as a graph task does.
      std::vector<int> out(w.size());
      taskmap::TaskGraph<int> child("child");
      int* const sink = w.sink.data();
      int* const results = out.data();
      for (std::size_t i = 0; i < w.size(); ++i) {
        child.add_task("task_" + std::to_string(i), [sink, results, i, x = w.items[i]] {
          sink[x] = x;
          results[i] = x + 1;
          return x + 1;
        });
      }
      const auto start = std::chrono::steady_clock::now();
      ctx.run(child);
      run_seconds +=
          std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      return out;
    });
    const taskmap::RunSummary summary = thread_pool().run(g, {});
    timer.stop();
    if (!summary.ok() || !w.check(g.result("grow"))) {
      fail(state, "BM_dyn_child: wrong result");
      break;
    }
  }
  timer.report_per_task(w.size());
  state.counters["run_ns_per_task"] =
      run_seconds * 1e9 / static_cast<double>(state.iterations()) / static_cast<double>(w.size());
}

void BM_dyn_static(benchmark::State& state) {
  Work& w = work();
  // Built once the user's way (the point of a static graph), copied before each run.
  taskmap::TaskGraph<int> prototype("static");
  int* const sink = w.sink.data();
  for (std::size_t i = 0; i < w.size(); ++i) {
    prototype.add_task("task_" + std::to_string(i), [sink, x = w.items[i]] {
      sink[x] = x;
      return x + 1;
    });
  }
  bench::Timer timer(state);
  for (auto _ : state) {
    taskmap::TaskGraph<int> g = prototype;
    timer.start();
    const taskmap::RunSummary summary = thread_pool().run(g, {});
    timer.stop();
    std::vector<int> out;
    for (std::size_t i = 0; i < w.size(); ++i) out.push_back(g.result("task_" + std::to_string(i)));
    if (!summary.ok() || !w.check(out)) {
      fail(state, "BM_dyn_static: wrong result");
      break;
    }
  }
  timer.report_per_task(w.size());
}

// ---------------------------------------------------------------------------------------
// Taskflow

#if TASKMAP_BENCH_HAVE_TASKFLOW

tf::Executor& taskflow_executor() {
  static tf::Executor executor(kWorkers);
  return executor;
}

void BM_taskflow_for_each(benchmark::State& state) {
  Work& w = work();
  bench::Timer timer(state);
  for (auto _ : state) {
    timer.start();
    std::vector<int> out(w.size());
    tf::Taskflow taskflow;
    taskflow.for_each_index(
        std::size_t{0}, w.size(), std::size_t{1},
        [items = w.items.data(), sink = w.sink.data(), results = out.data()](std::size_t i) {
          const int x = items[i];
          sink[x] = x;
          results[i] = x + 1;
        });
    taskflow_executor().run(taskflow).wait();
    timer.stop();
    if (!w.check(out)) {
      fail(state, "BM_taskflow_for_each: wrong result");
      break;
    }
  }
  timer.report_per_task(w.size());
}

void BM_taskflow_subflow(benchmark::State& state) {
  Work& w = work();
  bench::Timer timer(state);
  for (auto _ : state) {
    timer.start();
    std::vector<int> out(w.size());
    tf::Taskflow taskflow;
    taskflow.emplace([&w, results = out.data()](tf::Subflow& subflow) {
      int* const sink = w.sink.data();
      for (std::size_t i = 0; i < w.size(); ++i) {
        subflow.emplace([sink, results, i, x = w.items[i]] {
          sink[x] = x;
          results[i] = x + 1;
        });
      }
      subflow.join();
    });
    taskflow_executor().run(taskflow).wait();
    timer.stop();
    if (!w.check(out)) {
      fail(state, "BM_taskflow_subflow: wrong result");
      break;
    }
  }
  timer.report_per_task(w.size());
}

void BM_taskflow_static(benchmark::State& state) {
  Work& w = work();
  std::vector<int> out(w.size());
  tf::Taskflow taskflow;  // built once, as BM_dyn_static's graph
  int* const sink = w.sink.data();
  for (std::size_t i = 0; i < w.size(); ++i) {
    taskflow.emplace([sink, results = out.data(), i, x = w.items[i]] {
      sink[x] = x;
      results[i] = x + 1;
    });
  }
  bench::Timer timer(state);
  for (auto _ : state) {
    timer.start();
    taskflow_executor().run(taskflow).wait();
    timer.stop();
    if (!w.check(out)) {
      fail(state, "BM_taskflow_static: wrong result");
      break;
    }
    std::fill(out.begin(), out.end(), 0);
  }
  timer.report_per_task(w.size());
}

#endif

// ---------------------------------------------------------------------------------------
// oneTBB

#if TASKMAP_BENCH_HAVE_TBB

tbb::task_arena& tbb_arena() {
  static tbb::task_arena arena(static_cast<int>(kWorkers));
  return arena;
}

void BM_tbb_parallel_for(benchmark::State& state) {
  Work& w = work();
  bench::Timer timer(state);
  for (auto _ : state) {
    timer.start();
    std::vector<int> out(w.size());
    tbb_arena().execute([&] {
      tbb::parallel_for(tbb::blocked_range<std::size_t>(0, w.size()),
                        [items = w.items.data(), sink = w.sink.data(),
                         results = out.data()](const tbb::blocked_range<std::size_t>& range) {
                          for (std::size_t i = range.begin(); i != range.end(); ++i) {
                            const int x = items[i];
                            sink[x] = x;
                            results[i] = x + 1;
                          }
                        });
    });
    timer.stop();
    if (!w.check(out)) {
      fail(state, "BM_tbb_parallel_for: wrong result");
      break;
    }
  }
  timer.report_per_task(w.size());
}

void BM_tbb_task_group(benchmark::State& state) {
  Work& w = work();
  bench::Timer timer(state);
  for (auto _ : state) {
    timer.start();
    std::vector<int> out(w.size());
    tbb_arena().execute([&] {
      tbb::task_group group;
      int* const sink = w.sink.data();
      int* const results = out.data();
      for (std::size_t i = 0; i < w.size(); ++i) {
        group.run([sink, results, i, x = w.items[i]] {
          sink[x] = x;
          results[i] = x + 1;
        });
      }
      group.wait();
    });
    timer.stop();
    if (!w.check(out)) {
      fail(state, "BM_tbb_task_group: wrong result");
      break;
    }
  }
  timer.report_per_task(w.size());
}

#endif

void register_all() {
  auto fixed = [](benchmark::internal::Benchmark* b, std::int64_t iterations) {
    b->UseManualTime()->Iterations(iterations)->Unit(benchmark::kMillisecond);
  };
  fixed(benchmark::RegisterBenchmark("BM_dyn_static", BM_dyn_static), kIterations);
  fixed(benchmark::RegisterBenchmark("BM_dyn_map", BM_dyn_map), kIterations);
  fixed(benchmark::RegisterBenchmark("BM_dyn_child", BM_dyn_child), kChildIterations);
#if TASKMAP_BENCH_HAVE_TASKFLOW
  fixed(benchmark::RegisterBenchmark("BM_taskflow_static", BM_taskflow_static), kIterations);
  fixed(benchmark::RegisterBenchmark("BM_taskflow_for_each", BM_taskflow_for_each), kIterations);
  fixed(benchmark::RegisterBenchmark("BM_taskflow_subflow", BM_taskflow_subflow), kIterations);
#endif
#if TASKMAP_BENCH_HAVE_TBB
  fixed(benchmark::RegisterBenchmark("BM_tbb_parallel_for", BM_tbb_parallel_for), kIterations);
  fixed(benchmark::RegisterBenchmark("BM_tbb_task_group", BM_tbb_task_group), kIterations);
#endif
}

}  // namespace

int main(int argc, char** argv) {
  g_options = bench::take_options(argc, argv);
  bench::add_context(g_options);
  benchmark::AddCustomContext("workers", std::to_string(kWorkers));
#if !TASKMAP_BENCH_HAVE_TBB
  std::fprintf(stderr, "taskmap_dynamic_bench: built without oneTBB; its rows are skipped\n");
#endif
#if !TASKMAP_BENCH_HAVE_TASKFLOW
  std::fprintf(stderr, "taskmap_dynamic_bench: built without Taskflow; its rows are skipped\n");
#endif
  register_all();
  return bench::run_benchmarks(argc, argv);
}
