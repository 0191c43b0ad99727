#pragma once
// The executors the conformance suite runs every scenario through, and how to make one.

#include <cstddef>
#include <type_traits>

#include <taskmap/taskmap.hpp>

#include "../examples/batch_executor.hpp"

// Every executor type, for TEMPLATE_TEST_CASE.
#define TASKMAP_TEST_EXECUTORS                                                          \
  taskmap::SequentialExecutor, taskmap::ThreadPoolExecutor, taskmap::CoroutineExecutor, \
      taskmap::CoroutinePoolExecutor

// The conformance suite also runs a user-written executor (examples/batch_executor.hpp),
// which reaches a run only through the public executor API.
#define TASKMAP_CONFORMANCE_EXECUTORS TASKMAP_TEST_EXECUTORS, custom::BatchExecutor

namespace taskmap {
class ProcessPoolExecutor;  // taskmap/executors/process_pool.hpp
}  // namespace taskmap

namespace taskmap_test {

/// True for executors whose tasks run in other processes: a task's exception reaches the graph
/// as a RemoteTaskError, and what a task changes in captured state stays in its process.
template <class E>
inline constexpr bool crosses_processes = false;
template <>
inline constexpr bool crosses_processes<taskmap::ProcessPoolExecutor> = true;

/// Builds an executor for tests. Parallel executors get `workers` threads.
template <class E>
E make_executor(std::size_t workers = 2) {
  if constexpr (std::is_constructible_v<E, std::size_t>) {
    return E(workers);
  } else {
    static_cast<void>(workers);
    return E{};
  }
}

}  // namespace taskmap_test
