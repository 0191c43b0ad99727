#pragma once
// The four graph shapes of the benchmarks, as plain adjacency data, their sizes, and the
// inputs each benchmark builds from them: taskmap's name maps (with plain-function, span or
// coroutine tasks), the baselines' std::function maps and a CSR graph for the hand-written
// loop. The one place that says what a shape is: taskmap_core_bench,
// taskmap_executors_bench and taskmap_profile_core all build their graphs from here.
//
// Every task computes "1 + the largest value it is fed" (0 when fed nothing), so the value
// of a task is the length of the longest dependency path ending at it. That makes results
// checkable: the largest value of a shape is known in advance (Shape::expected_max).

#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include <taskmap/taskmap.hpp>

namespace bench {

/// A shape: task i is named names[i] and depends on deps[i] (in feeding order). Task ids
/// are in a topological order (dependencies first).
struct Shape {
  std::string label;
  std::vector<std::string> names;
  std::vector<std::vector<std::uint32_t>> deps;
  int expected_max = 0;

  [[nodiscard]] std::size_t size() const noexcept { return names.size(); }
  /// The name of a task with the largest value (the last one in topological order).
  [[nodiscard]] const std::string& sink() const { return names.back(); }
};

inline std::string task_name(std::size_t i) { return "task_" + std::to_string(i); }

/// n tasks, no dependencies.
inline Shape independent(std::size_t n) {
  Shape s{"independent", {}, {}, 1};
  s.names.reserve(n);
  for (std::size_t i = 0; i < n; ++i) s.names.push_back(task_name(i));
  s.deps.resize(n);
  return s;
}

/// task_i depends on task_{i-1}.
inline Shape chain(std::size_t n) {
  Shape s = independent(n);
  s.label = "chain";
  for (std::size_t i = 1; i < n; ++i) s.deps[i] = {static_cast<std::uint32_t>(i - 1)};
  s.expected_max = static_cast<int>(n);
  return s;
}

/// A complete binary tree of the given depth (edges from root to leaf), i.e.
/// 2^(depth+1) - 1 tasks, fanning out from the root: task i depends on task (i-1)/2.
inline Shape binary_tree(unsigned depth) {
  const std::size_t n = (std::size_t{1} << (depth + 1)) - 1;
  Shape s = independent(n);
  s.label = "binary_tree";
  for (std::size_t i = 1; i < n; ++i) s.deps[i] = {static_cast<std::uint32_t>((i - 1) / 2)};
  s.expected_max = static_cast<int>(depth) + 1;
  return s;
}

/// side x side cells; cell (r, c) depends on its left (r, c-1) then its upper (r-1, c)
/// neighbour, where they exist.
inline Shape wavefront(std::size_t side) {
  Shape s{"wavefront", {}, {}, static_cast<int>(2 * side - 1)};
  const std::size_t n = side * side;
  s.names.reserve(n);
  s.deps.resize(n);
  for (std::size_t r = 0; r < side; ++r) {
    for (std::size_t c = 0; c < side; ++c) {
      const std::size_t i = r * side + c;
      s.names.push_back("cell_" + std::to_string(r) + "_" + std::to_string(c));
      if (c > 0) s.deps[i].push_back(static_cast<std::uint32_t>(i - 1));
      if (r > 0) s.deps[i].push_back(static_cast<std::uint32_t>(i - side));
    }
  }
  return s;
}

// ---------------------------------------------------------------------------------------
// The benchmarks' shapes and sizes

enum class ShapeId { independent, chain, binary_tree, wavefront };

/// Every shape, in the order the benchmarks register them.
inline constexpr std::array<ShapeId, 4> all_shapes{ShapeId::independent, ShapeId::chain,
                                                   ShapeId::binary_tree, ShapeId::wavefront};

/// The name of a shape in benchmark names (`BM_x/<name>`) and on command lines.
inline const char* shape_name(ShapeId id) {
  switch (id) {
    case ShapeId::independent:
      return "independent";
    case ShapeId::chain:
      return "chain";
    case ShapeId::binary_tree:
      return "binary_tree";
    case ShapeId::wavefront:
      return "wavefront";
  }
  throw std::logic_error("shape_name: not a ShapeId");
}

inline std::optional<ShapeId> parse_shape(std::string_view name) {
  for (const ShapeId id : all_shapes) {
    if (name == shape_name(id)) return id;
  }
  return std::nullopt;
}

/// `full`: the sizes of docs/benchmarks.md; `small` (--sizes=small): about 10 times fewer
/// tasks, for quick checks.
enum class Sizes { full, small };

/// A shape at the benchmarks' sizes: 1,000,000 / 100,000 / 524,287 / 262,144 tasks (full)
/// or 100,000 / 10,000 / 65,535 / 25,600 (small).
inline Shape make_shape(ShapeId id, Sizes sizes) {
  const bool small = sizes == Sizes::small;
  switch (id) {
    case ShapeId::independent:
      return independent(small ? 100'000 : 1'000'000);
    case ShapeId::chain:
      return chain(small ? 10'000 : 100'000);
    case ShapeId::binary_tree:
      return binary_tree(small ? 15 : 18);
    case ShapeId::wavefront:
      return wavefront(small ? 160 : 512);
  }
  throw std::logic_error("make_shape: not a ShapeId");
}

/// A shape at the full size divided by about `scale` (taskmap_profile_core's argument):
/// `independent` and `chain` exactly, `binary_tree` one level less per halving, `wavefront`
/// by 512 / sqrt(scale) cells a side. Scale 1 is the full size. Kept apart from
/// make_shape's `small` sizes (which differ at scale 10 on two shapes) so that instruction
/// counts stay comparable with earlier builds of the profiling driver.
inline Shape scaled_shape(ShapeId id, std::size_t scale) {
  if (scale == 0) throw std::invalid_argument("scaled_shape: scale must be at least 1");
  switch (id) {
    case ShapeId::independent:
      return independent(1'000'000 / scale);
    case ShapeId::chain:
      return chain(100'000 / scale);
    case ShapeId::binary_tree: {
      unsigned depth = 18;  // 2^19 - 1 tasks at scale 1
      for (std::size_t s = scale; s > 1 && depth > 1; s /= 2) --depth;
      return binary_tree(depth);
    }
    case ShapeId::wavefront:
      return wavefront(static_cast<std::size_t>(512.0 / std::sqrt(static_cast<double>(scale))));
  }
  throw std::logic_error("scaled_shape: not a ShapeId");
}

// ---------------------------------------------------------------------------------------
// Inputs for taskmap

/// A positional task of the given arity: `[] { return 1; }`, `[](int x) { return x + 1; }`,
/// `[](int a, int b) { return max(a, b) + 1; }`. Each call makes a new TaskFn, as a user
/// writing one lambda per task would.
inline taskmap::TaskFn<int> positional_task(std::size_t arity) {
  switch (arity) {
    case 0:
      return [] { return 1; };
    case 1:
      return [](int x) { return x + 1; };
    case 2:
      return [](int a, int b) { return std::max(a, b) + 1; };
    default:
      throw std::logic_error("positional_task: arity > 2");
  }
}

inline int span_body(std::span<const int> in) {
  int best = 0;
  for (const int v : in) best = std::max(best, v);
  return best + 1;
}

/// The same computation as a `std::span<const int>` task (any number of inputs).
inline taskmap::TaskFn<int> span_task() {
  return [](std::span<const int> in) { return span_body(in); };
}

/// How the tasks of a plain-function graph are written: positional lambdas or one
/// `std::span<const int>` lambda (coroutine tasks: coroutine_func_map).
enum class TaskStyle { positional, span };

inline taskmap::FuncMap<int> func_map(const Shape& s, TaskStyle style) {
  taskmap::FuncMap<int> funcs;
  funcs.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    funcs.emplace(s.names[i],
                  style == TaskStyle::positional ? positional_task(s.deps[i].size()) : span_task());
  }
  return funcs;
}

// Coroutine tasks have internal linkage (an unnamed namespace), as they had when they lived
// in executors_bench.cpp: with external linkage the compiler inlines the coroutine executors'
// code differently (CoroutineExecutor::run<int> came out 20 % larger), which would change
// what BM_async_coro and BM_coropool_coro measure.
namespace {

/// The same computation as positional_task, as coroutines that finish at once:
/// `[](int x) -> taskmap::Task<int> { co_return x + 1; }`.
inline taskmap::TaskFn<int> coroutine_task(std::size_t arity) {
  switch (arity) {
    case 0:
      return []() -> taskmap::Task<int> { co_return 1; };
    case 1:
      return [](int x) -> taskmap::Task<int> { co_return x + 1; };
    case 2:
      return [](int a, int b) -> taskmap::Task<int> { co_return std::max(a, b) + 1; };
    default:
      throw std::logic_error("coroutine_task: arity > 2");
  }
}

/// A graph's functions as coroutine tasks. Apart from func_map so that a program which never
/// runs coroutines does not compile the coroutine machinery: what else a translation unit
/// instantiates changes how the compiler inlines the measured code.
inline taskmap::FuncMap<int> coroutine_func_map(const Shape& s) {
  taskmap::FuncMap<int> funcs;
  funcs.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    funcs.emplace(s.names[i], coroutine_task(s.deps[i].size()));
  }
  return funcs;
}

}  // namespace

// ---------------------------------------------------------------------------------------
// Capturing tasks: the headline style (taskmap issue 10). A user's task reaches state outside
// the graph, so each task is its own lambda capturing a pointer and a small value: it writes
// the value through the pointer and returns "1 + the largest value fed". 16 bytes of
// captures, too big for TaskFn's inline buffer, so each task's callable is allocated as in
// user code. The stateless styles above stay as extra rows.

/// Where the capturing tasks of a graph write: task i stores i in slot i, so a run that
/// called every task leaves sink[i] == i.
using Sink = std::vector<int>;

/// A fresh sink of n slots, all -1 (no task ran).
inline Sink make_sink(std::size_t n) { return Sink(n, -1); }

/// True when every task of the graph wrote its own index (each ran and saw its captures).
inline bool sink_complete(const Sink& sink) {
  for (std::size_t i = 0; i < sink.size(); ++i) {
    if (sink[i] != static_cast<int>(i)) return false;
  }
  return true;
}

/// A capturing positional task of the given arity, `[out, k](int x) { *out = k; return x + 1; }`.
inline taskmap::TaskFn<int> capturing_task(std::size_t arity, int* out, int k) {
  switch (arity) {
    case 0:
      return [out, k] {
        *out = k;
        return 1;
      };
    case 1:
      return [out, k](int x) {
        *out = k;
        return x + 1;
      };
    case 2:
      return [out, k](int a, int b) {
        *out = k;
        return std::max(a, b) + 1;
      };
    default:
      throw std::logic_error("capturing_task: arity > 2");
  }
}

/// Fills fresh maps the way user code does: one loop over the tasks, each task's lambda
/// emplaced into `funcs` and its dependency names into `deps`, no reserve and no copying
/// from a prototype (a copy would lay the nodes out in iteration order). `sink` must hold
/// s.size() slots and outlive the graph.
inline void fill_user_maps(const Shape& s, Sink& sink, taskmap::FuncMap<int>& funcs,
                           taskmap::DependencyMap& deps) {
  for (std::size_t i = 0; i < s.size(); ++i) {
    funcs.emplace(s.names[i], capturing_task(s.deps[i].size(), &sink[i], static_cast<int>(i)));
    std::vector<std::string> names;
    names.reserve(s.deps[i].size());
    for (const std::uint32_t d : s.deps[i]) names.push_back(s.names[d]);
    deps.emplace(s.names[i], std::move(names));
  }
}

/// The same maps with stateless positional tasks (the "stateless" extra rows).
inline void fill_user_maps_stateless(const Shape& s, taskmap::FuncMap<int>& funcs,
                                     taskmap::DependencyMap& deps) {
  for (std::size_t i = 0; i < s.size(); ++i) {
    funcs.emplace(s.names[i], positional_task(s.deps[i].size()));
    std::vector<std::string> names;
    names.reserve(s.deps[i].size());
    for (const std::uint32_t d : s.deps[i]) names.push_back(s.names[d]);
    deps.emplace(s.names[i], std::move(names));
  }
}

/// A capturing graph built the user's way (fill_user_maps, then create_graph).
inline taskmap::TaskGraph<int> capturing_graph(const Shape& s, Sink& sink) {
  taskmap::FuncMap<int> funcs;
  taskmap::DependencyMap deps;
  fill_user_maps(s, sink, funcs, deps);
  return taskmap::create_graph<int>(std::move(funcs), std::move(deps));
}

/// The names of the tasks without dependencies: resetting them resets the whole graph
/// (reset_tasks also resets every transitive dependent), the documented way to rerun it.
inline std::vector<std::string> source_names(const Shape& s) {
  std::vector<std::string> names;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s.deps[i].empty()) names.push_back(s.names[i]);
  }
  return names;
}

inline taskmap::DependencyMap dependency_map(const Shape& s) {
  taskmap::DependencyMap deps;
  deps.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    std::vector<std::string> names;
    names.reserve(s.deps[i].size());
    for (const std::uint32_t d : s.deps[i]) names.push_back(s.names[d]);
    deps.emplace(s.names[i], std::move(names));
  }
  return deps;
}

// ---------------------------------------------------------------------------------------
// Inputs for the baselines

using BaselineFn = std::function<int(std::span<const int>)>;
using BaselineFuncMap = std::unordered_map<std::string, BaselineFn>;

inline BaselineFn baseline_task() {
  return [](std::span<const int> in) { return span_body(in); };
}

/// The capturing task of the baselines: the same body as capturing_task, behind
/// std::function.
inline BaselineFn capturing_baseline_task(int* out, int k) {
  return [out, k](std::span<const int> in) {
    *out = k;
    return span_body(in);
  };
}

/// Baseline maps filled the user's way with capturing tasks (see fill_user_maps).
inline BaselineFuncMap capturing_baseline_func_map(const Shape& s, Sink& sink) {
  BaselineFuncMap funcs;
  for (std::size_t i = 0; i < s.size(); ++i) {
    funcs.emplace(s.names[i], capturing_baseline_task(&sink[i], static_cast<int>(i)));
  }
  return funcs;
}

inline BaselineFuncMap baseline_func_map(const Shape& s) {
  BaselineFuncMap funcs;
  funcs.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) funcs.emplace(s.names[i], baseline_task());
  return funcs;
}

/// What a hand-written scheduler keeps: functions, dependencies and dependents in CSR form,
/// and each task's dependency count.
struct LoopGraph {
  std::vector<BaselineFn> fns;
  std::vector<std::uint32_t> dep_offsets;
  std::vector<std::uint32_t> deps;
  std::vector<std::uint32_t> child_offsets;
  std::vector<std::uint32_t> children;
  std::vector<std::uint32_t> indegree;

  [[nodiscard]] std::size_t size() const noexcept { return fns.size(); }
};

/// `order[k]` is the shape task that gets loop id k (identity: the shape's own, topological
/// order). With a sink, the tasks are capturing (capturing_baseline_task; shape task i writes
/// slot i); without, stateless.
inline LoopGraph loop_graph(const Shape& s, const std::vector<std::uint32_t>& order,
                            Sink* sink = nullptr) {
  const std::size_t n = s.size();
  std::vector<std::uint32_t> id_of(n);
  for (std::size_t k = 0; k < n; ++k) id_of[order[k]] = static_cast<std::uint32_t>(k);
  LoopGraph g;
  g.fns.reserve(n);
  g.dep_offsets.reserve(n + 1);
  g.dep_offsets.push_back(0);
  g.indegree.reserve(n);
  for (std::size_t k = 0; k < n; ++k) {
    const auto& d = s.deps[order[k]];
    g.fns.push_back(sink != nullptr
                        ? capturing_baseline_task(&(*sink)[order[k]], static_cast<int>(order[k]))
                        : baseline_task());
    for (const std::uint32_t dep : d) g.deps.push_back(id_of[dep]);
    g.dep_offsets.push_back(static_cast<std::uint32_t>(g.deps.size()));
    g.indegree.push_back(static_cast<std::uint32_t>(d.size()));
  }
  g.child_offsets.assign(n + 1, 0);
  for (const std::uint32_t dep : g.deps) ++g.child_offsets[dep + 1];
  for (std::size_t k = 0; k < n; ++k) g.child_offsets[k + 1] += g.child_offsets[k];
  g.children.resize(g.deps.size());
  std::vector<std::uint32_t> fill(g.child_offsets.begin(), g.child_offsets.end() - 1);
  for (std::uint32_t k = 0; k < n; ++k) {
    for (std::uint32_t e = g.dep_offsets[k]; e < g.dep_offsets[k + 1]; ++e) {
      g.children[fill[g.deps[e]]++] = k;
    }
  }
  return g;
}

inline std::vector<std::uint32_t> identity_order(std::size_t n) {
  std::vector<std::uint32_t> order(n);
  for (std::size_t i = 0; i < n; ++i) order[i] = static_cast<std::uint32_t>(i);
  return order;
}

/// The order in which a DependencyMap built from the shape lists its tasks: the ids
/// create_graph gives them.
inline std::vector<std::uint32_t> map_order(const Shape& s, const taskmap::DependencyMap& deps) {
  std::unordered_map<std::string_view, std::uint32_t> index;
  index.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i)
    index.emplace(s.names[i], static_cast<std::uint32_t>(i));
  std::vector<std::uint32_t> order;
  order.reserve(s.size());
  for (const auto& entry : deps) order.push_back(index.at(entry.first));
  return order;
}

}  // namespace bench
