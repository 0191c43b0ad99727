// Executors that run tasks in other processes (issue 13): what a task costs when it crosses a
// process boundary, and the speed-up of CPU-bound tasks. Built twice:
//   taskmap_process_bench  ProcessPoolExecutor (and ThreadPoolExecutor in the same binary,
//                          for reference) on the four shapes and on 64 tasks of 10 ms CPU
//                          at 1 and 2 workers;
//   taskmap_mpi_bench      (when MPI is found) MpiExecutor on the same, under mpirun:
//                          `mpirun -np N taskmap_mpi_bench`, for N = 1, 2, 3.
// Not Google Benchmark: an MPI run is collective, every rank must make the same calls, and
// one run of a few thousand tasks is already long. Each row is the median of `--repeat` runs
// (default 3) of a graph built the way user code builds it (maps filled in a loop, one
// capturing lambda per task) and timed from filling the maps to the end of run(); printed by
// the calling process (rank 0). `--quick`: about 10 times fewer tasks per shape.

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include <taskmap/taskmap.hpp>

#include "shapes.hpp"

#ifdef TASKMAP_BENCH_MPI
#include <taskmap/mpi.hpp>
#else
#include <taskmap/executors/process_pool.hpp>
#endif

namespace {

using Clock = std::chrono::steady_clock;

// A fixed amount of CPU work: `rounds` rounds of arithmetic the compiler cannot drop. Fixed
// work, not a fixed time: a task that spun for 10 ms of wall time would take 10 ms however
// many tasks shared a core, and oversubscribed ranks would look faster than the machine.
long work(long rounds) {
  std::uint64_t x = static_cast<std::uint64_t>(rounds);  // unsigned: wraps, never overflows
  for (long i = 0; i < rounds; ++i) {
    for (int k = 0; k < 1000; ++k) x = x * 6364136223846793005ULL + 1442695040888963407ULL;
  }
  return static_cast<long>(x & 1);
}

// The rounds of work() that take about 10 ms on one core of this machine (measured before
// the run, alone: the fastest of a few tries).
long rounds_for_10ms() {
  const long probe = 2000;
  double best = 1e9;
  for (int i = 0; i < 5; ++i) {
    const auto start = Clock::now();
    volatile long sink = work(probe);
    static_cast<void>(sink);
    best = std::min(best, std::chrono::duration<double>(Clock::now() - start).count());
  }
  return std::max(1L, static_cast<long>(static_cast<double>(probe) * 0.010 / best));
}

// The shapes at sizes a process boundary can take in a few seconds (the thread executors'
// benchmarks use 10 to 100 times more tasks).
std::vector<bench::Shape> shapes(bool quick) {
  return {bench::independent(quick ? 2000 : 20000), bench::chain(quick ? 500 : 5000),
          bench::binary_tree(quick ? 10 : 13), bench::wavefront(quick ? 40 : 100)};
}

// The user's way: fresh maps filled in one loop, each task a lambda capturing a small value.
taskmap::TaskGraph<int> build(const bench::Shape& s) {
  taskmap::FuncMap<int> funcs;
  taskmap::DependencyMap deps;
  for (std::size_t i = 0; i < s.size(); ++i) {
    const int k = static_cast<int>(i % 7);
    switch (s.deps[i].size()) {
      case 0:
        funcs.emplace(s.names[i], [k] { return 1 + k * 0; });
        break;
      case 1:
        funcs.emplace(s.names[i], [k](int x) { return x + 1 + k * 0; });
        break;
      default:
        funcs.emplace(s.names[i], [k](int a, int b) { return std::max(a, b) + 1 + k * 0; });
        break;
    }
    std::vector<std::string> names;
    for (const std::uint32_t d : s.deps[i]) names.push_back(s.names[d]);
    deps.emplace(s.names[i], std::move(names));
  }
  return taskmap::create_graph<int>(std::move(funcs), std::move(deps));
}

taskmap::TaskGraph<int> cpu_bound(std::size_t tasks, long rounds) {
  taskmap::FuncMap<int> funcs;
  taskmap::DependencyMap deps;
  for (std::size_t i = 0; i < tasks; ++i) {
    funcs.emplace("cpu_" + std::to_string(i), [rounds] { return static_cast<int>(work(rounds)); });
    deps.emplace("cpu_" + std::to_string(i), std::vector<std::string>{});
  }
  return taskmap::create_graph<int>(std::move(funcs), std::move(deps));
}

double median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  return values[values.size() / 2];
}

// Seconds from building the graph to the end of the run, median of `repeat`; checks the
// result so a broken run cannot look fast.
template <class Run>
double time_shape(const bench::Shape& s, int repeat, Run&& run) {
  std::vector<double> seconds;
  for (int r = 0; r < repeat; ++r) {
    const auto start = Clock::now();
    auto g = build(s);
    run(g);
    seconds.push_back(std::chrono::duration<double>(Clock::now() - start).count());
    if (!g.has_result(s.sink()) || g.result(s.sink()) != s.expected_max) {
      std::fprintf(stderr, "%s: wrong result\n", s.label.c_str());
      std::exit(1);
    }
  }
  return median(seconds);
}

template <class Run>
double time_cpu(std::size_t tasks, long rounds, int repeat, Run&& run) {
  std::vector<double> seconds;
  for (int r = 0; r < repeat; ++r) {
    const auto start = Clock::now();
    auto g = cpu_bound(tasks, rounds);
    const taskmap::RunSummary summary = run(g);
    seconds.push_back(std::chrono::duration<double>(Clock::now() - start).count());
    if (summary.succeeded != tasks) {
      std::fprintf(stderr, "cpu-bound run: %zu of %zu succeeded\n", summary.succeeded, tasks);
      std::exit(1);
    }
  }
  return median(seconds);
}

struct Args {
  int repeat = 3;
  bool quick = false;
};

Args parse(int argc, char** argv) {
  Args args;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg.rfind("--repeat=", 0) == 0) args.repeat = std::max(1, std::atoi(argv[i] + 9));
    if (arg == "--quick") args.quick = true;
  }
  return args;
}

}  // namespace

#ifdef TASKMAP_BENCH_MPI

int main(int argc, char** argv) {
  taskmap::MpiSession session(argc, argv);
  const Args args = parse(argc, argv);
  taskmap::MpiExecutor mpi;  // one task thread per rank
  const bool root = mpi.rank() == 0;
  if (root) {
    std::printf("MpiExecutor, %d rank(s), 1 task thread each, median of %d\n", mpi.ranks(),
                args.repeat);
    std::printf("%-12s %8s %12s\n", "shape", "tasks", "us/task");
  }
  for (const bench::Shape& s : shapes(args.quick)) {
    const double seconds = time_shape(s, args.repeat, [&](auto& g) { mpi.run(g); });
    if (root) {
      std::printf("%-12s %8zu %12.2f\n", s.label.c_str(), s.size(),
                  seconds * 1e6 / static_cast<double>(s.size()));
    }
  }
  // Every rank works with rank 0's measure of 10 ms, so the graphs are alike.
  long rounds = root ? rounds_for_10ms() : 0;
  MPI_Bcast(&rounds, 1, MPI_LONG, 0, MPI_COMM_WORLD);
  const std::size_t cpu_tasks = 48;
  const double cpu = time_cpu(cpu_tasks, rounds, args.repeat, [&](auto& g) { return mpi.run(g); });
  if (root) {
    std::printf("%zu tasks of 10 ms CPU each: %.3f s, speed-up %.2fx over one core\n", cpu_tasks,
                cpu, static_cast<double>(cpu_tasks) * 0.010 / cpu);
  }
  return 0;
}

#else

int main(int argc, char** argv) {
  const Args args = parse(argc, argv);
  std::printf("ProcessPoolExecutor against ThreadPoolExecutor, 2 workers, median of %d\n",
              args.repeat);
  std::printf("%-12s %8s %16s %16s\n", "shape", "tasks", "process us/task", "thread us/task");
  taskmap::ProcessPoolExecutor processes(2);
  taskmap::ThreadPoolExecutor threads(2);
  for (const bench::Shape& s : shapes(args.quick)) {
    const double p = time_shape(s, args.repeat, [&](auto& g) { processes.run(g); });
    const double t = time_shape(s, args.repeat, [&](auto& g) { threads.run(g); });
    std::printf("%-12s %8zu %16.2f %16.3f\n", s.label.c_str(), s.size(),
                p * 1e6 / static_cast<double>(s.size()), t * 1e6 / static_cast<double>(s.size()));
  }
  const std::size_t cpu_tasks = 64;
  const long rounds = rounds_for_10ms();
  taskmap::ProcessPoolExecutor one(1);
  const double t1 = time_cpu(cpu_tasks, rounds, args.repeat, [&](auto& g) { return one.run(g); });
  const double t2 =
      time_cpu(cpu_tasks, rounds, args.repeat, [&](auto& g) { return processes.run(g); });
  std::printf("%zu tasks of 10 ms CPU: 1 worker %.3f s, 2 workers %.3f s, speed-up %.2fx\n",
              cpu_tasks, t1, t2, t1 / t2);
  return 0;
}

#endif
