#pragma once
// The threads that run an MpiExecutor's tasks on one rank, beside the rank's thread that
// talks MPI: a queue of tasks in, a list of ended tasks out; and the note a rank leaves on
// stderr when a task kills it (abort(), a segmentation fault), naming the task, because the
// rank cannot tell rank 0 before the job ends.

#include <array>
#include <chrono>
#include <condition_variable>
#include <csignal>
#include <cstddef>
#include <cstring>
#include <deque>
#include <exception>
#include <mutex>
#include <span>
#include <string>
#include <thread>
#include <vector>

#include <signal.h>
#include <unistd.h>

#include "taskmap/detail/graph_state.hpp"
#include "taskmap/detail/task_id.hpp"
#include "taskmap/detail/task_messages.hpp"
#include "taskmap/run_options.hpp"

namespace taskmap::detail {

/// The fatal signals after which a rank writes which task it was running.
inline constexpr std::array<int, 6> kCrashSignals{SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT, SIGSYS};

/// What a task thread writes to stderr if its rank dies of a signal while the task runs.
/// Written before the task starts, so the handler only calls write().
struct CrashNote {
  char text[512] = {};
  std::size_t length = 0;

  void set(int rank, const std::string& graph, const std::string& task) noexcept {
    const std::string line = "taskmap: MPI rank " + std::to_string(rank) +
                             " died of a signal while running task '" + task + "' of graph '" +
                             graph + "'\n";
    length = 0;  // the handler writes nothing while the text changes
    const std::size_t size = std::min(line.size(), sizeof text - 1);
    std::memcpy(text, line.data(), size);
    if (size == sizeof text - 1) text[size - 1] = '\n';
    length = size;
  }
};

inline thread_local CrashNote* current_crash_note = nullptr;

/// The handlers that were in place before the crash note's, per signal, restored when the
/// last RankThreads ends and called after the note is written.
struct CrashHandlers {
  std::mutex mutex;
  std::size_t users = 0;
  std::array<struct sigaction, kCrashSignals.size()> previous{};
};

inline CrashHandlers& crash_handlers() {
  static CrashHandlers handlers;
  return handlers;
}

inline void write_crash_note(int sig) noexcept {
  if (const CrashNote* note = current_crash_note; note != nullptr && note->length != 0) {
    [[maybe_unused]] const ::ssize_t written = ::write(2, note->text, note->length);
  }
  // The handler before ours (MPI's, which prints a backtrace, or the default) takes the
  // signal: it is raised again when this handler returns.
  CrashHandlers& handlers = crash_handlers();
  for (std::size_t i = 0; i < kCrashSignals.size(); ++i) {
    if (kCrashSignals[i] == sig) ::sigaction(sig, &handlers.previous[i], nullptr);
  }
  ::raise(sig);
}

/// A stack of the thread's own for signal handlers (sigaltstack), while it lives: a task
/// that overflows its stack still gets its crash note written.
class AlternateSignalStack {
 public:
  AlternateSignalStack() : memory_(kSize) {
    stack_t stack{};
    stack.ss_sp = memory_.data();
    stack.ss_size = memory_.size();
    installed_ = ::sigaltstack(&stack, &previous_) == 0;
  }
  AlternateSignalStack(const AlternateSignalStack&) = delete;
  AlternateSignalStack& operator=(const AlternateSignalStack&) = delete;
  ~AlternateSignalStack() {
    if (installed_) ::sigaltstack(&previous_, nullptr);
  }

 private:
  static constexpr std::size_t kSize = 64 * 1024;
  std::vector<char> memory_;
  stack_t previous_{};
  bool installed_ = false;
};

/// Installs write_crash_note while any RankThreads lives in the process.
class CrashNoteHandlers {
 public:
  CrashNoteHandlers() {
    CrashHandlers& handlers = crash_handlers();
    const std::lock_guard lock(handlers.mutex);
    if (handlers.users++ != 0) return;
    struct sigaction action {};
    action.sa_handler = &write_crash_note;
    action.sa_flags = SA_ONSTACK;
    ::sigemptyset(&action.sa_mask);
    for (std::size_t i = 0; i < kCrashSignals.size(); ++i) {
      ::sigaction(kCrashSignals[i], &action, &handlers.previous[i]);
    }
  }
  CrashNoteHandlers(const CrashNoteHandlers&) = delete;
  CrashNoteHandlers& operator=(const CrashNoteHandlers&) = delete;
  ~CrashNoteHandlers() {
    CrashHandlers& handlers = crash_handlers();
    const std::lock_guard lock(handlers.mutex);
    if (--handlers.users != 0) return;
    for (std::size_t i = 0; i < kCrashSignals.size(); ++i) {
      ::sigaction(kCrashSignals[i], &handlers.previous[i], nullptr);
    }
  }
};

/// The threads of one rank that call tasks. The rank's MPI thread posts a task with its
/// inputs (pointers into the graph's results, which no one changes while it runs) and takes
/// the ended ones back; a task's value is in the graph's results when it is taken back.
template <class T>
class RankThreads {
 public:
  struct Ended {
    TaskId task = no_task;
    std::exception_ptr error;  // null when the task returned
  };

  /// `count` threads. Throws: std::system_error when a thread cannot be started (the ones
  /// started are stopped first).
  RankThreads(GraphState<T>& graph, const RunOptions& options, int rank, std::size_t count)
      : g_(graph), options_(options), rank_(rank), notes_(count) {
    threads_.reserve(count);
    try {
      for (std::size_t i = 0; i < count; ++i) {
        threads_.emplace_back([this, i] { work(i); });
      }
    } catch (...) {
      stop();
      throw;
    }
  }
  RankThreads(const RankThreads&) = delete;
  RankThreads& operator=(const RankThreads&) = delete;
  ~RankThreads() { stop(); }

  /// Hands `task` to a free thread; its Context sees `worker`.
  void post(TaskId task, std::vector<const T*> inputs, std::size_t worker) {
    {
      const std::lock_guard lock(mutex_);
      queue_.push_back({task, worker, std::move(inputs)});
    }
    posted_.notify_one();
  }

  /// Moves the tasks that ended since the last call into `out` (cleared first), waiting up
  /// to `wait` for one when none has.
  void take_ended(std::vector<Ended>& out, std::chrono::microseconds wait) {
    out.clear();
    std::unique_lock lock(mutex_);
    if (ended_.empty() && wait.count() > 0) {
      ended_signal_.wait_for(lock, wait, [&] { return !ended_.empty(); });
    }
    out.swap(ended_);
  }

 private:
  struct Job {
    TaskId task;
    std::size_t worker;
    std::vector<const T*> inputs;
  };

  void stop() noexcept {
    {
      const std::lock_guard lock(mutex_);
      closing_ = true;
    }
    posted_.notify_all();
    for (std::thread& thread : threads_) thread.join();
    threads_.clear();
  }

  void work(std::size_t index) {
    CrashNote& note = notes_[index];
    current_crash_note = &note;
    const AlternateSignalStack stack;  // so a stack overflow in a task still writes its note
    for (;;) {
      Job job;
      {
        std::unique_lock lock(mutex_);
        posted_.wait(lock, [&] { return closing_ || !queue_.empty(); });
        if (queue_.empty()) return;
        job = std::move(queue_.front());
        queue_.pop_front();
      }
      note.set(rank_, g_.name, g_.names[job.task]);
      std::exception_ptr error;
      try {
        call_task(g_, options_, job.worker, job.task, std::span<const T* const>(job.inputs));
      } catch (...) {
        error = std::current_exception();
      }
      note.length = 0;
      {
        const std::lock_guard lock(mutex_);
        ended_.push_back({job.task, std::move(error)});
      }
      ended_signal_.notify_one();
    }
  }

  GraphState<T>& g_;
  const RunOptions& options_;
  int rank_;
  CrashNoteHandlers handlers_;
  std::vector<CrashNote> notes_;
  std::mutex mutex_;
  std::condition_variable posted_;
  std::condition_variable ended_signal_;
  std::deque<Job> queue_;
  std::vector<Ended> ended_;
  bool closing_ = false;
  std::vector<std::thread> threads_;  // last: the threads start once the rest is built
};

}  // namespace taskmap::detail
