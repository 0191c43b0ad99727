#pragma once
// The four graph shapes of the core benchmark, as plain adjacency data, and the inputs each
// benchmark builds from them: taskmap's name maps, the baselines' std::function maps and a
// CSR graph for the hand-written loop.
//
// Every task computes "1 + the largest value it is fed" (0 when fed nothing), so the value
// of a task is the length of the longest dependency path ending at it. That makes results
// checkable: the largest value of a shape is known in advance (Shape::expected_max).

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <span>
#include <stdexcept>
#include <string>
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
/// order).
inline LoopGraph loop_graph(const Shape& s, const std::vector<std::uint32_t>& order) {
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
    g.fns.push_back(baseline_task());
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
