// Graphs that grow while they run (issue 12 §1): a task runs a child graph with ctx.run and
// reads its results; a failed child task fails the parent (nested) unless the parent catches;
// a stop request reaches the child; one worker does not deadlock, two run a child's tasks on
// both; recursion 1,000 levels deep (400 under ASan). ctx.map is tested in map_test.cpp.

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <numeric>
#include <random>
#include <stdexcept>
#include <stop_token>
#include <string>
#include <thread>
#include <vector>

#include "executors.hpp"
#include "test_support.hpp"

using namespace taskmap;
using namespace taskmap_test;

namespace {

// Sorts `values` with a child graph per level ("left" and "right" halves around the first
// element): on sorted input every level has an empty left half, so the recursion is as deep
// as the input is long.
std::vector<int> subgraph_quicksort(Context& ctx, const std::vector<int>& values) {
  if (values.size() <= 1) return values;
  const int pivot = values.front();
  std::vector<int> left;
  std::vector<int> right;
  for (std::size_t i = 1; i < values.size(); ++i) {
    (values[i] < pivot ? left : right).push_back(values[i]);
  }
  TaskGraph<std::vector<int>> child("quicksort");
  child.add_task("left",
                 [part = std::move(left)](Context& c) { return subgraph_quicksort(c, part); });
  child.add_task("right",
                 [part = std::move(right)](Context& c) { return subgraph_quicksort(c, part); });
  ctx.run(child);
  std::vector<int> out = child.result("left");
  out.push_back(pivot);
  const std::vector<int>& upper = child.result("right");
  out.insert(out.end(), upper.begin(), upper.end());
  return out;
}

// What a child task that waits for a partner saw: whether the partner came, and its worker.
struct SubgraphMeeting {
  std::atomic<int> arrived{0};
  std::array<std::atomic<bool>, 2> met{};
  std::array<std::atomic<std::size_t>, 2> worker{};
};

// Each level of a recursion through ctx.run keeps the task's frames on the stack (about
// 1.4 KiB in a release build). Under clang's AddressSanitizer at -O0, with fake stacks for
// use-after-return detection, a level takes several times that and 1,000 levels overflow a
// thread's 8 MiB: sanitized builds recurse 400 deep.
#if defined(__SANITIZE_ADDRESS__)
constexpr int kQuicksortDepth = 400;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
constexpr int kQuicksortDepth = 400;
#else
constexpr int kQuicksortDepth = 1000;
#endif
#else
constexpr int kQuicksortDepth = 1000;
#endif

}  // namespace

TEMPLATE_TEST_CASE("ctx.run runs a child graph whose results the parent reads", "[subgraph]",
                   TASKMAP_CONFORMANCE_EXECUTORS) {
  auto executor = make_executor<TestType>(2);
  TaskGraph<int> parent("parent");
  parent.add_task("base", [] { return 4; });
  parent.add_task(
      "grow",
      [](Context& ctx, int base) {
        TaskGraph<std::string> child("child");
        child.add_task("word", [base] { return std::string(static_cast<std::size_t>(base), 'x'); });
        child.add_task("twice", [](const std::string& w) { return w + w; }, {"word"});
        const RunSummary summary = ctx.run(child);
        if (summary.succeeded != 2) throw std::runtime_error("child did not run both tasks");
        return static_cast<int>(child.result("twice").size());
      },
      {"base"});
  parent.add_task("after", [](int n) { return n + 1; }, {"grow"});
  const RunSummary summary = executor.run(parent, {});
  CHECK(summary.ok());
  CHECK(parent.result("grow") == 8);
  CHECK(parent.result("after") == 9);
}

TEMPLATE_TEST_CASE("a failed child task fails the parent, nested, and skips its dependents",
                   "[subgraph]", TASKMAP_CONFORMANCE_EXECUTORS) {
  auto executor = make_executor<TestType>(2);
  TaskGraph<int> parent("parent");
  parent.add_task("spawn", [](Context& ctx) {
    TaskGraph<int> child("child");
    child.add_task("fine", [] { return 1; });
    child.add_task("boom", [](int) -> int { throw std::runtime_error("child broke"); }, {"fine"});
    ctx.run(child);
    return 0;
  });
  parent.add_task("after", [](int x) { return x; }, {"spawn"});
  const RunSummary summary = executor.run(parent, {});
  CHECK(summary.failed == 1);
  CHECK(summary.skipped == 1);
  CHECK(parent.status("spawn") == TaskStatus::failed);
  CHECK(parent.status("after") == TaskStatus::skipped);
  bool saw_task_error = false;
  bool saw_original = false;
  try {
    std::rethrow_exception(parent.error("spawn"));
  } catch (const TaskError& error) {
    saw_task_error = true;
    CHECK(error.task() == "boom");
    CHECK(std::string(error.what()).find("child broke") != std::string::npos);
    try {
      std::rethrow_if_nested(error);
    } catch (const std::runtime_error& original) {
      saw_original = std::string(original.what()) == "child broke";
    }
  }
  CHECK(saw_task_error);
  CHECK(saw_original);
}

TEMPLATE_TEST_CASE("a parent that catches its child's failure succeeds", "[subgraph]",
                   TASKMAP_CONFORMANCE_EXECUTORS) {
  auto executor = make_executor<TestType>(2);
  TaskGraph<int> parent("parent");
  parent.add_task("spawn", [](Context& ctx) {
    TaskGraph<int> child("child");
    child.add_task("boom", []() -> int { throw std::runtime_error("child broke"); });
    child.add_task("fine", [] { return 5; });
    try {
      ctx.run(child);
    } catch (const TaskError& error) {
      if (error.task() != "boom") throw;
      return child.result("fine") * 10;  // the child's other results stay readable
    }
    return -1;
  });
  const RunSummary summary = executor.run(parent, {});
  CHECK(summary.ok());
  CHECK(parent.result("spawn") == 50);
}

TEMPLATE_TEST_CASE("a stop request reaches the child graph", "[subgraph]",
                   TASKMAP_CONFORMANCE_EXECUTORS) {
  auto executor = make_executor<TestType>(2);
  std::stop_source source;
  std::atomic<bool> child_saw_stop{false};
  TaskGraph<int> parent("parent");
  parent.add_task("spawn", [&](Context& ctx) {
    TaskGraph<int> child("child");
    child.add_task("stopper", [&](Context& c) {
      source.request_stop();
      child_saw_stop = c.stop_requested();
      return 1;
    });
    child.add_task("later", [](int x) { return x; }, {"stopper"});
    const RunSummary summary = ctx.run(child);
    if (child.status("later") != TaskStatus::cancelled) return -1;
    return static_cast<int>(summary.cancelled);
  });
  const RunSummary summary = executor.run(parent, {.stop_token = source.get_token()});
  CHECK(summary.succeeded == 1);
  CHECK(parent.result("spawn") == 1);
  CHECK(child_saw_stop.load());
}

TEMPLATE_TEST_CASE("a child graph on one worker does not deadlock", "[subgraph]",
                   TASKMAP_TEST_EXECUTORS) {
  auto executor = make_executor<TestType>(1);
  TaskGraph<int> parent("parent");
  for (int p = 0; p < 3; ++p) {
    parent.add_task("spawn" + std::to_string(p), [p](Context& ctx) {
      TaskGraph<int> child("child");
      std::vector<std::string> parts;
      for (int i = 0; i < 20; ++i) {
        parts.push_back("part" + std::to_string(i));
        child.add_task(parts.back(), [i, p] { return i + p; });
      }
      child.add_task(
          "sum", [](std::span<const int> xs) { return std::accumulate(xs.begin(), xs.end(), 0); },
          parts);
      ctx.run(child);
      return child.result("sum");
    });
  }
  const RunSummary summary = executor.run(parent, {});
  CHECK(summary.ok());
  CHECK(parent.result("spawn0") == 190);
  CHECK(parent.result("spawn2") == 230);
}

TEMPLATE_TEST_CASE("on two workers a child's tasks run on both", "[subgraph]", ThreadPoolExecutor,
                   CoroutinePoolExecutor) {
  auto executor = make_executor<TestType>(2);
  SubgraphMeeting meeting;
  TaskGraph<int> parent("parent");
  parent.add_task("spawn", [&](Context& ctx) {
    TaskGraph<int> child("child");
    for (std::size_t k = 0; k < 2; ++k) {
      child.add_task("side" + std::to_string(k), [&meeting, k](Context& c) {
        meeting.worker[k] = c.worker_id();
        meeting.arrived.fetch_add(1);
        // Bounded: run one after the other, each side would give up here and fail the test.
        const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
        while (meeting.arrived.load() < 2 && std::chrono::steady_clock::now() < deadline) {
          std::this_thread::yield();
        }
        meeting.met[k] = meeting.arrived.load() == 2;
        return 0;
      });
    }
    ctx.run(child);
    return 0;
  });
  CHECK(executor.run(parent, {}).ok());
  CHECK(meeting.met[0].load());
  CHECK(meeting.met[1].load());
  CHECK(meeting.worker[0].load() != meeting.worker[1].load());
}

TEMPLATE_TEST_CASE(
    "a quicksort that runs a child graph per level recurses 1,000 deep (400 under ASan)",
    "[subgraph]", TASKMAP_CONFORMANCE_EXECUTORS) {
  auto executor = make_executor<TestType>(2);
  std::vector<int> sorted(kQuicksortDepth);
  std::iota(sorted.begin(), sorted.end(), 0);
  std::vector<int> shuffled = sorted;
  std::shuffle(shuffled.begin(), shuffled.end(), std::mt19937(12));
  for (const std::vector<int>* input : {&sorted, &shuffled}) {
    TaskGraph<std::vector<int>> graph("sort");
    graph.add_task("sort", [input](Context& ctx) { return subgraph_quicksort(ctx, *input); });
    CHECK(executor.run(graph, {}).ok());
    CHECK(graph.result("sort") == sorted);
  }
}

TEMPLATE_TEST_CASE("a child graph's coroutine tasks run to completion", "[subgraph]",
                   TASKMAP_CONFORMANCE_EXECUTORS) {
  auto executor = make_executor<TestType>(2);
  TaskGraph<int> parent("parent");
  parent.add_task("spawn", [](Context& ctx) {
    TaskGraph<int> child("child");
    child.add_task("wait", []() -> Task<int> {
      co_await sleep_for(std::chrono::milliseconds(5));
      co_return 3;
    });
    child.add_task("add", [](int x) -> Task<int> { co_return x + 4; }, {"wait"});
    ctx.run(child);
    return child.result("add");
  });
  CHECK(executor.run(parent, {}).ok());
  CHECK(parent.result("spawn") == 7);
}

TEMPLATE_TEST_CASE("a coroutine task runs a child graph of coroutines", "[subgraph]",
                   TASKMAP_CONFORMANCE_EXECUTORS) {
  auto executor = make_executor<TestType>(2);
  TaskGraph<int> parent("parent");
  parent.add_task("spawn", [](Context& ctx) -> Task<int> {
    co_await sleep_for(std::chrono::milliseconds(1));
    TaskGraph<int> child("child");
    child.add_task("wait", []() -> Task<int> {
      co_await sleep_for(std::chrono::milliseconds(5));
      co_return 3;
    });
    ctx.run(child);
    co_return child.result("wait") * 2;
  });
  CHECK(executor.run(parent, {}).ok());
  CHECK(parent.result("spawn") == 6);
}
