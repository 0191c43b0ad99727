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
    length = std::min(line.size(), sizeof text - 1);
    std::memcpy(text, line.data(), length);
    if (length == sizeof text - 1) text[length - 1] = '\n';
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

/// Installs write_crash_note while any RankThreads lives in the process.
class CrashNoteHandlers {
 public:
  CrashNoteHandlers() {
    CrashHandlers& handlers = crash_handlers();
    const std::lock_guard lock(handlers.mutex);
    if (handlers.users++ != 0) return;
    struct sigaction action {};
    action.sa_handler = &write_crash_note;
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

  /// `count` threads, whose tasks see worker ids first_worker .. first_worker + count - 1.
  RankThreads(GraphState<T>& graph, const RunOptions& options, int rank, std::size_t count,
              std::size_t first_worker)
      : g_(graph), options_(options), rank_(rank), notes_(count) {
    threads_.reserve(count);
    for (std::size_t i = 0; i < count; ++i) {
      threads_.emplace_back([this, i, first_worker] { work(i, first_worker + i); });
    }
  }
  RankThreads(const RankThreads&) = delete;
  RankThreads& operator=(const RankThreads&) = delete;
  ~RankThreads() {
    {
      const std::lock_guard lock(mutex_);
      closing_ = true;
    }
    posted_.notify_all();
    for (std::thread& thread : threads_) thread.join();
  }

  /// Hands `task` to a free thread.
  void post(TaskId task, std::vector<const T*> inputs) {
    {
      const std::lock_guard lock(mutex_);
      queue_.push_back({task, std::move(inputs)});
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
    std::vector<const T*> inputs;
  };

  void work(std::size_t index, std::size_t worker) {
    CrashNote& note = notes_[index];
    current_crash_note = &note;
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
        call_task(g_, options_, worker, job.task, std::span<const T* const>(job.inputs));
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
