// The stores benchmark (taskmap issue 11, "Performance"): what RunOptions::store costs a run,
// per task, on the four shapes, with SqliteStore and DirectoryStore, next to the same run
// without a store; and the time to find 100,000 recorded tasks up to date and skip them all
// (target: under a second).
//
//   BM_store_none/<shape>                 taskmap::run(g), no store (the reference)
//   BM_store_first/<store>/<shape>        run(g, {.store}) on a fresh, empty store: every task
//                                         runs and is recorded (durable when run returns)
//   BM_store_second/<store>/<shape>       run(g, {.store}) on a store holding every task's
//                                         record, opened anew: every task is up to date
//   BM_store_*_parallel/.../independent   the same three with run_parallel(g, {.ncores = 2})
//   BM_skip_100k/<store>/<shape>          second run of a 100,000-task graph (seconds)
//   BM_skip_100k/none/<shape>             the same graph run without a store
//   BM_open_100k/<store>                  opening the store that holds those 100,000 records
//
// <store> is `sqlite` (one SqliteStore database) or `directory` (DirectoryStore). Every store
// lives in a fresh temporary directory, removed afterwards. Shapes: independent and chain of
// 10,000 tasks, a binary tree of 8,191 (depth 12) and a 100 x 100 wavefront; the 100k rows
// run independent and chain of 100,000. The tasks are the capturing tasks of the other
// benchmarks (bench/shapes.hpp) with no Persistence declared, so each record holds the
// task's name, the digests of the values fed to it and its int value.
//
// Timed (manual time): the run call only, from run(...) to its return. Untimed: building the
// graph the user's way (once per shape; each iteration runs a copy with every task pending,
// as BM_run_sequential of the core benchmark), creating the directory, opening the store,
// the run that fills it before the second-run rows, closing the store and removing the
// directory. The store is opened anew before every second run, as a second process would,
// so nothing a store object remembers from the writing run helps; the operating system's
// page cache is warm. BM_open_100k times the store's constructor alone.
//
// Checks after every iteration: a first run ran every task (each wrote its slot) and
// recorded it; a second run ran none (no slot written), counted every task up to date and
// took the sink's value from the store.
//
// Counters: `tasks`, `ns_per_task`; the 100k rows also `s_per_run`.
//
// Extra flag (see harness.hpp): --sizes=small divides every size by 10, for quick checks.

#include <algorithm>
#include <cstddef>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <system_error>
#include <tuple>
#include <utility>

#include <unistd.h>

#include <benchmark/benchmark.h>

#include <taskmap/directory_store.hpp>
#include <taskmap/sqlite_store.hpp>
#include <taskmap/taskmap.hpp>

#include "harness.hpp"
#include "shapes.hpp"

namespace {

using bench::ShapeId;

bench::Options g_options;

/// Divides a size by 10 under --sizes=small.
std::size_t sized(std::size_t n) { return g_options.sizes == bench::Sizes::small ? n / 10 : n; }

/// A shape of about 10,000 tasks (the per-task rows) or of exactly `n` (the 100k rows).
bench::Shape shape_of(ShapeId id, std::size_t n) {
  switch (id) {
    case ShapeId::independent:
      return bench::independent(n);
    case ShapeId::chain:
      return bench::chain(n);
    case ShapeId::binary_tree:  // 8,191 tasks (1,023 under --sizes=small)
      return bench::binary_tree(n >= 10'000 ? 12 : 9);
    case ShapeId::wavefront:  // 100 x 100 (31 x 31)
      return bench::wavefront(n >= 10'000 ? 100 : 31);
  }
  throw std::logic_error("shape_of: not a ShapeId");
}

/// A shape, its sink and a graph of capturing tasks built the user's way, never run.
struct ShapeData {
  explicit ShapeData(bench::Shape s)
      : shape(std::move(s)),
        sink(bench::make_sink(shape.size())),
        prototype(bench::capturing_graph(shape, sink)) {}
  bench::Shape shape;
  bench::Sink sink;
  taskmap::TaskGraph<int> prototype;
};

/// One ShapeData per (shape, size), built on first use and kept (the largest is 100,000
/// tasks, a few tens of MB).
ShapeData& data_for(ShapeId id, std::size_t n) {
  static std::map<std::pair<ShapeId, std::size_t>, std::unique_ptr<ShapeData>> cache;
  auto& slot = cache[{id, n}];
  if (!slot) slot = std::make_unique<ShapeData>(shape_of(id, n));
  return *slot;
}

/// A fresh directory under the system's temporary directory, removed with its contents.
class TempDir {
 public:
  TempDir() {
    std::string pattern =
        (std::filesystem::temp_directory_path() / "taskmap-store-bench-XXXXXX").string();
    if (mkdtemp(pattern.data()) == nullptr) {
      throw std::system_error(errno, std::generic_category(), "mkdtemp " + pattern);
    }
    path_ = pattern;
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  ~TempDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  [[nodiscard]] const std::filesystem::path& path() const noexcept { return path_; }

 private:
  std::filesystem::path path_;
};

enum class Kind { sqlite, directory };

const char* kind_name(Kind kind) { return kind == Kind::sqlite ? "sqlite" : "directory"; }

/// Opens (creating when missing) the store of `kind` inside `dir`, with the default
/// Durability.
std::unique_ptr<taskmap::RecordStore> open_store(Kind kind, const std::filesystem::path& dir) {
  if (kind == Kind::sqlite) return std::make_unique<taskmap::SqliteStore>(dir / "records.db");
  return std::make_unique<taskmap::DirectoryStore>(dir / "records");
}

enum class Runner { sequential, parallel };

taskmap::RunSummary run_with(Runner runner, taskmap::TaskGraph<int>& g, taskmap::Store* store) {
  if (runner == Runner::parallel) return taskmap::run_parallel(g, {.ncores = 2, .store = store});
  return taskmap::run(g, {.store = store});
}

/// Which run a row measures.
enum class Pass { none, first, second };

/// Empty when the run did what `pass` expects, else what went wrong.
std::string check(Pass pass, const ShapeData& data, const taskmap::TaskGraph<int>& g,
                  const taskmap::RunSummary& summary) {
  const std::size_t n = data.shape.size();
  if (g.result(data.shape.sink()) != data.shape.expected_max) return "wrong result";
  if (pass == Pass::second) {
    if (summary.up_to_date != n || summary.succeeded != 0) return "not every task up to date";
    if (std::any_of(data.sink.begin(), data.sink.end(), [](int v) { return v != -1; })) {
      return "a task ran although up to date";
    }
    return {};
  }
  if (summary.succeeded != n || summary.up_to_date != 0) return "not every task ran";
  if (!bench::sink_complete(data.sink)) return "a task did not run";
  return {};
}

/// Records every task of `data` in a fresh store in `dir` (the state before a second run).
void fill_store(Kind kind, const std::filesystem::path& dir, const ShapeData& data) {
  const std::unique_ptr<taskmap::RecordStore> store = open_store(kind, dir);
  taskmap::TaskGraph<int> g = data.prototype;
  const taskmap::RunSummary summary = taskmap::run(g, {.store = store.get()});
  if (summary.succeeded != data.shape.size()) throw std::runtime_error("fill_store: a task failed");
}

/// A directory holding a store of `kind` with every record of the shape (id, n), filled on
/// first use and kept until the program exits: filling a DirectoryStore takes about a
/// millisecond per record (a file and its fsync), so repetitions share it.
const std::filesystem::path& filled_store(Kind kind, ShapeId id, std::size_t n) {
  static std::map<std::tuple<Kind, ShapeId, std::size_t>, std::unique_ptr<TempDir>> cache;
  auto& slot = cache[{kind, id, n}];
  if (!slot) {
    slot = std::make_unique<TempDir>();
    fill_store(kind, slot->path(), data_for(id, n));
  }
  return slot->path();
}

/// One run per iteration of a copy of the shape's graph, with no store, a fresh empty store
/// (Pass::first) or a store freshly opened over every task's record (Pass::second).
void BM_store(benchmark::State& state, ShapeId id, std::size_t n, Pass pass, Kind kind,
              Runner runner) {
  ShapeData& data = data_for(id, n);
  bench::Timer timer(state);
  const std::filesystem::path* filled = nullptr;
  if (pass == Pass::second) filled = &filled_store(kind, id, n);
  for (auto _ : state) {
    std::unique_ptr<TempDir> fresh;
    std::unique_ptr<taskmap::RecordStore> store;
    if (pass == Pass::first) {
      fresh = std::make_unique<TempDir>();
      store = open_store(kind, fresh->path());
    } else if (pass == Pass::second) {
      store = open_store(kind, *filled);
    }
    std::fill(data.sink.begin(), data.sink.end(), -1);
    taskmap::TaskGraph<int> g = data.prototype;
    timer.start();
    const taskmap::RunSummary summary = run_with(runner, g, store.get());
    timer.stop();
    if (const std::string error = check(pass, data, g, summary); !error.empty()) {
      state.SkipWithError(error.c_str());
      break;
    }
    store.reset();  // closes it before its directory goes
  }
  timer.report_per_task(data.shape.size());
  if (n >= sized(100'000)) state.counters["s_per_run"] = timer.mean();
}

/// The constructor of a store over a directory that holds every record of the 100k chain.
void BM_open(benchmark::State& state, Kind kind) {
  const std::filesystem::path& dir = filled_store(kind, ShapeId::chain, sized(100'000));
  bench::Timer timer(state);
  for (auto _ : state) {
    timer.start();
    std::unique_ptr<taskmap::RecordStore> store = open_store(kind, dir);
    timer.stop();
    benchmark::DoNotOptimize(store.get());
  }
  state.counters["s_per_open"] = timer.mean();
}

void register_all() {
  auto common = [](benchmark::internal::Benchmark* b) {
    b->UseManualTime()->Unit(benchmark::kMillisecond);
  };
  const std::size_t per_task = sized(10'000);
  const auto name = [](const std::string& family, const char* kind, ShapeId id) {
    return family + "/" + kind + "/" + bench::shape_name(id);
  };
  // Iteration counts are fixed: the untimed part (a fresh store, or opening one) is slow
  // next to a run, and a first run with DirectoryStore takes seconds (a file and an fsync
  // per record), so it runs once per repetition.
  const auto runs = [](Kind kind, Pass pass) {
    return kind == Kind::directory && pass == Pass::first ? 1 : 10;
  };
  for (const ShapeId id : bench::all_shapes) {
    common(benchmark::RegisterBenchmark(
               (std::string("BM_store_none/") + bench::shape_name(id)).c_str(), BM_store, id,
               per_task, Pass::none, Kind::sqlite, Runner::sequential)
               ->Iterations(100));
    for (const Kind kind : {Kind::sqlite, Kind::directory}) {
      for (const Pass pass : {Pass::first, Pass::second}) {
        const char* family = pass == Pass::first ? "BM_store_first" : "BM_store_second";
        common(benchmark::RegisterBenchmark(name(family, kind_name(kind), id).c_str(), BM_store, id,
                                            per_task, pass, kind, Runner::sequential)
                   ->Iterations(runs(kind, pass)));
      }
    }
  }
  common(benchmark::RegisterBenchmark("BM_store_none_parallel/independent", BM_store,
                                      ShapeId::independent, per_task, Pass::none, Kind::sqlite,
                                      Runner::parallel)
             ->Iterations(100));
  for (const Kind kind : {Kind::sqlite, Kind::directory}) {
    for (const Pass pass : {Pass::first, Pass::second}) {
      const char* family =
          pass == Pass::first ? "BM_store_first_parallel" : "BM_store_second_parallel";
      common(benchmark::RegisterBenchmark(
                 name(family, kind_name(kind), ShapeId::independent).c_str(), BM_store,
                 ShapeId::independent, per_task, pass, kind, Runner::parallel)
                 ->Iterations(runs(kind, pass)));
    }
  }
  const std::size_t big = sized(100'000);
  for (const ShapeId id : {ShapeId::independent, ShapeId::chain}) {
    common(benchmark::RegisterBenchmark(name("BM_skip_100k", "none", id).c_str(), BM_store, id, big,
                                        Pass::none, Kind::sqlite, Runner::sequential)
               ->Iterations(10));
    for (const Kind kind : {Kind::sqlite, Kind::directory}) {
      common(benchmark::RegisterBenchmark(name("BM_skip_100k", kind_name(kind), id).c_str(),
                                          BM_store, id, big, Pass::second, kind, Runner::sequential)
                 ->Iterations(3));
    }
  }
  for (const Kind kind : {Kind::sqlite, Kind::directory}) {
    common(benchmark::RegisterBenchmark((std::string("BM_open_100k/") + kind_name(kind)).c_str(),
                                        BM_open, kind)
               ->Iterations(3));
  }
}

}  // namespace

int main(int argc, char** argv) {
  g_options = bench::take_options(argc, argv);
  bench::add_context(g_options);
  register_all();
  return bench::run_benchmarks(argc, argv);
}
