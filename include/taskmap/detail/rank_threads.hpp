#pragma once
// The threads that run an MpiExecutor's tasks on one rank, beside the rank's thread that
// talks MPI: a queue of tasks in, a list of ended tasks out. Each thread keeps a crash note
// (crash_notes.hpp) naming the task it runs.

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <exception>
#include <mutex>
#include <span>
#include <string>
#include <thread>
#include <vector>

#include "taskmap/detail/crash_notes.hpp"
#include "taskmap/detail/graph_state.hpp"
#include "taskmap/detail/task_id.hpp"
#include "taskmap/detail/task_messages.hpp"
#include "taskmap/run_options.hpp"

namespace taskmap::detail {

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
