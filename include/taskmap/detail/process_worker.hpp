#pragma once
// One worker process of a ProcessPoolExecutor: what the forked child runs (read a request,
// call the task on its copy of the graph, reply with the value's Codec bytes or the error),
// and the parent's handle on it (fork, kill, reap, and the words for how it died).

#include <algorithm>
#include <chrono>
#include <climits>
#include <csignal>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <typeinfo>
#include <vector>

#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "taskmap/codec.hpp"
#include "taskmap/detail/child_observers.hpp"
#include "taskmap/detail/file_descriptor.hpp"
#include "taskmap/detail/graph_state.hpp"
#include "taskmap/detail/process_channel.hpp"
#include "taskmap/detail/scheduler.hpp"
#include "taskmap/detail/task_id.hpp"
#include "taskmap/detail/task_messages.hpp"
#include "taskmap/detail/worker_pool.hpp"
#include "taskmap/detail/worker_state_holder.hpp"
#include "taskmap/run_options.hpp"

namespace taskmap::detail {

/// The fd a worker's socket takes in the child: every fd above it is closed.
inline constexpr int kWorkerSocketFd = 3;

/// In a forked child: keeps stdin, stdout, stderr and `socket` (moved to kWorkerSocketFd),
/// closes every other fd the parent had open (its other workers' sockets, its files), so
/// that a worker holds nothing of the parent's but its memory.
inline void close_inherited_fds(int socket) noexcept {
  if (socket != kWorkerSocketFd) {
    ::dup2(socket, kWorkerSocketFd);
    // dup2 clears close-on-exec: a program a task starts must not hold the socket, or the
    // parent would not see the end of a worker that crashes while that program lives.
    ::fcntl(kWorkerSocketFd, F_SETFD, FD_CLOEXEC);
  }
#if defined(SYS_close_range)
  if (::syscall(SYS_close_range, kWorkerSocketFd + 1, ~0U, 0) == 0) return;
#endif
  const long most = ::sysconf(_SC_OPEN_MAX);
  for (long fd = kWorkerSocketFd + 1; fd < (most > 0 ? std::min(most, 1L << 20) : 65536); ++fd) {
    ::close(static_cast<int>(fd));
  }
}

/// In a forked child: the signals of a crash get their default action back and no signal
/// stays blocked, so a crash handler of the parent (a test framework's, a crash reporter's)
/// does not report a worker's crash as the parent's, and the parent sees the signal itself.
inline void reset_crash_signals() noexcept {
  for (const int sig : {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT, SIGTRAP, SIGSYS}) {
    ::signal(sig, SIG_DFL);
  }
  ::sigset_t none;
  ::sigemptyset(&none);
  ::pthread_sigmask(SIG_SETMASK, &none, nullptr);
}

/// In a forked child: drops what the forking thread and the parent's other threads left in
/// process-wide and thread-local state. The parent's observed runs (a task's ctx.run would
/// hand its events to copies of the parent's observers), and the pool, scheduler and worker
/// state the forking thread was bound to when the run was started from a pool's task (their
/// threads do not exist here).
inline void forget_parent_threads() noexcept {
  observed_runs().forget_after_fork();
  current_worker = {};
  current_scheduler = nullptr;
  bound_worker_state = nullptr;
}

/// Serves one request on this process's copy of the graph: calls the task and builds the
/// reply, its value or what it threw.
template <class T>
void serve_request(GraphState<T>& g, const RunOptions& options, std::size_t worker,
                   std::string_view request, std::vector<const T*>& inputs, std::string& out) {
  TaskId task = no_task;
  try {
    read_request(g, request, task, inputs, [](TaskId) { return false; });
    call_task(g, options, worker, task, std::span<const T* const>(inputs));
    write_value_reply(out, task, g.results[task]);
  } catch (...) {
    write_error_reply(out, task, std::current_exception());
  }
}

/// The whole life of a worker process after fork(): serve requests until the parent closes
/// the socket, then _exit, so the parent's atexit handlers and static destructors never run
/// here (they belong to the parent; a copy of them could flush its buffers twice).
template <class T>
[[noreturn]] void worker_main(GraphState<T>& g, const RunOptions& options, std::size_t worker,
                              int socket) noexcept {
  close_inherited_fds(socket);
  reset_crash_signals();
  forget_parent_threads();
  try {
    std::string inbox;
    std::string request;
    std::string reply;
    std::vector<const T*> inputs;
    while (read_frame(kWorkerSocketFd, inbox, request)) {
      serve_request(g, options, worker, request, inputs, reply);
      if (!send_all(kWorkerSocketFd, reply)) break;
    }
  } catch (...) {
    ::_exit(125);  // out of memory between requests: the parent sees a crash
  }
  ::_exit(0);
}

/// What became of a worker process that is gone: how `status` (from waitpid) reads.
struct WorkerExit {
  int signal = 0;        // the signal that killed it, or 0
  int exit_status = -1;  // the status it exited with, or -1 (also when it is unknown)

  /// `status` from waitpid, or -1 when waitpid could not tell.
  static WorkerExit of(int status) noexcept {
    WorkerExit exit;
    if (status == -1) return exit;
    if (WIFSIGNALED(status)) exit.signal = WTERMSIG(status);
    if (WIFEXITED(status)) exit.exit_status = WEXITSTATUS(status);
    return exit;
  }

  [[nodiscard]] std::string describe() const {
    if (signal == 0 && exit_status == -1) {
      return "ended; its exit status was taken before taskmap could read it (SIGCHLD "
             "ignored, or a waitpid(-1) elsewhere in the program)";
    }
    if (signal == 0) return "exited with status " + std::to_string(exit_status);
    return "was killed by signal " + std::to_string(signal) + signal_name(signal);
  }

  static std::string signal_name(int sig) {
    switch (sig) {
      case SIGKILL:
        return " (SIGKILL; also what the out-of-memory killer sends)";
      case SIGSEGV:
        return " (SIGSEGV, a segmentation fault)";
      case SIGABRT:
        return " (SIGABRT, abort())";
      case SIGBUS:
        return " (SIGBUS)";
      case SIGFPE:
        return " (SIGFPE)";
      case SIGILL:
        return " (SIGILL)";
      case SIGTERM:
        return " (SIGTERM)";
      case SIGINT:
        return " (SIGINT)";
      default:
        return "";
    }
  }
};

/// waitpid(pid) retried after EINTR; the status, or -1 when the child cannot be waited for
/// (it was reaped already: SIGCHLD is ignored, or the program waited for any child).
inline int reap_child(::pid_t pid) noexcept {
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) return -1;
  }
  return status;
}

/// The parent's handle on one worker process. An empty slot has pid -1.
struct ProcessWorker {
  ::pid_t pid = -1;
  FileDescriptor socket;
  TaskId task = no_task;  // the task it runs, or no_task when idle
  std::chrono::steady_clock::time_point deadline{};
  std::chrono::milliseconds limit{0};  // the time limit its task was given
  bool timed_out = false;
  std::vector<std::uint8_t> known;  // per task: the worker holds its value
  std::string inbox;                // bytes of replies not yet complete

  [[nodiscard]] bool alive() const noexcept { return pid > 0; }
  [[nodiscard]] bool idle() const noexcept { return alive() && task == no_task; }

  /// Kills the process if it is still there, waits for it and empties the slot; returns
  /// how it ended. Never leaves a zombie.
  WorkerExit stop(bool kill) noexcept {
    static_cast<void>(socket.close());  // an idle worker reads the end of stream and exits
    WorkerExit exit;
    if (pid > 0) {  // never kill(-1): that would signal every process we may signal
      if (kill) ::kill(pid, SIGKILL);
      exit = WorkerExit::of(reap_child(pid));
    }
    pid = -1;
    task = no_task;
    timed_out = false;
    inbox.clear();
    known.clear();
    return exit;
  }
};

}  // namespace taskmap::detail
