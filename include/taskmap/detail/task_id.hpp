#pragma once
// The one spelling of a task's id and of "no task", and of a concurrency group's id and of
// "no group". TaskId and no_task are public: executor authors see them (executor.hpp).

#include <cstdint>
#include <limits>

namespace taskmap {

/// A task's index in its graph: dense, from 0 to size() - 1. Executors and observers that
/// keep per-task state index arrays with it.
using TaskId = std::uint32_t;

/// The TaskId of no task: "nothing ready", "no failure yet", a name that is not a task.
inline constexpr TaskId no_task = std::numeric_limits<TaskId>::max();

namespace detail {

/// A concurrency group's index in its graph.
using GroupId = std::uint32_t;

/// The group of a task that belongs to none.
inline constexpr GroupId kNoGroup = std::numeric_limits<GroupId>::max();

}  // namespace detail

}  // namespace taskmap
