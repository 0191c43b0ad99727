// Runs over real stores shared by processes. Two processes run graphs over one store at once.
// Crash safety: a child process runs a graph with the store and is
// killed with SIGKILL at a random moment, 50 times per store (12 under sanitizers). After each
// kill, a resumed run in this process (which opens the store only once the child is dead) must:
//   - redo exactly the tasks explain() does not call up to date, and nothing else;
//   - redo no task that finished well before the kill (its record was durable by then);
//   - load no torn record, and end with every value equal to a clean run's.

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <taskmap/directory_store.hpp>
#include <taskmap/taskmap.hpp>
#if TASKMAP_TEST_HAVE_SQLITE
#include <taskmap/sqlite_store.hpp>
#endif

#include "catch.hpp"
#include "test_support.hpp"

using namespace taskmap;
using taskmap_test::TempDir;

namespace {

// Under sanitizers each kill-and-resume round takes seconds.
constexpr int kRounds = taskmap_test::kSanitized ? 12 : 50;
constexpr int kTasks = 60;
constexpr auto kTaskTime = std::chrono::milliseconds(8);
// A record is durable within max_delay; one finished this long before the kill must be.
constexpr auto kDurableDelay = std::chrono::milliseconds(20);
constexpr auto kDurableSlack = std::chrono::milliseconds(250);

std::int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

std::string task_name(int i) { return "t" + std::to_string(i); }

// t_i depends on t_{i-1} and t_{i/2}; each appends "<name> <finish time>" to `log` as it
// returns (one write on an O_APPEND descriptor: lines never interleave).
TaskGraph<std::int64_t> make_graph(const std::string& log) {
  std::vector<std::pair<std::string, TaskFn<std::int64_t>>> funcs;
  std::vector<std::pair<std::string, std::vector<std::string>>> deps;
  for (int i = 0; i < kTasks; ++i) {
    funcs.emplace_back(task_name(i), [i, log](std::span<const std::int64_t> inputs) {
      std::this_thread::sleep_for(kTaskTime);
      // Unsigned: the sums wrap instead of overflowing (UBSan).
      std::uint64_t value = static_cast<std::uint64_t>(i);
      for (const std::int64_t input : inputs)
        value = value * 31 + static_cast<std::uint64_t>(input);
      const int fd = ::open(log.c_str(), O_WRONLY | O_APPEND | O_CREAT, 0644);
      const std::string line = task_name(i) + " " + std::to_string(now_ns()) + "\n";
      if (fd >= 0) {
        static_cast<void>(::write(fd, line.data(), line.size()));
        ::close(fd);
      }
      return static_cast<std::int64_t>(value);
    });
    std::vector<std::string> on;
    if (i > 0) on.push_back(task_name(i - 1));
    if (i > 1 && i / 2 != i - 1) on.push_back(task_name(i / 2));
    deps.emplace_back(task_name(i), std::move(on));
  }
  return create_graph<std::int64_t>(std::move(funcs), std::move(deps));
}

// name -> finish time, from a log.
std::map<std::string, std::int64_t> read_log(const std::string& log) {
  std::map<std::string, std::int64_t> finished;
  std::ifstream in(log);
  std::string name;
  std::int64_t time = 0;
  while (in >> name >> time) finished[name] = time;
  return finished;
}

template <class Store>
void crash_and_resume(const std::string& kind) {
  auto clean = make_graph("/dev/null");
  run_parallel(clean, {.ncores = 2});
  const ResultMap<std::int64_t> expected = clean.results();

  std::mt19937 random(20261201);
  std::uniform_int_distribution<int> kill_after_ms(0, kTasks * 10 + 100);
  int resumed_with_work = 0;
  for (int round = 0; round < kRounds; ++round) {
    TempDir dir("taskmap-crash");
    const std::string place = (dir / "store").string();
    const std::string child_log = (dir / "child.log").string();
    const pid_t child = ::fork();
    REQUIRE(child >= 0);
    if (child == 0) {
      int status = 0;
      try {
        Store store(place, Durability{kDurableDelay, 8});
        auto graph = make_graph(child_log);
        run_parallel(graph, {.ncores = 2, .store = &store});
      } catch (...) {
        status = 3;
      }
      ::_exit(status);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(kill_after_ms(random)));
    const std::int64_t killed_at = now_ns();
    ::kill(child, SIGKILL);
    int status = 0;
    REQUIRE(::waitpid(child, &status, 0) == child);
    INFO(kind << " round " << round);
    // It was killed, or it finished first; it never failed on its own.
    CHECK((WIFSIGNALED(status) || (WIFEXITED(status) && WEXITSTATUS(status) == 0)));

    const std::map<std::string, std::int64_t> before = read_log(child_log);
    Store store(place, Durability{kDurableDelay, 8});
    auto graph = make_graph((dir / "resume.log").string());
    std::set<std::string> stale;
    for (int i = 0; i < kTasks; ++i) {
      if (explain(graph, store, task_name(i)) != "up to date") stale.insert(task_name(i));
    }
    const RunSummary summary = run_parallel(graph, {.ncores = 2, .store = &store});
    CHECK(summary.failed == 0);
    CHECK(summary.succeeded + summary.up_to_date == static_cast<std::size_t>(kTasks));
    std::set<std::string> redone;
    for (const auto& [name, time] : read_log((dir / "resume.log").string())) redone.insert(name);
    CHECK(redone == stale);
    for (const auto& [name, finished] : before) {
      if (killed_at - finished > std::chrono::nanoseconds(kDurableSlack).count()) {
        INFO(name << " finished " << (killed_at - finished) / 1000000 << " ms before the kill");
        CHECK(redone.count(name) == 0);
      }
    }
    CHECK(graph.results() == expected);
    if (summary.up_to_date > 0 && summary.succeeded > 0) ++resumed_with_work;
  }
  // The kills fell at all kinds of moments: many left part of the work done.
  CHECK(resumed_with_work >= kRounds / 5);
}

// Two processes run two graphs over one store at once: a graph of their own each, and 20
// tasks both graphs have. Afterwards a third graph holding every task finds all of them up
// to date, and the shared tasks hold one process's values (both computed the same).
template <class Store>
void two_processes_share(const std::string& kind) {
  INFO(kind);
  TempDir dir("taskmap-shared");
  const std::string place = (dir / "store").string();
  auto make = [](const std::string& own, std::atomic<int>* calls) {
    std::vector<std::pair<std::string, TaskFn<std::int64_t>>> funcs;
    std::vector<std::pair<std::string, std::vector<std::string>>> deps;
    for (int i = 0; i < 20; ++i) {
      const std::string shared = "shared" + std::to_string(i);
      funcs.emplace_back(shared, [i, calls] {
        if (calls != nullptr) ++*calls;
        return std::int64_t{i} * 7;
      });
      deps.emplace_back(shared, std::vector<std::string>{});
    }
    for (const std::string& prefix : {std::string("p1_"), std::string("p2_")}) {
      if (!own.empty() && prefix != own) continue;
      for (int i = 0; i < 30; ++i) {
        const std::string name = prefix + std::to_string(i);
        funcs.emplace_back(name, [i, calls](std::int64_t shared) {
          if (calls != nullptr) ++*calls;
          std::this_thread::sleep_for(std::chrono::milliseconds(1));
          return shared + i;
        });
        deps.emplace_back(name, std::vector<std::string>{"shared" + std::to_string(i % 20)});
      }
    }
    return create_graph<std::int64_t>(std::move(funcs), std::move(deps));
  };
  std::vector<pid_t> children;
  for (const std::string own : {"p1_", "p2_"}) {
    const pid_t child = ::fork();
    REQUIRE(child >= 0);
    if (child == 0) {
      int status = 0;
      try {
        Store store(place);
        auto graph = make(own, nullptr);
        const RunSummary summary = run_parallel(graph, {.ncores = 2, .store = &store});
        if (summary.failed != 0 || summary.succeeded + summary.up_to_date != 50) status = 2;
      } catch (...) {
        status = 3;
      }
      ::_exit(status);
    }
    children.push_back(child);
  }
  for (const pid_t child : children) {
    int status = 0;
    REQUIRE(::waitpid(child, &status, 0) == child);
    CHECK(WIFEXITED(status));
    CHECK(WEXITSTATUS(status) == 0);
  }
  Store store(place);
  std::atomic<int> calls{0};
  auto both = make("", &calls);
  const RunSummary summary = run(both, {.store = &store});
  CHECK(summary.up_to_date == 80);
  CHECK(calls == 0);
  CHECK(both.result("p2_29") == 9 * 7 + 29);
}

}  // namespace

TEST_CASE("two processes run graphs over one DirectoryStore at once", "[persistence]") {
  two_processes_share<DirectoryStore>("directory");
}

#if TASKMAP_TEST_HAVE_SQLITE
TEST_CASE("two processes run graphs over one SqliteStore at once", "[persistence]") {
  two_processes_share<SqliteStore>("sqlite");
}
#endif

TEST_CASE("a run killed at random moments resumes with DirectoryStore", "[persistence][crash]") {
  crash_and_resume<DirectoryStore>("directory");
}

#if TASKMAP_TEST_HAVE_SQLITE
TEST_CASE("a run killed at random moments resumes with SqliteStore", "[persistence][crash]") {
  crash_and_resume<SqliteStore>("sqlite");
}
#endif
