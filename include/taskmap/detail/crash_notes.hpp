#pragma once
// What an MPI job's ranks write to stderr when the job dies, because a dying rank cannot tell
// rank 0 and the launcher names ranks, not tasks: a rank killed by a fatal signal in a task
// (abort(), a segmentation fault) writes the task it was running; rank 0, ended by the
// launcher (SIGTERM, after any rank died, even of SIGKILL), writes every task in flight and
// the rank each ran on. Every note is written before it can be needed, so the handlers only
// call write(), sigaction() and raise().

#include <algorithm>
#include <array>
#include <atomic>
#include <csignal>
#include <cstddef>
#include <cstring>
#include <mutex>
#include <string>
#include <vector>

#include <signal.h>
#include <unistd.h>

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

/// Rank 0's list of the tasks in flight, one line per worker slot, and the handler that
/// writes it when the launcher ends the job (SIGTERM, SIGINT, SIGHUP) while it is installed.
class InFlightNotes {
 public:
  /// Room for `slots` workers; installs the handler (one list per process at a time).
  InFlightNotes(std::size_t slots, const std::string& graph) : lines_(slots) {
    const std::string header = "taskmap: the MPI job is ending while graph '" + graph +
                               "' runs; tasks in flight (and where):\n";
    header_length_ = std::min(header.size(), sizeof header_);
    std::memcpy(header_, header.data(), header_length_);
    active() = this;
    struct sigaction action {};
    action.sa_handler = &InFlightNotes::write_all;
    ::sigemptyset(&action.sa_mask);
    for (std::size_t i = 0; i < kSignals.size(); ++i) {
      ::sigaction(kSignals[i], &action, &previous()[i]);
    }
  }
  InFlightNotes(const InFlightNotes&) = delete;
  InFlightNotes& operator=(const InFlightNotes&) = delete;
  ~InFlightNotes() {
    for (std::size_t i = 0; i < kSignals.size(); ++i) {
      ::sigaction(kSignals[i], &previous()[i], nullptr);
    }
    active() = nullptr;
  }

  /// `task` starts on worker `slot` of MPI rank `rank`.
  void started(std::size_t slot, const std::string& task, int rank) noexcept {
    Line& line = lines_[slot];
    line.length.store(0, std::memory_order_relaxed);
    std::string text = "  task '" + task + "' on MPI rank " + std::to_string(rank) + "\n";
    const std::size_t size = std::min(text.size(), sizeof line.text);
    std::memcpy(line.text, text.data(), size);
    line.length.store(size, std::memory_order_release);
  }

  /// The task on worker `slot` ended.
  void ended(std::size_t slot) noexcept { lines_[slot].length.store(0, std::memory_order_release); }

 private:
  static constexpr std::array<int, 3> kSignals{SIGTERM, SIGINT, SIGHUP};

  struct Line {
    char text[192] = {};
    std::atomic<std::size_t> length{0};
  };

  static InFlightNotes*& active() noexcept {
    static InFlightNotes* notes = nullptr;
    return notes;
  }
  static std::array<struct sigaction, kSignals.size()>& previous() noexcept {
    static std::array<struct sigaction, kSignals.size()> actions{};
    return actions;
  }

  static void write_all(int sig) noexcept {
    if (const InFlightNotes* notes = active()) {
      [[maybe_unused]] ::ssize_t written = ::write(2, notes->header_, notes->header_length_);
      for (const Line& line : notes->lines_) {
        const std::size_t length = line.length.load(std::memory_order_acquire);
        if (length != 0) written = ::write(2, line.text, length);
      }
    }
    for (std::size_t i = 0; i < kSignals.size(); ++i) {
      if (kSignals[i] == sig) ::sigaction(sig, &previous()[i], nullptr);
    }
    ::raise(sig);
  }

  char header_[256] = {};
  std::size_t header_length_ = 0;
  std::vector<Line> lines_;
};

}  // namespace taskmap::detail
