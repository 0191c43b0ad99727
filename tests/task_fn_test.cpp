// TaskFn<T>: every shape of callable a task may be (positional values, a span of values, a
// leading Context, plain functions and pointers, mutable, move-only and generic callables,
// std::any graphs), what each receives and returns, the errors a misfit raises at run time
// (ArityError, TypeError), and the compile-time TaskCallable concept.

#include <any>
#include <atomic>
#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <stdexcept>
#include <stop_token>
#include <string>
#include <string_view>
#include <typeinfo>
#include <utility>
#include <vector>

#include "executors.hpp"
#include "test_support.hpp"

using namespace taskmap;
using namespace taskmap_test;

namespace {

int plus_two(int x) noexcept { return x + 2; }
std::string shout(const std::string& s) { return s + "!"; }

struct Scale {
  int factor;
  int operator()(int x) const { return x * factor; }
};

struct SpanWithContext {
  int operator()(const Context& ctx, std::span<const int> xs) const noexcept {
    return ctx.name() == "span_ctx" ? static_cast<int>(xs.size()) : -1;
  }
};

// A non-const operator(): its state changes with every call.
struct Counter {
  int calls = 0;
  int operator()() { return ++calls; }
};

struct MoveOnlyAdder {
  std::unique_ptr<int> amount;
  int operator()(int x) const { return x + *amount; }
};

struct NotFromInt {};

/// The task's error as an E, or nullopt when it holds something else (or nothing).
template <class E>
std::optional<E> error_as(const std::exception_ptr& error) {
  if (!error) return std::nullopt;
  try {
    std::rethrow_exception(error);
  } catch (const E& e) {
    return e;
  } catch (...) {
  }
  return std::nullopt;
}

}  // namespace

// Generic lambdas whose return type is deduced from their body (`[](auto x) { return x + 1; }`)
// are probed with plain values first; the Context& probe would compile their body with
// `auto = Context`, a hard error, so it only runs when plain values fit nothing.

// ---------------------------------------------------------------------------------------
// Compile time: which callables fit a task (TaskCallable<F, T>).
//
// A callable that fits no shape is a compile error with a readable message from the
// static_assert in TaskFn's converting constructor (that constructor is deliberately not
// constrained, so the message shows instead of a wall of overload candidates). For example
// `taskmap::TaskFn<int> fn = [](int& x) { return x; };` gives, with g++ 12:
//   include/taskmap/task_fn.hpp:356:19: error: static assertion failed: taskmap::TaskFn<T>:
//   this callable fits no task shape. A task takes its dependencies' results as parameters
//   constructible from const T& (in dependency order) or all of them as std::span<const T>,
//   optionally after a leading taskmap::Context&, and returns T (or something convertible to
//   T), std::optional<T> (nullopt = no value) or void (no value).
// and with clang 14 the same text after "error: static_assert failed", as the only error.

TEST_CASE("TaskCallable accepts every documented shape and rejects the rest", "[task_fn]") {
  // Positional parameters: by value, const&, rvalue reference; any count.
  auto none = [] { return 1; };
  auto by_value = [](int x) { return x; };
  auto by_cref = [](const int& x) { return x; };
  auto by_rref = [](int&& x) { return x; };
  auto mixed = [](int x, const int& y, int&& z) { return x + y + z; };
  static_assert(TaskCallable<decltype(none), int>);
  static_assert(TaskCallable<decltype(by_value), int>);
  static_assert(TaskCallable<decltype(by_cref), int>);
  static_assert(TaskCallable<decltype(by_rref), int>);
  static_assert(TaskCallable<decltype(mixed), int>);
  // std::span<const T>, by value or const&.
  auto span = [](std::span<const int> xs) { return static_cast<int>(xs.size()); };
  auto span_cref = [](const std::span<const int>& xs) { return static_cast<int>(xs.size()); };
  static_assert(TaskCallable<decltype(span), int>);
  static_assert(TaskCallable<decltype(span_cref), int>);
  // A leading Context& or const Context&, with either.
  auto ctx_only = [](Context&) { return 1; };
  auto ctx_positional = [](Context&, int x, int y) { return x + y; };
  auto cctx_positional = [](const Context&, const int& x) { return x; };
  auto ctx_span = [](Context&, std::span<const int> xs) { return static_cast<int>(xs.size()); };
  auto cctx_span = [](const Context&, std::span<const int> xs) {
    return static_cast<int>(xs.size());
  };
  static_assert(TaskCallable<decltype(ctx_only), int>);
  static_assert(TaskCallable<decltype(ctx_positional), int>);
  static_assert(TaskCallable<decltype(cctx_positional), int>);
  static_assert(TaskCallable<decltype(ctx_span), int>);
  static_assert(TaskCallable<decltype(cctx_span), int>);
  static_assert(TaskCallable<SpanWithContext, int>);
  // Returns: T, convertible to T, optional<T> or optional of convertible, void, const T&.
  auto returns_short = []() -> short { return 1; };
  auto returns_optional = []() -> std::optional<int> { return std::nullopt; };
  auto returns_optional_short = []() -> std::optional<short> { return short{1}; };
  auto returns_void = [](int) {};
  static int held = 0;
  auto returns_cref = []() -> const int& { return held; };
  auto returns_c_string = [] { return "text"; };
  static_assert(TaskCallable<decltype(returns_short), int>);
  static_assert(TaskCallable<decltype(returns_optional), int>);
  static_assert(TaskCallable<decltype(returns_optional_short), int>);
  static_assert(TaskCallable<decltype(returns_void), int>);
  static_assert(TaskCallable<decltype(returns_cref), int>);
  static_assert(TaskCallable<decltype(returns_c_string), std::string>);
  // Functions, function pointers and references, std::function, class objects.
  static_assert(TaskCallable<int(int), int>);
  static_assert(TaskCallable<int (*)(int), int>);
  static_assert(TaskCallable<int (&)(int), int>);
  static_assert(TaskCallable<int (*)(int) noexcept, int>);
  static_assert(TaskCallable<decltype(&plus_two), int>);
  static_assert(TaskCallable<std::function<int(int, int)>, int>);
  static_assert(TaskCallable<std::function<void()>, int>);
  static_assert(TaskCallable<Scale, int>);
  static_assert(TaskCallable<Counter, int>);
  static_assert(TaskCallable<Counter&, int>);
  // Mutable, move-only and generic lambdas.
  auto mutable_lambda = [n = 0]() mutable { return ++n; };
  auto move_only = [p = std::make_unique<int>(1)](int x) { return x + *p; };
  auto generic = [](auto x) -> decltype(x + 1) { return x + 1; };
  auto generic2 = [](const auto& x, const auto& y) -> decltype(x * y) { return x * y; };
  auto generic_ctx = [](Context&, auto x) { return x; };
  auto generic_deduced = [](auto x) { return x + 1; };
  auto generic2_deduced = [](const auto& x, const auto& y) { return x * y; };
  static_assert(TaskCallable<decltype(generic_deduced), int>);
  static_assert(TaskCallable<decltype(generic2_deduced), int>);
  static_assert(TaskCallable<decltype(mutable_lambda), int>);
  static_assert(TaskCallable<decltype(move_only), int>);
  static_assert(TaskCallable<MoveOnlyAdder, int>);
  static_assert(TaskCallable<decltype(generic), int>);
  static_assert(TaskCallable<decltype(generic2), int>);
  static_assert(TaskCallable<decltype(generic_ctx), int>);
  // Converting parameters.
  auto takes_long = [](long x) { return static_cast<int>(x); };
  auto takes_double = [](double) { return 0; };
  auto takes_view = [](std::string_view sv) { return std::string(sv); };
  static_assert(TaskCallable<decltype(takes_long), int>);
  static_assert(TaskCallable<decltype(takes_double), int>);
  static_assert(TaskCallable<decltype(takes_view), std::string>);
  // std::any graphs: typed parameters, the any itself, optional<U> returns.
  auto any_typed = [](int, const std::string&, double&&) { return 1; };
  auto any_itself = [](const std::any& a) { return a; };
  auto any_span = [](std::span<const std::any> xs) { return xs.size(); };
  auto any_optional = []() -> std::optional<int> { return 1; };
  static_assert(TaskCallable<decltype(any_typed), std::any>);
  static_assert(TaskCallable<decltype(any_itself), std::any>);
  static_assert(TaskCallable<decltype(any_span), std::any>);
  static_assert(TaskCallable<decltype(any_optional), std::any>);

  // Rejected: a non-const lvalue reference parameter (it could modify another task's result).
  auto mutable_ref = [](int&) { return 0; };
  auto mutable_ref_any = [](std::any&) { return 0; };
  static_assert(!TaskCallable<decltype(mutable_ref), int>);
  static_assert(!TaskCallable<decltype(mutable_ref_any), std::any>);
  // Rejected: a parameter not constructible from const T&.
  auto takes_string = [](std::string) { return 0; };
  auto takes_struct = [](NotFromInt) { return 0; };
  auto takes_pointer = [](int*) { return 0; };
  auto takes_vector = [](std::vector<int>) { return std::string(); };
  static_assert(!TaskCallable<decltype(takes_string), int>);
  static_assert(!TaskCallable<decltype(takes_struct), int>);
  static_assert(!TaskCallable<decltype(takes_pointer), int>);
  static_assert(!TaskCallable<decltype(takes_vector), std::string>);
  // Rejected: a return type not convertible to T.
  auto returns_string = [](int) { return std::string("x"); };
  auto returns_optional_string = []() -> std::optional<std::string> { return std::nullopt; };
  auto returns_view = []() -> std::string_view {
    return "x";
  };  // string_view -> string is explicit
  static_assert(!TaskCallable<decltype(returns_string), int>);
  static_assert(!TaskCallable<decltype(returns_optional_string), int>);
  static_assert(!TaskCallable<decltype(returns_view), std::string>);
  // Rejected: not callable at all.
  static_assert(!TaskCallable<int, int>);
  static_assert(!TaskCallable<std::string, std::string>);
  // Rejected: a Context by value, by rvalue reference, or anywhere but first.
  auto ctx_by_value = [](Context, int x) { return x; };
  auto ctx_alone_by_value = [](Context) { return 0; };
  auto ctx_rref = [](Context&&) { return 0; };
  auto ctx_last = [](int x, Context&) { return x; };
  static_assert(!TaskCallable<decltype(ctx_by_value), int>);
  static_assert(!TaskCallable<decltype(ctx_alone_by_value), int>);
  static_assert(!TaskCallable<decltype(ctx_rref), int>);
  static_assert(!TaskCallable<decltype(ctx_last), int>);
  // Rejected: a span of non-const or of another element type.
  auto span_mutable = [](std::span<int> xs) { return static_cast<int>(xs.size()); };
  auto span_other = [](std::span<const long> xs) { return static_cast<int>(xs.size()); };
  static_assert(!TaskCallable<decltype(span_mutable), int>);
  static_assert(!TaskCallable<decltype(span_other), int>);
  // Note: std::vector<int> *is* constructible from const int& (the explicit size
  // constructor), so a std::vector<int> parameter in a TaskGraph<int> fits the
  // "constructible from const T&" rule as written; it is deliberately not asserted here.

  // The shapes also convert at run time (not only in the concept).
  TaskFn<int> f1 = mixed;
  TaskFn<int> f2 = std::move(move_only);
  TaskFn<std::any> f3 = any_typed;
  CHECK(static_cast<bool>(f1));
  CHECK(static_cast<bool>(f2));
  CHECK(static_cast<bool>(f3));
}

// ---------------------------------------------------------------------------------------
// Run time.

TEMPLATE_TEST_CASE("positional parameters by value, const& and && get values in dependency order",
                   "[task_fn]", TASKMAP_TEST_EXECUTORS) {
  auto executor = make_executor<TestType>();
  auto g = create_graph<std::string>(
      {{"a", [] { return std::string("alpha"); }},
       {"b", [] { return std::string("beta"); }},
       {"by_value", [](std::string x, std::string y) { return x + "+" + y; }},
       {"by_cref", [](const std::string& x, const std::string& y) { return x + "+" + y; }},
       {"by_rref",
        [](std::string&& x) {
          std::string taken = std::move(x);  // moving from the parameter must not empty "a"
          return taken + "!";
        }},
       {"mixed", [](const std::string& x, std::string y, std::string&& z) { return x + y + z; }}},
      {{"a", {}},
       {"b", {}},
       {"by_value", {"a", "b"}},
       {"by_cref", {"b", "a"}},
       {"by_rref", {"a"}},
       {"mixed", {"by_rref", "a", "b"}}});
  executor.run(g, {});
  CHECK(g.result("by_value") == "alpha+beta");
  CHECK(g.result("by_cref") == "beta+alpha");
  CHECK(g.result("by_rref") == "alpha!");
  CHECK(g.result("a") == "alpha");
  CHECK(g.result("mixed") == "alpha!alphabeta");

  auto h = create_graph<int>(
      {{"one", [] { return 1; }},
       {"two", [] { return 2; }},
       {"three", [] { return 3; }},
       {"digits", [](int x, const int& y, int&& z) { return x * 100 + y * 10 + z; }}},
      {{"one", {}}, {"two", {}}, {"three", {}}, {"digits", {"three", "one", "two"}}});
  executor.run(h, {});
  CHECK(h.result("digits") == 312);
}

TEMPLATE_TEST_CASE("a std::span<const T> task gets every fed value, any number, even none",
                   "[task_fn]", TASKMAP_TEST_EXECUTORS) {
  auto executor = make_executor<TestType>();
  auto count = [](std::span<const int> xs) { return static_cast<int>(xs.size()); };
  auto digits = [](const std::span<const int>& xs) {
    int out = 0;
    for (const int x : xs) out = out * 10 + x;
    return out;
  };
  auto g = create_graph<int>({{"a", [] { return 1; }},
                              {"b", [] { return 2; }},
                              {"c", [] { return 3; }},
                              {"nothing", []() -> std::optional<int> { return std::nullopt; }},
                              {"zero", count},
                              {"one", digits},
                              {"many", digits},
                              {"gaps", digits},
                              {"only_nothing", count}},
                             {{"a", {}},
                              {"b", {}},
                              {"c", {}},
                              {"nothing", {}},
                              {"zero", {}},
                              {"one", {"b"}},
                              {"many", {"c", "a", "b"}},
                              {"gaps", {"a", "nothing", "c"}},
                              {"only_nothing", {"nothing"}}});
  executor.run(g, {});
  CHECK(g.result("zero") == 0);
  CHECK(g.result("one") == 2);
  CHECK(g.result("many") == 312);
  CHECK(g.result("gaps") == 13);
  CHECK(g.result("only_nothing") == 0);
}

TEMPLATE_TEST_CASE("a leading Context& or const Context& comes before the values", "[task_fn]",
                   TASKMAP_TEST_EXECUTORS) {
  auto executor = make_executor<TestType>();
  auto g = create_graph<int>(
      {{"a", [] { return 4; }},
       {"b", [] { return 5; }},
       {"ctx_only", [](Context& ctx) { return ctx.name() == "ctx_only" ? 1 : -1; }},
       {"ctx_positional",
        [](Context& ctx, int x, int y) {
          return ctx.name() == "ctx_positional" && ctx.graph_name() == "ctx" ? x * 10 + y : -1;
        }},
       {"cctx_positional",
        [](const Context& ctx, const int& x) { return ctx.stop_requested() ? -1 : x + 100; }},
       {"ctx_span",
        [](Context& ctx, std::span<const int> xs) {
          return ctx.name() == "ctx_span" ? static_cast<int>(xs.size()) : -1;
        }},
       {"span_ctx", SpanWithContext{}},
       {"ctx_void", [](const Context&, int) {}}},
      {{"a", {}},
       {"b", {}},
       {"ctx_only", {}},
       {"ctx_positional", {"b", "a"}},
       {"cctx_positional", {"a"}},
       {"ctx_span", {"a", "b", "ctx_only"}},
       {"span_ctx", {"a"}},
       {"ctx_void", {"a"}}},
      {.name = "ctx"});
  executor.run(g, {});
  CHECK(g.result("ctx_only") == 1);
  CHECK(g.result("ctx_positional") == 54);
  CHECK(g.result("cctx_positional") == 104);
  CHECK(g.result("ctx_span") == 3);
  CHECK(g.result("span_ctx") == 1);
  CHECK(g.status("ctx_void") == TaskStatus::done);
  CHECK_FALSE(g.has_result("ctx_void"));
}

TEMPLATE_TEST_CASE("return types: T, convertible to T, optional, void", "[task_fn]",
                   TASKMAP_TEST_EXECUTORS) {
  auto executor = make_executor<TestType>();
  static const int held = 3;
  bool void_ran = false;
  auto g = create_graph<int>(
      {{"t", [] { return 1; }},
       {"short", []() -> short { return 2; }},
       {"cref", []() -> const int& { return held; }},
       {"opt_value", []() -> std::optional<int> { return 4; }},
       {"opt_short", []() -> std::optional<short> { return short{5}; }},
       {"opt_none", []() -> std::optional<int> { return std::nullopt; }},
       {"void", [&void_ran] { void_ran = true; }},
       {"sink",
        [](std::span<const int> xs) {
          int out = 0;
          for (const int x : xs) out = out * 10 + x;
          return out;
        }}},
      {{"t", {}},
       {"short", {}},
       {"cref", {}},
       {"opt_value", {}},
       {"opt_short", {}},
       {"opt_none", {}},
       {"void", {}},
       {"sink", {"t", "opt_none", "short", "void", "cref", "opt_value", "opt_short"}}});
  const RunSummary summary = executor.run(g, {});
  CHECK(summary.succeeded == 8);
  CHECK(void_ran);
  CHECK(g.result("t") == 1);
  CHECK(g.result("short") == 2);
  CHECK(g.result("cref") == 3);
  CHECK(g.result("opt_value") == 4);
  CHECK(g.result("opt_short") == 5);
  CHECK(g.status("opt_none") == TaskStatus::done);
  CHECK_FALSE(g.has_result("opt_none"));
  CHECK_THROWS_AS(g.result("opt_none"), BadResultAccess);
  CHECK(g.status("void") == TaskStatus::done);
  CHECK_FALSE(g.has_result("void"));
  CHECK(g.result("sink") == 12345);  // nothing fed for opt_none and void

  auto s =
      create_graph<std::string>({{"literal", [] { return "text"; }},
                                 {"shout", shout},
                                 {"opt", []() -> std::optional<const char*> { return "opt"; }}},
                                {{"literal", {}}, {"shout", {"literal"}}, {"opt", {}}});
  executor.run(s, {});
  CHECK(s.result("literal") == "text");
  CHECK(s.result("shout") == "text!");
  CHECK(s.result("opt") == "opt");
}

TEMPLATE_TEST_CASE("functions, function pointers, function references and std::function",
                   "[task_fn]", TASKMAP_TEST_EXECUTORS) {
  auto executor = make_executor<TestType>();
  int (&reference)(int) = fb;
  int (*pointer)(int, int) = &fc;
  int (*noexcept_pointer)(int) noexcept = &plus_two;
  std::function<int(int)> function = [](int x) { return x * 3; };
  auto g = create_graph<int>(
      {{"a", fa},
       {"b", reference},
       {"c", pointer},
       {"d", noexcept_pointer},
       {"e", function},
       {"f", TaskFn<int>(std::function<int()>(fa))}},
      {{"a", {}}, {"b", {"a"}}, {"c", {"a", "b"}}, {"d", {"c"}}, {"e", {"d"}}, {"f", {}}});
  executor.run(g, {});
  CHECK(g.result("b") == 15);
  CHECK(g.result("c") == 40);
  CHECK(g.result("d") == 42);
  CHECK(g.result("e") == 126);
  CHECK(g.result("f") == 5);
}

TEST_CASE("a null function pointer or an empty std::function makes an empty TaskFn", "[task_fn]") {
  int (*null_pointer)() = nullptr;
  const TaskFn<int> from_pointer = null_pointer;
  const TaskFn<int> from_function = std::function<int()>();
  const TaskFn<int> from_nullptr = nullptr;
  const TaskFn<int> defaulted;
  CHECK_FALSE(from_pointer);
  CHECK_FALSE(from_function);
  CHECK_FALSE(from_nullptr);
  CHECK_FALSE(defaulted);
  CHECK(static_cast<bool>(TaskFn<int>(fa)));
  CHECK_THROWS_AS(create_graph<int>({{"a", from_pointer}}, {{"a", {}}}), MissingFunctionError);
  CHECK_THROWS_AS(create_graph<int>({{"a", from_function}}, {{"a", {}}}), MissingFunctionError);
  auto g = create_graph<int>({{"a", fa}}, {{"a", {}}});
  CHECK_THROWS_AS(g.set_func("a", from_function), MissingFunctionError);
}

TEMPLATE_TEST_CASE("a mutable callable keeps its state across runs, shared by TaskFn copies",
                   "[task_fn]", TASKMAP_TEST_EXECUTORS) {
  auto executor = make_executor<TestType>();
  // task_fn.hpp: "Copies share the callable (like a Python function object)". "a" and "b"
  // hold copies of one TaskFn; b depends on a, so they never run at the same time.
  const TaskFn<int> shared = [n = 0](std::span<const int> xs) mutable {
    ++n;
    return n * 10 + static_cast<int>(xs.size());
  };
  // Two TaskFns made from one lambda each copy the lambda: separate states.
  auto lambda = [n = 0]() mutable { return ++n; };
  auto g = create_graph<int>(
      {{"a", shared}, {"b", shared}, {"c", lambda}, {"d", lambda}, {"counter", Counter{}}},
      {{"a", {}}, {"b", {"a"}}, {"c", {}}, {"d", {}}, {"counter", {}}});
  executor.run(g, {});
  CHECK(g.result("a") == 10);
  CHECK(g.result("b") == 21);
  CHECK(g.result("c") == 1);
  CHECK(g.result("d") == 1);
  CHECK(g.result("counter") == 1);

  reset_tasks(g, {"a", "c", "counter"});
  executor.run(g, {});
  CHECK(g.result("a") == 30);
  CHECK(g.result("b") == 41);
  CHECK(g.result("c") == 2);
  CHECK(g.result("d") == 1);  // not reset, not rerun
  CHECK(g.result("counter") == 2);

  // set_func with another copy of the same TaskFn still shares the state.
  g.set_func("d", shared);
  reset_tasks(g, {"d"});
  executor.run(g, {});
  CHECK(g.result("d") == 50);
}

TEMPLATE_TEST_CASE("move-only callables are accepted", "[task_fn]", TASKMAP_TEST_EXECUTORS) {
  auto executor = make_executor<TestType>();
  auto amount = std::make_unique<int>(100);
  TaskFn<int> adder = [p = std::move(amount)](int x) { return x + *p; };
  FuncMap<int> funcs;
  funcs.emplace("a", [p = std::make_unique<int>(7)] { return *p; });
  funcs.emplace("b", std::move(adder));
  funcs.emplace("c", MoveOnlyAdder{std::make_unique<int>(1000)});
  auto g = create_graph<int>(std::move(funcs), {{"a", {}}, {"b", {"a"}}, {"c", {"b"}}});
  executor.run(g, {});
  CHECK(g.result("a") == 7);
  CHECK(g.result("b") == 107);
  CHECK(g.result("c") == 1107);

  g.set_func("a", [p = std::make_unique<int>(8)] { return *p; });
  reset_tasks(g, "a");
  executor.run(g, {});
  CHECK(g.result("c") == 1108);
}

TEMPLATE_TEST_CASE("generic lambdas and callable class objects", "[task_fn]",
                   TASKMAP_TEST_EXECUTORS) {
  auto executor = make_executor<TestType>();
  auto g = create_graph<int>(
      {{"a", [] { return 6; }},
       {"g1", [](auto x) -> decltype(x + 1) { return x + 1; }},
       {"g2", [](const auto& x, const auto& y) -> int { return x * y; }},
       {"g_ctx", [](Context& ctx, auto x) { return ctx.name() == "g_ctx" ? x : -1; }},
       {"scale", Scale{3}},
       {"span_ctx", SpanWithContext{}}},
      {{"a", {}},
       {"g1", {"a"}},
       {"g2", {"a", "g1"}},
       {"g_ctx", {"g2"}},
       {"scale", {"g_ctx"}},
       {"span_ctx", {"a", "g1", "g2"}}});
  executor.run(g, {});
  CHECK(g.result("g1") == 7);
  CHECK(g.result("g2") == 42);
  CHECK(g.result("g_ctx") == 42);
  CHECK(g.result("scale") == 126);
  CHECK(g.result("span_ctx") == 3);

  auto s = create_graph<std::string>({{"a", [] { return std::string("hey"); }},
                                      {"b", [](const auto& x) -> std::string { return x + x; }}},
                                     {{"a", {}}, {"b", {"a"}}});
  executor.run(s, {});
  CHECK(s.result("b") == "heyhey");
}

TEMPLATE_TEST_CASE("generic lambdas with a deduced return type", "[task_fn]",
                   TASKMAP_TEST_EXECUTORS) {
  auto executor = make_executor<TestType>();
  auto g = create_graph<int>({{"a", [] { return 6; }},
                              {"g1", [](auto x) { return x + 1; }},
                              {"g2", [](const auto& x, const auto& y) { return x * y; }}},
                             {{"a", {}}, {"g1", {"a"}}, {"g2", {"a", "g1"}}});
  executor.run(g, {});
  CHECK(g.result("g1") == 7);
  CHECK(g.result("g2") == 42);

  auto s = create_graph<std::string>(
      {{"a", [] { return std::string("hey"); }}, {"b", [](const auto& x) { return x + x; }}},
      {{"a", {}}, {"b", {"a"}}});
  executor.run(s, {});
  CHECK(s.result("b") == "heyhey");
}

TEMPLATE_TEST_CASE("parameters are constructed from the fed value (long, double, string_view)",
                   "[task_fn]", TASKMAP_TEST_EXECUTORS) {
  auto executor = make_executor<TestType>();
  auto g = create_graph<int>(
      {{"a", [] { return 7; }},
       {"as_long", [](long x) { return static_cast<int>(x * 2); }},
       {"as_cref_long", [](const long& x) { return static_cast<int>(x * 3); }},
       {"as_double", [](double x) { return static_cast<int>(x * 10.0 + 0.5); }},
       {"as_rref_double", [](double&& x) { return static_cast<int>(x / 2.0 * 10.0); }}},
      {{"a", {}},
       {"as_long", {"a"}},
       {"as_cref_long", {"a"}},
       {"as_double", {"a"}},
       {"as_rref_double", {"a"}}});
  executor.run(g, {});
  CHECK(g.result("as_long") == 14);
  CHECK(g.result("as_cref_long") == 21);
  CHECK(g.result("as_double") == 70);
  CHECK(g.result("as_rref_double") == 35);

  auto s = create_graph<std::string>(
      {{"word", [] { return std::string("hello"); }},
       {"view", [](std::string_view sv) { return std::string(sv.substr(1)); }},
       {"views", [](std::string_view x,
                    const std::string_view& y) { return std::string(x) + "/" + std::string(y); }}},
      {{"word", {}}, {"view", {"word"}}, {"views", {"view", "word"}}});
  executor.run(s, {});
  CHECK(s.result("view") == "ello");
  CHECK(s.result("views") == "ello/hello");
}

TEMPLATE_TEST_CASE("std::any graphs: typed parameters get any_cast values, std::any gets the any",
                   "[task_fn]", TASKMAP_TEST_EXECUTORS) {
  auto executor = make_executor<TestType>();
  auto g = create_graph<std::any>(
      {{"i", [] { return 5; }},
       {"s", [] { return std::string("hi"); }},
       {"d", [] { return 2.5; }},
       {"typed", [](int x, const std::string& y,
                    double&& z) { return y + std::to_string(x) + (z == 2.5 ? "ok" : "bad"); }},
       {"by_value", [](std::string y) { return y + "!"; }},
       {"itself", [](const std::any& a) { return a.type() == typeid(int); }},
       {"itself_by_value", [](std::any a) { return std::any_cast<int>(a) + 1; }},
       {"span", [](std::span<const std::any> xs) { return xs.size(); }},
       {"opt_value", []() -> std::optional<int> { return 3; }},
       {"opt_none", []() -> std::optional<int> { return std::nullopt; }},
       {"after_opts",
        [](std::span<const std::any> xs) {
          return xs.size() == 1 && std::any_cast<int>(xs[0]) == 3;
        }},
       {"void", [](int) {}}},
      {{"i", {}},
       {"s", {}},
       {"d", {}},
       {"typed", {"i", "s", "d"}},
       {"by_value", {"s"}},
       {"itself", {"i"}},
       {"itself_by_value", {"i"}},
       {"span", {"i", "s", "d"}},
       {"opt_value", {}},
       {"opt_none", {}},
       {"after_opts", {"opt_none", "opt_value"}},
       {"void", {"i"}}});
  const RunSummary summary = executor.run(g, {});
  CHECK(summary.failed == 0);
  CHECK(std::any_cast<std::string>(g.result("typed")) == "hi5ok");
  CHECK(std::any_cast<std::string>(g.result("by_value")) == "hi!");
  CHECK(std::any_cast<std::string>(g.result("s")) == "hi");
  CHECK(std::any_cast<bool>(g.result("itself")));
  CHECK(std::any_cast<int>(g.result("itself_by_value")) == 6);
  CHECK(std::any_cast<std::size_t>(g.result("span")) == 3);
  // An optional<int> return stores the int itself, not the optional.
  REQUIRE(g.result("opt_value").type() == typeid(int));
  CHECK(std::any_cast<int>(g.result("opt_value")) == 3);
  CHECK_FALSE(g.has_result("opt_none"));
  CHECK(std::any_cast<bool>(g.result("after_opts")));
  CHECK(g.status("void") == TaskStatus::done);
  CHECK_FALSE(g.has_result("void"));
}

TEMPLATE_TEST_CASE("std::any graphs: a type mismatch fails the task with TypeError", "[task_fn]",
                   TASKMAP_TEST_EXECUTORS) {
  auto executor = make_executor<TestType>();
  bool bad_ran = false;
  auto g = create_graph<std::any>(
      {{"i", [] { return 5; }},
       {"s", [] { return std::string("hi"); }},
       {"empty", [] { return std::any(); }},
       {"bad1", [&bad_ran](int, double) { bad_ran = true; }},
       {"bad0", [](double x) { return x; }},
       {"bad_empty", [](int x) { return x; }},
       {"below_bad1", [](std::span<const std::any> xs) { return xs.size(); }},
       {"below_below", [](std::span<const std::any> xs) { return xs.size(); }}},
      {{"i", {}},
       {"s", {}},
       {"empty", {}},
       {"bad1", {"i", "s"}},
       {"bad0", {"i"}},
       {"bad_empty", {"empty"}},
       {"below_bad1", {"i", "bad1"}},
       {"below_below", {"below_bad1"}}});
  const RunSummary summary = executor.run(g, {});
  CHECK(summary.failed == 3);
  CHECK(summary.skipped == 2);
  CHECK_FALSE(bad_ran);

  CHECK(g.status("bad1") == TaskStatus::failed);
  const auto bad1 = error_as<TypeError>(g.error("bad1"));
  REQUIRE(bad1.has_value());
  CHECK(bad1->task() == "bad1");
  CHECK(bad1->position() == 1);
  CHECK(bad1->expected() == "double");
  CHECK(bad1->actual().find("string") != std::string::npos);
  const std::string message = bad1->what();
  CHECK(message.find("bad1") != std::string::npos);
  CHECK(message.find("double") != std::string::npos);
  CHECK(message.find("string") != std::string::npos);

  const auto bad0 = error_as<TypeError>(g.error("bad0"));
  REQUIRE(bad0.has_value());
  CHECK(bad0->task() == "bad0");
  CHECK(bad0->position() == 0);
  CHECK(bad0->expected() == "double");
  CHECK(bad0->actual() == "int");

  const auto bad_empty = error_as<TypeError>(g.error("bad_empty"));
  REQUIRE(bad_empty.has_value());
  CHECK(bad_empty->position() == 0);
  CHECK(bad_empty->expected() == "int");
  CHECK(bad_empty->actual().find("empty") != std::string::npos);

  CHECK(g.status("below_bad1") == TaskStatus::skipped);
  CHECK(g.status("below_below") == TaskStatus::skipped);
  const auto skipped = error_as<AncestorFailed>(g.error("below_below"));
  REQUIRE(skipped.has_value());
  CHECK(skipped->ancestor() == "bad1");
}

TEMPLATE_TEST_CASE("too few or too many values fail the task with ArityError", "[task_fn]",
                   TASKMAP_TEST_EXECUTORS) {
  auto executor = make_executor<TestType>();
  std::atomic<int> calls{0};
  auto two = [&calls](int x, int y) {
    ++calls;
    return x + y;
  };
  auto g = create_graph<int>({{"a", [] { return 1; }},
                              {"b", [] { return 2; }},
                              {"nothing", []() -> std::optional<int> { return std::nullopt; }},
                              {"few", two},
                              {"few_by_nothing", two},
                              {"many",
                               [&calls](int x) {
                                 ++calls;
                                 return x;
                               }},
                              {"zero_takes_none",
                               [&calls] {
                                 ++calls;
                                 return 0;
                               }},
                              {"ok", two},
                              {"child", [](int x) { return x; }},
                              {"grandchild", [](int x) { return x; }}},
                             {{"a", {}},
                              {"b", {}},
                              {"nothing", {}},
                              {"few", {"a"}},
                              {"few_by_nothing", {"a", "nothing"}},
                              {"many", {"a", "b"}},
                              {"zero_takes_none", {"a"}},
                              {"ok", {"a", "b"}},
                              {"child", {"few"}},
                              {"grandchild", {"child"}}});
  const RunSummary summary = executor.run(g, {});
  CHECK(calls == 1);  // only "ok" ran its function
  CHECK(summary.failed == 4);
  CHECK(summary.skipped == 2);
  CHECK(g.result("ok") == 3);

  struct Want {
    const char* task;
    std::size_t expected;
    std::size_t received;
  };
  for (const Want want : {Want{"few", 2, 1}, Want{"few_by_nothing", 2, 1}, Want{"many", 1, 2},
                          Want{"zero_takes_none", 0, 1}}) {
    CAPTURE(want.task);
    CHECK(g.status(want.task) == TaskStatus::failed);
    const auto error = error_as<ArityError>(g.error(want.task));
    REQUIRE(error.has_value());
    CHECK(error->task() == want.task);
    CHECK(error->expected() == want.expected);
    CHECK(error->received() == want.received);
  }

  CHECK(g.status("child") == TaskStatus::skipped);
  CHECK(g.status("grandchild") == TaskStatus::skipped);
  CHECK(what_of(g.error("child")) == "Ancestor task few failed; task not run");
  const auto grand = error_as<AncestorFailed>(g.error("grandchild"));
  REQUIRE(grand.has_value());
  CHECK(grand->ancestor() == "few");
}

namespace {

// Reports the address of the object it was called on: where the TaskFn keeps it.
struct ReportsAddress {
  const void** seen;
  int operator()() const noexcept {
    *seen = this;
    return 1;
  }
};
struct ReportsAddressBig : ReportsAddress {
  const void* padding[3] = {};
};
struct ReportsAddressMutable {
  const void** seen;
  int operator()() noexcept {
    *seen = this;
    return 1;
  }
};

const void* address_called_on(const TaskFn<int>& fn, const void*& seen) {
  const std::string graph_name = "g";
  const std::string task_name = "t";
  const std::stop_source stop;
  Context ctx(graph_name, task_name, stop.get_token(), 0);
  std::optional<int> out;
  seen = nullptr;
  fn.invoke(ctx, {}, out);
  REQUIRE(out == 1);
  return seen;
}

bool lies_inside(const void* p, const TaskFn<int>& fn) {
  const auto* first = reinterpret_cast<const unsigned char*>(&fn);
  const auto* q = static_cast<const unsigned char*>(p);
  return !std::less<>{}(q, first) && std::less<>{}(q, first + sizeof fn);
}

}  // namespace

TEST_CASE("a small trivially copyable const callable lives inside the TaskFn; others are shared",
          "[task_fn]") {
  CHECK(sizeof(TaskFn<int>) <= 3 * sizeof(void*));
  const void* seen = nullptr;

  SECTION("two pointers' worth, callable as const: inside each copy") {
    const TaskFn<int> original = ReportsAddress{&seen};
    const TaskFn<int> copy = original;  // NOLINT(performance-unnecessary-copy-initialization)
    const void* in_original = address_called_on(original, seen);
    const void* in_copy = address_called_on(copy, seen);
    CHECK(lies_inside(in_original, original));
    CHECK(lies_inside(in_copy, copy));
    TaskFn<int> moved = copy;
    TaskFn<int> target = std::move(moved);
    CHECK(lies_inside(address_called_on(target, seen), target));
    CHECK_FALSE(static_cast<bool>(moved));  // NOLINT(bugprone-use-after-move): moved-from is empty
  }
  SECTION("a lambda capturing a pointer and a value: inside") {
    int sink = 0;
    int* p = &sink;
    const TaskFn<int> fn = [p, v = 7] {
      *p = v;
      return 1;
    };
    const TaskFn<int> copy = fn;  // NOLINT(performance-unnecessary-copy-initialization)
    std::optional<int> out;
    const std::string name = "t";
    const std::stop_source stop;
    Context ctx(name, name, stop.get_token(), 0);
    copy.invoke(ctx, {}, out);
    CHECK(sink == 7);
  }
  SECTION("too big, or callable only as non-const: one object shared by every copy") {
    const TaskFn<int> big = ReportsAddressBig{{&seen}};
    const TaskFn<int> big_copy = big;  // NOLINT(performance-unnecessary-copy-initialization)
    const void* in_big = address_called_on(big, seen);
    CHECK(in_big == address_called_on(big_copy, seen));
    CHECK_FALSE(lies_inside(in_big, big));

    const TaskFn<int> stateful = ReportsAddressMutable{&seen};
    TaskFn<int> stateful_copy;
    stateful_copy = stateful;
    const void* in_stateful = address_called_on(stateful, seen);
    CHECK(in_stateful == address_called_on(stateful_copy, seen));
    CHECK_FALSE(lies_inside(in_stateful, stateful));
  }
}
