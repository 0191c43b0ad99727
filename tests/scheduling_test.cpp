// Scheduling guarantees under load, on every executor they apply to and for 1-4 and 8
// workers, each repeated enough to catch a race:
// - every parked worker is brought in while ready work waits (more workers than cores is
//   how users run tasks that block);
// - among tasks ready at the same moment, no lower-priority task starts while a
//   higher-priority one waits to start, apart from tasks a worker had already taken;
// - a concurrency group's limit holds on every executor, also while members are suspended.

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <mutex>
#include <string>
#include <thread>
#include <type_traits>
#include <vector>

#include "executors.hpp"
#include "test_support.hpp"

using namespace taskmap;
using namespace taskmap_test;
using namespace std::chrono_literals;

namespace {

constexpr std::size_t kWorkerCounts[] = {1, 2, 3, 4, 8};

// Counts tasks running at once and remembers the most seen.
class ConcurrencyMeter {
 public:
  void enter() {
    const int now = ++running_;
    int seen = most_.load();
    while (now > seen && !most_.compare_exchange_weak(seen, now)) {
    }
  }
  void leave() { --running_; }
  [[nodiscard]] int running() const { return running_.load(); }
  [[nodiscard]] int most() const { return most_.load(); }

 private:
  std::atomic<int> running_{0};
  std::atomic<int> most_{0};
};

// Each task enters, then waits until `wanted` tasks run at once (or until a generous
// deadline shared by the whole run has passed, so a broken scheduler fails instead of
// hanging), then leaves. A run with W workers must reach min(W, tasks) at once.
struct JoinAll {
  ConcurrencyMeter meter;
  int wanted = 0;
  std::chrono::steady_clock::time_point deadline;
  std::atomic<bool> gave_up{false};

  void task() {
    meter.enter();
    while (meter.most() < wanted && !gave_up.load()) {
      if (std::chrono::steady_clock::now() > deadline) {
        gave_up = true;
        break;
      }
      std::this_thread::sleep_for(100us);
    }
    meter.leave();
  }
};

template <class E>
void check_every_worker_joins(std::size_t workers, std::size_t fan_out, bool slow_chain) {
  auto executor = make_executor<E>(workers);
  JoinAll join;
  join.wanted = static_cast<int>(std::min(workers, fan_out));
  FuncMap<int> funcs;
  DependencyMap deps;
  // A short chain first, so the fan-out becomes ready while the workers are parked.
  const int chain = slow_chain ? 5 : 1;
  for (int i = 0; i < chain; ++i) {
    const std::string name = "head" + std::to_string(i);
    if (i == 0) {
      funcs.emplace(name, [] { return 0; });
      deps[name] = {};
    } else {
      funcs.emplace(name, [](int) {
        std::this_thread::sleep_for(1ms);
        return 0;
      });
      deps[name] = {"head" + std::to_string(i - 1)};
    }
  }
  const std::string last_head = "head" + std::to_string(chain - 1);
  for (std::size_t i = 0; i < fan_out; ++i) {
    const std::string name = "fan" + std::to_string(i);
    funcs.emplace(name, [&join](int) {
      join.task();
      return 1;
    });
    deps[name] = {last_head};
  }
  auto g = create_graph<int>(std::move(funcs), std::move(deps));
  join.deadline = std::chrono::steady_clock::now() + 3s;
  const RunSummary summary = executor.run(g, {});
  CHECK(summary.succeeded == fan_out + static_cast<std::size_t>(chain));
  INFO(workers << " workers, " << fan_out << " ready tasks: at most " << join.meter.most()
               << " ran at once");
  CHECK_FALSE(join.gave_up.load());
  CHECK(join.meter.most() == join.wanted);
}

// Starts of one run, in the order the tasks recorded them.
struct StartLog {
  std::mutex mutex;
  std::vector<int> priorities;
  void started(int priority) {
    std::lock_guard lock(mutex);
    priorities.push_back(priority);
  }
};

// `high` tasks of priority 2 and `low` of priority 0 all become ready when `a` ends. Returns
// how many high tasks had recorded their start before the first low one did.
template <class E>
std::size_t highs_before_first_low(E& executor, std::size_t high, std::size_t low,
                                   bool io_bound_high) {
  StartLog log;
  FuncMap<int> funcs;
  DependencyMap deps;
  GraphOptions<int> options;
  funcs.emplace("a", [] { return 0; });
  deps["a"] = {};
  for (std::size_t i = 0; i < high + low; ++i) {
    const bool is_high = i < high;
    const std::string name = (is_high ? "high" : "low") + std::to_string(i);
    funcs.emplace(name, [&log, is_high](int) {
      log.started(is_high ? 2 : 0);
      return 1;
    });
    deps[name] = {"a"};
    if (is_high) {
      if (io_bound_high) {
        options.io_bound.push_back(name);
      } else {
        options.priority[name] = 2;
      }
    }
  }
  auto g = create_graph<int>(std::move(funcs), std::move(deps), std::move(options));
  const RunSummary summary = executor.run(g, {});
  REQUIRE(summary.succeeded == high + low + 1);
  const auto first_low = std::find(log.priorities.begin(), log.priorities.end(), 0);
  return static_cast<std::size_t>(std::count(log.priorities.begin(), first_low, 2));
}

template <class E>
void check_priority_order(std::size_t workers, std::size_t high, std::size_t low,
                          bool io_bound_high, int runs) {
  // BatchExecutor starts its batches in start order by construction and a thread per task
  // (the costliest thing under a sanitizer); only the pool executors race for the order.
  if constexpr (std::is_same_v<E, custom::BatchExecutor>) runs = std::max(runs / 10, 3);
  auto executor = make_executor<E>(workers);
  // When the first low task is taken, every high task has been taken; those another worker
  // took but has not yet recorded (at most one per other worker) may record later.
  const std::size_t slack = std::min(workers, high) - 1;
  std::size_t worst = high;
  for (int run = 0; run < runs; ++run) {
    worst = std::min(worst, highs_before_first_low(executor, high, low, io_bound_high));
  }
  INFO(workers << " workers, " << high << " high and " << low << " low tasks, " << runs
               << " runs: in the worst run " << worst << " high tasks started before a low one");
  CHECK(worst + slack >= high);
}

template <class E>
void check_group_limit_with_suspended_members(std::size_t workers, bool coroutines) {
  auto executor = make_executor<E>(workers);
  ConcurrencyMeter meter;
  FuncMap<int> funcs;
  DependencyMap deps;
  ConcurrencyGroup group{.max_concurrency = 2};
  for (int i = 0; i < 8; ++i) {
    const std::string name = "member" + std::to_string(i);
    if (coroutines) {
      funcs.emplace(name, [&meter]() -> Task<int> {
        meter.enter();
        co_await sleep_for(5ms);
        meter.leave();
        co_return 1;
      });
    } else {
      funcs.emplace(name, [&meter] {
        meter.enter();
        std::this_thread::sleep_for(2ms);
        meter.leave();
        return 1;
      });
    }
    deps[name] = {};
    group.tasks.push_back(name);
  }
  auto g = create_graph<int>(std::move(funcs), std::move(deps), {.groups = {{"db", group}}});
  const RunSummary summary = executor.run(g, {});
  CHECK(summary.succeeded == 8);
  INFO(workers << " workers: " << meter.most() << " group members ran at once");
  CHECK(meter.most() <= 2);
  CHECK(meter.most() >= 1);
}

template <class E>
constexpr bool is_pool = std::is_constructible_v<E, std::size_t>;

}  // namespace

TEMPLATE_TEST_CASE("every parked worker joins while ready tasks wait", "[conformance][scheduling]",
                   TASKMAP_CONFORMANCE_EXECUTORS) {
  if constexpr (is_pool<TestType>) {
    for (const std::size_t workers : kWorkerCounts) {
      for (int run = 0; run < 20; ++run) {
        check_every_worker_joins<TestType>(workers, 8, false);
      }
      for (int run = 0; run < 5; ++run) check_every_worker_joins<TestType>(workers, 64, true);
    }
  } else {
    // One thread: exactly one task at a time, and still every task runs.
    check_every_worker_joins<TestType>(1, 8, false);
  }
}

TEMPLATE_TEST_CASE("tasks ready together start by priority", "[conformance][scheduling]",
                   TASKMAP_CONFORMANCE_EXECUTORS) {
  for (const std::size_t workers : kWorkerCounts) {
    if (!is_pool<TestType> && workers != 1) continue;
    check_priority_order<TestType>(workers, 8, 8, false, 300);
    check_priority_order<TestType>(workers, 100, 100, false, 30);
  }
}

TEMPLATE_TEST_CASE("io_bound tasks ready together start before the rest",
                   "[conformance][scheduling]", TASKMAP_CONFORMANCE_EXECUTORS) {
  for (const std::size_t workers : kWorkerCounts) {
    if (!is_pool<TestType> && workers != 1) continue;
    check_priority_order<TestType>(workers, 8, 8, true, 200);
  }
}

TEMPLATE_TEST_CASE("a concurrency group holds its limit while members are suspended",
                   "[conformance][scheduling]", TASKMAP_CONFORMANCE_EXECUTORS) {
  for (const std::size_t workers : kWorkerCounts) {
    if (!is_pool<TestType> && workers != 1) continue;
    for (int run = 0; run < 20; ++run) {
      check_group_limit_with_suspended_members<TestType>(workers, true);
      check_group_limit_with_suspended_members<TestType>(workers, false);
    }
  }
}
