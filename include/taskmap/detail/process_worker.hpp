#pragma once
// One worker process of a ProcessPoolExecutor: what the forked child runs (read a request,
// call the task on its copy of the graph, reply with the value's Codec bytes or the error),
// the pipe that relays the run's stop request to it, and the parent's handle on it (fork,
// kill, reap, and the words for how it died).

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <climits>
#include <csignal>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <optional>
#include <span>
#include <stop_token>
#include <string>
#include <string_view>
#include <thread>
#include <typeinfo>
#include <vector>

#include <fcntl.h>
#include <poll.h>
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

/// The fd a worker's socket takes in the child.
inline constexpr int kWorkerSocketFd = 3;
/// The fd the read end of the run's stop pipe takes in the child, when the run has one.
inline constexpr int kWorkerStopFd = 4;
/// The parent's ends of a stop pipe sit at or above this fd, so that moving the socket to
/// kWorkerSocketFd in the child never overwrites the pipe's end before it is moved too.
inline constexpr int kStopPipeLowestFd = 10;

/// In a forked child: keeps stdin, stdout, stderr, `socket` (moved to kWorkerSocketFd) and
/// the stop pipe's read end `stop_pipe` (moved to kWorkerStopFd; -1: none), closes every
/// other fd the parent had open (its other workers' sockets, its files, its end of the stop
/// pipe), so that a worker holds nothing of the parent's but its memory.
inline void close_inherited_fds(int socket, int stop_pipe) noexcept {
  // dup2 clears close-on-exec: a program a task starts must not hold the socket, or the
  // parent would not see the end of a worker that crashes while that program lives.
  if (socket != kWorkerSocketFd) {
    ::dup2(socket, kWorkerSocketFd);
    ::fcntl(kWorkerSocketFd, F_SETFD, FD_CLOEXEC);
  }
  int first_closed = kWorkerSocketFd + 1;
  if (stop_pipe >= 0) {  // at or above kStopPipeLowestFd: the dup2 above left it alone
    ::dup2(stop_pipe, kWorkerStopFd);
    ::fcntl(kWorkerStopFd, F_SETFD, FD_CLOEXEC);
    first_closed = kWorkerStopFd + 1;
  }
#if defined(SYS_close_range)
  if (::syscall(SYS_close_range, static_cast<unsigned>(first_closed), ~0U, 0) == 0) return;
#endif
  const long most = ::sysconf(_SC_OPEN_MAX);
  for (long fd = first_closed; fd < (most > 0 ? std::min(most, 1L << 20) : 65536); ++fd) {
    ::close(static_cast<int>(fd));
  }
}

// ThreadSanitizer refuses to start a thread in a child forked from a multi-threaded process
// (it dies; with die_after_fork=0 it mistakes the new thread for one of the parent's and dies
// anyway): built with it, workers start no relay thread and see the stop state of their fork.
#if defined(__SANITIZE_THREAD__)
inline constexpr bool kRelayStopToWorkers = false;
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
inline constexpr bool kRelayStopToWorkers = false;
#else
inline constexpr bool kRelayStopToWorkers = true;
#endif
#else
inline constexpr bool kRelayStopToWorkers = true;
#endif

/// The parent's side of relaying a run's stop request to its workers, which hold a copy of
/// the run's stop_token as it was when they were forked: a pipe whose write end the parent
/// closes when the token is stopped (a std::stop_callback, in whichever thread asks), so that
/// every worker reads the end of the stream at once. Made only for a run whose token can be
/// stopped; when the pipe cannot be made, workers see the stop state of their fork.
class StopPipe {
 public:
  explicit StopPipe(const std::stop_token& token) {
    if (!kRelayStopToWorkers || !token.stop_possible()) return;
    int fds[2];
#if defined(__linux__)
    if (::pipe2(fds, O_CLOEXEC) != 0) return;
#else
    if (::pipe(fds) != 0) return;
#endif
    FileDescriptor read_end(::fcntl(fds[0], F_DUPFD_CLOEXEC, kStopPipeLowestFd));
    const int write_end = ::fcntl(fds[1], F_DUPFD_CLOEXEC, kStopPipeLowestFd);
    ::close(fds[0]);
    ::close(fds[1]);
    if (!read_end || write_end < 0) {
      if (write_end >= 0) ::close(write_end);
      return;
    }
    read_ = std::move(read_end);
    write_.store(write_end);
    // Runs at once when the stop was requested already.
    callback_.emplace(token, CloseWriteEnd{this});
  }
  StopPipe(const StopPipe&) = delete;
  StopPipe& operator=(const StopPipe&) = delete;
  ~StopPipe() {
    callback_.reset();  // waits for a callback running in another thread
    close_write_end();
  }

  /// The end a worker keeps (kWorkerStopFd in the child), or -1 when there is no pipe.
  [[nodiscard]] int read_end() const noexcept { return read_.get(); }

 private:
  struct CloseWriteEnd {
    StopPipe* pipe;
    void operator()() const noexcept { pipe->close_write_end(); }
  };
  // Once: the stop request's thread and the destructor may both get here.
  void close_write_end() noexcept {
    const int fd = write_.exchange(-1);
    if (fd >= 0) ::close(fd);
  }

  FileDescriptor read_;
  std::atomic<int> write_{-1};
  std::optional<std::stop_callback<CloseWriteEnd>> callback_;
};

/// In a worker whose run has a stop pipe: a thread that waits for the end of the pipe's
/// stream (the parent's stop request, or the parent gone) and then stops `relayed`, the
/// source of the token the worker's tasks see — so ctx.stop_requested() turns true and
/// std::stop_callbacks run (in that thread), as on the thread pool. It only polls, never
/// reads, and gives up without stopping anything when a task closed (or reused) fd
/// kWorkerStopFd. It starts with every signal blocked, so a signal a task expects (SIGALRM
/// interrupting a call, SIGCHLD) still reaches the task's thread. False when no thread can be
/// started; the tasks then see the stop state of the fork.
inline bool relay_stop_requests(std::stop_source& relayed) noexcept {
  ::sigset_t all;
  ::sigset_t before;
  ::sigfillset(&all);
  ::pthread_sigmask(SIG_SETMASK, &all, &before);  // the new thread inherits this mask
  bool started = true;
  try {
    std::thread([&relayed] {
      ::pollfd stop{kWorkerStopFd, POLLIN, 0};
      int ready = 0;
      while ((ready = ::poll(&stop, 1, -1)) < 0 && errno == EINTR) {
      }
      // The write end closed: POLLHUP. Data or POLLNVAL: the fd is no longer the pipe.
      if (ready == 1 && (stop.revents & POLLHUP) != 0 && (stop.revents & POLLIN) == 0) {
        relayed.request_stop();
      }
    }).detach();
  } catch (...) {
    started = false;
  }
  ::pthread_sigmask(SIG_SETMASK, &before, nullptr);
  return started;
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
/// here (they belong to the parent; a copy of them could flush its buffers twice). `stop_pipe`
/// is the read end of the run's StopPipe, or -1.
template <class T>
[[noreturn]] void worker_main(GraphState<T>& g, const RunOptions& run_options, std::size_t worker,
                              int socket, int stop_pipe) noexcept {
  close_inherited_fds(socket, stop_pipe);
  reset_crash_signals();
  forget_parent_threads();
  // Outside the try block, so the relay thread's source outlives every use: worker_main
  // never returns, it ends in _exit.
  std::optional<std::stop_source> relayed;
  try {
    RunOptions options = run_options;
    if (stop_pipe >= 0 && relay_stop_requests(relayed.emplace())) {
      if (run_options.stop_token.stop_requested()) relayed->request_stop();
      options.stop_token = relayed->get_token();
    }
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
  int signal = 0;         // the signal that killed it, or 0
  int exit_status = -1;   // the status it exited with, or -1 (also when it is unknown)
  bool lingered = false;  // it closed its socket but went on, so taskmap killed it

  /// `status` from waitpid, or -1 when waitpid could not tell.
  static WorkerExit of(int status) noexcept {
    WorkerExit exit;
    if (status == -1) return exit;
    if (WIFSIGNALED(status)) exit.signal = WTERMSIG(status);
    if (WIFEXITED(status)) exit.exit_status = WEXITSTATUS(status);
    return exit;
  }

  [[nodiscard]] std::string describe() const {
    if (lingered) {
      return "closed its connection to the parent (its socket, fd " +
             std::to_string(kWorkerSocketFd) + ") but did not exit, so taskmap killed it";
    }
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
    empty();
    return exit;
  }

  /// How long a worker whose stream ended may take to exit before it is killed: a crashing
  /// process is gone in milliseconds (the kernel writes a core dump before it closes the
  /// process's descriptors, so the dump is over before the stream ends).
  static constexpr std::chrono::seconds kExitGrace{5};

  /// stop() for a worker whose stream ended: it is ending (a crash, exit()), or a task closed
  /// its socket and goes on. Waits up to kExitGrace for it to end by itself, then kills it,
  /// so the run never waits on a process that will not answer.
  WorkerExit stop_after_end_of_stream() noexcept {
    static_cast<void>(socket.close());
    WorkerExit exit;
    const auto until = std::chrono::steady_clock::now() + kExitGrace;
    while (pid > 0) {
      int status = 0;
      const ::pid_t done = ::waitpid(pid, &status, WNOHANG);
      if (done == pid) {
        exit = WorkerExit::of(status);
        break;
      }
      if (done < 0 && errno != EINTR) break;  // reaped elsewhere: how it ended is unknown
      if (std::chrono::steady_clock::now() >= until) {
        ::kill(pid, SIGKILL);
        exit = WorkerExit::of(reap_child(pid));
        exit.lingered = exit.signal == SIGKILL;  // not when it ended by itself just before
        break;
      }
      ::usleep(1000);
    }
    empty();
    return exit;
  }

  /// Forgets the process: the slot is empty.
  void empty() noexcept {
    pid = -1;
    task = no_task;
    timed_out = false;
    inbox.clear();
    known.clear();
  }
};

}  // namespace taskmap::detail
