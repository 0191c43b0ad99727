// Flow<T>, the typed builder: handles become dependencies in argument order, names generated
// or given, the graph it builds equals one from create_graph, spans fed by many handles,
// Context& and coroutine tasks, Flow<std::any>'s typed handles, the errors (duplicate names,
// foreign and empty handles), options by handle name, building twice, python-taskgraph's
// generator fan-out on every executor, and what FlowAddable refuses at compile time.

#include <any>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <thread>
#include <type_traits>
#include <utility>
#include <vector>

#include "executors.hpp"
#include "test_support.hpp"

using namespace taskmap;
using namespace taskmap_test;

namespace {

int flow_load() { return 5; }
int flow_double(int x) { return x * 2; }
int flow_increment(int x) { return x + 1; }
int flow_merge(int x, int y) { return x * 100 + y; }
int flow_sum(std::span<const int> xs) {
  int total = 0;
  for (const int x : xs) total += x;
  return total;
}
int flow_digits(std::span<const int> xs) {
  int out = 0;
  for (const int x : xs) out = out * 10 + x;
  return out;
}
Task<int> flow_add_async(int x, int y) { co_return x + y; }

using IntNode = FlowNode<int>;
using AnyNode = FlowNode<std::any>;

// ---- What add refuses at compile time ----
// Each handle feeds one parameter: the count must match (a leading Context& not counted).
static_assert(FlowAddable<decltype(flow_merge), int, IntNode, IntNode>);
static_assert(!FlowAddable<decltype(flow_merge), int, IntNode>);
static_assert(!FlowAddable<decltype(flow_merge), int, IntNode, IntNode, IntNode>);
static_assert(!FlowAddable<decltype(flow_load), int, IntNode>);
static_assert(FlowAddable<int (*)(Context&, int), int, IntNode>);
static_assert(!FlowAddable<int (*)(Context&, int), int, IntNode, IntNode>);
// A span takes any number of handles, or one range of them; only a span takes a range.
static_assert(FlowAddable<decltype(flow_sum), int>);
static_assert(FlowAddable<decltype(flow_sum), int, IntNode, IntNode, IntNode>);
static_assert(FlowAddable<decltype(flow_sum), int, std::vector<IntNode>>);
static_assert(!FlowAddable<decltype(flow_double), int, std::vector<IntNode>>);
// Generic lambdas: their arity is probed as TaskFn does.
constexpr auto flow_generic_pair = [](const auto& x, const auto& y) { return x + y; };
static_assert(FlowAddable<decltype(flow_generic_pair), int, IntNode, IntNode>);
static_assert(!FlowAddable<decltype(flow_generic_pair), int, IntNode>);
// A TaskFn has erased its parameters: any number of handles, checked when it runs.
static_assert(FlowAddable<TaskFn<int>, int>);
static_assert(FlowAddable<TaskFn<int>, int, IntNode, IntNode>);
static_assert(FlowAddable<const TaskFn<int>&, int, std::vector<IntNode>>);
static_assert(std::is_same_v<detail::flow_value_t<TaskFn<std::any>, std::any>, std::any>);
// Only handles follow the callable; a handle of a Flow of another value type is refused.
static_assert(!FlowAddable<decltype(flow_double), int, int>);
static_assert(!FlowAddable<decltype(flow_double), int, std::string>);
static_assert(!FlowAddable<decltype(flow_double), int, FlowNode<double>>);
static_assert(!FlowAddable<int, int>);  // not a callable
// A task that returns no value feeds nothing, so it fits only a span.
static_assert(!FlowAddable<decltype(flow_double), int, FlowNode<void>>);
static_assert(!FlowAddable<int (*)(std::optional<int>), int, FlowNode<void>>);
static_assert(FlowAddable<decltype(flow_sum), int, FlowNode<void>, IntNode>);
// In a Flow<std::any>, a parameter takes the type its handle's task returns.
static_assert(FlowAddable<int (*)(const std::string&), std::any, FlowNode<std::string>>);
static_assert(!FlowAddable<int (*)(const std::string&), std::any, FlowNode<int>>);
static_assert(!FlowAddable<int (*)(long), std::any, FlowNode<int>>);
static_assert(FlowAddable<int (*)(std::optional<int>), std::any, FlowNode<int>>);
static_assert(FlowAddable<int (*)(const std::any&), std::any, FlowNode<int>>);
static_assert(FlowAddable<int (*)(long), std::any, AnyNode>);  // erased: checked at run time
// The handle's value type is what the std::any will hold.
static_assert(std::is_same_v<detail::flow_value_t<int (*)(), std::any>, int>);
static_assert(
    std::is_same_v<detail::flow_value_t<std::optional<std::string> (*)(), std::any>, std::string>);
static_assert(std::is_same_v<detail::flow_value_t<Task<double> (*)(), std::any>, double>);
static_assert(std::is_same_v<detail::flow_value_t<void (*)(), std::any>, void>);
static_assert(std::is_same_v<detail::flow_value_t<std::any (*)(), std::any>, std::any>);
static_assert(std::is_same_v<detail::flow_value_t<short (*)(), int>, int>);
static_assert(std::is_same_v<detail::flow_value_t<std::optional<int> (*)(), int>, int>);
// Flow is move-only: a copy would accept the handles of both.
static_assert(!std::is_copy_constructible_v<Flow<int>>);
static_assert(std::is_nothrow_move_constructible_v<Flow<int>>);

}  // namespace

TEMPLATE_TEST_CASE("Flow: a diamond is fed in argument order", "[flow]", TASKMAP_TEST_EXECUTORS) {
  auto executor = make_executor<TestType>();
  Flow<int> f;
  const auto a = f.add(flow_load);
  const auto b = f.add(flow_double, a);
  const auto c = f.add(flow_increment, a);
  const auto bc = f.add(flow_merge, b, c);
  const auto cb = f.add(flow_merge, c, b);
  auto g = f.build();
  const RunSummary summary = executor.run(g, {});
  CHECK(summary.succeeded == 5);
  CHECK(g.result(b.name()) == 10);
  CHECK(g.result(c.name()) == 6);
  CHECK(g.result(bc.name()) == 1006);
  CHECK(g.result(cb.name()) == 610);
  CHECK(g.dependencies(bc.name()) == NameList{b.name(), c.name()});
  CHECK(g.dependencies(cb.name()) == NameList{c.name(), b.name()});
}

TEST_CASE("Flow: generated names count positions; given names are kept", "[flow]") {
  Flow<int> f;
  const auto a = f.add(flow_load);
  const auto b = f.add("doubled", flow_double, a);
  const auto c = f.add(flow_increment, b);
  CHECK(a.name() == "task0");
  CHECK(b.name() == "doubled");
  CHECK(c.name() == "task2");
  CHECK(f.size() == 3);

  Flow<int> steps("step");
  CHECK(steps.add(flow_load).name() == "step0");
  CHECK(steps.add(std::string("first"), flow_load).name() == "first");
  CHECK(steps.add(flow_load).name() == "step2");

  const auto g = f.build({.name = "named"});
  CHECK(g.name() == "named");
  CHECK(g.tasks() == NameList{"doubled", "task0", "task2"});
  CHECK(g.dependencies("task2") == NameList{"doubled"});
}

TEST_CASE("Flow: builds the graph create_graph builds from the same names", "[flow]") {
  Flow<int> f;
  const auto a = f.add("a", flow_load);
  const auto b = f.add("b", flow_double, a);
  const auto c = f.add("c", flow_increment, a);
  f.add("d", flow_merge, c, b);
  f.add("e", flow_sum, a, b, c);
  auto built = f.build();
  auto expected = create_graph<int>(
      {{"a", flow_load},
       {"b", flow_double},
       {"c", flow_increment},
       {"d", flow_merge},
       {"e", flow_sum}},
      {{"a", {}}, {"b", {"a"}}, {"c", {"a"}}, {"d", {"c", "b"}}, {"e", {"a", "b", "c"}}});
  REQUIRE(built.tasks() == expected.tasks());
  for (const std::string& task : expected.tasks()) {
    CHECK(built.dependencies(task) == expected.dependencies(task));
  }
  SequentialExecutor executor;
  executor.run(built, {});
  executor.run(expected, {});
  CHECK(built.results() == expected.results());
  CHECK(built.result("d") == 610);
  CHECK(built.result("e") == 21);
}

TEST_CASE("Flow: the same handle may feed two parameters", "[flow]") {
  Flow<int> f;
  const auto a = f.add(flow_load);
  const auto square = f.add([](int x, int y) { return x * y; }, a, a);
  auto g = f.build();
  CHECK(g.dependencies(square.name()) == NameList{"task0", "task0"});
  SequentialExecutor().run(g, {});
  CHECK(g.result(square.name()) == 25);
}

TEST_CASE("Flow: a span parameter takes any number of handles, in order", "[flow]") {
  Flow<int> f;
  std::vector<IntNode> digits;
  for (int d = 1; d <= 4; ++d) digits.push_back(f.add([d] { return d; }));
  const auto listed = f.add(flow_digits, digits[0], digits[1], digits[2], digits[3]);
  const auto reversed = f.add(flow_digits, std::vector<IntNode>(digits.rbegin(), digits.rend()));
  const auto none = f.add(flow_digits);
  const auto from_span = f.add(flow_digits, std::span<const IntNode>(digits).subspan(1, 2));
  auto g = f.build();
  CHECK(g.dependencies(listed.name()).size() == 4);
  ThreadPoolExecutor(2).run(g, {});
  CHECK(g.result(listed.name()) == 1234);
  CHECK(g.result(reversed.name()) == 4321);
  CHECK(g.result(none.name()) == 0);
  CHECK(g.result(from_span.name()) == 23);
}

TEST_CASE("Flow: a leading Context& is not fed by a handle", "[flow]") {
  Flow<int> f;
  const auto a = f.add(flow_load);
  const auto named = f.add(
      "named", [](Context& ctx, int x) { return x + static_cast<int>(ctx.name().size()); }, a);
  auto g = f.build();
  SequentialExecutor().run(g, {});
  CHECK(g.result(named.name()) == 10);
}

TEST_CASE("Flow: coroutine tasks run on the coroutine executors", "[flow]") {
  Flow<int> f;
  const auto a = f.add(flow_load);
  const auto b = f.add(flow_double, a);
  const auto sum = f.add(flow_add_async, a, b);
  const auto then = f.add(flow_increment, sum);
  auto g = f.build();
  CoroutineExecutor().run(g, {});
  CHECK(g.result(sum.name()) == 15);
  CHECK(g.result(then.name()) == 16);
  auto again = f.build();
  CoroutinePoolExecutor(2).run(again, {});
  CHECK(again.result(then.name()) == 16);
}

TEST_CASE("Flow<std::any>: handles carry their task's value type", "[flow]") {
  Flow<std::any> f;
  const FlowNode<std::string> text = f.add([] { return std::string("hello flow"); });
  const FlowNode<int> length =
      f.add([](const std::string& s) { return static_cast<int>(s.size()); }, text);
  const FlowNode<std::string> maybe =
      f.add([]() -> std::optional<std::string> { return std::nullopt; });
  const FlowNode<void> nothing = f.add([] {});
  const auto report =
      f.add([](int n, const std::string& s) { return s + " " + std::to_string(n); }, length, text);
  // A task that returns no value (or nullopt) feeds nothing: the span gets one value.
  const auto fed =
      f.add([](std::span<const std::any> values) { return static_cast<int>(values.size()); }, maybe,
            nothing, text);
  static_assert(std::is_same_v<std::remove_cvref_t<decltype(report)>, FlowNode<std::string>>);
  // Erased handles feed any parameter; a wrong type is then a TypeError when the task runs.
  const std::vector<AnyNode> mixed{text, length};
  const auto count = f.add(
      [](std::span<const std::any> values) { return static_cast<int>(values.size()); }, mixed);
  const auto wrong = f.add([](long n) { return n; }, AnyNode(length));
  auto g = f.build();
  SequentialExecutor().run(g, {});
  CHECK(std::any_cast<int>(g.result(length.name())) == 10);
  CHECK(std::any_cast<std::string>(g.result(report.name())) == "hello flow 10");
  CHECK(std::any_cast<int>(g.result(fed.name())) == 1);
  CHECK(std::any_cast<int>(g.result(count.name())) == 2);
  CHECK(g.failed() == NameList{wrong.name()});
  CHECK_THROWS_AS(std::rethrow_exception(g.error(wrong.name())), TypeError);
}

TEST_CASE("Flow: a TaskFn is checked when it runs; an empty function throws at once", "[flow]") {
  Flow<int> f;
  const auto a = f.add(flow_load);
  const TaskFn<int> erased = flow_double;
  const auto fits = f.add(erased, a);
  const auto too_many = f.add(erased, a, a);
  CHECK_THROWS_AS(f.add("empty", TaskFn<int>{}, a), MissingFunctionError);
  int (*null_function)() = nullptr;
  CHECK_THROWS_WITH(f.add("null", null_function),
                    Catch::Contains("task 'null' was given an empty function"));
  CHECK(f.size() == 3);
  auto g = f.build();
  SequentialExecutor().run(g, {});
  CHECK(g.result(fits.name()) == 10);
  CHECK(g.failed() == NameList{too_many.name()});
  CHECK_THROWS_AS(std::rethrow_exception(g.error(too_many.name())), ArityError);
}

TEST_CASE("Flow: a name given twice throws DuplicateTaskError and changes nothing", "[flow]") {
  Flow<int> f;
  const auto a = f.add("load", flow_load);
  try {
    f.add("load", flow_double, a);
    FAIL("no exception");
  } catch (const DuplicateTaskError& e) {
    CHECK(e.tasks() == std::vector<std::string>{"load"});
    CHECK(std::string(e.what()).find("'load' is given twice") != std::string::npos);
  }
  f.add("task2", flow_double, a);
  try {
    f.add(flow_increment, a);  // generated "task2"
    FAIL("no exception");
  } catch (const DuplicateTaskError& e) {
    CHECK(e.tasks() == std::vector<std::string>{"task2"});
    CHECK(std::string(e.what()).find("generated name 'task2'") != std::string::npos);
  }
  CHECK(f.size() == 2);
  CHECK(f.add("other", flow_increment, a).name() == "other");
  CHECK(f.build().size() == 3);
}

TEST_CASE("Flow: a handle of another Flow or an empty one throws, naming both tasks", "[flow]") {
  Flow<int> first;
  Flow<int> second;
  const auto theirs = first.add("theirs", flow_load);
  second.add("ours", flow_load);
  try {
    second.add("merge", flow_double, theirs);
    FAIL("no exception");
  } catch (const MissingDependencyError& e) {
    const std::string message = e.what();
    CHECK(message.find("task 'merge' was given a handle to task 'theirs' of another Flow") !=
          std::string::npos);
    CHECK(e.edges() == std::vector<MissingDependencyError::Edge>{{"merge", "theirs"}});
  }
  CHECK_THROWS_AS(second.add(flow_sum, std::vector<IntNode>{theirs}), MissingDependencyError);
  CHECK_THROWS_WITH(second.add("empty", flow_double, IntNode{}),
                    Catch::Contains("task 'empty' was given an empty"));
  CHECK(second.size() == 1);

  // Handles follow the tasks when a Flow moves; the moved-from Flow refuses them.
  Flow<int> moved(std::move(first));
  CHECK(moved.add(flow_double, theirs).name() == "task1");
  CHECK_THROWS_AS(first.add(flow_double, theirs), MissingDependencyError);  // NOLINT: reused
  CHECK(first.size() == 0);

  // Move assignment takes the prefix too; the target's own earlier handles become foreign.
  Flow<int> steps("step");
  const auto kept = steps.add(flow_load);
  const auto dropped = second.add(flow_load);
  second = std::move(steps);
  CHECK(second.add(flow_double, kept).name() == "step1");
  CHECK_THROWS_AS(second.add(flow_double, dropped), MissingDependencyError);
  CHECK(second.build().tasks() == NameList{"step0", "step1"});
}

TEST_CASE("Flow: build is repeatable; a moved build empties the Flow", "[flow]") {
  std::atomic<int> calls{0};
  Flow<int> f;
  const auto a = f.add([&calls] { return ++calls; });
  const auto b = f.add(flow_double, a);
  auto one = f.build();
  auto two = f.build();
  SequentialExecutor().run(one, {});
  SequentialExecutor().run(two, {});
  CHECK(calls == 2);
  CHECK(one.result(b.name()) == 2);
  CHECK(two.result(b.name()) == 4);

  auto taken = std::move(f).build({.name = "taken"});
  CHECK(taken.tasks() == NameList{"task0", "task1"});
  CHECK(f.size() == 0);  // NOLINT: a moved-from Flow is empty and usable
  CHECK_THROWS_AS(f.add(flow_double, a), MissingDependencyError);
  CHECK(f.add(flow_load).name() == "task0");
}

TEMPLATE_TEST_CASE("Flow: per-task options are GraphOptions under the handles' names", "[flow]",
                   TASKMAP_TEST_EXECUTORS) {
  auto executor = make_executor<TestType>();
  Flow<int> f;
  const auto cached = f.add([]() -> int { throw std::runtime_error("must not run"); });
  const auto fails = f.add([]() -> int { throw std::runtime_error("fails"); });
  const auto first = f.add(flow_load);
  const auto second = f.add(flow_load);
  const auto report = f.add(flow_sum, cached, fails, first);
  auto g = f.build({.io_bound = {first.name()},
                    .done = {cached.name()},
                    .results = {{cached.name(), 7}},
                    .priority = {{second.name(), 10}},
                    .triggers = {{report.name(), Trigger::all_done()}}});
  CHECK(g.ready_tasks() == NameList{first.name(), second.name(), fails.name()});
  executor.run(g, {});
  CHECK(g.failed() == NameList{fails.name()});
  CHECK(g.result(report.name()) == 12);
  CHECK_THROWS_AS(f.build({.priority = {{"nobody", 1}}}), UnknownTaskError);
}

// python-taskgraph's README: a generator yields inputs, each feeds a computation that runs in
// parallel with the others, and the results are gathered as a list in the order yielded --
// even when later computations finish first.
TEMPLATE_TEST_CASE("Flow: python-taskgraph's generator fan-out gathers in yield order", "[flow]",
                   TASKMAP_TEST_EXECUTORS) {
  auto executor = make_executor<TestType>(4);
  constexpr int kItems = 8;
  auto next = [n = 0]() mutable -> std::optional<int> {  // the generator: nullopt ends it
    if (n == kItems) return std::nullopt;
    return n++;
  };
  Flow<int> f("compute");
  std::vector<IntNode> computed;
  for (std::optional<int> item = next(); item.has_value(); item = next()) {
    const auto input = f.add("input" + std::to_string(*item), [x = *item] { return x; });
    computed.push_back(f.add(
        [](int x) {
          // The first items take longest, so on the pools they end last.
          std::this_thread::sleep_for(std::chrono::milliseconds(2 * (kItems - x)));
          return x * x;
        },
        input));
  }
  std::vector<int> gathered;
  const auto gather = f.add(
      "gather",
      [&gathered](std::span<const int> results) {
        gathered.assign(results.begin(), results.end());
        return static_cast<int>(results.size());
      },
      computed);
  auto g = f.build({.name = "fan_out"});
  const RunSummary summary = executor.run(g, {});
  CHECK(summary.succeeded == 2 * kItems + 1);
  CHECK(g.result(gather.name()) == kItems);
  CHECK(gathered == std::vector<int>{0, 1, 4, 9, 16, 25, 36, 49});
  CHECK(computed.front().name() == "compute1");
}
