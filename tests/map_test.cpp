// ctx.map (issue 12 §1, "fan-out and gather"): 100,000 items in item order on every executor,
// pools of 1 and 4 workers among them; items called concurrently on a pool; a map inside a
// map's item; the lowest failing item named, its exception nested; a stop request leaves the
// remaining items uncalled and throws; results that are move-only or have no default
// constructor; ranges of 0 and 1 items, a list and a vector<bool>.

#include <array>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <list>
#include <memory>
#include <numeric>
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

// A result type with no default constructor.
struct MapSquare {
  explicit MapSquare(long v) : value(v * v) {}
  long value;
};

// A trivially copyable result type that cannot be assigned.
struct MapConstant {
  const long value;
};

// The TaskError a task failed with, or null.
const TaskError* map_task_error(const std::exception_ptr& error, std::exception_ptr& keep) {
  keep = error;
  try {
    std::rethrow_exception(keep);
  } catch (const TaskError& e) {
    return &e;
  } catch (...) {
    return nullptr;
  }
}

}  // namespace

TEMPLATE_TEST_CASE("ctx.map over 100,000 items, on pools of 1 and 4 workers, keeps item order",
                   "[map]", TASKMAP_CONFORMANCE_EXECUTORS) {
  for (const std::size_t workers : {std::size_t{1}, std::size_t{4}}) {
    auto executor = make_executor<TestType>(workers);
    std::vector<long> items(100'000);
    std::iota(items.begin(), items.end(), 0L);
    std::atomic<long> calls{0};
    TaskGraph<long> graph("map");
    graph.add_task("fan", [&](Context& ctx) {
      const std::vector<long> out = ctx.map(items, [&calls](long x) {
        calls.fetch_add(1, std::memory_order_relaxed);
        return 3 * x + 1;
      });
      long mismatches = static_cast<long>(out.size() != items.size());
      for (std::size_t i = 0; i < out.size(); ++i) mismatches += out[i] != 3 * items[i] + 1;
      return mismatches;
    });
    INFO("workers: " << workers);
    CHECK(executor.run(graph, {}).ok());
    CHECK(graph.result("fan") == 0);
    CHECK(calls.load() == 100'000);  // each item called once
  }
}

TEST_CASE("ctx.map calls items concurrently on a pool of two workers", "[map]") {
  ThreadPoolExecutor executor(2);
  // Two items that each wait for the other: called one after the other, both give up.
  std::atomic<int> arrived{0};
  std::array<std::atomic<bool>, 2> met{};
  TaskGraph<int> graph("map");
  graph.add_task("fan", [&](Context& ctx) {
    const std::vector<int> out = ctx.map(std::vector<int>{0, 1}, [&](int k) {
      arrived.fetch_add(1);
      const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
      while (arrived.load() < 2 && std::chrono::steady_clock::now() < deadline) {
        std::this_thread::yield();
      }
      met[static_cast<std::size_t>(k)] = arrived.load() == 2;
      return k;
    });
    return out[0] + out[1];
  });
  CHECK(executor.run(graph, {}).ok());
  CHECK(graph.result("fan") == 1);
  CHECK(met[0].load());
  CHECK(met[1].load());
}

TEMPLATE_TEST_CASE("ctx.map inside a ctx.map item", "[map]", TASKMAP_CONFORMANCE_EXECUTORS) {
  auto executor = make_executor<TestType>(4);
  TaskGraph<long> graph("map");
  graph.add_task("outer", [](Context& ctx) {
    std::vector<long> rows(200);
    std::iota(rows.begin(), rows.end(), 0L);
    // Each row sums its own 300 cells through an inner map on the same context.
    const std::vector<long> sums = ctx.map(rows, [&ctx](long row) {
      std::vector<long> cells(300);
      std::iota(cells.begin(), cells.end(), 0L);
      const std::vector<long> products = ctx.map(cells, [row](long c) { return row * c; });
      return std::accumulate(products.begin(), products.end(), 0L);
    });
    return std::accumulate(sums.begin(), sums.end(), 0L);
  });
  CHECK(executor.run(graph, {}).ok());
  // sum over rows r and cells c of r * c = (sum of r) * (sum of c)
  CHECK(graph.result("outer") == (199L * 200 / 2) * (299L * 300 / 2));
}

TEMPLATE_TEST_CASE("ctx.map names the lowest failing item, its exception nested", "[map]",
                   TASKMAP_CONFORMANCE_EXECUTORS) {
  auto executor = make_executor<TestType>(2);
  std::vector<int> items(20'000);
  std::iota(items.begin(), items.end(), 0);
  TaskGraph<int> graph("map");
  graph.add_task("fan", [&items](Context& ctx) {
    const std::vector<int> out = ctx.map(items, [](int x) {
      if (x == 19'000) throw std::out_of_range("nineteen thousand");
      if (x == 7'777) throw std::invalid_argument("seven sevens");
      return x;
    });
    return static_cast<int>(out.size());
  });
  // A parent that catches the error goes on.
  graph.add_task("catches", [](Context& ctx) {
    try {
      ctx.map(std::vector<int>{1, 2}, [](int x) -> int {
        if (x == 2) throw std::runtime_error("two");
        return x;
      });
    } catch (const TaskError& error) {
      return error.task() == "item 1" ? 1 : 0;
    }
    return 0;
  });
  const RunSummary summary = executor.run(graph, {});
  CHECK(summary.failed == 1);
  CHECK(graph.result("catches") == 1);
  std::exception_ptr keep;
  const TaskError* error = map_task_error(graph.error("fan"), keep);
  REQUIRE(error != nullptr);
  CHECK(error->task() == "item 7777");
  CHECK(std::string(error->what()) == "task 'item 7777' of graph 'fan/map' failed: seven sevens");
  bool nested = false;
  try {
    std::rethrow_if_nested(*error);
  } catch (const std::invalid_argument& original) {
    nested = std::string(original.what()) == "seven sevens";
  }
  CHECK(nested);
}

TEMPLATE_TEST_CASE("a stop request leaves ctx.map's remaining items uncalled, and it throws",
                   "[map]", TASKMAP_CONFORMANCE_EXECUTORS) {
  auto executor = make_executor<TestType>(2);
  constexpr std::size_t kItems = 100'000;
  std::vector<std::size_t> items(kItems);
  std::iota(items.begin(), items.end(), std::size_t{0});
  std::stop_source stop;
  std::atomic<std::size_t> calls{0};
  TaskGraph<int> graph("map");
  graph.add_task("fan", [&](Context& ctx) {
    const std::vector<std::size_t> out = ctx.map(items, [&](std::size_t x) {
      calls.fetch_add(1);
      if (x == 10) stop.request_stop();
      return x;
    });
    return static_cast<int>(out.size());
  });
  executor.run(graph, {.stop_token = stop.get_token()});
  CHECK(graph.status("fan") == TaskStatus::failed);
  CHECK(calls.load() < kItems);
  std::exception_ptr keep;
  const TaskError* error = map_task_error(graph.error("fan"), keep);
  REQUIRE(error != nullptr);
  CHECK(error->task().starts_with("item "));
  CHECK(std::string(error->what()).find("asked to stop") != std::string::npos);
}

TEMPLATE_TEST_CASE("ctx.map gives move-only, unassignable and not default-constructible results",
                   "[map]", TASKMAP_CONFORMANCE_EXECUTORS) {
  auto executor = make_executor<TestType>(2);
  std::vector<long> items(5'000);
  std::iota(items.begin(), items.end(), 0L);
  TaskGraph<long> graph("map");
  graph.add_task("boxes", [&items](Context& ctx) {
    const std::vector<std::unique_ptr<long>> boxes =
        ctx.map(items, [](long x) { return std::make_unique<long>(x + 1); });
    long total = 0;
    for (const auto& box : boxes) total += *box;
    return total;
  });
  graph.add_task("squares", [&items](Context& ctx) {
    const std::vector<MapSquare> squares = ctx.map(items, [](long x) { return MapSquare(x); });
    long mismatches = 0;
    for (std::size_t i = 0; i < squares.size(); ++i) {
      mismatches += squares[i].value != items[i] * items[i];
    }
    return mismatches;
  });
  graph.add_task("constants", [&items](Context& ctx) {
    const std::vector<MapConstant> out = ctx.map(items, [](long x) { return MapConstant{x}; });
    long mismatches = 0;
    for (std::size_t i = 0; i < out.size(); ++i) mismatches += out[i].value != items[i];
    return mismatches;
  });
  CHECK(executor.run(graph, {}).ok());
  CHECK(graph.result("boxes") == 5'000L * 5'001 / 2);
  CHECK(graph.result("squares") == 0);
  CHECK(graph.result("constants") == 0);
}

TEMPLATE_TEST_CASE("ctx.map over 0 and 1 items, a list and a vector<bool> gives vectors", "[map]",
                   TASKMAP_CONFORMANCE_EXECUTORS) {
  auto executor = make_executor<TestType>(2);
  TaskGraph<std::vector<std::string>> graph("map");
  graph.add_task("none", [](Context& ctx) {
    return ctx.map(std::vector<int>{}, [](int x) { return std::to_string(x); });
  });
  graph.add_task("one", [](Context& ctx) {
    return ctx.map(std::vector<int>{7}, [](int x) { return std::to_string(x); });
  });
  graph.add_task("list", [](Context& ctx) {
    return ctx.map(std::list<int>{5, 6, 7}, [](int x) { return std::to_string(x + 1); });
  });
  graph.add_task("bits", [](Context& ctx) {
    std::vector<bool> bits(1'000);
    for (std::size_t i = 0; i < bits.size(); i += 3) bits[i] = true;
    // bool results too: not written into a packed std::vector<bool> by several workers.
    const std::vector<bool> flipped = ctx.map(bits, [](bool b) { return !b; });
    std::size_t wrong = flipped.size() != bits.size() ? 1 : 0;
    for (std::size_t i = 0; i < flipped.size(); ++i) wrong += flipped[i] == bits[i] ? 1 : 0;
    return std::vector<std::string>{std::to_string(wrong)};
  });
  CHECK(executor.run(graph, {}).ok());
  CHECK(graph.result("none").empty());
  CHECK(graph.result("one") == std::vector<std::string>{"7"});
  CHECK(graph.result("list") == std::vector<std::string>{"6", "7", "8"});
  CHECK(graph.result("bits") == std::vector<std::string>{"0"});
}
