#pragma once
// The two baselines the core benchmark compares taskmap against:
//  - naive_build: what a first C++ port of Python taskmap would do. Every task becomes an
//    entry of std::unordered_map<std::string, Node>, dependencies stay strings, and
//    validation (missing functions, missing dependencies, cycles by a depth-first search
//    with an explicit stack) looks names up in that map.
//  - one_pass_build: the plain one-pass build of taskmap issue 10's target, from the same
//    user-built FuncMap / DependencyMap as create_graph: walks the dependency map once,
//    interns the names into a hash table, moves each function out of the function map,
//    builds the CSR arrays of dependencies and dependents, then destroys both maps. It
//    reports missing functions and dependencies but does not look for cycles.
//  - run_loop: a hand-written dependency-counting scheduler over std::function in CSR
//    form with int results and a FIFO ready queue: the cost floor of a sequential run.

#include <cstddef>
#include <cstdint>
#include <span>
#include <stdexcept>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "shapes.hpp"

namespace bench {

struct NaiveNode {
  std::vector<std::string> deps;
  BaselineFn fn;
  std::uint8_t mark = 0;  // depth-first search colour: 0 new, 1 on the stack, 2 finished
};

using NaiveGraph = std::unordered_map<std::string, NaiveNode>;

/// Builds and validates a string-keyed graph. Takes its inputs by value, like create_graph.
inline NaiveGraph naive_build(BaselineFuncMap funcs, taskmap::DependencyMap deps) {
  NaiveGraph graph;
  std::vector<std::string> no_function;
  for (auto& [name, task_deps] : deps) {
    auto fn = funcs.find(name);
    if (fn == funcs.end()) {
      no_function.push_back(name);
      continue;
    }
    graph.emplace(name, NaiveNode{std::move(task_deps), std::move(fn->second)});
  }
  if (!no_function.empty()) throw std::runtime_error("no function for " + no_function.front());

  std::vector<std::pair<std::string, std::string>> missing;
  for (const auto& [name, node] : graph) {
    for (const std::string& dep : node.deps) {
      if (!graph.contains(dep)) missing.emplace_back(name, dep);
    }
  }
  if (!missing.empty()) throw std::runtime_error("missing dependency " + missing.front().second);

  struct Frame {
    NaiveNode* node;
    std::size_t next;
  };
  std::vector<Frame> stack;
  for (auto& [name, root] : graph) {
    if (root.mark != 0) continue;
    root.mark = 1;
    stack.push_back({&root, 0});
    while (!stack.empty()) {
      Frame& top = stack.back();
      if (top.next == top.node->deps.size()) {
        top.node->mark = 2;
        stack.pop_back();
        continue;
      }
      NaiveNode& dep = graph.find(top.node->deps[top.next++])->second;
      if (dep.mark == 1) throw std::runtime_error("cycle through " + name);
      if (dep.mark == 0) {
        dep.mark = 1;
        stack.push_back({&dep, 0});
      }
    }
  }
  return graph;
}

/// What one_pass_build keeps: names -> ids, functions by id, dependencies (feeding order)
/// and dependents in CSR form.
struct OnePassGraph {
  std::unordered_map<std::string, std::uint32_t> index;
  std::vector<taskmap::TaskFn<int>> fns;
  std::vector<std::uint32_t> dep_offsets;
  std::vector<std::uint32_t> deps;
  std::vector<std::uint32_t> child_offsets;
  std::vector<std::uint32_t> children;

  [[nodiscard]] std::size_t size() const noexcept { return fns.size(); }
};

/// Builds an OnePassGraph. Takes its inputs by value, like create_graph, so destroying
/// them is part of the call.
inline OnePassGraph one_pass_build(taskmap::FuncMap<int> funcs, taskmap::DependencyMap deps) {
  const std::size_t n = deps.size();
  OnePassGraph g;
  g.index.reserve(n);
  g.fns.resize(n);
  // A name seen first as a dependency gets its id then; an id >= n names no task.
  auto intern = [&](const std::string& name) {
    return g.index.try_emplace(name, static_cast<std::uint32_t>(g.index.size())).first->second;
  };
  std::vector<std::uint32_t> edge_task;
  std::vector<std::uint32_t> edge_dep;
  std::vector<std::uint32_t> dep_count(n + 1, 0);
  for (auto& [name, task_deps] : deps) {
    const std::uint32_t id = intern(name);
    if (id >= n) throw std::runtime_error("missing dependency " + name);
    auto fn = funcs.find(name);
    if (fn == funcs.end() || !fn->second) throw std::runtime_error("no function for " + name);
    g.fns[id] = std::move(fn->second);
    for (const std::string& dep : task_deps) {
      const std::uint32_t d = intern(dep);
      if (d >= n) throw std::runtime_error("missing dependency " + dep);
      edge_task.push_back(id);
      edge_dep.push_back(d);
    }
    dep_count[id + 1] = static_cast<std::uint32_t>(task_deps.size());
  }
  g.dep_offsets = std::move(dep_count);
  for (std::size_t t = 0; t < n; ++t) g.dep_offsets[t + 1] += g.dep_offsets[t];
  g.deps.resize(edge_dep.size());
  g.child_offsets.assign(n + 1, 0);
  {
    std::vector<std::uint32_t> fill(g.dep_offsets.begin(), g.dep_offsets.end() - 1);
    for (std::size_t e = 0; e < edge_dep.size(); ++e) {
      g.deps[fill[edge_task[e]]++] = edge_dep[e];
      ++g.child_offsets[edge_dep[e] + 1];
    }
  }
  for (std::size_t t = 0; t < n; ++t) g.child_offsets[t + 1] += g.child_offsets[t];
  g.children.resize(g.deps.size());
  std::vector<std::uint32_t> fill(g.child_offsets.begin(), g.child_offsets.end() - 1);
  for (std::uint32_t t = 0; t < n; ++t) {
    for (std::uint32_t e = g.dep_offsets[t]; e < g.dep_offsets[t + 1]; ++e) {
      g.children[fill[g.deps[e]]++] = t;
    }
  }
  return g;
}

/// Runs every task once, dependencies first; returns the results by loop id.
inline std::vector<int> run_loop(const LoopGraph& g) {
  const std::size_t n = g.size();
  std::vector<std::uint32_t> waiting(g.indegree);
  std::vector<std::uint32_t> queue;
  queue.reserve(n);
  for (std::uint32_t t = 0; t < n; ++t) {
    if (waiting[t] == 0) queue.push_back(t);
  }
  std::vector<int> results(n);
  std::vector<int> inputs;
  for (std::size_t head = 0; head < queue.size(); ++head) {
    const std::uint32_t t = queue[head];
    inputs.clear();
    for (std::uint32_t e = g.dep_offsets[t]; e < g.dep_offsets[t + 1]; ++e) {
      inputs.push_back(results[g.deps[e]]);
    }
    results[t] = g.fns[t](std::span<const int>(inputs));
    for (std::uint32_t e = g.child_offsets[t]; e < g.child_offsets[t + 1]; ++e) {
      const std::uint32_t child = g.children[e];
      if (--waiting[child] == 0) queue.push_back(child);
    }
  }
  if (queue.size() != n) throw std::runtime_error("run_loop: the graph has a cycle");
  return results;
}

}  // namespace bench
