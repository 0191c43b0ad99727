// ProcessPoolExecutor with real worker processes: values crossing as bytes, exceptions coming
// back as RemoteTaskError, every way a worker dies, replacements, time limits, and that no
// process or file descriptor outlives a run.

#include <taskmap/executors/process_pool.hpp>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <set>
#include <span>
#include <stdexcept>
#include <stop_token>
#include <string>
#include <thread>
#include <vector>

#include <fcntl.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "test_support.hpp"

#ifdef TASKMAP_TEST_HAVE_STORE
#include <taskmap/directory_store.hpp>
#endif

using namespace taskmap;
using namespace taskmap_test;
using namespace std::chrono_literals;

namespace {

// Open file descriptors of this process.
std::size_t open_fds() {
  std::size_t count = 0;
  for ([[maybe_unused]] const auto& entry : std::filesystem::directory_iterator("/proc/self/fd")) {
    ++count;
  }
  return count;
}

// True when this process has no child at all, running or zombie.
bool no_children() {
  int status = 0;
  return ::waitpid(-1, &status, WNOHANG) < 0 && errno == ECHILD;
}

int pid_now() { return static_cast<int>(::getpid()); }

// A rendezvous of `parties` tasks in different processes: each leaves a file named after its
// process in `dir` and waits until `parties` files are there. It returns its pid, or throws
// after 30 s, so a pool that runs the tasks one after another fails the run instead of
// passing a timed check (the margin a loaded machine needs).
int meet(const std::filesystem::path& dir, std::size_t parties) {
  std::ofstream(dir / std::to_string(pid_now())).put('x');
  const auto deadline = std::chrono::steady_clock::now() + 30s;
  for (;;) {
    std::size_t present = 0;
    for ([[maybe_unused]] const auto& entry : std::filesystem::directory_iterator(dir)) ++present;
    if (present >= parties) return pid_now();
    if (std::chrono::steady_clock::now() > deadline) {
      throw std::runtime_error("the other tasks did not run at the same time");
    }
    std::this_thread::sleep_for(1ms);
  }
}

// The WorkerCrashed recorded for `task`.
template <class T>
WorkerCrashed crash_of(const TaskGraph<T>& g, const std::string& task) {
  REQUIRE(g.status(task) == TaskStatus::failed);
  try {
    std::rethrow_exception(g.error(task));
  } catch (const WorkerCrashed& e) {
    return e;
  } catch (...) {
    FAIL("task " << task << " failed with " << what_of(g.error(task)) << ", not WorkerCrashed");
  }
  throw std::logic_error("unreachable");
}

// Counts events in the parent, to show observers run there.
struct Counting : Observer {
  std::atomic<int> started{0};
  std::atomic<int> finished{0};
  std::atomic<int> failed{0};
  std::set<std::size_t> workers;
  void on_event(const TaskEvent& event) override {
    if (event.kind == EventKind::started) {
      ++started;
      workers.insert(event.worker);
    }
    if (event.kind == EventKind::finished) ++finished;
    if (event.kind == EventKind::failed) ++failed;
  }
};

}  // namespace

TEST_CASE("process pool: int results of a diamond and a chain", "[process_pool]") {
  ProcessPoolExecutor pool(2);
  auto g = create_graph<int>(
      {{"a", fa},
       {"b", fb},
       {"b2", fb},
       {"c", fc},
       {"d", [](int x) { return x * 2; }},
       {"e", [](int x) { return x - 1; }}},
      {{"a", {}}, {"b", {"a"}}, {"b2", {"a"}}, {"c", {"b", "b2"}}, {"d", {"c"}}, {"e", {"d"}}});
  const RunSummary summary = pool.run(g);
  CHECK(summary.succeeded == 6);
  CHECK(g.result("a") == 5);
  CHECK(g.result("c") == 15 + 15 + 20);
  CHECK(g.result("e") == 99);
  CHECK(no_children());
}

TEST_CASE("process pool: std::string values and a Context cross both ways", "[process_pool]") {
  ProcessPoolExecutor pool(3);
  const std::string big(100000, 'x');  // several socket buffers' worth
  auto g = create_graph<std::string>(
      {{"who",
        [](Context& ctx) { return std::string(ctx.graph_name()) + "/" + std::string(ctx.name()); }},
       {"big", [&] { return big; }},
       {"join", [](const std::string& a, const std::string& b) { return a + ":" + b; }},
       {"size", [](const std::string& s) { return std::to_string(s.size()); }}},
      {{"who", {}}, {"big", {}}, {"join", {"who", "big"}}, {"size", {"join"}}}, {.name = "g1"});
  pool.run(g);
  CHECK(g.result("who") == "g1/who");
  CHECK(g.result("join") == "g1/who:" + big);
  CHECK(g.result("size") == std::to_string(7 + big.size()));
}

TEST_CASE("process pool: values done before the run reach the workers without bytes",
          "[process_pool]") {
  ProcessPoolExecutor pool(2);
  auto g =
      create_graph<int>({{"a", fa}, {"b", fb}, {"c", fb}}, {{"a", {}}, {"b", {"a"}}, {"c", {"b"}}},
                        {.done = {"a"}, .results = {{"a", 7}}});
  pool.run(g);
  CHECK(g.result("c") == 27);
  // A second run after a reset feeds b's value from the first run, held at fork.
  reset_tasks(g, {"c"});
  pool.run(g);
  CHECK(g.result("c") == 27);
}

TEST_CASE("process pool: tasks run in other processes, several at once", "[process_pool]") {
  ProcessPoolExecutor pool(2);
  const TempDir dir;
  std::atomic<int> calls{0};
  auto meeting = [&] {
    ++calls;  // in the worker's copy of memory: the parent never sees it
    return meet(dir.path(), 2);
  };
  auto g = create_graph<int>({{"p", meeting}, {"q", meeting}}, {{"p", {}}, {"q", {}}});
  REQUIRE(pool.run(g).ok());
  CHECK(g.result("p") != pid_now());
  CHECK(g.result("q") != pid_now());
  CHECK(g.result("p") != g.result("q"));
  CHECK(calls == 0);
}

TEST_CASE("process pool: an exception comes back as RemoteTaskError and skips dependents",
          "[process_pool]") {
  ProcessPoolExecutor pool(2);
  auto g = create_graph<int>(
      {{"a", fa},
       {"boom", [](int) -> int { throw std::logic_error("bad input"); }},
       {"odd", []() -> int { throw 42; }},
       {"child", fb},
       {"other", fb}},
      {{"a", {}}, {"boom", {"a"}}, {"odd", {}}, {"child", {"boom"}}, {"other", {"a"}}});
  const RunSummary summary = pool.run(g);
  CHECK(summary.failed == 2);
  CHECK(summary.skipped == 1);
  CHECK(g.result("other") == 15);
  CHECK(g.status("child") == TaskStatus::skipped);
  CHECK(holds<AncestorFailed>(g.error("child")));
  try {
    std::rethrow_exception(g.error("boom"));
  } catch (const RemoteTaskError& e) {
    CHECK(e.task() == "boom");
    CHECK(e.type_name() == "std::logic_error");
    CHECK(e.message() == "bad input");
    CHECK(std::string(e.what()) ==
          "task 'boom' threw std::logic_error in a worker process: bad input");
  }
  try {
    std::rethrow_exception(g.error("odd"));
  } catch (const RemoteTaskError& e) {
    CHECK(e.type_name() == "int");
    CHECK(e.message().empty());
  }
}

TEST_CASE("process pool: raise_errors throws TaskError and leaves no process behind",
          "[process_pool]") {
  ProcessPoolExecutor pool(2);
  auto g = create_graph<int>({{"a", fd},
                              {"b",
                               [] {
                                 std::this_thread::sleep_for(100ms);
                                 return 1;
                               }}},
                             {{"a", {}}, {"b", {}}});
  CHECK_THROWS_AS(pool.run(g, {.raise_errors = true}), TaskError);
  CHECK(no_children());
}

TEST_CASE("process pool: each way a worker dies fails its task alone", "[process_pool]") {
  ProcessPoolExecutor pool(2);
  auto g = create_graph<int>({{"kill",
                               []() -> int {
                                 ::raise(SIGKILL);
                                 return 0;
                               }},
                              {"segv",
                               []() -> int {
                                 ::raise(SIGSEGV);
                                 return 0;
                               }},
                              {"abort", []() -> int { std::abort(); }},
                              {"exit", []() -> int { std::_Exit(3); }},
                              {"below", fb},
                              {"fine", fa},
                              {"fine2", fb}},
                             {{"kill", {}},
                              {"segv", {}},
                              {"abort", {}},
                              {"exit", {}},
                              {"below", {"segv"}},
                              {"fine", {}},
                              {"fine2", {"fine"}}});
  const RunSummary summary = pool.run(g);
  CHECK(summary.failed == 4);
  CHECK(summary.skipped == 1);
  CHECK(summary.succeeded == 2);
  CHECK(g.result("fine2") == 15);
  CHECK(g.status("below") == TaskStatus::skipped);

  const WorkerCrashed killed = crash_of(g, "kill");
  CHECK(killed.task() == "kill");
  CHECK(killed.signal() == SIGKILL);
  CHECK(killed.exit_status() == -1);
  CHECK(std::string(killed.what()).find("task 'kill'") != std::string::npos);
  CHECK(std::string(killed.what()).find("killed by signal 9 (SIGKILL") != std::string::npos);

  const WorkerCrashed exited = crash_of(g, "exit");
  CHECK(exited.signal() == 0);
  CHECK(exited.exit_status() == 3);
  CHECK(std::string(exited.what()).find("exited with status 3") != std::string::npos);

  // Also under ASan: workers give the crash signals their default action back.
  CHECK(crash_of(g, "segv").signal() == SIGSEGV);
  const WorkerCrashed aborted = crash_of(g, "abort");
  CHECK(aborted.signal() == SIGABRT);
  CHECK(no_children());
}

TEST_CASE("process pool: a task that closes its worker's socket fails alone, without a hang",
          "[process_pool]") {
  // Code that closes every fd above stderr (as daemons and some subprocess helpers do) cuts
  // the worker off: the parent must not wait for a process that will never answer (here, not
  // for two minutes, the test's time limit) but kill it after a grace period.
  ProcessPoolExecutor pool(1);
  auto g = create_graph<int>({{"cut_off",
                               []() -> int {
                                 ::close(detail::kWorkerSocketFd);
                                 std::this_thread::sleep_for(300s);
                                 return 1;
                               }},
                              {"later", fa}},
                             {{"cut_off", {}}, {"later", {}}});
  const RunSummary summary = pool.run(g);
  CHECK(summary.failed == 1);
  CHECK(g.result("later") == 5);
  const WorkerCrashed crash = crash_of(g, "cut_off");
  CHECK(crash.signal() == SIGKILL);
  CHECK(std::string(crash.what()).find("did not exit") != std::string::npos);
  CHECK(no_children());
}

TEST_CASE("process pool: a new worker replaces a dead one and the run goes on", "[process_pool]") {
  ProcessPoolExecutor pool(1);
  FuncMap<int> funcs;
  DependencyMap deps;
  funcs.emplace("first", [] { return pid_now(); });
  deps["first"] = {};
  funcs.emplace("crash", [](int) -> int {
    ::raise(SIGKILL);
    return 0;
  });
  deps["crash"] = {"first"};
  for (int i = 0; i < 5; ++i) {
    const std::string name = "after" + std::to_string(i);
    funcs.emplace(name, [](int, int x) { return x; });
    deps[name] = {"first", i == 0 ? "first" : "after" + std::to_string(i - 1)};
  }
  funcs.emplace("last", [](int) { return pid_now(); });
  deps["last"] = {"crash"};
  auto g = create_graph<int>(funcs, deps, {.priority = {{"crash", 10}}});
  const RunSummary summary = pool.run(g);
  CHECK(summary.failed == 1);
  CHECK(summary.skipped == 1);
  CHECK(summary.succeeded == 6);
  CHECK(g.result("after4") == g.result("first"));
  CHECK(crash_of(g, "crash").signal() == SIGKILL);
  CHECK(no_children());
}

TEST_CASE("process pool: the replacement worker gets the values made after the first fork",
          "[process_pool]") {
  ProcessPoolExecutor pool(1);
  auto g =
      create_graph<int>({{"a", fa},
                         {"pid", [](int) { return pid_now(); }},
                         {"crash",
                          [](int) -> int {
                            ::raise(SIGKILL);
                            return 0;
                          }},
                         {"late", [](int x, int) { return x + 1; }}},
                        {{"a", {}}, {"pid", {"a"}}, {"crash", {"pid"}}, {"late", {"a", "pid"}}},
                        {.priority = {{"crash", 10}}});
  pool.run(g);
  CHECK(g.status("crash") == TaskStatus::failed);
  CHECK(g.result("late") == 6);
}

TEST_CASE("process pool: no file descriptor and no process outlives runs", "[process_pool]") {
  const std::size_t before = open_fds();
  {
    ProcessPoolExecutor pool(3);
    for (int round = 0; round < 3; ++round) {
      auto g = create_graph<int>(
          {{"a", fa}, {"b", fb}, {"crash", []() -> int { std::abort(); }}, {"fail", fd}},
          {{"a", {}}, {"b", {"a"}}, {"crash", {}}, {"fail", {}}});
      // Every other round can be stopped, so it has a stop pipe too (never used).
      std::stop_source stop;
      pool.run(g, {.stop_token = round % 2 == 0 ? stop.get_token() : std::stop_token()});
      CHECK(g.result("b") == 15);
      CHECK(open_fds() == before);
      CHECK(no_children());
    }
  }
  CHECK(open_fds() == before);
}

TEST_CASE("process pool: workers hold no file descriptor of the parent", "[process_pool]") {
  // A file the parent holds open: a worker must not have it.
  const TempDir dir;
  const detail::FileDescriptor held =
      detail::open_at(AT_FDCWD, (dir.path() / "held").c_str(), O_CREAT | O_WRONLY, 0600);
  REQUIRE(held);
  ProcessPoolExecutor pool(2);
  auto g = create_graph<int>({{"fds", [] { return static_cast<int>(open_fds()); }}}, {{"fds", {}}});
  pool.run(g);
  // stdin, stdout, stderr, the worker's socket, and the directory listing itself.
  CHECK(g.result("fds") <= 5);
  // A run that can be stopped adds the read end of its stop pipe at fd 4, and only that.
  auto stoppable = create_graph<int>(
      {{"fds", [] { return static_cast<int>(open_fds()); }},
       {"pipe_end", [] { return ::fcntl(detail::kWorkerStopFd, F_GETFD) != -1 ? 1 : 0; }}},
      {{"fds", {}}, {"pipe_end", {}}});
  std::stop_source stop;
  pool.run(stoppable, {.stop_token = stop.get_token()});
  const int extra = detail::kRelayStopToWorkers ? 1 : 0;
  CHECK(stoppable.result("pipe_end") == extra);
  CHECK(stoppable.result("fds") <= 5 + extra);
}

TEST_CASE("process pool: a program a task starts does not inherit the worker's socket",
          "[process_pool]") {
  // The worker's socket is fd 3; dup2 moved it there and cleared close-on-exec, which the
  // worker sets again: an exec'd program holding it would hide the worker's crash.
  ProcessPoolExecutor pool(1);
  auto g = create_graph<int>({{"flags", [] { return ::fcntl(3, F_GETFD); }}}, {{"flags", {}}});
  REQUIRE(pool.run(g).ok());
  CHECK(g.result("flags") >= 0);
  CHECK((g.result("flags") & FD_CLOEXEC) != 0);
}

TEST_CASE("process pool: fail_fast starts nothing after the first failure", "[process_pool]") {
  ProcessPoolExecutor pool(1);
  FuncMap<int> funcs{{"boom", fd}};
  DependencyMap deps{{"boom", {}}};
  for (int i = 0; i < 5; ++i) {
    funcs.emplace("t" + std::to_string(i), fa);
    deps["t" + std::to_string(i)] = {};
  }
  auto g = create_graph<int>(funcs, deps, {.priority = {{"boom", 100}}});
  const RunSummary summary = pool.run(g, {.fail_fast = true});
  CHECK(summary.failed == 1);
  CHECK(summary.succeeded == 0);
  CHECK(g.status("t0") == TaskStatus::pending);
  pool.run(g);
  CHECK(g.result("t4") == 5);
}

TEST_CASE("process pool: a stop request cancels what has not started", "[process_pool]") {
  ProcessPoolExecutor pool(1);
  auto g = create_graph<int>({{"first",
                               [] {
                                 std::this_thread::sleep_for(300ms);
                                 return 1;
                               }},
                              {"second", fb},
                              {"third", fb}},
                             {{"first", {}}, {"second", {"first"}}, {"third", {"second"}}});
  std::stop_source stop;
  std::thread stopper([&] {
    std::this_thread::sleep_for(50ms);
    stop.request_stop();
  });
  const RunSummary summary = pool.run(g, {.stop_token = stop.get_token()});
  stopper.join();
  CHECK(summary.succeeded == 1);
  CHECK(summary.cancelled == 2);
  CHECK(g.status("third") == TaskStatus::cancelled);
  const RunSummary rest = pool.run(g);
  CHECK(rest.succeeded == 2);
  CHECK(g.result("third") == 21);
}

TEST_CASE("process pool: observers run in the parent and see each worker", "[process_pool]") {
  ProcessPoolExecutor pool(2);
  auto counting = std::make_shared<Counting>();
  auto slow = [] {
    std::this_thread::sleep_for(100ms);
    return 1;
  };
  auto g = create_graph<int>({{"x", slow}, {"y", slow}, {"z", []() -> int { std::abort(); }}},
                             {{"x", {}}, {"y", {}}, {"z", {}}});
  pool.run(g, {.observers = {counting}});
  CHECK(counting->started == 3);
  CHECK(counting->finished == 2);
  CHECK(counting->failed == 1);
  CHECK(counting->workers == std::set<std::size_t>{0, 1});
}

// Fails any event it is handed outside the process that made it: in a worker, a copy of the
// parent's observer is not the parent's.
struct ParentOnly : Observer {
  int parent = pid_now();
  std::atomic<int> events{0};
  void on_event(const TaskEvent&) override {
    if (pid_now() != parent) throw std::logic_error("an observer was called in a worker process");
    ++events;
  }
};

TEST_CASE(
    "process pool: a task's child graph in a worker reaches no copy of the parent's observers",
    "[process_pool]") {
  ProcessPoolExecutor pool(1);
  auto parent_only = std::make_shared<ParentOnly>();
  TaskGraph<int> g("observed");
  g.add_task("nest", [](Context& ctx) {
    TaskGraph<int> child("child");
    child.add_task("c", [] { return 4; });
    ctx.run(child);
    return child.result("c") + 1;
  });
  const RunSummary summary = pool.run(g, {.observers = {parent_only}});
  CHECK(summary.ok());
  CHECK(g.result("nest") == 5);
  CHECK(parent_only->events > 0);
}

TEST_CASE("process pool: set_max_workers changes how many processes run at once",
          "[process_pool]") {
  ProcessPoolExecutor pool(1);
  CHECK(pool.max_workers() == 1);
  const TempDir dir;
  auto meeting = [&dir] { return meet(dir.path(), 3); };
  auto g = create_graph<int>({{"a", meeting}, {"b", meeting}, {"c", meeting}},
                             {{"a", {}}, {"b", {}}, {"c", {}}});
  pool.set_max_workers(3);
  REQUIRE(pool.run(g).ok());  // the three ran at once
  CHECK(std::set<int>{g.result("a"), g.result("b"), g.result("c")}.size() == 3);
  pool.set_max_workers(0);
  CHECK(pool.max_workers() == 1);
}

TEST_CASE("process pool: a concurrency group limits its members across worker processes",
          "[process_pool]") {
  // Four members of a group of two on four workers: two of them meet (so two do run at
  // once), and none sees more than two members inside. Each stays 30 ms, so a pool that
  // ignored the limit would put three or four inside together.
  ProcessPoolExecutor pool(4);
  const TempDir dir;
  Shared<int> inside;
  Shared<int> most_inside;
  auto member = [&] {
    const int now = ++inside;
    int most = most_inside.load();
    while (now > most && !(*most_inside).compare_exchange_weak(most, now)) {
    }
    meet(dir.path(), 2);
    std::this_thread::sleep_for(30ms);
    --*inside;
    return now;
  };
  auto g = create_graph<int>(
      {{"m1", member}, {"m2", member}, {"m3", member}, {"m4", member}, {"free", [] { return 0; }}},
      {{"m1", {}}, {"m2", {}}, {"m3", {}}, {"m4", {}}, {"free", {}}},
      {.groups = {{"pair", {.max_concurrency = 2, .tasks = {"m1", "m2", "m3", "m4"}}}}});
  REQUIRE(pool.run(g).ok());
  CHECK(most_inside.load() == 2);
  CHECK(inside.load() == 0);
}

TEST_CASE("process pool: tasks ready together start io_bound first, then by priority",
          "[process_pool]") {
  // One worker, so the order the parent hands out tasks is the order they start.
  struct StartOrder : Observer {
    void on_event(const TaskEvent& event) override {
      if (event.kind == EventKind::started) started.emplace_back(event.task);
    }
    std::vector<std::string> started;
  };
  ProcessPoolExecutor pool(1);
  FuncMap<int> funcs{{"root", fa}};
  DependencyMap deps{{"root", {}}};
  for (const char* name : {"low1", "high", "io", "low2", "mid"}) {
    funcs.emplace(name, [](int x) { return x; });
    deps[name] = {"root"};
  }
  auto g =
      create_graph<int>(funcs, deps, {.io_bound = {"io"}, .priority = {{"high", 5}, {"mid", 1}}});
  auto order = std::make_shared<StartOrder>();
  REQUIRE(pool.run(g, {.observers = {order}}).ok());
  REQUIRE(order->started.size() == 6);
  const std::vector<std::string> first(order->started.begin(), order->started.begin() + 4);
  CHECK(first == std::vector<std::string>{"root", "io", "high", "mid"});
  CHECK(as_set({order->started[4], order->started[5]}) == std::set<std::string>{"low1", "low2"});
}

TEST_CASE("process pool: trigger rules decide in the parent, rule tasks are fed in the worker",
          "[process_pool]") {
  // What a rule task was fed comes back in its value: 100 + the sum, 1000 per value.
  auto fed = [](std::span<const int> values) {
    int out = 100;
    for (const int v : values) out += 1000 + v;
    return out;
  };
  ProcessPoolExecutor pool(2);
  auto g = create_graph<int>(
      {{"one", [] { return 1; }},
       {"boom", fd},
       {"boom2", fd},
       {"below_boom", fb},
       {"three", [] { return 3; }},
       {"all_done", fed},
       {"after", fb},
       {"n_success", fed},
       {"unmet", fed},
       {"under_unmet", fb},
       {"n_done", [](std::optional<int> a,
                     std::optional<int> b) { return a.value_or(-1) * 10 + (b ? 1 : 0); }}},
      {{"one", {}},
       {"boom", {}},
       {"boom2", {}},
       {"below_boom", {"boom"}},
       {"three", {}},
       {"all_done", {"one", "boom", "below_boom", "three"}},
       {"after", {"all_done"}},
       {"n_success", {"boom", "one", "three"}},
       {"unmet", {"boom", "boom2", "three"}},
       {"under_unmet", {"unmet"}},
       {"n_done", {"one", "boom"}}},
      {.triggers = {{"all_done", Trigger::all_done()},
                    {"n_success", Trigger::n_success(2)},
                    {"unmet", Trigger::n_success(2)},
                    {"n_done", Trigger::n_done(2)}}});
  const RunSummary summary = pool.run(g);
  CHECK(g.result("all_done") == 100 + 1001 + 1003);  // fed what succeeded, in order
  CHECK(g.result("after") == 2114);
  CHECK(g.result("n_success") == 100 + 1001 + 1003);
  CHECK(g.result("n_done") == 10);  // one's value, then nothing for boom
  CHECK(g.status("unmet") == TaskStatus::skipped);
  CHECK(holds<TriggerUnmet>(g.error("unmet")));
  CHECK(g.status("under_unmet") == TaskStatus::skipped);
  CHECK(holds<TriggerUnmet>(g.error("under_unmet")));
  CHECK(summary.succeeded == 6);
  CHECK(summary.failed == 2);
  CHECK(summary.skipped == 3);
}

TEST_CASE("process pool: a stop requested during a run reaches the tasks running in workers",
          "[process_pool]") {
  // Two tasks wait in their workers (up to 20 s each) for the stop: one asks
  // ctx.stop_requested(), one waits for a std::stop_callback on ctx.stop_token(). The parent
  // asks to stop once both have started, so after both workers were forked: only the relay
  // can tell them. Each returns what it saw; the task after them is cancelled.
  struct StopWhenBothStarted : Observer {
    explicit StopWhenBothStarted(std::stop_source& s) : stop(s) {}
    void on_event(const TaskEvent& event) override {
      if (event.kind == EventKind::started && ++started == 2) stop.request_stop();
    }
    std::stop_source& stop;
    int started = 0;
  };
  if (!detail::kRelayStopToWorkers) {
    WARN("taskmap test skipped: built with ThreadSanitizer, workers relay no stop request");
#if defined(TASKMAP_CATCH2_V3)
    SKIP();
#else
    return;
#endif
  }
  const auto deadline = [] { return std::chrono::steady_clock::now() + 20s; };
  ProcessPoolExecutor pool(2);
  std::stop_source stop;
  auto g = create_graph<int>({{"polls",
                               [&](Context& ctx) {
                                 const auto until = deadline();
                                 while (!ctx.stop_requested()) {
                                   if (std::chrono::steady_clock::now() > until) return 0;
                                   std::this_thread::sleep_for(1ms);
                                 }
                                 return 1;
                               }},
                              {"waits",
                               [&](Context& ctx) {
                                 std::atomic<bool> called{false};
                                 const std::stop_callback on_stop(ctx.stop_token(),
                                                                  [&called] { called = true; });
                                 const auto until = deadline();
                                 while (!called && std::chrono::steady_clock::now() < until) {
                                   std::this_thread::sleep_for(1ms);
                                 }
                                 return called ? 2 : 0;
                               }},
                              {"after", fb}},
                             {{"polls", {}}, {"waits", {}}, {"after", {"polls"}}});
  const RunSummary summary = pool.run(
      g,
      {.stop_token = stop.get_token(), .observers = {std::make_shared<StopWhenBothStarted>(stop)}});
  CHECK(g.result("polls") == 1);
  CHECK(g.result("waits") == 2);
  CHECK(g.status("after") == TaskStatus::cancelled);
  CHECK(summary.succeeded == 2);
  CHECK(summary.cancelled == 1);
  CHECK(no_children());
}

TEST_CASE("process pool: a task past its time limit fails with TaskTimeout", "[process_pool]") {
  ProcessPoolExecutor pool(2);
  pool.set_time_limit(200ms);
  CHECK(pool.time_limit() == 200ms);
  auto g = create_graph<int>({{"hang",
                               [] {
                                 std::this_thread::sleep_for(60s);
                                 return 1;
                               }},
                              {"quick", fa},
                              {"below", fb}},
                             {{"hang", {}}, {"quick", {}}, {"below", {"hang"}}});
  const auto start = Clock::now();
  const RunSummary summary = pool.run(g);
  CHECK(seconds_since(start) < 30);  // the limit ended it, not its 60 s sleep
  CHECK(summary.failed == 1);
  CHECK(g.result("quick") == 5);
  CHECK(g.status("below") == TaskStatus::skipped);
  CHECK(holds<TaskTimeout>(g.error("hang")));
  CHECK(what_of(g.error("hang")).find("task 'hang' ran longer than its time limit of 200 ms") !=
        std::string::npos);
  CHECK(no_children());
}

#ifdef TASKMAP_TEST_HAVE_STORE
TEST_CASE("process pool: a store's valid records are taken in the parent, not run again",
          "[process_pool]") {
  const TempDir dir;
  const std::filesystem::path ran = dir.path() / "ran";
  // Each run of a task appends its name to a file: the workers' side effects that count.
  auto logged = [ran](const std::string& name, int add) {
    return [ran, name, add](std::span<const int> in) {
      std::ofstream(ran, std::ios::app) << name << "\n";
      int sum = add;
      for (const int x : in) sum += x;
      return sum;
    };
  };
  auto build = [&](bool with_d) {
    FuncMap<int> funcs{{"a", logged("a", 1)}, {"b", logged("b", 10)}, {"c", logged("c", 100)}};
    DependencyMap deps{{"a", {}}, {"b", {"a"}}, {"c", {"b"}}};
    if (with_d) {
      funcs.emplace("d", logged("d", 1000));
      deps["d"] = {"c"};
    }
    return create_graph<int>(funcs, deps);
  };
  ProcessPoolExecutor pool(2);
  {
    DirectoryStore store(dir.path() / "store");
    auto g = build(false);
    const RunSummary first = pool.run(g, {.store = &store});
    CHECK(first.succeeded == 3);
    CHECK(g.result("c") == 111);
  }
  CHECK(lines_of(read_file(ran)).size() == 3);
  {
    DirectoryStore store(dir.path() / "store");
    auto g = build(true);
    const RunSummary second = pool.run(g, {.store = &store});
    CHECK(second.up_to_date == 3);
    CHECK(second.succeeded == 1);
    // d ran in a worker forked before c's record was read: c's value went to it as bytes.
    CHECK(g.result("d") == 1111);
  }
  CHECK(lines_of(read_file(ran)) == std::vector<std::string>{"a", "b", "c", "d"});
  CHECK(no_children());
}
#endif

TEST_CASE("process pool: a worker killed while idle is replaced before its next task",
          "[process_pool]") {
  const TempDir dir;
  const std::filesystem::path pid_file = dir.path() / "pid";
  // Kills the worker that ran "first" once it has replied, before "second" is sent to it.
  struct Killer : Observer {
    std::filesystem::path file;
    void on_event(const TaskEvent& event) override {
      if (event.kind != EventKind::finished || event.task != "first") return;
      const int pid = std::stoi(read_file(file));
      ::kill(pid, SIGKILL);
      std::this_thread::sleep_for(50ms);
    }
  };
  auto killer = std::make_shared<Killer>();
  killer->file = pid_file;
  ProcessPoolExecutor pool(1);
  auto g = create_graph<int>({{"first",
                               [pid_file] {
                                 std::ofstream(pid_file) << pid_now();
                                 return pid_now();
                               }},
                              {"second", [](int) { return pid_now(); }}},
                             {{"first", {}}, {"second", {"first"}}});
  const RunSummary summary = pool.run(g, {.observers = {killer}});
  CHECK(summary.succeeded == 2);
  CHECK(g.result("second") != g.result("first"));
  CHECK(no_children());
}

TEST_CASE("process pool: set_max_workers during a run grows and shrinks the pool",
          "[process_pool]") {
  ProcessPoolExecutor pool(1);
  // Grows to 3 as the first task starts (in the parent: observers run there), shrinks back to 1
  // when the third ends.
  struct Resizer : Observer {
    ProcessPoolExecutor* pool = nullptr;
    int started = 0;
    int ended = 0;
    void on_event(const TaskEvent& event) override {
      if (event.kind == EventKind::started && ++started == 1) pool->set_max_workers(3);
      if (event.kind == EventKind::finished && ++ended == 3) pool->set_max_workers(1);
    }
  };
  auto resizer = std::make_shared<Resizer>();
  resizer->pool = &pool;
  const TempDir dir;
  auto meeting = [&dir] { return meet(dir.path(), 3); };
  auto g = create_graph<int>({{"a", meeting},
                              {"b", meeting},
                              {"c", meeting},
                              {"d", [](int, int, int) { return pid_now(); }}},
                             {{"a", {}}, {"b", {}}, {"c", {}}, {"d", {"a", "b", "c"}}});
  REQUIRE(pool.run(g, {.observers = {resizer}}).ok());  // a, b and c ran at once
  CHECK(std::set<int>{g.result("a"), g.result("b"), g.result("c")}.size() == 3);
  CHECK(pool.max_workers() == 1);
  CHECK(no_children());
}

TEST_CASE("process pool: with SIGCHLD ignored a crash is still seen, its status unknown",
          "[process_pool]") {
  struct IgnoreChildren {
    struct sigaction before {};
    IgnoreChildren() {
      struct sigaction ignore {};
      ignore.sa_handler = SIG_IGN;
      ::sigaction(SIGCHLD, &ignore, &before);
    }
    ~IgnoreChildren() { ::sigaction(SIGCHLD, &before, nullptr); }
  };
  const IgnoreChildren ignoring;
  ProcessPoolExecutor pool(1);
  auto g = create_graph<int>({{"crash", []() -> int { std::abort(); }}, {"fine", fa}},
                             {{"crash", {}}, {"fine", {}}});
  const RunSummary summary = pool.run(g);
  CHECK(summary.succeeded == 1);
  const WorkerCrashed crash = crash_of(g, "crash");
  CHECK(crash.signal() == 0);
  CHECK(crash.exit_status() == -1);
  CHECK(what_of(g.error("crash")).find("its exit status was taken") != std::string::npos);
}

namespace {

// Counts down one level per continuation: level n ends with level n-1's value plus one.
Continue<int> process_countdown(int n) {
  if (n == 0) return Continue<int>(0);
  TaskGraph<int> level("level " + std::to_string(n));
  level.add_task("below", [n] { return process_countdown(n - 1); });
  level.add_task("here", [](int below) { return below + 1; }, {"below"});
  return continue_with(std::move(level), "here");
}

}  // namespace

TEST_CASE("process pool: a continuation runs in the worker, 10,000 levels deep",
          "[process_pool][continuation]") {
  ProcessPoolExecutor pool(2);
  TaskGraph<int> g("continued");
  g.add_task("deep", [] { return process_countdown(10'000); });
  g.add_task("after", [](int x) { return x + 1; }, {"deep"});
  g.add_task("missing", [] {
    TaskGraph<int> child("child");
    child.add_task("present", [] { return 1; });
    return continue_with(std::move(child), "absent");
  });
  const RunSummary summary = pool.run(g);
  CHECK(summary.succeeded == 2);
  CHECK(summary.failed == 1);
  CHECK(g.result("deep") == 10'000);
  CHECK(g.result("after") == 10'001);
  CHECK(g.status("missing") == TaskStatus::failed);
  CHECK(no_children());
}

TEST_CASE("process pool: a stop that cancels a continuation in the worker cancels its task",
          "[process_pool][continuation]") {
  // As on the threads: the continued task is cancelled, not failed, and a later run runs it
  // again, function and continuation. The child's first task waits in the worker for the
  // stop (up to 20 s), which the parent asks for when the continued task starts.
  if (!detail::kRelayStopToWorkers) {
    WARN("taskmap test skipped: built with ThreadSanitizer, workers relay no stop request");
#if defined(TASKMAP_CATCH2_V3)
    SKIP();
#else
    return;
#endif
  }
  struct StopWhenStarted : Observer {
    explicit StopWhenStarted(std::stop_source& s) : stop(s) {}
    void on_event(const TaskEvent& event) override {
      if (event.kind == EventKind::started) stop.request_stop();
    }
    std::stop_source& stop;
  };
  ProcessPoolExecutor pool(1);
  TaskGraph<int> g("continued");
  g.add_task("grows", [] {
    TaskGraph<int> child("child");
    child.add_task("waits", [](Context& ctx) {
      const auto until = std::chrono::steady_clock::now() + 20s;
      while (!ctx.stop_requested() && std::chrono::steady_clock::now() < until) {
        std::this_thread::sleep_for(1ms);
      }
      return 1;
    });
    child.add_task("named", [](int x) { return x + 1; }, {"waits"});
    return continue_with(std::move(child), "named");
  });
  g.add_task("after", [](int x) { return x * 10; }, {"grows"});
  std::stop_source stop;
  const RunSummary stopped = pool.run(
      g, {.stop_token = stop.get_token(), .observers = {std::make_shared<StopWhenStarted>(stop)}});
  CHECK(g.status("grows") == TaskStatus::cancelled);
  CHECK(g.error("grows") == nullptr);
  CHECK(g.status("after") == TaskStatus::cancelled);
  CHECK(stopped.cancelled == 2);
  CHECK(stopped.failed == 0);
  const RunSummary rest = pool.run(g);
  CHECK(rest.succeeded == 2);
  CHECK(g.result("after") == 20);
  CHECK(no_children());
}

TEST_CASE("process pool: a task that closes the stop pipe's end sees no stop", "[process_pool]") {
  // The relay thread must take a closed fd 4 for what it is, not for a stop request.
  ProcessPoolExecutor pool(1);
  auto g =
      create_graph<int>({{"closes",
                          [](Context& ctx) {
                            ::close(detail::kWorkerStopFd);
                            std::this_thread::sleep_for(50ms);
                            return ctx.stop_requested() ? 1 : 0;
                          }},
                         {"next", [](Context& ctx, int) { return ctx.stop_requested() ? 1 : 0; }}},
                        {{"closes", {}}, {"next", {"closes"}}});
  std::stop_source stop;
  REQUIRE(pool.run(g, {.stop_token = stop.get_token()}).ok());
  CHECK(g.result("closes") == 0);
  CHECK(g.result("next") == 0);
}

TEST_CASE("a continuation cancelled elsewhere while the run was not stopped fails its task",
          "[process_pool][continuation]") {
  // What an executor hands end() when a worker or rank replied that a stop there cancelled a
  // continuation. Without a stop of the run itself the task must fail, never stay pending
  // (counted nowhere), and its dependents are skipped.
  auto g = create_graph<int>({{"a", fa}, {"b", fb}}, {{"a", {}}, {"b", {"a"}}});
  const RunOptions options;
  ExecutorRun<int, Threads::one> run(g, options);
  REQUIRE(run.first_ready().size() == 1);
  const TaskId a = run.first_ready()[0];
  REQUIRE(run.start(a, 0));
  CHECK(run.end(a, 0, std::make_exception_ptr(detail::ContinuationCancelled{})).empty());
  CHECK(run.finished());
  const RunSummary summary = run.finish();
  CHECK(summary.failed == 1);
  CHECK(summary.skipped == 1);
  CHECK(g.status("a") == TaskStatus::failed);
  CHECK(what_of(g.error("a")).find("cancelled its continuation") != std::string::npos);
  // (With the run stopped, the same reply cancels the task: the test of a continuation a
  // stop cancels in a worker, above.)
}

namespace {

// A value whose codec refuses to decode 42 in any process but the test's own.
struct WorkerShy {
  long value = 0;
};

const ::pid_t test_process = ::getpid();

}  // namespace

template <>
struct taskmap::Codec<WorkerShy> {
  static constexpr std::string_view name = "process_pool_test::WorkerShy/1";
  static void encode(taskmap::ByteWriter& out, const WorkerShy& v) { out.write(v.value); }
  static WorkerShy decode(taskmap::ByteReader& in) {
    const long value = in.read<long>();
    if (value == 42 && ::getpid() != test_process) throw std::runtime_error("42 refused here");
    return {value};
  }
};

TEST_CASE("process pool: an input a worker cannot decode fails the task it feeds, by name",
          "[process_pool]") {
  // Both workers are forked at the start (for "a" and "s"). s ends first and t takes its
  // worker; u waits for a's worker, so b, ready when a ends, runs after t on the worker that
  // never held a's value, and gets it as bytes, which that worker cannot decode.
  ProcessPoolExecutor pool(2);
  const auto slow = [](std::chrono::milliseconds d) {
    return [d](std::span<const WorkerShy>) {
      std::this_thread::sleep_for(d);
      return WorkerShy{1};
    };
  };
  auto g =
      create_graph<WorkerShy>({{"a",
                                [] {
                                  std::this_thread::sleep_for(100ms);
                                  return WorkerShy{42};
                                }},
                               {"s", slow(50ms)},
                               {"t", slow(500ms)},
                               {"u", slow(500ms)},
                               {"b", [](const WorkerShy& a) { return WorkerShy{a.value + 1}; }}},
                              {{"a", {}}, {"s", {}}, {"t", {"s"}}, {"u", {"s"}}, {"b", {"a"}}});
  pool.run(g);
  CHECK(g.status("a") == TaskStatus::done);
  CHECK(g.status("t") == TaskStatus::done);
  CHECK(g.status("u") == TaskStatus::done);
  REQUIRE(g.status("b") == TaskStatus::failed);
  CHECK(what_of(g.error("b")) ==
        "task 'b' threw std::runtime_error in a worker process: 42 refused here");
}
