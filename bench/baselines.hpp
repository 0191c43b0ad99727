#pragma once
// The two baselines the core benchmark compares taskmap against:
//  - naive_build: what a first C++ port of Python taskmap would do. Every task becomes an
//    entry of std::unordered_map<std::string, Node>, dependencies stay strings, and
//    validation (missing functions, missing dependencies, cycles by a depth-first search
//    with an explicit stack) looks names up in that map.
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
