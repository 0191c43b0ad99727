// create_graph from ranges of pairs: every validation behaves as with maps, duplicates are
// refused by name, and any range shape (vectors, lists, single-pass ranges of temporaries,
// string_view and const char* names, lambdas held directly) builds the same graph.

#include <cstddef>
#include <exception>
#include <functional>
#include <iterator>
#include <list>
#include <optional>
#include <ranges>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include "test_support.hpp"

using namespace taskmap;
using namespace taskmap_test;

namespace {

using FuncPairs = std::vector<std::pair<std::string, TaskFn<int>>>;
using DepPairs = std::vector<std::pair<std::string, std::vector<std::string>>>;

static_assert(TaskFunctionRange<FuncPairs, int>);
static_assert(TaskFunctionRange<FuncMap<int>, int>);
static_assert(DependencyRange<DepPairs>);
static_assert(DependencyRange<DependencyMap>);
static_assert(DependencyRange<std::vector<std::pair<std::string_view, std::vector<const char*>>>>);
static_assert(!DependencyRange<FuncPairs>);
static_assert(!DependencyRange<std::vector<std::string>>);
static_assert(!TaskFunctionRange<std::vector<std::pair<int, TaskFn<int>>>, int>);

/// One graph's inputs as ordered lists, so the same case can be built from maps and from
/// vectors of pairs.
struct Spec {
  FuncPairs funcs;
  DepPairs deps;
};

enum class Input { maps, pairs };

TaskGraph<int> build_from(Input input, const Spec& spec, GraphOptions<int> opts = {}) {
  if (input == Input::pairs) return create_graph<int>(spec.funcs, spec.deps, std::move(opts));
  FuncMap<int> funcs(spec.funcs.begin(), spec.funcs.end());
  DependencyMap deps(spec.deps.begin(), spec.deps.end());
  return create_graph<int>(std::move(funcs), std::move(deps), std::move(opts));
}

/// What `build` threw, for comparing the two inputs.
struct Thrown {
  std::exception_ptr error;
  std::string what;
};

Thrown thrown_by(Input input, const Spec& spec, const GraphOptions<int>& opts = {}) {
  try {
    (void)build_from(input, spec, opts);
  } catch (const std::exception& e) {
    return {std::current_exception(), e.what()};
  }
  FAIL("create_graph did not throw");
  return {};
}

/// Builds `spec` both ways; both must throw E with the same message; returns the pairs
/// one's exception for checks of its data.
template <class E>
E same_error_both_ways(const Spec& spec, const GraphOptions<int>& opts = {}) {
  const Thrown from_maps = thrown_by(Input::maps, spec, opts);
  const Thrown from_pairs = thrown_by(Input::pairs, spec, opts);
  REQUIRE(holds<E>(from_maps.error));
  REQUIRE(holds<E>(from_pairs.error));
  CHECK(from_pairs.what == from_maps.what);
  try {
    std::rethrow_exception(from_pairs.error);
  } catch (const E& e) {
    return e;
  }
  throw std::logic_error("unreachable");
}

/// A single-pass range yielding `convert(item)` for each item as a temporary: the shape of
/// a generator, or of a view that builds its elements. (Hand-written: clang 14 cannot compile
/// libstdc++ 12's std::views.)
template <class Item, class Convert>
class Temporaries {
 public:
  Temporaries(const std::vector<Item>& items, Convert convert)
      : items_(&items), convert_(std::move(convert)) {}

  class iterator {
   public:
    using value_type = std::invoke_result_t<const Convert&, const Item&>;
    using difference_type = std::ptrdiff_t;
    iterator() = default;
    explicit iterator(const Temporaries* range) : range_(range) {}
    value_type operator*() const { return range_->convert_((*range_->items_)[index_]); }
    iterator& operator++() {
      ++index_;
      return *this;
    }
    void operator++(int) { ++index_; }
    bool operator==(std::default_sentinel_t) const { return index_ == range_->items_->size(); }

   private:
    const Temporaries* range_ = nullptr;
    std::size_t index_ = 0;
  };

  [[nodiscard]] iterator begin() const { return iterator(this); }
  [[nodiscard]] std::default_sentinel_t end() const { return {}; }

 private:
  const std::vector<Item>* items_;
  Convert convert_;
};

static_assert(std::ranges::input_range<Temporaries<int, int (*)(const int&)>>);
static_assert(!std::ranges::forward_range<Temporaries<int, int (*)(const int&)>>);

Spec abc() {
  return {{{"a", fa}, {"b", fb}, {"c", fc}}, {{"a", {}}, {"b", {"a"}}, {"c", {"a", "b"}}}};
}

}  // namespace

TEST_CASE("pairs: a valid graph builds and runs as from maps", "[graph][pairs]") {
  for (const Input input : {Input::maps, Input::pairs}) {
    auto g = build_from(input, abc(), {.name = "demo"});
    CHECK(g.name() == "demo");
    CHECK(g.tasks() == std::vector<std::string>{"a", "b", "c"});
    CHECK(g.dependencies("c") == std::vector<std::string>{"a", "b"});
    CHECK(g.ready_tasks() == std::vector<std::string>{"a"});
    run(g);
    CHECK(g.result("c") == 40);
  }
}

TEST_CASE("pairs: a task without a function is refused as with maps", "[graph][pairs][errors]") {
  Spec spec = abc();
  spec.funcs.erase(spec.funcs.begin() + 1);  // no b
  spec.deps.emplace_back("d", std::vector<std::string>{});
  const auto e = same_error_both_ways<MissingFunctionError>(spec);
  CHECK(e.tasks() == std::vector<std::string>{"b", "d"});
  CHECK(std::string(e.what()) == "graph 'taskmap': no function for task(s) 'b', 'd'");
}

TEST_CASE("pairs: an empty function counts as missing as with maps", "[graph][pairs][errors]") {
  Spec spec = abc();
  spec.funcs[2].second = TaskFn<int>{};
  const auto e = same_error_both_ways<MissingFunctionError>(spec);
  CHECK(e.tasks() == std::vector<std::string>{"c"});
}

TEST_CASE("pairs: an extra function is ignored as with maps", "[graph][pairs]") {
  Spec spec = abc();
  spec.funcs.insert(spec.funcs.begin(), {"not_a_task", fa});
  spec.funcs.emplace_back("another", fb);
  for (const Input input : {Input::maps, Input::pairs}) {
    auto g = build_from(input, spec);
    CHECK(g.size() == 3);
    CHECK_FALSE(g.contains("not_a_task"));
    run(g);
    CHECK(g.result("c") == 40);
  }
}

TEST_CASE("pairs: unknown dependencies are refused, every edge listed, as with maps",
          "[graph][pairs][errors]") {
  Spec spec = abc();
  spec.deps[1].second = {"x", "a"};
  spec.deps[2].second = {"y", "x", "b"};
  const auto e = same_error_both_ways<MissingDependencyError>(spec);
  CHECK(e.edges() == std::vector<MissingDependencyError::Edge>{{"b", "x"}, {"c", "x"}, {"c", "y"}});
  CHECK(std::string(e.what()) ==
        "graph 'taskmap': dependencies that are not tasks: 'x' (needed by 'b', 'c'); 'y' "
        "(needed by 'c')");
}

TEST_CASE("pairs: a missing function is reported before a missing dependency, as with maps",
          "[graph][pairs][errors]") {
  Spec spec = abc();
  spec.deps[1].second = {"x"};
  spec.funcs.pop_back();
  (void)same_error_both_ways<MissingFunctionError>(spec);
}

TEST_CASE("pairs: options naming unknown tasks are refused as with maps",
          "[graph][pairs][errors]") {
  const GraphOptions<int> opts{.io_bound = {"x"},
                               .done = {"y"},
                               .results = {{"z", 1}},
                               .priority = {{"w", 1}},
                               .groups = {{"g", {.tasks = {"v"}}}}};
  const auto e = same_error_both_ways<UnknownTaskError>(abc(), opts);
  CHECK(e.tasks() == std::vector<std::string>{"v", "w", "x", "y", "z"});
}

TEST_CASE("pairs: bad concurrency groups are refused as with maps", "[graph][pairs][errors]") {
  const auto zero = same_error_both_ways<GraphError>(
      abc(), {.groups = {{"db", {.max_concurrency = 0, .tasks = {"a"}}}}});
  CHECK(std::string(zero.what()).find("max_concurrency 0") != std::string::npos);
  const auto twice = same_error_both_ways<GraphError>(
      abc(), {.groups = {{"g1", {.tasks = {"a"}}}, {"g2", {.tasks = {"a", "b"}}}}});
  CHECK(std::string(twice.what()).find("task 'a' is in two groups") != std::string::npos);
}

TEST_CASE("pairs: a cycle is refused with its path as with maps", "[graph][pairs][errors]") {
  const Spec spec{{{"a", fb}, {"b", fb}, {"c", fb}, {"d", fa}},
                  {{"d", {}}, {"c", {"a"}}, {"b", {"c"}}, {"a", {"b"}}}};
  const auto e = same_error_both_ways<CycleError>(spec);
  CHECK(e.cycle() == std::vector<std::string>{"a", "b", "c", "a"});
}

TEST_CASE("pairs: a self-dependency is a cycle as with maps", "[graph][pairs][errors]") {
  const Spec spec{{{"a", fb}, {"b", fa}}, {{"b", {}}, {"a", {"a"}}}};
  const auto e = same_error_both_ways<CycleError>(spec);
  CHECK(e.cycle() == std::vector<std::string>{"a", "a"});
  CHECK(std::string(e.what()).find("a -> a") != std::string::npos);
}

TEST_CASE("pairs: seeded done tasks and results work as with maps", "[graph][pairs]") {
  for (const Input input : {Input::maps, Input::pairs}) {
    auto g =
        build_from(input, abc(), {.done = {"a"}, .results = {{"a", 7}}, .priority = {{"c", 2}}});
    CHECK(g.status("a") == TaskStatus::done);
    run(g);
    CHECK(g.result("b") == 17);
    CHECK(g.result("c") == 44);
  }
}

TEST_CASE("pairs: a task listed twice in the dependencies is refused by name",
          "[graph][pairs][errors]") {
  Spec spec = abc();
  spec.deps.emplace_back("b", std::vector<std::string>{});
  spec.deps.emplace_back("a", std::vector<std::string>{"b"});
  spec.deps.emplace_back("b", std::vector<std::string>{"c"});
  try {
    (void)build_from(Input::pairs, spec, {.name = "etl"});
    FAIL("no DuplicateTaskError");
  } catch (const DuplicateTaskError& e) {
    CHECK(e.tasks() == std::vector<std::string>{"a", "b"});
    CHECK(std::string(e.what()) ==
          "graph 'etl': more than one dependency list for task(s) 'a', 'b'");
  }
  // Reported before anything else, even a missing function.
  spec.funcs.clear();
  CHECK_THROWS_AS(build_from(Input::pairs, spec), DuplicateTaskError);
}

TEST_CASE("pairs: a name given two functions is refused by name", "[graph][pairs][errors]") {
  SECTION("the repeat after the entry in the task's position") {
    Spec spec = abc();
    spec.funcs.emplace_back("a", fa);
    try {
      (void)build_from(Input::pairs, spec, {.name = "etl"});
      FAIL("no DuplicateTaskError");
    } catch (const DuplicateTaskError& e) {
      CHECK(e.tasks() == std::vector<std::string>{"a"});
      CHECK(std::string(e.what()) == "graph 'etl': more than one function for task(s) 'a'");
    }
  }
  SECTION("the repeat before the entry in the task's position") {
    Spec spec = abc();
    spec.funcs.insert(spec.funcs.begin(), {"c", fc});
    try {
      (void)build_from(Input::pairs, spec);
      FAIL("no DuplicateTaskError");
    } catch (const DuplicateTaskError& e) {
      CHECK(e.tasks() == std::vector<std::string>{"c"});
    }
  }
  SECTION("several names, one of them not a task, one given an empty function") {
    Spec spec = abc();
    spec.funcs.emplace_back("zz", fa);
    spec.funcs.emplace_back("b", TaskFn<int>{});
    spec.funcs.emplace_back("zz", fa);
    spec.funcs.emplace_back("c", fc);
    try {
      (void)build_from(Input::pairs, spec);
      FAIL("no DuplicateTaskError");
    } catch (const DuplicateTaskError& e) {
      CHECK(e.tasks() == std::vector<std::string>{"b", "c", "zz"});
    }
  }
  SECTION("from a range of temporaries, the repeat first") {
    Spec spec = abc();
    spec.funcs.insert(spec.funcs.begin(), {"b", fb});
    const Temporaries temporaries(spec.funcs, [](const auto& entry) { return entry; });
    try {
      (void)create_graph<int>(temporaries, spec.deps);
      FAIL("no DuplicateTaskError");
    } catch (const DuplicateTaskError& e) {
      CHECK(e.tasks() == std::vector<std::string>{"b"});
    }
  }
  SECTION("reported before a missing function") {
    Spec spec = abc();
    spec.funcs.erase(spec.funcs.begin());
    spec.funcs.emplace_back("b", fb);
    CHECK_THROWS_AS(build_from(Input::pairs, spec), DuplicateTaskError);
  }
}

TEST_CASE("pairs: a DuplicateTaskError is a TaskListError and a GraphError", "[graph][pairs]") {
  Spec spec = abc();
  spec.deps.push_back(spec.deps.front());
  CHECK_THROWS_AS(build_from(Input::pairs, spec), TaskListError);
  CHECK_THROWS_AS(build_from(Input::pairs, spec), GraphError);
}

TEST_CASE("pairs: independent tasks are numbered, and run, in the dependency range's order",
          "[graph][pairs]") {
  std::vector<std::string> ran;
  FuncPairs funcs;
  DepPairs deps;
  for (const char* name : {"m", "c", "x", "a", "q"}) {
    funcs.emplace_back(name, [&ran, name] {
      ran.emplace_back(name);
      return 1;
    });
  }
  for (const char* name : {"q", "a", "x", "c", "m"})
    deps.emplace_back(name, DepPairs::value_type::second_type{});
  auto g = create_graph<int>(funcs, deps);
  run(g);
  CHECK(ran == std::vector<std::string>{"q", "a", "x", "c", "m"});
}

TEST_CASE("pairs: names as string_view and const char*, lambdas held directly", "[graph][pairs]") {
  const auto body = [](std::span<const int> in) {
    int sum = 1;
    for (const int v : in) sum += v;
    return sum;
  };
  const std::vector<std::pair<const char*, decltype(body)>> funcs{
      {"a", body}, {"b", body}, {"c", body}};
  const std::vector<std::pair<std::string_view, std::vector<const char*>>> deps{
      {"c", {"a", "b"}}, {"b", {"a"}}, {"a", {}}};
  auto g = create_graph<int>(funcs, deps);
  run(g);
  CHECK(g.result("c") == 4);
  CHECK(g.dependencies("c") == std::vector<std::string>{"a", "b"});
}

namespace {
/// A task callable that counts how often it is copied.
struct CountsCopies {
  int* copies;
  CountsCopies(int* counter) : copies(counter) {}  // NOLINT(google-explicit-constructor)
  CountsCopies(const CountsCopies& other) : copies(other.copies) { ++*copies; }
  CountsCopies(CountsCopies&&) noexcept = default;
  CountsCopies& operator=(const CountsCopies&) = delete;
  CountsCopies& operator=(CountsCopies&&) = delete;
  ~CountsCopies() = default;
  int operator()() const { return 5; }
};
}  // namespace

TEST_CASE("pairs: an lvalue range is copied from, an rvalue one moved from", "[graph][pairs]") {
  int copies = 0;
  std::vector<std::pair<std::string, CountsCopies>> funcs;
  funcs.emplace_back("a_name_long_enough_to_be_allocated", &copies);
  funcs.emplace_back("b", &copies);
  const DepPairs deps{{"a_name_long_enough_to_be_allocated", {}}, {"b", {}}};
  auto g = create_graph<int>(funcs, deps);
  CHECK(copies == 2);
  CHECK(funcs[0].first == "a_name_long_enough_to_be_allocated");
  copies = 0;
  auto h = create_graph<int>(std::move(funcs), DepPairs(deps));
  CHECK(copies == 0);
  run(g);
  run(h);
  CHECK(g.result("b") == 5);
  CHECK(h.result("a_name_long_enough_to_be_allocated") == 5);
}

TEST_CASE("pairs: lists, tuples, views yielding temporaries and braced maps mix",
          "[graph][pairs]") {
  const std::list<std::tuple<std::string, std::list<std::string>>> listed{{"later", {"first"}},
                                                                          {"first", {}}};
  // A single-pass range whose pairs, and the dependency names in them, are temporaries.
  const std::vector<std::pair<std::string, std::string>> chain{{"later", "first"}, {"first", ""}};
  const Temporaries deps(chain, [](const auto& entry) {
    std::vector<std::string> names;
    if (!entry.second.empty()) names.push_back(entry.second);
    return std::pair<std::string, std::vector<std::string>>(entry.first, std::move(names));
  });
  auto g = create_graph<int>({{"first", fa}, {"later", fb}}, deps);
  run(g);
  CHECK(g.result("later") == 15);
  const FuncMap<int> funcs{{"first", fa}, {"later", fb}};
  auto h = create_graph<int>(funcs, listed);
  run(h);
  CHECK(h.result("later") == 15);
  auto k = create_graph<int>(FuncPairs{{"first", fa}, {"later", fb}},
                             {{"later", {"first"}}, {"first", {}}});
  run(k);
  CHECK(k.result("later") == 15);
}

TEST_CASE("pairs: a big graph with functions in another order than the tasks", "[graph][pairs]") {
  // Past the lookup pipeline's depth, in both the in-order and the looked-up paths.
  const int n = 2000;
  FuncPairs funcs;
  DepPairs deps;
  for (int i = 0; i < n; ++i) {
    const std::string name = "t" + std::to_string(i);
    deps.emplace_back(name, i == 0 ? std::vector<std::string>{}
                                   : std::vector<std::string>{"t" + std::to_string(i - 1)});
  }
  for (int i = n - 1; i >= 0; --i) {
    funcs.emplace_back("t" + std::to_string(i),
                       i == 0 ? TaskFn<int>([] { return 1; }) : TaskFn<int>(fb));
  }
  auto g = create_graph<int>(std::move(funcs), std::move(deps));
  run(g);
  CHECK(g.result("t1999") == 1 + 10 * (n - 1));
}

TEST_CASE("pairs: an unknown dependency defined nowhere in a big graph is found",
          "[graph][pairs][errors]") {
  const int n = 1000;
  FuncPairs funcs;
  DepPairs deps;
  for (int i = 0; i < n; ++i) {
    const std::string name = "t" + std::to_string(i);
    funcs.emplace_back(name, fb);
    deps.emplace_back(name, std::vector<std::string>{"t" + std::to_string(i + 1)});
  }
  try {
    (void)create_graph<int>(funcs, deps);
    FAIL("no MissingDependencyError");
  } catch (const MissingDependencyError& e) {
    CHECK(e.edges() == std::vector<MissingDependencyError::Edge>{{"t999", "t1000"}});
  }
}
