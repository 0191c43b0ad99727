#pragma once
/// @file errors.hpp
/// Every exception taskmap throws. All derive from taskmap::Error.

#include <chrono>
#include <cstddef>
#include <exception>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "taskmap/trigger.hpp"

namespace taskmap {

/// Base of every exception taskmap throws.
class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// A graph is invalid; thrown while it is built, never later during a run.
class GraphError : public Error {
 public:
  using Error::Error;
};

/// A dependency names a task that does not exist.
class MissingDependencyError : public GraphError {
 public:
  /// One missing edge: `dependent` depends on `missing`, which is not a task.
  struct Edge {
    /// The task that names the missing one among its dependencies.
    std::string dependent;
    /// The name that is not a task.
    std::string missing;
    /// Equal when both names are.
    friend bool operator==(const Edge&, const Edge&) = default;
  };
  /// `edges` should come sorted, as edges() promises.
  MissingDependencyError(std::string message, std::vector<Edge> edges)
      : GraphError(std::move(message)), edges_(std::move(edges)) {}
  /// Every missing edge, sorted by missing name then dependent.
  [[nodiscard]] const std::vector<Edge>& edges() const noexcept { return edges_; }

 private:
  std::vector<Edge> edges_;
};

/// The dependencies form a cycle (self-loops included). The message shows the path, whole
/// for up to ten tasks and otherwise as its first and last tasks and its length.
class CycleError : public GraphError {
 public:
  /// `cycle` is the path, first task repeated at the end, as cycle() returns it.
  CycleError(std::string message, std::vector<std::string> cycle)
      : GraphError(std::move(message)), cycle_(std::move(cycle)) {}
  /// The cycle as a path that ends where it starts, each task depending on the next:
  /// `{"a", "b", "c", "a"}` means a depends on b, b on c, c on a.
  [[nodiscard]] const std::vector<std::string>& cycle() const noexcept { return cycle_; }

 private:
  std::vector<std::string> cycle_;
};

/// Base of the errors that carry a list of task names.
class TaskListError : public GraphError {
 public:
  /// `tasks` should come sorted, as tasks() promises.
  TaskListError(std::string message, std::vector<std::string> tasks)
      : GraphError(std::move(message)), tasks_(std::move(tasks)) {}
  /// The offending task names, sorted.
  [[nodiscard]] const std::vector<std::string>& tasks() const noexcept { return tasks_; }

 private:
  std::vector<std::string> tasks_;
};

/// A task of the dependency map has no function (or an empty one).
class MissingFunctionError : public TaskListError {
 public:
  using TaskListError::TaskListError;
};

/// A name given to an option or helper is not a task of the graph.
class UnknownTaskError : public TaskListError {
 public:
  using TaskListError::TaskListError;
};

/// A task name given twice: `TaskGraph::add_task` was given a name the graph already has, or
/// create_graph's ranges of pairs list a task twice or give a name two functions.
class DuplicateTaskError : public TaskListError {
 public:
  using TaskListError::TaskListError;
};

/// A trigger rule that can never be met by the task's dependencies: n_success(0) or
/// n_done(0), or an n above the number of dependencies. tasks() names the tasks.
class TriggerError : public TaskListError {
 public:
  using TaskListError::TaskListError;
};

/// A store of results could not read or write its records: an I/O error, a full disk, a
/// read-only place, or a file that is not a store. The message names the store's place and
/// what was being done.
class StoreError : public Error {
 public:
  using Error::Error;
};

/// A task that declared targets (Persistence::targets) returned without producing them all;
/// recorded as the task's failure in a run with a store.
class TargetMissingError : public Error {
 public:
  /// `task` did not produce `missing` (as declared, in declared order).
  TargetMissingError(std::string message, std::string task, std::vector<std::string> missing)
      : Error(std::move(message)), task_(std::move(task)), missing_(std::move(missing)) {}
  /// The task that did not produce its targets.
  [[nodiscard]] const std::string& task() const noexcept { return task_; }
  /// The declared targets that do not exist.
  [[nodiscard]] const std::vector<std::string>& missing() const noexcept { return missing_; }

 private:
  std::string task_;
  std::vector<std::string> missing_;
};

/// Bytes could not be decoded as the type asked for: they were written for another type, are
/// cut short or malformed, or are followed by bytes that belong to no value. The message says
/// which, and where. A stored result whose bytes fail to decode is never used: its task runs
/// again.
class DecodeError : public Error {
 public:
  /// Decoding stopped at byte `offset` of the encoded value, for the reason `message` gives.
  DecodeError(std::string message, std::size_t offset)
      : Error(std::move(message)), offset_(offset) {}
  /// Where decoding stopped, counted in bytes from the start of the encoded value (its type
  /// tag included): 0 when the tag names another type.
  [[nodiscard]] std::size_t offset() const noexcept { return offset_; }

 private:
  std::size_t offset_;
};

/// Thrown by a run with `raise_errors` set: names the first failed task, and nests the
/// exception that task threw (`std::rethrow_if_nested` or `original()` reach it).
class TaskError : public Error {
 public:
  /// `original` is what `task` threw.
  TaskError(std::string message, std::string task, std::exception_ptr original)
      : Error(std::move(message)), task_(std::move(task)), original_(std::move(original)) {}
  /// The failed task.
  [[nodiscard]] const std::string& task() const noexcept { return task_; }
  /// The exception the task threw, kept as thrown.
  [[nodiscard]] const std::exception_ptr& original() const noexcept { return original_; }

 private:
  std::string task_;
  std::exception_ptr original_;
};

/// The error recorded for a skipped task: an ancestor failed, so the task never ran.
class AncestorFailed : public Error {
 public:
  /// The message names `ancestor`, the failed task.
  explicit AncestorFailed(std::string ancestor)
      : Error("Ancestor task " + ancestor + " failed; task not run"),
        ancestor_(std::move(ancestor)) {}
  /// The failed task that caused the skip.
  [[nodiscard]] const std::string& ancestor() const noexcept { return ancestor_; }

 private:
  std::string ancestor_;
};

/// The error recorded for a task skipped because its trigger rule (other than all_success)
/// could no longer be met: too many of its dependencies ended without succeeding.
class TriggerUnmet : public Error {
 public:
  /// `task`'s rule `trigger` cannot be met: at least `not_succeeded` of its `dependencies`
  /// ended without succeeding.
  TriggerUnmet(std::string task, Trigger trigger, std::size_t not_succeeded,
               std::size_t dependencies)
      : Error("task " + task + " not run: its trigger " + to_string(trigger) +
              " can no longer be met (at least " + std::to_string(not_succeeded) + " of its " +
              std::to_string(dependencies) + " dependencies did not succeed)"),
        task_(std::move(task)),
        trigger_(trigger) {}
  /// The task that was skipped.
  [[nodiscard]] const std::string& task() const noexcept { return task_; }
  /// Its rule.
  [[nodiscard]] Trigger trigger() const noexcept { return trigger_; }

 private:
  std::string task_;
  Trigger trigger_;
};

/// A task was fed a number of values its function cannot take.
class ArityError : public Error {
 public:
  /// `task`'s function takes `expected` values and was fed `received`.
  ArityError(std::string message, std::string task, std::size_t expected, std::size_t received)
      : Error(std::move(message)),
        task_(std::move(task)),
        expected_(expected),
        received_(received) {}
  /// The task whose function was fed the wrong number of values.
  [[nodiscard]] const std::string& task() const noexcept { return task_; }
  /// How many values the function takes.
  [[nodiscard]] std::size_t expected() const noexcept { return expected_; }
  /// How many values the dependencies fed.
  [[nodiscard]] std::size_t received() const noexcept { return received_; }

 private:
  std::string task_;
  std::size_t expected_;
  std::size_t received_;
};

/// A fed value does not suit its parameter: in a `std::any` graph it holds another type, or,
/// for a task with a trigger rule, the dependency did not succeed and fed no value to a
/// parameter that is not a `std::optional`.
class TypeError : public Error {
 public:
  /// The value fed to `task` at `position` holds `actual`, not `expected`.
  TypeError(std::string message, std::string task, std::size_t position, std::string expected,
            std::string actual)
      : Error(std::move(message)),
        task_(std::move(task)),
        position_(position),
        expected_(std::move(expected)),
        actual_(std::move(actual)) {}
  /// The task fed the wrong type.
  [[nodiscard]] const std::string& task() const noexcept { return task_; }
  /// Zero-based index of the parameter among the fed values.
  [[nodiscard]] std::size_t position() const noexcept { return position_; }
  /// The parameter's type.
  [[nodiscard]] const std::string& expected() const noexcept { return expected_; }
  /// The type the fed value holds.
  [[nodiscard]] const std::string& actual() const noexcept { return actual_; }

 private:
  std::string task_;
  std::size_t position_;
  std::string expected_;
  std::string actual_;
};

/// `TaskGraph::result` was asked for a task that has no value.
class BadResultAccess : public Error {
 public:
  /// `task` is the task asked for.
  BadResultAccess(std::string message, std::string task)
      : Error(std::move(message)), task_(std::move(task)) {}
  /// The task that has no value.
  [[nodiscard]] const std::string& task() const noexcept { return task_; }

 private:
  std::string task_;
};

/// A task asked Context::worker_state for a value its worker cannot give: the executor
/// running it has no worker state (built() is empty), the state is of another type, or its
/// factory threw (the factory's exception is nested; the next ask tries again). Recorded as
/// the task's failure unless the task catches it.
class WorkerStateError : public Error {
 public:
  /// `task` asked for a `requested`; the executor's workers hold a `built` ("" for none).
  WorkerStateError(std::string message, std::string task, std::string requested, std::string built)
      : Error(std::move(message)),
        task_(std::move(task)),
        requested_(std::move(requested)),
        built_(std::move(built)) {}
  /// The task that asked.
  [[nodiscard]] const std::string& task() const noexcept { return task_; }
  /// The type it asked for.
  [[nodiscard]] const std::string& requested() const noexcept { return requested_; }
  /// The type the executor's factory builds; empty when the executor has none.
  [[nodiscard]] const std::string& built() const noexcept { return built_; }

 private:
  std::string task_;
  std::string requested_;
  std::string built_;
};

/// A task threw in another process (a ProcessPoolExecutor's worker, another rank of an
/// MpiExecutor): the exception object cannot cross the process boundary, so its type's name
/// and its what() come back instead.
class RemoteTaskError : public Error {
 public:
  /// `task` threw an exception of type `type` whose what() was `message` ("" when it is not
  /// a std::exception), `where` it ran ("in a worker process", "on MPI rank 2").
  RemoteTaskError(std::string task, std::string type, std::string message,
                  const std::string& where = "in a worker process")
      : Error("task '" + task + "' threw " + type + " " + where +
              (message.empty() ? std::string() : ": " + message)),
        task_(std::move(task)),
        type_(std::move(type)),
        message_(std::move(message)) {}
  /// The task that threw.
  [[nodiscard]] const std::string& task() const noexcept { return task_; }
  /// The demangled name of the thrown exception's type, e.g. "std::runtime_error".
  [[nodiscard]] const std::string& type_name() const noexcept { return type_; }
  /// What the original exception's what() said ("" when it was not a std::exception).
  [[nodiscard]] const std::string& message() const noexcept { return message_; }

 private:
  std::string task_;
  std::string type_;
  std::string message_;
};

/// The worker process running a task of a ProcessPoolExecutor died before it answered:
/// killed by a signal (SIGSEGV, SIGKILL, SIGABRT from abort(), the OOM killer) or exited.
class WorkerCrashed : public Error {
 public:
  /// `task` was running in process `pid`, which was killed by `signal` (0 when it exited)
  /// or exited with `exit_status` (-1 when it was killed); both 0 and -1 when the program
  /// reaped the process itself (SIGCHLD ignored), so how it ended is unknown.
  WorkerCrashed(std::string message, std::string task, long pid, int signal, int exit_status)
      : Error(std::move(message)),
        task_(std::move(task)),
        pid_(pid),
        signal_(signal),
        exit_status_(exit_status) {}
  /// The task the worker was running.
  [[nodiscard]] const std::string& task() const noexcept { return task_; }
  /// The worker's process id.
  [[nodiscard]] long pid() const noexcept { return pid_; }
  /// The signal that killed the worker, or 0 when it exited.
  [[nodiscard]] int signal() const noexcept { return signal_; }
  /// The status the worker exited with, or -1 when a signal killed it (or it is unknown).
  [[nodiscard]] int exit_status() const noexcept { return exit_status_; }

 private:
  std::string task_;
  long pid_;
  int signal_;
  int exit_status_;
};

/// A task of a ProcessPoolExecutor ran past the executor's time limit: its worker process
/// was killed and a new one took its place.
class TaskTimeout : public Error {
 public:
  /// `task` ran longer than `limit`.
  TaskTimeout(std::string task, std::chrono::milliseconds limit)
      : Error("task '" + task + "' ran longer than its time limit of " +
              std::to_string(limit.count()) + " ms and its worker process was killed"),
        task_(std::move(task)),
        limit_(limit) {}
  /// The task that ran too long.
  [[nodiscard]] const std::string& task() const noexcept { return task_; }
  /// The limit it ran past.
  [[nodiscard]] std::chrono::milliseconds limit() const noexcept { return limit_; }

 private:
  std::string task_;
  std::chrono::milliseconds limit_;
};

}  // namespace taskmap
