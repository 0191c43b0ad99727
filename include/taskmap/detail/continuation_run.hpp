#pragma once
// ContinuationRun: runs what a task returned as a Continue<T>, on the thread that ends the
// task, without a C++ frame per level. A continuation's tasks may return continuations in
// turn: each becomes a Level on a heap stack (the top one runs, every one below waits for
// the one above it with exactly one task), so a recursion 10,000 levels deep keeps 10,000
// small runs on the heap and one loop on the stack. A level's tasks run one at a time, as
// SequentialExecutor runs them.

#include <cstddef>
#include <exception>
#include <memory>
#include <optional>
#include <stop_token>
#include <string>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "taskmap/detail/continue_signal.hpp"
#include "taskmap/detail/ready_order.hpp"
#include "taskmap/detail/run_core.hpp"
#include "taskmap/detail/task_id.hpp"
#include "taskmap/errors.hpp"
#include "taskmap/graph.hpp"
#include "taskmap/run_options.hpp"
#include "taskmap/task_status.hpp"

namespace taskmap::detail {

/// What ContinuationRun reads of a Continue<T>.
struct ContinueAccess {
  template <class T>
  static std::optional<TaskGraph<T>>& graph(Continue<T>& next) noexcept {
    return next.graph_;
  }
  template <class T>
  static std::string& result(Continue<T>& next) noexcept {
    return next.result_;
  }
  template <class T>
  static std::optional<T>& value(Continue<T>& next) noexcept {
    return next.value_;
  }
};

template <class T>
class ContinuationRun final : public ContinuationChain<T> {
 public:
  explicit ContinuationRun(Continue<T>&& first) : first_(std::move(first)) {}

  ContinuationEnd run(const std::string& graph, const std::string& task,
                      const std::stop_token& stop, std::optional<T>& out,
                      std::exception_ptr& error) noexcept override {
    try {
      Ending ending = run_levels(graph, task, stop);
      if (ending.kind == ContinuationEnd::succeeded) out = std::move(ending.value);
      if (ending.kind == ContinuationEnd::failed) error = std::move(ending.error);
      return ending.kind;
    } catch (...) {  // no memory for a level
      error = std::current_exception();
      return ContinuationEnd::failed;
    }
  }

 private:
  // How a continuation ended, to be handed to the task waiting for it.
  struct Ending {
    ContinuationEnd kind = ContinuationEnd::failed;
    std::optional<T> value;
    std::exception_ptr error;
  };

  // One continuation's graph and its run. Never moves: the run refers to the graph and the
  // options.
  struct Level {
    Level(TaskGraph<T>&& child, const std::stop_token& stop, TaskId named)
        : graph(std::move(child)), result(named) {
      options.stop_token = stop;
      options.raise_errors = true;
      core.emplace(GraphAccess::state(graph), options, 1, 1);
      const std::size_t count = core->first_ready().size();
      ready.emplace(core->hints(), core->ordered(), core->take_first_ready(), count, graph.size());
    }
    Level(const Level&) = delete;
    Level& operator=(const Level&) = delete;

    TaskGraph<T> graph;
    TaskId result;  // the task whose value ends the task waiting below
    RunOptions options;
    std::optional<RunCore<T, Threads::one>> core;
    std::optional<ReadyTasks> ready;
    TaskId waiting = no_task;  // the task of this level whose continuation runs above it
    // The first of this level's failures that came out of a continuation: its error is
    // handed on as it is, so a failure deep in a chain is reported once, not once per level.
    TaskId relayed = no_task;
    std::exception_ptr relayed_error;
  };
  using Levels = std::vector<std::unique_ptr<Level>>;

  Ending run_levels(const std::string& graph, const std::string& task,
                    const std::stop_token& stop) {
    Levels levels;
    Ending ending;
    if (!open(std::move(first_), graph, task, stop, levels, ending)) return ending;
    while (!levels.empty()) {
      Level& top = *levels.back();
      const TaskId next = top.ready->pop();
      if (next != no_task) {
        if (!top.core->start(next, 0)) continue;
        std::exception_ptr error = top.core->invoke(next, 0);
        if (error) {
          if (auto chain = continuation_of<T>(error)) {
            auto& more = static_cast<ContinuationRun&>(*chain);
            if (open(std::move(more.first_), top.graph.name(),
                     GraphAccess::state(top.graph).names[next], stop, levels, ending)) {
              top.waiting = next;
            } else {
              hand_over(top, next, std::move(ending));
            }
            continue;
          }
        }
        top.core->end(next, 0, std::move(error), *top.ready);
        continue;
      }
      ending = close(top);
      levels.pop_back();
      if (levels.empty()) break;
      Level& below = *levels.back();
      hand_over(below, std::exchange(below.waiting, no_task), std::move(ending));
    }
    return ending;
  }

  // Starts the continuation `next` of task `task` of graph `graph`: true when a level was
  // pushed; false when `ending` already says how the task ends (a value given at once, or an
  // error: no such named task, a graph already running).
  static bool open(Continue<T>&& next, const std::string& graph, const std::string& task,
                   const std::stop_token& stop, Levels& levels, Ending& ending) {
    std::optional<TaskGraph<T>>& child = ContinueAccess::graph(next);
    if (!child.has_value()) {
      ending = {ContinuationEnd::succeeded, std::move(ContinueAccess::value(next)), nullptr};
      return false;
    }
    const std::string& named = ContinueAccess::result(next);
    const TaskId id = GraphAccess::state(*child).find(named);
    try {
      if (id == no_task) {
        throw UnknownTaskError(
            fmt::format("task '{}' of graph '{}' continues with graph '{}', which has no task "
                        "'{}' to take its result from",
                        task, graph, child->name(), named),
            {named});
      }
      levels.push_back(std::make_unique<Level>(std::move(*child), stop, id));
      return true;
    } catch (...) {
      ending = {ContinuationEnd::failed, std::nullopt, std::current_exception()};
      return false;
    }
  }

  // Ends `task` of `level`, which waited for a continuation that ended as `ending` says.
  static void hand_over(Level& level, TaskId task, Ending&& ending) {
    switch (ending.kind) {
      case ContinuationEnd::succeeded:
        GraphAccess::state(level.graph).results[task] = std::move(ending.value);
        level.core->end(task, 0, nullptr, *level.ready);
        break;
      case ContinuationEnd::failed:
        if (level.relayed == no_task) {
          level.relayed = task;
          level.relayed_error = ending.error;
        }
        level.core->end(task, 0, std::move(ending.error), *level.ready);
        break;
      case ContinuationEnd::cancelled:
        level.core->cancel_started(task);
        break;
    }
  }

  // The level's run is over (nothing is ready, nothing waits): how its waiting task ends.
  static Ending close(Level& level) {
    try {
      level.core->finish();
    } catch (const TaskError& failure) {
      if (level.relayed != no_task &&
          failure.task() == GraphAccess::state(level.graph).names[level.relayed]) {
        return {ContinuationEnd::failed, std::nullopt, level.relayed_error};
      }
      return {ContinuationEnd::failed, std::nullopt, std::current_exception()};
    } catch (...) {
      return {ContinuationEnd::failed, std::nullopt, std::current_exception()};
    }
    GraphState<T>& state = GraphAccess::state(level.graph);
    if (state.status[level.result] != TaskStatus::done) return {ContinuationEnd::cancelled, {}, {}};
    return {ContinuationEnd::succeeded, std::move(state.results[level.result]), nullptr};
  }

  Continue<T> first_;
};

template <class T>
void throw_continuation(Continue<T>&& next) {
  throw ContinueSignal<T>{std::make_shared<ContinuationRun<T>>(std::move(next))};
}

}  // namespace taskmap::detail
