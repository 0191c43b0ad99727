// MpiExecutor under a real MPI launcher (ctest runs this program through mpirun with 3 ranks,
// oversubscribed on a small machine). Every case runs on every rank, collectively, with one
// and with two task threads per rank. A check that fails prints its rank, case and line; the
// program exits non-zero when any rank saw a failure. Not Catch2: a test framework's output
// and exit on one rank would leave the others waiting in the run.

#include <taskmap/mpi.hpp>
#include <taskmap/taskmap.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <memory>
#include <optional>
#include <random>
#include <set>
#include <stdexcept>
#include <stop_token>
#include <string>
#include <thread>
#include <vector>

// A value whose codec refuses some values: crossing ranks fails the task that made it.
struct Fragile {
  long value = 0;
};

template <>
struct taskmap::Codec<Fragile> {
  static constexpr std::string_view name = "mpi_test::Fragile/1";
  static void encode(taskmap::ByteWriter& out, const Fragile& f) {
    if (f.value < 0) throw std::runtime_error("cannot encode a negative Fragile");
    out.write(f.value);
  }
  static Fragile decode(taskmap::ByteReader& in) { return {in.read<long>()}; }
};

using namespace taskmap;
using namespace std::chrono_literals;

#if defined(__SANITIZE_ADDRESS__)  // g++
#define TASKMAP_TEST_ASAN 1
#elif defined(__has_feature)  // clang
#if __has_feature(address_sanitizer)
#define TASKMAP_TEST_ASAN 1
#endif
#endif
#ifdef TASKMAP_TEST_ASAN
// MPI unloads its plugins (mca_*.so) in MPI_Finalize, after which LeakSanitizer cannot name
// the library that kept memory until exit, so cmake/mpi_lsan.supp could not suppress it. In
// this program no library is ever unloaded: MPI's leaks keep their names, taskmap's are
// still reported.
extern "C" int dlclose(void*) { return 0; }
#endif

namespace {

int failures = 0;
const char* current_case = "";
std::size_t current_threads = 1;

void report_failure(const char* what, int line) {
  ++failures;
  std::fprintf(stderr, "FAILED on rank %d, case '%s' (%zu threads per rank), line %d: %s\n",
               MpiSession::rank(), current_case, current_threads, line, what);
}

#define CHECK(condition)                                    \
  do {                                                      \
    if (!(condition)) report_failure(#condition, __LINE__); \
  } while (false)

int rank() { return MpiSession::rank(); }
int ranks() { return MpiSession::ranks(); }

// Rank 0's `text`, on every rank.
std::string from_root(std::string text) {
  detail::mpi_broadcast(MPI_COMM_WORLD, 0, text);
  return text;
}

// Each task's status (and value, when it has one) in one line, to compare across ranks.
std::string state_of(const TaskGraph<long>& g) {
  std::string text;
  for (const std::string& name : g.tasks()) {
    text += name + "=" + std::string(to_string(g.status(name)));
    if (g.status(name) == TaskStatus::done && g.has_result(name)) {
      text += ":" + std::to_string(g.result(name));
    }
    text += ";";
  }
  return text;
}

template <class T>
std::string state_of_statuses(const TaskGraph<T>& g) {
  std::string text;
  for (const std::string& name : g.tasks())
    text += name + "=" + std::string(to_string(g.status(name))) + ";";
  return text;
}

// The worker's rank: worker ids are rank * threads + thread.
int rank_of(const Context& ctx) { return static_cast<int>(ctx.worker_id() / current_threads); }

void diamond(MpiExecutor& mpi) {
  auto g = create_graph<long>({{"a", [] { return 5L; }},
                               {"b", [](long a) { return a + 10; }},
                               {"c", [](long a) { return a * 3; }},
                               {"d", [](long b, long c) { return b + c + 20; }}},
                              {{"a", {}}, {"b", {"a"}}, {"c", {"a"}}, {"d", {"b", "c"}}});
  const RunSummary summary = mpi.run(g);
  CHECK(summary.succeeded == 4);
  CHECK(summary.ok());
  CHECK(g.result("d") == 15 + 15 + 20);
  CHECK(state_of(g) == from_root(state_of(g)));
  // A second run has nothing to do: every task is done on every rank.
  CHECK(mpi.run(g).succeeded == 0);
}

// The first tasks started fill every task thread of every rank at once, so each rank runs
// some: each task sleeps long enough for the scheduler to hand out the rest first.
void spreads_over_ranks(MpiExecutor& mpi) {
  FuncMap<long> funcs;
  DependencyMap deps;
  const std::size_t count = mpi.max_workers() * 2;
  for (std::size_t i = 0; i < count; ++i) {
    const std::string name = "t" + std::to_string(i);
    funcs.emplace(name, [](Context& ctx) {
      std::this_thread::sleep_for(100ms);
      return static_cast<long>(ctx.worker_id());
    });
    deps.emplace(name, std::vector<std::string>{});
  }
  auto g = create_graph<long>(std::move(funcs), std::move(deps));
  CHECK(mpi.run(g).succeeded == count);
  std::set<long> workers;
  for (const std::string& name : g.tasks()) workers.insert(g.result(name));
  CHECK(workers.size() == mpi.max_workers());
  CHECK(state_of(g) == from_root(state_of(g)));
}

// Tasks that throw when they run on rank 2 (the last rank when there are fewer): the task
// fails there, its dependent is skipped, every rank sees the same, and the rank it threw on
// keeps the exception itself while the others hold a RemoteTaskError.
TaskGraph<long> throws_on_last_rank(std::size_t tasks) {
  FuncMap<long> funcs;
  DependencyMap deps;
  const int bad_rank = std::min(2, ranks() - 1);
  for (std::size_t i = 0; i < tasks; ++i) {
    const std::string name = "t" + std::to_string(i);
    funcs.emplace(name, [bad_rank](Context& ctx) -> long {
      std::this_thread::sleep_for(50ms);
      if (rank_of(ctx) == bad_rank) throw std::runtime_error("boom on the last rank");
      return 1;
    });
    deps.emplace(name, std::vector<std::string>{});
    funcs.emplace("after_" + name, [](long x) { return x + 1; });
    deps.emplace("after_" + name, std::vector<std::string>{name});
  }
  return create_graph<long>(std::move(funcs), std::move(deps));
}

void failure_on_a_rank(MpiExecutor& mpi) {
  auto g = throws_on_last_rank(mpi.max_workers());
  const RunSummary summary = mpi.run(g);
  CHECK(summary.failed >= 1);
  CHECK(summary.skipped == summary.failed);
  CHECK(state_of(g) == from_root(state_of(g)));
  const int bad_rank = std::min(2, ranks() - 1);
  for (std::size_t i = 0; i < mpi.max_workers(); ++i) {
    const std::string name = "t" + std::to_string(i);
    if (g.status(name) != TaskStatus::failed) continue;
    const std::exception_ptr error = g.error(name);
    if (rank() == bad_rank) {
      bool original = false;
      try {
        std::rethrow_exception(error);
      } catch (const RemoteTaskError&) {
      } catch (const std::runtime_error& e) {
        original = std::string(e.what()) == "boom on the last rank";
      }
      CHECK(original);
    } else {
      bool remote = false;
      try {
        std::rethrow_exception(error);
      } catch (const RemoteTaskError& e) {
        remote = e.task() == name && e.type_name() == "std::runtime_error" &&
                 e.message() == "boom on the last rank" &&
                 std::string(e.what()).find("on MPI rank " + std::to_string(bad_rank)) !=
                     std::string::npos;
      } catch (...) {
      }
      CHECK(remote);
    }
    CHECK(g.status("after_" + name) == TaskStatus::skipped);
    bool ancestor = false;
    try {
      std::rethrow_exception(g.error("after_" + name));
    } catch (const AncestorFailed& e) {
      ancestor = e.ancestor() == name;
    } catch (...) {
    }
    CHECK(ancestor);
  }
}

void raise_errors_everywhere(MpiExecutor& mpi) {
  auto g = throws_on_last_rank(mpi.max_workers());
  std::string raised;
  try {
    mpi.run(g, {.raise_errors = true});
  } catch (const TaskError& e) {
    raised = e.task();
  }
  CHECK(!raised.empty());
  CHECK(raised == from_root(raised));
}

// A random DAG with failures, run on the ranks and by SequentialExecutor in this process: the
// same statuses and values.
void random_dag_matches_sequential(MpiExecutor& mpi) {
  const auto build = [] {
    std::mt19937 random(12345);  // the same graph on every rank
    FuncMap<long> funcs;
    DependencyMap deps;
    const int count = 300;
    for (int i = 0; i < count; ++i) {
      std::vector<std::string> mine;
      const int wanted = i == 0 ? 0 : static_cast<int>(random() % 4);
      for (int k = 0; k < wanted; ++k)
        mine.push_back("n" + std::to_string(random() % static_cast<unsigned>(i)));
      std::sort(mine.begin(), mine.end());
      mine.erase(std::unique(mine.begin(), mine.end()), mine.end());
      funcs.emplace("n" + std::to_string(i), [i](std::span<const long> inputs) -> long {
        if (i % 41 == 7) throw std::runtime_error("task " + std::to_string(i) + " fails");
        long sum = i;
        for (const long v : inputs) sum = (sum * 31 + v) % 1000003;
        return sum;
      });
      deps.emplace("n" + std::to_string(i), std::move(mine));
    }
    return create_graph<long>(std::move(funcs), std::move(deps));
  };
  auto on_ranks = build();
  auto reference = build();
  const RunSummary mine = mpi.run(on_ranks);
  const RunSummary expected = SequentialExecutor().run(reference);
  CHECK(mine.succeeded == expected.succeeded);
  CHECK(mine.failed == expected.failed);
  CHECK(mine.skipped == expected.skipped);
  CHECK(state_of(on_ranks) == state_of(reference));
  // Rerun after a reset: only the reset tasks and their dependents run again, fed values
  // that other ranks computed in the first run.
  reset_tasks(on_ranks, std::vector<std::string>{"n3"});
  reset_tasks(reference, std::vector<std::string>{"n3"});
  const RunSummary again = mpi.run(on_ranks);
  const RunSummary again_expected = SequentialExecutor().run(reference);
  CHECK(again.succeeded == again_expected.succeeded);
  CHECK(state_of(on_ranks) == state_of(reference));
}

void values_on_root_only(MpiExecutor& mpi) {
  mpi.set_results(MpiResults::root_only);
  auto g = create_graph<long>({{"a", [] { return 2L; }}, {"b", [](long a) { return a * 21; }}},
                              {{"a", {}}, {"b", {"a"}}});
  mpi.run(g);
  mpi.set_results(MpiResults::everywhere);
  CHECK(g.status("b") == TaskStatus::done);
  CHECK(g.has_result("b") == (rank() == 0));
  if (rank() == 0) CHECK(g.result("b") == 42);
  // A later run on every rank still feeds b's value to a new task wherever it runs.
  g.add_task("c", [](long b) { return b + 1; }, {"b"});
  mpi.run(g);
  CHECK(g.result("c") == 43);
}

void graphs_that_differ_are_refused(MpiExecutor& mpi) {
  auto g = create_graph<long>({{"a", [] { return 1L; }}}, {{"a", {}}});
  if (rank() == 1 % ranks()) g.add_task("only_here", [] { return 2L; });
  std::string message;
  try {
    mpi.run(g);
  } catch (const Error& e) {
    message = e.what();
  }
  if (ranks() > 1) {
    CHECK(message.find("MPI rank 1") != std::string::npos);
    CHECK(message.find("same graph") != std::string::npos);
    CHECK(g.status("a") == TaskStatus::pending);
  }
}

void stop_before_the_run(MpiExecutor& mpi) {
  auto g = create_graph<long>({{"a", [] { return 1L; }}, {"b", [](long a) { return a; }}},
                              {{"a", {}}, {"b", {"a"}}});
  std::stop_source stop;
  stop.request_stop();
  const RunSummary summary = mpi.run(g, {.stop_token = stop.get_token()});
  CHECK(summary.cancelled == 2);
  CHECK(g.status("a") == TaskStatus::cancelled);
  CHECK(g.status("b") == TaskStatus::cancelled);
}

// One task per task thread of every rank, each waiting (up to 20 s) for the stop; rank 0's
// observer asks for it once all have started, so the ranks' tasks learn of it only through
// the relay. Each returns whether it saw it; the task after them is cancelled.
struct StopWhenAllStarted : Observer {
  StopWhenAllStarted(std::stop_source& s, std::size_t n) : stop(s), count(n) {}
  void on_event(const TaskEvent& event) override {
    if (event.kind == EventKind::started && ++started == count) stop.request_stop();
  }
  std::stop_source& stop;
  std::size_t count;
  std::size_t started = 0;
};

void stop_reaches_every_rank(MpiExecutor& mpi) {
  FuncMap<long> funcs;
  DependencyMap deps;
  const std::size_t count = mpi.max_workers();
  std::vector<std::string> waiting;
  for (std::size_t i = 0; i < count; ++i) {
    const std::string name = "w" + std::to_string(i);
    funcs.emplace(name, [](Context& ctx) {
      const auto until = std::chrono::steady_clock::now() + 20s;
      while (!ctx.stop_requested() && std::chrono::steady_clock::now() < until) {
        std::this_thread::sleep_for(1ms);
      }
      return ctx.stop_requested() ? 1L : 0L;
    });
    deps.emplace(name, std::vector<std::string>{});
    waiting.push_back(name);
  }
  funcs.emplace("after", [](std::span<const long> xs) { return static_cast<long>(xs.size()); });
  deps.emplace("after", waiting);
  auto g = create_graph<long>(std::move(funcs), std::move(deps));
  std::stop_source stop;
  const RunSummary summary =
      mpi.run(g, {.stop_token = stop.get_token(),
                  .observers = {std::make_shared<StopWhenAllStarted>(stop, count)}});
  CHECK(summary.succeeded == count);
  CHECK(summary.cancelled == 1);
  for (const std::string& name : waiting) CHECK(g.result(name) == 1);
  CHECK(g.status("after") == TaskStatus::cancelled);
  CHECK(state_of(g) == from_root(state_of(g)));
}

void fail_fast_starts_nothing_more(MpiExecutor& mpi) {
  FuncMap<long> funcs{{"bad", []() -> long { throw std::runtime_error("bad"); }}};
  DependencyMap deps{{"bad", {}}};
  std::string previous = "bad";
  for (int i = 0; i < 20; ++i) {  // a chain that waits on the failure's start
    const std::string name = "c" + std::to_string(i);
    funcs.emplace(name, [](std::span<const long>) {
      std::this_thread::sleep_for(50ms);
      return 1L;
    });
    deps.emplace(name, i == 0 ? std::vector<std::string>{} : std::vector<std::string>{previous});
    previous = name;
  }
  auto g = create_graph<long>(std::move(funcs), std::move(deps));
  const RunSummary summary = mpi.run(g, {.fail_fast = true});
  CHECK(summary.failed == 1);
  CHECK(summary.succeeded < 20);
  CHECK(g.status("c19") == TaskStatus::pending);  // fail_fast leaves unstarted tasks pending
  CHECK(state_of(g) == from_root(state_of(g)));
}

void trigger_rule_after_a_failure(MpiExecutor& mpi) {
  auto g = create_graph<long>(
      {{"ok", [] { return 4L; }},
       {"bad", []() -> long { throw std::runtime_error("bad"); }},
       {"report", [](std::optional<long> ok,
                     std::optional<long> bad) { return ok.value_or(100) + bad.value_or(100); }}},
      {{"ok", {}}, {"bad", {}}, {"report", {"ok", "bad"}}},
      {.triggers = {{"report", Trigger::all_done()}}});
  mpi.run(g);
  CHECK(g.status("report") == TaskStatus::done);
  CHECK(g.result("report") == 104);
}

void strings_and_coroutines(MpiExecutor& mpi) {
  const std::string big(1 << 20, 'x');
  auto g = create_graph<std::string>(
      {{"big", [&] { return big; }},
       {"size", [](const std::string& s) { return std::to_string(s.size()); }},
       {"co", []() -> Task<std::string> { co_return "from a coroutine"; }},
       {"name",
        [](Context& ctx) {
          return std::string(ctx.graph_name()) + "/" + std::string(ctx.name());
        }}},
      {{"big", {}}, {"size", {"big"}}, {"co", {}}, {"name", {}}}, {.name = "strings"});
  mpi.run(g);
  CHECK(g.result("big") == big);
  CHECK(g.result("size") == std::to_string(big.size()));
  CHECK(g.result("co") == "from a coroutine");
  CHECK(g.result("name") == "strings/name");
}

// A value that cannot become bytes fails the task that made it, wherever it ran, and the run
// goes on (no rank is left waiting for a reply that was never sent).
void a_value_that_cannot_cross(MpiExecutor& mpi) {
  FuncMap<Fragile> funcs;
  DependencyMap deps;
  for (std::size_t i = 0; i < mpi.max_workers() * 2; ++i) {
    const std::string name = "f" + std::to_string(i);
    funcs.emplace(name, [i] {
      std::this_thread::sleep_for(20ms);
      return Fragile{i % 2 == 0 ? -1L : static_cast<long>(i)};
    });
    deps.emplace(name, std::vector<std::string>{});
    funcs.emplace("use_" + name, [](const Fragile& f) { return Fragile{f.value + 1}; });
    deps.emplace("use_" + name, std::vector<std::string>{name});
  }
  auto g = create_graph<Fragile>(std::move(funcs), std::move(deps));
  const RunSummary summary = mpi.run(g);
  CHECK(summary.succeeded + summary.failed + summary.skipped == g.size());
  for (std::size_t i = 1; i < mpi.max_workers() * 2; i += 2) {
    CHECK(g.result("use_f" + std::to_string(i)).value == static_cast<long>(i) + 1);
  }
  // Every even task fails, also on rank 0 where no bytes were needed to run its dependent,
  // and names the codec's complaint.
  for (std::size_t i = 0; i < mpi.max_workers() * 2; i += 2) {
    const std::string name = "f" + std::to_string(i);
    CHECK(g.status(name) == TaskStatus::failed);
    bool named = false;
    try {
      std::rethrow_exception(g.error(name));
    } catch (const std::exception& e) {
      named = std::string(e.what()).find("cannot encode a negative Fragile") != std::string::npos;
    }
    CHECK(named);
    CHECK(g.status("use_" + name) == TaskStatus::skipped);
  }
  CHECK(summary.failed == mpi.max_workers());
  CHECK(state_of_statuses(g) == from_root(state_of_statuses(g)));
}

struct Counting : Observer {
  int started = 0;
  std::set<std::size_t> workers;
  void on_event(const TaskEvent& event) override {
    if (event.kind != EventKind::started) return;
    ++started;
    workers.insert(event.worker);
  }
};

void observers_on_rank_zero(MpiExecutor& mpi) {
  auto g = create_graph<long>({{"a", [] { return 1L; }}, {"b", [](long a) { return a + 1; }}},
                              {{"a", {}}, {"b", {"a"}}});
  auto counting = std::make_shared<Counting>();
  mpi.run(g, {.observers = {counting}});
  CHECK(counting->started == (rank() == 0 ? 2 : 0));
  CHECK(g.result("b") == 2);
}

}  // namespace

int main(int argc, char** argv) {
  MpiSession session(argc, argv);
  const std::vector<std::pair<const char*, void (*)(MpiExecutor&)>> cases{
      {"diamond", diamond},
      {"spreads over ranks", spreads_over_ranks},
      {"failure on a rank", failure_on_a_rank},
      {"raise_errors everywhere", raise_errors_everywhere},
      {"random DAG matches sequential", random_dag_matches_sequential},
      {"values on root only", values_on_root_only},
      {"graphs that differ are refused", graphs_that_differ_are_refused},
      {"stop before the run", stop_before_the_run},
      {"a stop reaches every rank", stop_reaches_every_rank},
      {"fail_fast starts nothing more", fail_fast_starts_nothing_more},
      {"trigger rule after a failure", trigger_rule_after_a_failure},
      {"strings and coroutines", strings_and_coroutines},
      {"observers on rank 0", observers_on_rank_zero},
      {"a value that cannot cross", a_value_that_cannot_cross},
  };
  for (const std::size_t threads : {std::size_t{1}, std::size_t{2}}) {
    MpiExecutor mpi(MPI_COMM_WORLD, threads);
    current_threads = threads;
    for (const auto& [name, run] : cases) {
      current_case = name;
      if (rank() == 0) std::printf("case '%s', %zu threads per rank\n", name, threads);
      run(mpi);
    }
  }
  int all = 0;
  MPI_Allreduce(&failures, &all, 1, MPI_INT, MPI_SUM, MPI_COMM_WORLD);
  if (rank() == 0) std::printf("%d failed checks over %d ranks\n", all, ranks());
  return all == 0 ? 0 : 1;
}
