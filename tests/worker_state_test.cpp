// Per-worker state (taskmap/worker_state.hpp) on every executor: one value per worker, built
// on first ask and reused, never used by two tasks at once, destroyed when its worker ends
// (pool shrink, executor destruction), and the errors of a failing factory, a missing one and
// a wrong type.

#include <atomic>
#include <chrono>
#include <cstddef>
#include <stdexcept>
#include <string>
#include <thread>
#include <type_traits>
#include <vector>

#include "catch.hpp"
#include "executors.hpp"
#include "test_support.hpp"

using namespace taskmap;
using taskmap_test::eventually;
using taskmap_test::holds;
using taskmap_test::what_of;

namespace {

struct StateCounts {
  std::atomic<int> attempts{0};
  std::atomic<int> built{0};
  std::atomic<int> destroyed{0};
};

// Neither copyable nor movable: the factory's prvalue must initialise it in place.
struct WorkerScratchValue {
  WorkerScratchValue(StateCounts& counts_in, std::size_t worker_in)
      : counts(&counts_in), worker(worker_in), thread(std::this_thread::get_id()) {
    counts->built.fetch_add(1);
  }
  WorkerScratchValue(const WorkerScratchValue&) = delete;
  WorkerScratchValue& operator=(const WorkerScratchValue&) = delete;
  ~WorkerScratchValue() { counts->destroyed.fetch_add(1); }

  StateCounts* counts;
  std::size_t worker;
  std::thread::id thread;
  std::atomic<bool> in_use{false};
  std::size_t uses = 0;  // only touched while in_use is held
};

WorkerState counting_state(StateCounts& counts) {
  return worker_state([&counts](std::size_t worker) {
    counts.attempts.fetch_add(1);
    return WorkerScratchValue(counts, worker);
  });
}

template <class E>
E make_with_state(std::size_t workers, const WorkerState& state) {
  if constexpr (std::is_constructible_v<E, std::size_t, const WorkerState&>) {
    return E(workers, state);
  } else {
    return E(state);
  }
}

template <class E>
constexpr bool kIsPool = std::is_constructible_v<E, std::size_t, const WorkerState&>;

// What the tasks saw, checked after the run (Catch's macros are not thread-safe).
struct Sightings {
  std::atomic<int> overlaps{0};      // a value already in use by another task
  std::atomic<int> wrong_worker{0};  // a value built for another worker id
  std::atomic<int> wrong_thread{0};  // a value built on another thread
  std::atomic<std::size_t> uses{0};
};

// A task that uses its worker's value for a moment, as a connection would be used.
int use_state(Context& ctx, Sightings& seen, bool check_worker_id) {
  WorkerScratchValue& value = ctx.worker_state<WorkerScratchValue>();
  if (value.in_use.exchange(true, std::memory_order_acquire)) seen.overlaps.fetch_add(1);
  if (check_worker_id && value.worker != ctx.worker_id()) seen.wrong_worker.fetch_add(1);
  if (value.thread != std::this_thread::get_id()) seen.wrong_thread.fetch_add(1);
  ++value.uses;
  std::this_thread::yield();  // widen the window in which another task could barge in
  value.in_use.store(false, std::memory_order_release);
  seen.uses.fetch_add(1);
  return 1;
}

// `check_worker_id`: the value was built for the worker id the context reports (not so for
// the second of two runs at once on a single-thread executor, whose worker id is 0 too).
TaskGraph<int> users_graph(std::size_t tasks, Sightings& seen, bool check_worker_id = true) {
  TaskGraph<int> g("users");
  for (std::size_t i = 0; i < tasks; ++i) {
    g.add_task("use" + std::to_string(i), [&seen, check_worker_id](Context& ctx) {
      return use_state(ctx, seen, check_worker_id);
    });
  }
  return g;
}

}  // namespace

TEMPLATE_TEST_CASE("worker state is built once per worker, reused, never shared at once",
                   "[worker_state]", TASKMAP_TEST_EXECUTORS) {
  StateCounts counts;
  Sightings seen;
  const std::size_t tasks = taskmap_test::kSanitized ? 100 : 400;
  {
    TestType executor = make_with_state<TestType>(4, counting_state(counts));
    for (int round = 0; round < 2; ++round) {
      TaskGraph<int> g = users_graph(tasks, seen);
      const RunSummary summary = executor.run(g);
      REQUIRE(summary.succeeded == tasks);
    }
    CHECK(seen.uses.load() == 2 * tasks);
    CHECK(seen.overlaps.load() == 0);
    CHECK(seen.wrong_worker.load() == 0);
    CHECK(seen.wrong_thread.load() == 0);
    CHECK(counts.built.load() >= 1);
    CHECK(counts.built.load() <= (kIsPool<TestType> ? 4 : 1));
    CHECK(counts.destroyed.load() == 0);  // kept from one run to the next
  }
  CHECK(counts.destroyed.load() == counts.built.load());  // with the executor
}

TEMPLATE_TEST_CASE("worker state is built only when a task asks", "[worker_state]",
                   TASKMAP_TEST_EXECUTORS) {
  StateCounts counts;
  {
    TestType executor = make_with_state<TestType>(4, counting_state(counts));
    auto g = create_graph<int>({{"a", [] { return 1; }}, {"b", [](Context&, int x) { return x; }}},
                               {{"b", {"a"}}, {"a", {}}});
    REQUIRE(executor.run(g).succeeded == 2);
  }
  CHECK(counts.attempts.load() == 0);
  CHECK(counts.destroyed.load() == 0);
}

TEMPLATE_TEST_CASE("a pool that shrinks destroys the retired workers' state", "[worker_state]",
                   taskmap::ThreadPoolExecutor, taskmap::CoroutinePoolExecutor) {
  StateCounts counts;
  TestType executor(4, counting_state(counts));
  // Four tasks that wait for each other hold all four workers at once: each builds a value.
  std::atomic<int> arrived{0};
  std::atomic<int> gave_up{0};
  TaskGraph<int> g("users");
  for (int i = 0; i < 4; ++i) {
    g.add_task("hold" + std::to_string(i), [&](Context& ctx) {
      static_cast<void>(ctx.worker_state<WorkerScratchValue>());
      arrived.fetch_add(1);
      const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
      while (arrived.load() < 4) {
        if (std::chrono::steady_clock::now() > deadline) {
          gave_up.fetch_add(1);
          break;
        }
        std::this_thread::yield();
      }
      return 1;
    });
  }
  REQUIRE(executor.run(g).succeeded == 4);
  REQUIRE(gave_up.load() == 0);
  REQUIRE(counts.built.load() == 4);

  executor.set_max_workers(1);
  // Each retired worker destroys its value on its own thread as it parks.
  CHECK(eventually([&] { return counts.destroyed.load() == 3; }));

  Sightings seen;
  TaskGraph<int> after = users_graph(50, seen);
  REQUIRE(executor.run(after).succeeded == 50);
  CHECK(seen.overlaps.load() == 0);
  CHECK(seen.wrong_worker.load() == 0);
  CHECK(counts.built.load() == 4);  // the one worker left kept its value
  CHECK(counts.destroyed.load() == 3);

  // A worker taken on again builds a fresh value when asked.
  executor.set_max_workers(2);
  arrived.store(2);  // two more holders fill the two workers
  TaskGraph<int> again("again");
  for (int i = 0; i < 2; ++i) {
    again.add_task("hold" + std::to_string(i), [&](Context& ctx) {
      static_cast<void>(ctx.worker_state<WorkerScratchValue>());
      arrived.fetch_add(1);
      const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
      while (arrived.load() < 4 && std::chrono::steady_clock::now() < deadline) {
        std::this_thread::yield();
      }
      return 1;
    });
  }
  REQUIRE(executor.run(again).succeeded == 2);
  CHECK(counts.built.load() == 5);
}

TEMPLATE_TEST_CASE("a worker state factory that throws fails the asking task only",
                   "[worker_state]", TASKMAP_TEST_EXECUTORS) {
  std::atomic<int> calls{0};
  TestType executor = make_with_state<TestType>(2, worker_state([&calls] {
                                                  if (calls.fetch_add(1) == 0) {
                                                    throw std::runtime_error("no connection");
                                                  }
                                                  return std::string("connection");
                                                }));
  auto g = create_graph<std::string>(
      {{"asker", [](Context& ctx) { return ctx.worker_state<std::string>(); }},
       {"child", [](const std::string& s) { return s + "!"; }},
       {"other", [] { return std::string("fine"); }}},
      {{"child", {"asker"}}, {"asker", {}}, {"other", {}}});
  const RunSummary first = executor.run(g);
  CHECK(first.failed == 1);
  CHECK(first.skipped == 1);
  CHECK(g.status("asker") == TaskStatus::failed);
  CHECK(g.status("child") == TaskStatus::skipped);
  CHECK(g.status("other") == TaskStatus::done);
  const std::exception_ptr error = g.error("asker");
  REQUIRE(holds<WorkerStateError>(error));
  const std::string message = what_of(error);
  CHECK_THAT(message,
             Catch::Contains("'asker'") && Catch::Contains("string") && Catch::Contains("failed"));
  try {
    std::rethrow_exception(error);
  } catch (const WorkerStateError& e) {
    CHECK(e.task() == "asker");
    try {
      std::rethrow_if_nested(e);
      FAIL("the factory's exception is not nested");
    } catch (const std::runtime_error& nested) {
      CHECK(std::string(nested.what()) == "no connection");
    }
  }

  // The next ask tries again.
  reset_failed_tasks(g);
  const RunSummary second = executor.run(g);
  CHECK(second.failed == 0);
  CHECK(g.result("child") == "connection!");
  CHECK(calls.load() == 2);
}

TEMPLATE_TEST_CASE("asking for worker state the executor does not offer names the task",
                   "[worker_state]", TASKMAP_CONFORMANCE_EXECUTORS) {
  // Default executors, and a user-written one that knows nothing of worker state.
  TestType executor = taskmap_test::make_executor<TestType>(2);
  auto g = create_graph<int>({{"lonely", [](Context& ctx) { return ctx.worker_state<int>(); }},
                              {"after", [](int x) { return x; }}},
                             {{"after", {"lonely"}}, {"lonely", {}}});
  const RunSummary summary = executor.run(g);
  CHECK(summary.failed == 1);
  CHECK(g.status("after") == TaskStatus::skipped);
  const std::exception_ptr error = g.error("lonely");
  REQUIRE(holds<WorkerStateError>(error));
  CHECK_THAT(what_of(error), Catch::Contains("'lonely'") && Catch::Contains("int") &&
                                 Catch::Contains("no worker state"));
  try {
    std::rethrow_exception(error);
  } catch (const WorkerStateError& e) {
    CHECK(e.task() == "lonely");
    CHECK(e.requested() == "int");
    CHECK(e.built().empty());
  }
}

TEMPLATE_TEST_CASE("asking for worker state of another type names both types", "[worker_state]",
                   TASKMAP_TEST_EXECUTORS) {
  StateCounts counts;
  TestType executor = make_with_state<TestType>(2, counting_state(counts));
  auto g = create_graph<int>(
      {{"confused", [](Context& ctx) { return static_cast<int>(ctx.worker_state<double>()); }}},
      {{"confused", {}}});
  CHECK(executor.run(g).failed == 1);
  const std::exception_ptr error = g.error("confused");
  REQUIRE(holds<WorkerStateError>(error));
  CHECK_THAT(what_of(error), Catch::Contains("'confused'") && Catch::Contains("double") &&
                                 Catch::Contains("WorkerScratchValue"));
  CHECK(counts.attempts.load() == 0);  // a wrong type builds nothing
}

TEMPLATE_TEST_CASE("a coroutine task sees the state of the worker it runs on after each await",
                   "[worker_state]", TASKMAP_TEST_EXECUTORS) {
  StateCounts counts;
  Sightings seen;
  {
    TestType executor = make_with_state<TestType>(4, counting_state(counts));
    TaskGraph<int> g("users");
    const int tasks = taskmap_test::kSanitized ? 16 : 40;
    for (int i = 0; i < tasks; ++i) {
      g.add_task("co" + std::to_string(i), [&seen](Context& ctx) -> Task<int> {
        int total = 0;
        for (int step = 0; step < 3; ++step) {
          // The value of the worker running this step; never kept across the await.
          total += use_state(ctx, seen, false);
          co_await sleep_for(std::chrono::milliseconds(1));
        }
        co_return total;
      });
    }
    REQUIRE(executor.run(g).succeeded == static_cast<std::size_t>(tasks));
    CHECK(seen.uses.load() == static_cast<std::size_t>(3 * tasks));
    CHECK(seen.overlaps.load() == 0);
    CHECK(seen.wrong_thread.load() == 0);
    CHECK(counts.built.load() <= (kIsPool<TestType> ? 4 : 1));
  }
  CHECK(counts.destroyed.load() == counts.built.load());
}

TEST_CASE("a graph run inside a pool task sees that task's worker state", "[worker_state]") {
  StateCounts counts;
  ThreadPoolExecutor pool(2, counting_state(counts));
  TaskGraph<int> g("nesting");
  g.add_task("outer", [&pool](Context& ctx) {
    const WorkerScratchValue* mine = &ctx.worker_state<WorkerScratchValue>();
    // On its own pool the graph runs inline on this worker: its tasks share the value.
    TaskGraph<int> inner("inner");
    inner.add_task("inner", [mine](Context& c) {
      return &c.worker_state<WorkerScratchValue>() == mine ? 1 : 0;
    });
    pool.run(inner);
    // An executor without worker state offers none inside.
    TaskGraph<int> bare("bare");
    bare.add_task("bare", [](Context& c) {
      return static_cast<int>(c.worker_state<WorkerScratchValue>().uses);
    });
    SequentialExecutor{}.run(bare);
    const bool bare_failed = holds<WorkerStateError>(bare.error("bare"));
    // And the task's own value is bound again afterwards.
    const bool same_after = &ctx.worker_state<WorkerScratchValue>() == mine;
    return inner.result("inner") + (bare_failed ? 10 : 0) + (same_after ? 100 : 0);
  });
  REQUIRE(pool.run(g).succeeded == 1);
  CHECK(g.result("outer") == 111);
  CHECK(counts.built.load() == 1);
}

TEMPLATE_TEST_CASE("a single-thread executor gives each run at once a value of its own",
                   "[worker_state]", taskmap::SequentialExecutor, taskmap::CoroutineExecutor) {
  StateCounts counts;
  Sightings seen;
  {
    const TestType executor(counting_state(counts));
    // A run inside one of its tasks, on the same executor and thread, keeps the task's value.
    TaskGraph<int> nesting("nesting");
    nesting.add_task("outer", [&executor](Context& ctx) {
      const WorkerScratchValue* mine = &ctx.worker_state<WorkerScratchValue>();
      TaskGraph<int> inner("inner");
      inner.add_task("inner", [mine](Context& c) {
        return &c.worker_state<WorkerScratchValue>() == mine ? 1 : 0;
      });
      executor.run(inner);
      return inner.result("inner");
    });
    REQUIRE(executor.run(nesting).succeeded == 1);
    CHECK(nesting.result("outer") == 1);
    CHECK(counts.built.load() == 1);

    // Runs on two threads at once each take a value; none is shared.
    const std::size_t tasks = taskmap_test::kSanitized ? 50 : 200;
    std::vector<std::thread> threads;
    std::atomic<int> failures{0};
    for (int t = 0; t < 2; ++t) {
      threads.emplace_back([&] {
        TaskGraph<int> g = users_graph(tasks, seen, false);
        if (executor.run(g).succeeded != tasks) failures.fetch_add(1);
      });
    }
    for (std::thread& thread : threads) thread.join();
    CHECK(failures.load() == 0);
    CHECK(seen.uses.load() == 2 * tasks);
    CHECK(seen.overlaps.load() == 0);  // a value moves between threads, one run at a time
    CHECK(counts.built.load() <= 2);
  }
  CHECK(counts.destroyed.load() == counts.built.load());
}

namespace {

// A user-written executor that opts in: one worker (the calling thread) with one slot, bound
// while it runs the graph, its value destroyed with the executor.
class OneWorkerExecutor {
 public:
  explicit OneWorkerExecutor(const WorkerState& state) : slot_(state, 0) {}

  template <class T>
  RunSummary run(TaskGraph<T>& graph, const RunOptions& options = {}) {
    ExecutorRun<T> run(graph, options);
    ReadyQueue ready = run.first_ready_queue();
    const WorkerStateSlot::Bind bind(slot_);
    for (TaskId task = ready.pop(); task != no_task; task = ready.pop()) {
      if (run.start(task, 0)) ready.push(run.end(task, 0, run.invoke(task, 0)));
    }
    return run.finish();
  }

  void end_worker() noexcept { slot_.reset(); }

 private:
  WorkerStateSlot slot_;
};

static_assert(Executor<OneWorkerExecutor>);

}  // namespace

TEST_CASE("a user-written executor offers worker state through WorkerStateSlot", "[worker_state]") {
  StateCounts counts;
  Sightings seen;
  {
    OneWorkerExecutor executor(counting_state(counts));
    TaskGraph<int> g = users_graph(20, seen);
    REQUIRE(executor.run(g).succeeded == 20);
    CHECK(seen.uses.load() == 20);
    CHECK(counts.built.load() == 1);
    executor.end_worker();
    CHECK(counts.destroyed.load() == 1);
    TaskGraph<int> again = users_graph(5, seen);
    REQUIRE(executor.run(again).succeeded == 5);
    CHECK(counts.built.load() == 2);
  }
  CHECK(counts.destroyed.load() == 2);

  // Without a factory, the slot offers none.
  CHECK_FALSE(static_cast<bool>(WorkerState{}));
  CHECK(static_cast<bool>(counting_state(counts)));
  OneWorkerExecutor bare{WorkerState{}};
  TaskGraph<int> g = users_graph(1, seen);
  CHECK(bare.run(g).failed == 1);
  CHECK(holds<WorkerStateError>(g.error("use0")));
}
