// Continuations: a task returns taskmap::Continue<T> instead of its value and ends later with
// the result of a child graph, so a recursion grows without a blocked thread or a C++ frame
// per level. "sum" adds up a range by splitting it into two halves per level; "countdown"
// recurses 10,000 levels deep, deeper than a stack of ctx.run calls could go. Both run on a
// thread pool, with an ordinary task that depends on them.
#include <cstdint>
#include <cstdio>
#include <string>

#include <taskmap/taskmap.hpp>

namespace {

// The sum of [low, high): small ranges at once, larger ones as a graph of two halves whose
// "total" becomes this task's result.
taskmap::Continue<std::int64_t> range_sum(std::int64_t low, std::int64_t high) {
  if (high - low <= 1000) {
    std::int64_t sum = 0;
    for (std::int64_t i = low; i < high; ++i) sum += i;
    return taskmap::Continue<std::int64_t>(sum);
  }
  const std::int64_t mid = low + (high - low) / 2;
  taskmap::TaskGraph<std::int64_t> halves("sum " + std::to_string(low) + ".." +
                                          std::to_string(high));
  halves.add_task("low", [=] { return range_sum(low, mid); });
  halves.add_task("high", [=] { return range_sum(mid, high); });
  halves.add_task("total", [](std::int64_t a, std::int64_t b) { return a + b; }, {"low", "high"});
  return taskmap::continue_with(std::move(halves), "total");
}

// Counts down from `n` one level at a time: level n waits for level n-1's value and adds one.
taskmap::Continue<std::int64_t> countdown(std::int64_t n) {
  if (n == 0) return taskmap::Continue<std::int64_t>(0);
  taskmap::TaskGraph<std::int64_t> level("level " + std::to_string(n));
  level.add_task("below", [n] { return countdown(n - 1); });
  level.add_task("here", [](std::int64_t below) { return below + 1; }, {"below"});
  return taskmap::continue_with(std::move(level), "here");
}

}  // namespace

int main() {
  taskmap::TaskGraph<std::int64_t> graph("continuations");
  graph.add_task("sum", [] { return range_sum(0, 1'000'000); });
  graph.add_task("countdown", [] { return countdown(10'000); });
  graph.add_task("report",
                 [](std::int64_t sum, std::int64_t levels) {
                   std::printf("sum of 0..999999 = %lld, countdown went %lld levels deep\n",
                               static_cast<long long>(sum), static_cast<long long>(levels));
                   return sum;
                 },
                 {"sum", "countdown"});

  taskmap::ThreadPoolExecutor pool(2);
  const taskmap::RunSummary summary = pool.run(graph);
  const bool right =
      summary.ok() && graph.result("sum") == 499'999'500'000 && graph.result("countdown") == 10'000;
  return right ? 0 : 1;
}
