// What only the sequential executor promises: everything on the calling thread, in a fully
// deterministic order.

#include <string>
#include <thread>
#include <vector>

#include "test_support.hpp"

using namespace taskmap;
using namespace taskmap_test;

namespace {

struct OrderLog {
  std::vector<std::string> order;
  TaskFn<int> task(std::string name) {
    return [this, name = std::move(name)](std::span<const int>) {
      order.push_back(name);
      return 0;
    };
  }
};

}  // namespace

TEST_CASE("sequential: io_bound tasks start first, then higher priority", "[sequential]") {
  OrderLog log;
  FuncMap<int> funcs;
  for (const char* name : {"a", "b", "c", "d", "e"}) funcs.emplace(name, log.task(name));
  auto g = create_graph<int>(funcs, {{"a", {}}, {"b", {}}, {"c", {}}, {"d", {}}, {"e", {"a"}}},
                             {.io_bound = {"d"}, .priority = {{"b", 3}, {"e", 9}, {"c", -1}}});
  run(g);
  // d (io_bound); b (priority 3); a (0) -> e becomes ready with priority 9; c (-1) last.
  CHECK(log.order == std::vector<std::string>{"d", "b", "a", "e", "c"});
}

TEST_CASE("sequential: the same graph runs in the same order every time", "[sequential]") {
  std::vector<std::vector<std::string>> orders;
  for (int i = 0; i < 3; ++i) {
    OrderLog log;
    FuncMap<int> funcs;
    DependencyMap deps;
    for (int t = 0; t < 50; ++t) {
      const std::string name = "t" + std::to_string(t);
      funcs.emplace(name, log.task(name));
      deps[name] = t < 10 ? std::vector<std::string>{}
                          : std::vector<std::string>{"t" + std::to_string(t % 10)};
    }
    auto g = create_graph<int>(funcs, deps);
    run(g);
    orders.push_back(log.order);
  }
  CHECK(orders[0] == orders[1]);
  CHECK(orders[1] == orders[2]);
}

TEST_CASE("sequential: tasks run on the calling thread with worker id 0", "[sequential]") {
  const auto caller = std::this_thread::get_id();
  bool same_thread = false;
  std::size_t worker = 99;
  auto g = create_graph<int>({{"a",
                               [&](Context& ctx) {
                                 same_thread = std::this_thread::get_id() == caller;
                                 worker = ctx.worker_id();
                                 return 1;
                               }}},
                             {{"a", {}}});
  SequentialExecutor executor;
  executor.run(g);
  CHECK(same_thread);
  CHECK(worker == 0);
}

TEST_CASE("sequential: the summary's elapsed time covers the run", "[sequential]") {
  auto g = create_graph<int>({{"a",
                               [] {
                                 std::this_thread::sleep_for(std::chrono::milliseconds(20));
                                 return 1;
                               }}},
                             {{"a", {}}});
  const RunSummary summary = run(g);
  CHECK(summary.elapsed >= std::chrono::milliseconds(20));
  CHECK(summary.elapsed < std::chrono::seconds(10));
}

TEST_CASE("sequential: a task may run another graph", "[sequential]") {
  auto inner = create_graph<int>({{"x", fa}, {"y", fb}}, {{"x", {}}, {"y", {"x"}}});
  auto outer = create_graph<int>({{"sub",
                                   [&inner] {
                                     run(inner);
                                     return inner.result("y");
                                   }},
                                  {"top", fb}},
                                 {{"sub", {}}, {"top", {"sub"}}});
  run(outer);
  CHECK(outer.result("top") == 25);
}
