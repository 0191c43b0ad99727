// What only the thread pool adds: real parallelism, worker counts, concurrency groups, live
// scaling, reuse, and races (the conformance suite covers the shared semantics).

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <random>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "test_support.hpp"

using namespace taskmap;
using namespace taskmap_test;
using namespace std::chrono_literals;

namespace {

// Tracks how many tasks run at once, and the most ever seen.
struct HighWater {
  std::atomic<int> now{0};
  std::atomic<int> most{0};
  void enter() {
    const int n = ++now;
    int seen = most.load();
    while (n > seen && !most.compare_exchange_weak(seen, n)) {
    }
  }
  void leave() { --now; }
};

// A random DAG whose tasks hash their inputs; some fail.
struct RandomDag {
  FuncMap<std::uint64_t> funcs;
  DependencyMap deps;

  RandomDag(std::uint32_t seed, int tasks, int fail_per_mille) {
    std::mt19937 rng(seed);
    for (int i = 0; i < tasks; ++i) {
      const std::string name = "n" + std::to_string(i);
      std::vector<std::string> parents;
      const int edges = i == 0 ? 0 : static_cast<int>(rng() % 5);
      for (int e = 0; e < edges; ++e)
        parents.push_back("n" + std::to_string(rng() % static_cast<unsigned>(i)));
      deps[name] = parents;
      const bool fails = static_cast<int>(rng() % 1000) < fail_per_mille;
      funcs.emplace(name, [i, fails](std::span<const std::uint64_t> inputs) -> std::uint64_t {
        if (fails) throw std::runtime_error("task " + std::to_string(i) + " failed");
        std::uint64_t h = 1469598103934665603ull ^ static_cast<std::uint64_t>(i);
        for (const std::uint64_t v : inputs) h = (h ^ v) * 1099511628211ull;
        return h;
      });
    }
  }
};

template <class T>
void require_same_outcome(const TaskGraph<T>& expected, const TaskGraph<T>& actual) {
  REQUIRE(expected.results() == actual.results());
  REQUIRE(expected.failed() == actual.failed());
  REQUIRE(expected.skipped() == actual.skipped());
  REQUIRE(expected.done() == actual.done());
}

}  // namespace

TEST_CASE("thread pool: two blocking 0.4 s tasks overlap on 2 workers", "[thread_pool][timing]") {
  auto g = create_graph<int>({{"x",
                               [] {
                                 std::this_thread::sleep_for(400ms);
                                 return 5;
                               }},
                              {"y",
                               [] {
                                 std::this_thread::sleep_for(400ms);
                                 return 5;
                               }}},
                             {{"x", {}}, {"y", {}}});
  const auto start = Clock::now();
  const RunSummary summary = run_parallel(g, {.ncores = 2});
  const auto elapsed = Clock::now() - start;
  CHECK(summary.succeeded == 2);
  CHECK(elapsed < 800ms);  // Python T23
}

TEST_CASE("Python T19: run_parallel passes results", "[thread_pool][python]") {
  auto long_task = [] {
    std::this_thread::sleep_for(20ms);
    return 5;
  };
  auto g = create_graph<int>({{"long_task", long_task}, {"b", fb}, {"c", fc}},
                             {{"c", {"long_task", "b"}}, {"b", {"long_task"}}, {"long_task", {}}});
  run_parallel(g, {.ncores = 2});
  CHECK(g.results() == ResultMap<int>{{"long_task", 5}, {"b", 15}, {"c", 40}});
}

TEST_CASE("Python T15a: run_parallel with raise_errors", "[thread_pool][python]") {
  auto g = create_graph<int>({{"d", fd}, {"c", fb}}, {{"c", {"d"}}, {"d", {}}});
  CHECK_THROWS_WITH(run_parallel(g, {.raise_errors = true}),
                    Catch::Matchers::Contains("some error"));
  CHECK(g.status("c") == TaskStatus::skipped);
}

TEST_CASE("thread pool: same results as the sequential executor for 1, 2, 4 and 8 workers",
          "[thread_pool][differential]") {
  for (const std::uint32_t seed : {1u, 2u, 3u}) {
    const RandomDag dag(seed, 3000, 5);
    auto reference = create_graph<std::uint64_t>(dag.funcs, dag.deps);
    run(reference);
    REQUIRE_FALSE(reference.failed().empty());
    for (const std::size_t workers : {1u, 2u, 4u, 8u}) {
      CAPTURE(seed, workers);
      ThreadPoolExecutor pool(workers);
      auto g = create_graph<std::uint64_t>(dag.funcs, dag.deps);
      const RunSummary summary = pool.run(g);
      require_same_outcome(reference, g);
      CHECK(summary.succeeded == reference.done().size());
    }
  }
}

TEST_CASE("thread pool: with io_bound and priorities, results still match",
          "[thread_pool][differential]") {
  const RandomDag dag(7, 2000, 3);
  GraphOptions<std::uint64_t> options;
  for (int i = 0; i < 2000; i += 7) options.priority["n" + std::to_string(i)] = i % 13;
  for (int i = 0; i < 2000; i += 11) options.io_bound.push_back("n" + std::to_string(i));
  auto reference = create_graph<std::uint64_t>(dag.funcs, dag.deps, options);
  run(reference);
  for (const std::size_t workers : {1u, 3u}) {
    ThreadPoolExecutor pool(workers);
    auto g = create_graph<std::uint64_t>(dag.funcs, dag.deps, options);
    pool.run(g);
    require_same_outcome(reference, g);
  }
}

TEST_CASE("thread pool: io_bound tasks start first, then higher priority", "[thread_pool]") {
  std::mutex mutex;
  std::vector<std::string> order;
  auto task = [&](std::string name) {
    return [&, name](Context&) {
      {
        std::lock_guard lock(mutex);
        order.push_back(name);
      }
      std::this_thread::sleep_for(5ms);
      return 0;
    };
  };
  FuncMap<int> funcs;
  for (const char* name : {"a", "b", "c", "io"}) funcs.emplace(name, task(name));
  auto g = create_graph<int>(funcs, {{"a", {}}, {"b", {}}, {"c", {}}, {"io", {}}},
                             {.io_bound = {"io"}, .priority = {{"c", 5}, {"a", 1}}});
  ThreadPoolExecutor pool(1);
  pool.run(g);
  CHECK(order == std::vector<std::string>{"io", "c", "a", "b"});
}

TEST_CASE("thread pool: no dependent of a failed task ever starts", "[thread_pool][stress]") {
  ThreadPoolExecutor pool(4);
  for (int round = 0; round < 200; ++round) {
    std::atomic<int> started_below_failure{0};
    FuncMap<int> funcs;
    DependencyMap deps;
    for (int i = 0; i < 20; ++i) {
      const std::string root = "r" + std::to_string(i);
      funcs.emplace(root, [i]() -> int {
        if (i % 2 == 0) throw std::runtime_error("boom");
        return i;
      });
      deps[root] = {};
      for (int j = 0; j < 5; ++j) {
        const std::string child = root + "c" + std::to_string(j);
        funcs.emplace(child, [&started_below_failure, i](std::span<const int>) {
          if (i % 2 == 0) ++started_below_failure;
          return 1;
        });
        deps[child] = {root, "r" + std::to_string((i + 1) % 20)};
      }
    }
    auto g = create_graph<int>(funcs, deps);
    const RunSummary summary = pool.run(g);
    REQUIRE(started_below_failure == 0);
    REQUIRE(summary.failed == 10);
    // Every child has an even (failing) root among its two dependencies.
    REQUIRE(summary.skipped == 100);
  }
}

TEST_CASE("thread pool: concurrency groups never exceed their limit", "[thread_pool][groups]") {
  HighWater db;
  HighWater gpu;
  HighWater free_tasks;
  FuncMap<int> funcs;
  DependencyMap deps;
  ConcurrencyGroup db_group{.max_concurrency = 2};
  ConcurrencyGroup gpu_group{.max_concurrency = 1};
  for (int i = 0; i < 12; ++i) {
    const std::string d = "db" + std::to_string(i);
    const std::string u = "gpu" + std::to_string(i);
    const std::string f = "free" + std::to_string(i);
    funcs.emplace(d, [&db](std::span<const int>) {
      db.enter();
      std::this_thread::sleep_for(3ms);
      db.leave();
      return 1;
    });
    funcs.emplace(u, [&gpu] {
      gpu.enter();
      std::this_thread::sleep_for(2ms);
      gpu.leave();
      return 1;
    });
    funcs.emplace(f, [&free_tasks] {
      free_tasks.enter();
      std::this_thread::sleep_for(2ms);
      free_tasks.leave();
      return 1;
    });
    deps[d] = i >= 4 ? std::vector<std::string>{"db" + std::to_string(i - 4)}
                     : std::vector<std::string>{};
    deps[u] = {};
    deps[f] = {};
    db_group.tasks.push_back(d);
    gpu_group.tasks.push_back(u);
  }
  auto g = create_graph<int>(funcs, deps, {.groups = {{"db", db_group}, {"gpu", gpu_group}}});
  ThreadPoolExecutor pool(6);
  const RunSummary summary = pool.run(g);
  CHECK(summary.succeeded == 36);
  CHECK(db.most <= 2);
  CHECK(gpu.most == 1);
  CHECK(db.most >= 1);
  // Other tasks flow around the groups.
  CHECK(free_tasks.most >= 2);
  // The sequential executor honours groups trivially and gets the same results.
  auto again = create_graph<int>(funcs, deps, {.groups = {{"db", db_group}, {"gpu", gpu_group}}});
  run(again);
  CHECK(again.results() == g.results());
}

TEST_CASE("thread pool: groups with failures, fail_fast and stops never deadlock",
          "[thread_pool][groups][stress]") {
  ThreadPoolExecutor pool(4);
  for (int round = 0; round < 50; ++round) {
    FuncMap<int> funcs;
    DependencyMap deps;
    ConcurrencyGroup group{.max_concurrency = 1};
    for (int i = 0; i < 30; ++i) {
      const std::string name = "t" + std::to_string(i);
      funcs.emplace(name, [i, round]() -> int {
        if ((i + round) % 9 == 0) throw std::runtime_error("x");
        return i;
      });
      deps[name] = i > 3 ? std::vector<std::string>{"t" + std::to_string(i % 4)}
                         : std::vector<std::string>{};
      if (i % 2 == 0) group.tasks.push_back(name);
    }
    auto g = create_graph<int>(funcs, deps, {.groups = {{"one", group}}});
    const RunSummary summary = pool.run(g, {.fail_fast = round % 2 == 0});
    CHECK(summary.failed >= 1);
    if (round % 2 == 1) CHECK(summary.succeeded + summary.failed + summary.skipped == 30);
  }
}

TEST_CASE("thread pool: a failure with fail_fast while group members wait ends the run",
          "[thread_pool][groups]") {
  // Regression: the member handed the group's turn was dropped (fail_fast) without passing
  // the turn on, so the other parked members waited forever.
  for (int round = 0; round < 20; ++round) {
    FuncMap<int> funcs;
    DependencyMap deps;
    ConcurrencyGroup group{.max_concurrency = 1, .tasks = {"first"}};
    funcs.emplace("first", []() -> int {
      std::this_thread::sleep_for(20ms);
      throw std::runtime_error("first failed");
    });
    deps["first"] = {};
    for (int i = 0; i < 6; ++i) {
      const std::string name = "member" + std::to_string(i);
      funcs.emplace(name, [] { return 1; });
      deps[name] = {};
      group.tasks.push_back(name);
    }
    auto g =
        create_graph<int>(funcs, deps, {.priority = {{"first", 10}}, .groups = {{"one", group}}});
    ThreadPoolExecutor pool(4);
    const RunSummary summary = pool.run(g, {.fail_fast = true});
    CHECK(summary.failed == 1);
    CHECK(summary.succeeded + g.ready_tasks().size() == 6);
  }
}

TEST_CASE("groups are validated when the graph is built", "[groups][errors]") {
  const FuncMap<int> funcs{{"a", fa}, {"b", fa}};
  const DependencyMap deps{{"a", {}}, {"b", {}}};
  CHECK_THROWS_AS(
      create_graph<int>(funcs, deps, {.groups = {{"g", {.max_concurrency = 1, .tasks = {"zz"}}}}}),
      UnknownTaskError);
  CHECK_THROWS_AS(
      create_graph<int>(funcs, deps, {.groups = {{"g", {.max_concurrency = 0, .tasks = {"a"}}}}}),
      GraphError);
  try {
    (void)create_graph<int>(funcs, deps,
                            {.groups = {{"g1", {.max_concurrency = 1, .tasks = {"a"}}},
                                        {"g2", {.max_concurrency = 1, .tasks = {"a", "b"}}}}});
    FAIL("no GraphError");
  } catch (const GraphError& e) {
    const std::string what = e.what();
    CHECK(what.find("'a'") != std::string::npos);
    CHECK(what.find("'g1'") != std::string::npos);
    CHECK(what.find("'g2'") != std::string::npos);
  }
}

TEST_CASE("thread pool: set_max_workers grows a running pool at once", "[thread_pool][scaling]") {
  ThreadPoolExecutor pool(1);
  CHECK(pool.max_workers() == 1);
  HighWater water;
  FuncMap<int> funcs;
  DependencyMap deps;
  funcs.emplace("grow", [&pool] {
    pool.set_max_workers(4);
    return 0;
  });
  deps["grow"] = {};
  for (int i = 0; i < 24; ++i) {
    const std::string name = "t" + std::to_string(i);
    funcs.emplace(name, [&water](int) {
      water.enter();
      std::this_thread::sleep_for(20ms);
      water.leave();
      return 1;
    });
    deps[name] = {"grow"};
  }
  auto g = create_graph<int>(funcs, deps);
  const RunSummary summary = pool.run(g);
  CHECK(summary.succeeded == 25);
  CHECK(pool.max_workers() == 4);
  CHECK(water.most >= 2);
  CHECK(water.most <= 4);
}

TEST_CASE("thread pool: set_max_workers shrinks without interrupting running tasks",
          "[thread_pool][scaling]") {
  ThreadPoolExecutor pool(4);
  std::atomic<bool> shrunk{false};
  std::atomic<int> finished{0};
  Clock::time_point shrink_time{};
  std::mutex mutex;
  std::vector<std::pair<Clock::time_point, std::size_t>> starts;  // start time, worker
  FuncMap<int> funcs;
  DependencyMap deps;
  for (int i = 0; i < 40; ++i) {
    const std::string name = "t" + std::to_string(i);
    funcs.emplace(name, [&, i](Context& ctx) {
      {
        std::lock_guard lock(mutex);
        starts.emplace_back(Clock::now(), ctx.worker_id());
      }
      if (i == 0) {
        pool.set_max_workers(1);
        shrink_time = Clock::now();
        shrunk = true;
      }
      std::this_thread::sleep_for(10ms);
      ++finished;
      return 1;
    });
    deps[name] = {};
  }
  auto g = create_graph<int>(funcs, deps, {.priority = {{"t0", 1}}});
  const RunSummary summary = pool.run(g);
  CHECK(summary.succeeded == 40);
  CHECK(finished == 40);
  CHECK(shrunk);
  // Well after the shrink only one worker takes new tasks.
  std::set<std::size_t> late_workers;
  for (const auto& [when, worker] : starts) {
    if (when > shrink_time + 60ms) late_workers.insert(worker);
  }
  CHECK(late_workers.size() <= 1);
  // The pool keeps working at its new size, and grows again.
  auto again = create_graph<int>({{"a", fa}, {"b", fb}}, {{"a", {}}, {"b", {"a"}}});
  pool.run(again);
  CHECK(again.result("b") == 15);
  pool.set_max_workers(3);
  CHECK(pool.max_workers() == 3);
}

TEST_CASE("thread pool: one pool runs many graphs, also from several threads",
          "[thread_pool][stress]") {
  ThreadPoolExecutor pool(3);
  const RandomDag dag(11, 500, 10);
  auto reference = create_graph<std::uint64_t>(dag.funcs, dag.deps);
  run(reference);
  // Catch2's assertions are not thread-safe: each thread keeps its graphs, checked after join.
  auto worker = [&](std::vector<TaskGraph<std::uint64_t>>& ran) {
    for (int i = 0; i < 20; ++i) {
      ran.push_back(create_graph<std::uint64_t>(dag.funcs, dag.deps));
      pool.run(ran.back());
    }
  };
  std::vector<TaskGraph<std::uint64_t>> ran_here;
  std::vector<TaskGraph<std::uint64_t>> ran_there;
  std::thread other([&] { worker(ran_there); });
  worker(ran_here);
  other.join();
  for (const auto* ran : {&ran_here, &ran_there}) {
    REQUIRE(ran->size() == 20);
    for (const auto& g : *ran) require_same_outcome(reference, g);
  }
}

TEST_CASE("thread pool: a task may run another graph on its own pool", "[thread_pool]") {
  ThreadPoolExecutor pool(2);
  auto inner = create_graph<int>({{"x", fa}, {"y", fb}}, {{"x", {}}, {"y", {"x"}}});
  auto outer = create_graph<int>({{"sub",
                                   [&] {
                                     pool.run(inner);
                                     return inner.result("y");
                                   }},
                                  {"top", fb}},
                                 {{"sub", {}}, {"top", {"sub"}}});
  pool.run(outer);
  CHECK(outer.result("top") == 25);
}

TEST_CASE("thread pool: worker ids are within the pool size", "[thread_pool]") {
  ThreadPoolExecutor pool(3);
  std::mutex mutex;
  std::set<std::size_t> ids;
  FuncMap<int> funcs;
  DependencyMap deps;
  for (int i = 0; i < 60; ++i) {
    const std::string name = "t" + std::to_string(i);
    funcs.emplace(name, [&](Context& ctx) {
      std::this_thread::sleep_for(1ms);
      std::lock_guard lock(mutex);
      ids.insert(ctx.worker_id());
      return 0;
    });
    deps[name] = {};
  }
  auto g = create_graph<int>(funcs, deps);
  pool.run(g);
  REQUIRE_FALSE(ids.empty());
  CHECK(*ids.rbegin() < 3);
}

TEST_CASE("thread pool: destruction joins cleanly after failed and cancelled runs",
          "[thread_pool]") {
  for (int i = 0; i < 20; ++i) {
    ThreadPoolExecutor pool(2);
    auto failing = create_graph<int>({{"d", fd}, {"c", fb}}, {{"c", {"d"}}, {"d", {}}});
    pool.run(failing);
    std::stop_source stop;
    stop.request_stop();
    auto cancelled = create_graph<int>({{"a", fa}}, {{"a", {}}});
    pool.run(cancelled, {.stop_token = stop.get_token()});
    CHECK(cancelled.status("a") == TaskStatus::cancelled);
  }
}

TEST_CASE("thread pool: a stop mid-run lets running tasks finish and cancels the rest",
          "[thread_pool]") {
  ThreadPoolExecutor pool(2);
  std::stop_source stop;
  std::atomic<int> saw_stop{0};
  FuncMap<int> funcs;
  DependencyMap deps;
  funcs.emplace("stopper", [&](Context& ctx) {
    stop.request_stop();
    if (ctx.stop_requested()) ++saw_stop;
    return 0;
  });
  deps["stopper"] = {};
  for (int i = 0; i < 50; ++i) {
    const std::string name = "t" + std::to_string(i);
    funcs.emplace(name, [](int) { return 1; });
    deps[name] = {"stopper"};
  }
  auto g = create_graph<int>(funcs, deps);
  const RunSummary summary = pool.run(g, {.stop_token = stop.get_token()});
  CHECK(saw_stop == 1);
  CHECK(summary.succeeded == 1);
  CHECK(summary.cancelled == 50);
  const RunSummary rest = pool.run(g);
  CHECK(rest.succeeded == 50);
}

TEST_CASE("thread pool: an empty graph and a graph with nothing to do return at once",
          "[thread_pool]") {
  ThreadPoolExecutor pool(2);
  TaskGraph<int> empty;
  CHECK(pool.run(empty).succeeded == 0);
  auto g = create_graph<int>({{"a", fa}}, {{"a", {}}}, {.done = {"a"}});
  CHECK(pool.run(g).succeeded == 0);
}

// --- The calling thread helps -----------------------------------------------------------

namespace {

// Records the worker and thread of every event it sees.
class WhereObserver final : public Observer {
 public:
  void on_event(const TaskEvent& event) override {
    std::lock_guard lock(mutex_);
    workers_.insert(event.worker);
    threads_.insert(std::this_thread::get_id());
  }
  std::set<std::size_t> workers() {
    std::lock_guard lock(mutex_);
    return workers_;
  }
  std::set<std::thread::id> threads() {
    std::lock_guard lock(mutex_);
    return threads_;
  }

 private:
  std::mutex mutex_;
  std::set<std::size_t> workers_;
  std::set<std::thread::id> threads_;
};

// The threads and worker ids the tasks of a run ran on.
struct Where {
  std::mutex mutex;
  std::set<std::thread::id> threads;
  std::set<std::size_t> workers;
  void record(const Context& ctx) {
    std::lock_guard lock(mutex);
    threads.insert(std::this_thread::get_id());
    workers.insert(ctx.worker_id());
  }
};

// A chain of `length` tasks that record where they ran: never more than one task is ready.
TaskGraph<int> recording_chain(Where& where, int length) {
  FuncMap<int> funcs;
  DependencyMap deps;
  for (int i = 0; i < length; ++i) {
    const std::string name = "c" + std::to_string(i);
    if (i == 0) {
      funcs.emplace(name, [&where](Context& ctx) {
        where.record(ctx);
        return 1;
      });
      deps[name] = {};
    } else {
      funcs.emplace(name, [&where](Context& ctx, int previous) {
        where.record(ctx);
        return previous + 1;
      });
      deps[name] = {"c" + std::to_string(i - 1)};
    }
  }
  return create_graph<int>(std::move(funcs), std::move(deps));
}

}  // namespace

TEST_CASE("thread pool: the calling thread runs a one-task graph itself, as worker 0",
          "[thread_pool][caller]") {
  ThreadPoolExecutor pool(2);
  for (int round = 0; round < 50; ++round) {
    std::thread::id ran_on;
    std::size_t worker = 99;
    auto g = create_graph<int>({{"only",
                                 [&](Context& ctx) {
                                   ran_on = std::this_thread::get_id();
                                   worker = ctx.worker_id();
                                   return 7;
                                 }}},
                               {{"only", {}}});
    auto observer = std::make_shared<WhereObserver>();
    const RunSummary summary = pool.run(g, {.observers = {observer}});
    REQUIRE(summary.succeeded == 1);
    REQUIRE(ran_on == std::this_thread::get_id());
    REQUIRE(worker == 0);
    // Every event, the task's start and end included, came from the caller as worker 0.
    REQUIRE(observer->workers() == std::set<std::size_t>{0});
    REQUIRE(observer->threads() == std::set<std::thread::id>{std::this_thread::get_id()});
  }
}

TEST_CASE("thread pool: a graph that never has two tasks ready wakes no worker",
          "[thread_pool][caller]") {
  ThreadPoolExecutor pool(4);
  // Let the workers finish looking for work and park, so that a task on another thread
  // could only come from a wake-up, which a chain must not cause (nor may it ever queue a
  // task where an awake worker could steal it).
  std::this_thread::sleep_for(100ms);
  Where where;
  for (int round = 0; round < 20; ++round) {
    auto g = recording_chain(where, 30);
    const RunSummary summary = pool.run(g);
    REQUIRE(summary.succeeded == 30);
    REQUIRE(g.result("c29") == 30);
  }
  CHECK(where.threads == std::set<std::thread::id>{std::this_thread::get_id()});
  CHECK(where.workers == std::set<std::size_t>{0});
}

TEST_CASE("thread pool: a wide graph still runs on every worker, the caller counted",
          "[thread_pool][caller]") {
  for (const std::size_t workers : {2u, 3u}) {
    ThreadPoolExecutor pool(workers);
    HighWater water;
    Where where;
    FuncMap<int> funcs;
    DependencyMap deps;
    const auto deadline = Clock::now() + 3s;
    for (int i = 0; i < 12; ++i) {
      const std::string name = "t" + std::to_string(i);
      funcs.emplace(name, [&, workers](Context& ctx) {
        where.record(ctx);
        water.enter();
        // Wait until every worker runs a task (or give up, so a broken pool fails).
        while (water.most.load() < static_cast<int>(workers) && Clock::now() < deadline) {
          std::this_thread::sleep_for(100us);
        }
        std::this_thread::sleep_for(1ms);
        water.leave();
        return 1;
      });
      deps[name] = {};
    }
    auto g = create_graph<int>(std::move(funcs), std::move(deps));
    const RunSummary summary = pool.run(g);
    CAPTURE(workers);
    CHECK(summary.succeeded == 12);
    CHECK(water.most.load() == static_cast<int>(workers));  // all at once, never one more
    CHECK(where.threads.count(std::this_thread::get_id()) == 1);
    CHECK(*where.workers.rbegin() < workers);
  }
}

TEST_CASE("thread pool: max_workers 1 runs one task at a time, all on the caller",
          "[thread_pool][caller]") {
  ThreadPoolExecutor pool(3);
  pool.set_max_workers(1);
  HighWater water;
  Where where;
  FuncMap<int> funcs;
  DependencyMap deps;
  for (int i = 0; i < 16; ++i) {
    const std::string name = "t" + std::to_string(i);
    funcs.emplace(name, [&](Context& ctx) {
      where.record(ctx);
      water.enter();
      std::this_thread::sleep_for(1ms);
      water.leave();
      return 1;
    });
    deps[name] = {};
  }
  auto g = create_graph<int>(std::move(funcs), std::move(deps));
  CHECK(pool.run(g).succeeded == 16);
  CHECK(water.most.load() == 1);
  CHECK(where.threads == std::set<std::thread::id>{std::this_thread::get_id()});
}

TEST_CASE("thread pool: a concurrency group holds its limit while the caller helps",
          "[thread_pool][caller][groups]") {
  ThreadPoolExecutor pool(2);
  for (int round = 0; round < 10; ++round) {
    HighWater members;
    HighWater everyone;
    FuncMap<int> funcs;
    DependencyMap deps;
    ConcurrencyGroup group{.max_concurrency = 1};
    for (int i = 0; i < 8; ++i) {
      const std::string name = "m" + std::to_string(i);
      funcs.emplace(name, [&] {
        everyone.enter();
        members.enter();
        std::this_thread::sleep_for(1ms);
        members.leave();
        everyone.leave();
        return 1;
      });
      deps[name] = {};
      group.tasks.push_back(name);
      const std::string other = "o" + std::to_string(i);
      funcs.emplace(other, [&] {
        everyone.enter();
        std::this_thread::sleep_for(1ms);
        everyone.leave();
        return 1;
      });
      deps[other] = {};
    }
    auto g = create_graph<int>(std::move(funcs), std::move(deps), {.groups = {{"one", group}}});
    REQUIRE(pool.run(g).succeeded == 16);
    REQUIRE(members.most.load() == 1);
    REQUIRE(everyone.most.load() <= 2);
  }
}

TEST_CASE("thread pool: a task the caller runs may run a graph on the same pool",
          "[thread_pool][caller]") {
  ThreadPoolExecutor pool(2);
  for (int round = 0; round < 20; ++round) {
    std::thread::id inner_thread;
    auto inner = create_graph<int>({{"x",
                                     [&] {
                                       inner_thread = std::this_thread::get_id();
                                       return 5;
                                     }},
                                    {"y", fb}},
                                   {{"x", {}}, {"y", {"x"}}});
    // One task: the caller runs it, so the nested run starts on the helping caller.
    auto outer = create_graph<int>({{"sub",
                                     [&] {
                                       pool.run(inner);
                                       return inner.result("y");
                                     }}},
                                   {{"sub", {}}});
    pool.run(outer);
    REQUIRE(outer.result("sub") == 15);
    REQUIRE(inner_thread == std::this_thread::get_id());  // inline, on the same thread
  }
}

TEST_CASE("thread pool: a run from another pool's task waits instead of helping",
          "[thread_pool][caller]") {
  ThreadPoolExecutor outer_pool(1);
  ThreadPoolExecutor inner_pool(1);
  std::thread::id outer_thread;
  std::thread::id inner_thread;
  auto inner = create_graph<int>({{"x",
                                   [&] {
                                     inner_thread = std::this_thread::get_id();
                                     return 1;
                                   }}},
                                 {{"x", {}}});
  auto outer = create_graph<int>({{"sub",
                                   [&] {
                                     outer_thread = std::this_thread::get_id();
                                     inner_pool.run(inner);
                                     return inner.result("x");
                                   }}},
                                 {{"sub", {}}});
  // The one outer task runs on this thread, then worker 0 of outer_pool: a run it starts on
  // another pool waits for that pool's workers, as a run from any pool's task does.
  outer_pool.run(outer);
  CHECK(outer.result("sub") == 1);
  CHECK(outer_thread == std::this_thread::get_id());
  CHECK(inner_thread != outer_thread);
}

TEST_CASE("thread pool: outside threads run tiny graphs at once, each on its own thread",
          "[thread_pool][caller][stress]") {
  ThreadPoolExecutor pool(2);
  constexpr int kThreads = 3;
  constexpr int kRuns = 300;
  std::atomic<int> wrong_thread{0};
  std::atomic<int> wrong_result{0};
  auto body = [&] {
    const std::thread::id self = std::this_thread::get_id();
    for (int i = 0; i < kRuns; ++i) {
      auto g = create_graph<int>({{"a",
                                   [&, self] {
                                     if (std::this_thread::get_id() != self) ++wrong_thread;
                                     return 1;
                                   }},
                                  {"b", [](int a) { return a + 1; }}},
                                 {{"a", {}}, {"b", {"a"}}});
      const RunSummary summary = pool.run(g);
      if (summary.succeeded != 2 || g.result("b") != 2) ++wrong_result;
    }
  };
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) threads.emplace_back(body);
  for (std::thread& thread : threads) thread.join();
  CHECK(wrong_result.load() == 0);
  CHECK(wrong_thread.load() == 0);
}
