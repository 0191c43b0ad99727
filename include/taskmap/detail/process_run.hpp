#pragma once
// One run of a graph on worker processes: the parent schedules with ExecutorRun<T,
// Threads::one> and a poll() loop over the workers' sockets, forks workers (and their
// replacements) from the calling thread, sends each started task's inputs as Codec bytes,
// ends each task with the value or error its worker sent back, or with WorkerCrashed /
// TaskTimeout when the worker died; and leaves no worker process behind however it ends.

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <exception>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <poll.h>
#include <sys/types.h>
#include <unistd.h>

#include "taskmap/codec.hpp"
#include "taskmap/detail/describe_exception.hpp"
#include "taskmap/detail/file_descriptor.hpp"
#include "taskmap/detail/graph_state.hpp"
#include "taskmap/detail/process_channel.hpp"
#include "taskmap/detail/process_worker.hpp"
#include "taskmap/detail/task_id.hpp"
#include "taskmap/detail/task_messages.hpp"
#include "taskmap/errors.hpp"
#include "taskmap/executor.hpp"
#include "taskmap/graph.hpp"
#include "taskmap/run_options.hpp"
#include "taskmap/run_summary.hpp"

namespace taskmap::detail {

/// What a ProcessPoolExecutor shares with its runs, which read it between tasks.
struct ProcessPoolSettings {
  static constexpr std::size_t kMaxWorkers = 256;
  std::atomic<std::size_t> max_workers{1};
  std::atomic<std::int64_t> time_limit_ms{0};  // 0: none
};

/// The worker processes of one run, in slots whose index is the worker id. The destructor
/// kills and reaps every one still there, so no run leaves a process behind, even when it
/// throws.
template <class T>
class ProcessWorkers {
 public:
  ProcessWorkers(GraphState<T>& graph, const RunOptions& options)
      : g_(graph),
        options_(options),
        stop_pipe_(options.stop_token),
        slots_(ProcessPoolSettings::kMaxWorkers) {}
  ProcessWorkers(const ProcessWorkers&) = delete;
  ProcessWorkers& operator=(const ProcessWorkers&) = delete;
  ~ProcessWorkers() {
    for (ProcessWorker& worker : slots_) {
      if (worker.alive()) worker.stop(true);
    }
  }

  ProcessWorker& operator[](std::size_t id) noexcept { return slots_[id]; }

  /// An idle worker below `limit`, forking one into a free slot when none is idle; null when
  /// every slot below `limit` is busy, or fork() failed (`fork_error` holds its errno).
  ProcessWorker* idle_or_new(std::size_t limit, int& fork_error) {
    fork_error = 0;
    ProcessWorker* free_slot = nullptr;
    for (std::size_t id = 0; id < limit; ++id) {
      ProcessWorker& worker = slots_[id];
      if (worker.idle()) return &worker;
      if (!worker.alive() && free_slot == nullptr) free_slot = &worker;
    }
    if (free_slot == nullptr) return nullptr;
    fork_error = spawn(*free_slot, static_cast<std::size_t>(free_slot - slots_.data()));
    return fork_error == 0 ? free_slot : nullptr;
  }

  /// Forks a new worker into the empty slot `id`; 0 or the errno of the failure.
  int respawn(std::size_t id) { return spawn(slots_[id], id); }

  /// Stops idle workers at or above `limit` (set_max_workers shrank the pool).
  void retire_above(std::size_t limit) noexcept {
    for (std::size_t id = limit; id < slots_.size(); ++id) {
      if (slots_[id].idle()) slots_[id].stop(true);
    }
  }

  [[nodiscard]] std::size_t busy() const noexcept {
    return static_cast<std::size_t>(std::count_if(
        slots_.begin(), slots_.end(), [](const ProcessWorker& w) { return w.task != no_task; }));
  }

 private:
  // Forks a worker into `worker`; 0 or the errno of the failure. The child gets this
  // process's memory as it is now: every value done so far is known to it.
  int spawn(ProcessWorker& worker, std::size_t id) {
    FileDescriptor parent_end;
    FileDescriptor child_end;
    if (!make_socket_pair(parent_end, child_end)) return errno;
    std::vector<std::uint8_t> known(g_.size(), 0);
    for (TaskId task = 0; task < g_.size(); ++task) {
      known[task] = g_.status[task] == TaskStatus::done && g_.results[task].has_value();
    }
    const ::pid_t pid = ::fork();
    if (pid < 0) return errno;
    if (pid == 0) worker_main(g_, options_, id, child_end.get(), stop_pipe_.read_end());
    worker.pid = pid;
    worker.socket = std::move(parent_end);
    worker.known = std::move(known);
    worker.task = no_task;
    worker.inbox.clear();
    return 0;
  }

  GraphState<T>& g_;
  const RunOptions& options_;
  StopPipe stop_pipe_;
  std::vector<ProcessWorker> slots_;
};

/// The run loop of ProcessPoolExecutor::run.
template <class T>
class ProcessRun {
 public:
  ProcessRun(TaskGraph<T>& graph, const RunOptions& options, ProcessPoolSettings& settings)
      : g_(GraphAccess::state(graph)),
        settings_(settings),
        run_(graph, options, limit(), ProcessPoolSettings::kMaxWorkers),
        ready_(run_.first_ready_queue()),
        workers_(g_, options),
        bytes_(g_.size()) {}

  RunSummary go() {
    for (;;) {
      workers_.retire_above(limit());
      dispatch();
      if (run_.finished()) break;
      wait_for_replies();
    }
    return run_.finish();
  }

 private:
  [[nodiscard]] std::size_t limit() const noexcept {
    return std::clamp<std::size_t>(settings_.max_workers.load(std::memory_order_relaxed), 1,
                                   ProcessPoolSettings::kMaxWorkers);
  }

  // Starts ready tasks while a worker is free (or can be forked). The limit is read for
  // each task: an observer that grows the pool as a task starts has it grow at once.
  void dispatch() {
    while (!ready_.empty()) {
      int fork_error = 0;
      ProcessWorker* worker = workers_.idle_or_new(limit(), fork_error);
      if (worker == nullptr) {
        if (fork_error == 0 || workers_.busy() != 0) return;  // a reply frees one
        // Not one worker can be had: the task fails instead of the run waiting forever.
        const TaskId task = ready_.pop();
        if (!run_.start(task, 0)) continue;
        run_.end(task, 0,
                 std::make_exception_ptr(
                     Error("task '" + run_.name(task) +
                           "': cannot fork a worker process: " + errno_text(fork_error))),
                 ready_);
        continue;
      }
      const TaskId task = ready_.pop();
      const std::size_t id = static_cast<std::size_t>(worker - &workers_[0]);
      if (!run_.start(task, id)) continue;
      if (run_.up_to_date(task)) {
        // Its value came from the store's record, in this process; bytes_of encodes it when
        // a worker needs it.
        run_.end(task, id, nullptr, ready_);
        continue;
      }
      if (send_request(*worker, task)) continue;
      // The worker died while idle (killed from outside): it never saw the task, which goes
      // to a new worker in its slot instead of failing for a crash it had no part in.
      worker->stop(true);
      const int error = workers_.respawn(id);
      if (error == 0 && send_request(*worker, task)) continue;
      worker->stop(true);
      run_.end(task, id,
               std::make_exception_ptr(Error("task '" + run_.name(task) +
                                             "': cannot start a worker process for it: " +
                                             errno_text(error != 0 ? error : EPIPE))),
               ready_);
    }
  }

  // Sends `task` to `worker` with the inputs it does not hold. False when the worker is gone.
  bool send_request(ProcessWorker& worker, TaskId task) {
    write_request(
        g_, task, worker.known, [&](TaskId dep) -> const std::string& { return bytes_of(dep); },
        request_);
    worker.task = task;
    worker.timed_out = false;
    const std::int64_t limit_ms = settings_.time_limit_ms.load(std::memory_order_relaxed);
    worker.limit = std::chrono::milliseconds(limit_ms);
    worker.deadline = limit_ms > 0
                          ? std::chrono::steady_clock::now() + std::chrono::milliseconds(limit_ms)
                          : std::chrono::steady_clock::time_point::max();
    if (send_all(worker.socket.get(), request_)) return true;
    worker.task = no_task;
    return false;
  }

  // Waits until a busy worker replies, dies or passes its deadline, and ends its task.
  void wait_for_replies() {
    fds_.clear();
    ids_.clear();
    auto nearest = std::chrono::steady_clock::time_point::max();
    for (std::size_t id = 0; id < ProcessPoolSettings::kMaxWorkers; ++id) {
      ProcessWorker& worker = workers_[id];
      if (!worker.alive() || worker.task == no_task) continue;
      fds_.push_back({worker.socket.get(), POLLIN, 0});
      ids_.push_back(id);
      nearest = std::min(nearest, worker.deadline);
    }
    if (fds_.empty()) {
      // Tasks in flight but none queued and none on a worker: waiting would never end.
      throw Error("taskmap: ProcessPoolExecutor lost track of the tasks in flight in graph '" +
                  g_.name + "'");
    }
    int timeout = -1;
    if (nearest != std::chrono::steady_clock::time_point::max()) {
      const auto left =
          std::chrono::ceil<std::chrono::milliseconds>(nearest - std::chrono::steady_clock::now());
      timeout = static_cast<int>(std::clamp<std::int64_t>(left.count(), 0, 1 << 30));
    }
    // Asks without sleeping for a while first (kChannelSpin): a short task's reply comes
    // sooner than this process would wake from poll().
    int ready = 0;
    const auto spin_until = std::chrono::steady_clock::now() + kChannelSpin;
    do {
      ready = ::poll(fds_.data(), fds_.size(), 0);
    } while (ready == 0 && std::chrono::steady_clock::now() < spin_until);
    if (ready == 0) ready = ::poll(fds_.data(), fds_.size(), timeout);
    if (ready < 0 && errno != EINTR) {
      throw Error("taskmap: ProcessPoolExecutor cannot wait for its workers: " + errno_text(errno));
    }
    for (std::size_t i = 0; i < fds_.size(); ++i) {
      ProcessWorker& worker = workers_[ids_[i]];
      if (fds_[i].revents != 0) {
        const bool open = drain_socket(worker.socket.get(), worker.inbox);
        while (worker.task != no_task && take_frame(worker.inbox, reply_)) {
          take_reply(worker, ids_[i]);
        }
        if (!open) lost(worker, ids_[i]);
      } else if (std::chrono::steady_clock::now() >= worker.deadline) {
        ::kill(worker.pid, SIGKILL);
        worker.timed_out = true;
        lost(worker, ids_[i]);
      }
    }
  }

  // A reply: the task's value (kept as bytes too, for the workers that will need it) or error.
  void take_reply(ProcessWorker& worker, std::size_t id) {
    const Reply reply = Reply::read(reply_);
    std::exception_ptr error;
    if (reply.bad || reply.task != worker.task) {
      error = std::make_exception_ptr(Error("task '" + run_.name(worker.task) +
                                            "': its worker process sent a malformed reply"));
    } else if (reply.kind == ReplyKind::error) {
      error = std::make_exception_ptr(RemoteTaskError(
          run_.name(reply.task), std::string(reply.type), std::string(reply.bytes)));
      // The error may be an input the worker could not decode: it is sent again when needed.
      for (const TaskId dep : g_.deps_of(reply.task)) worker.known[dep] = 0;
    } else if (reply.kind == ReplyKind::cancelled) {
      error = std::make_exception_ptr(ContinuationCancelled{});  // run_.end cancels the task
    } else if (reply.kind == ReplyKind::value) {
      try {
        g_.results[reply.task].emplace(decode_or_throw<T>(reply.bytes));
        bytes_[reply.task].assign(reply.bytes);
        worker.known[reply.task] = 1;
      } catch (...) {
        error = std::current_exception();
      }
    }
    const TaskId ended = worker.task;
    worker.task = no_task;
    run_.end(ended, id, std::move(error), ready_);
  }

  // The Codec bytes of a done task's value: what its worker sent, or (a value read from the
  // store in this process) encoded here once.
  const std::string& bytes_of(TaskId task) {
    std::string& bytes = bytes_[task];
    if (bytes.empty()) bytes = encode(*g_.results[task]);
    return bytes;
  }

  // The worker's stream ended or it ran past its deadline: it is reaped, and the task it
  // ran fails with how it died. Its slot is free for a replacement.
  void lost(ProcessWorker& worker, std::size_t id) {
    const TaskId task = worker.task;
    const bool timed_out = worker.timed_out;
    const std::chrono::milliseconds limit = worker.limit;
    const ::pid_t pid = worker.pid;
    const WorkerExit exit = worker.stop_after_end_of_stream();
    if (task == no_task) return;
    std::exception_ptr error;
    if (timed_out) {
      error = std::make_exception_ptr(TaskTimeout(run_.name(task), limit));
    } else {
      error = std::make_exception_ptr(
          WorkerCrashed("task '" + run_.name(task) + "' was running in worker process " +
                            std::to_string(pid) + ", which " + exit.describe(),
                        run_.name(task), static_cast<long>(pid), exit.signal, exit.exit_status));
    }
    run_.end(task, id, std::move(error), ready_);
  }

  GraphState<T>& g_;
  ProcessPoolSettings& settings_;
  ExecutorRun<T, Threads::one> run_;
  ReadyQueue ready_;
  ProcessWorkers<T> workers_;
  std::vector<std::string> bytes_;  // per task: its value's Codec bytes, once a worker sent them
  std::string request_;
  std::string reply_;
  std::vector<::pollfd> fds_;
  std::vector<std::size_t> ids_;
};

}  // namespace taskmap::detail
