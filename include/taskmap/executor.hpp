#pragma once
/// @file executor.hpp
/// The Executor concept every executor models, so users can plug in their own.

#include <concepts>

#include "taskmap/graph.hpp"
#include "taskmap/run_options.hpp"

namespace taskmap {

/// An executor runs a TaskGraph<T> in place for any T and returns what the run did:
/// `RunSummary summary = executor.run(graph, options);`.
template <class E>
concept Executor = requires(E& executor, TaskGraph<int>& graph, const RunOptions& options) {
  { executor.run(graph, options) } -> std::same_as<RunSummary>;
};

}  // namespace taskmap
