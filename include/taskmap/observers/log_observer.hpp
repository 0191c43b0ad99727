#pragma once
/// @file log_observer.hpp
/// LogObserver writes a line per task event to a file as it happens; in_progress() reads
/// such a log back, even of a run that crashed or is still going.

#include <cerrno>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <iterator>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>

#include <fmt/format.h>

#include "taskmap/detail/append_format.hpp"
#include "taskmap/detail/describe_exception.hpp"
#include "taskmap/detail/line_escape.hpp"
#include "taskmap/detail/timestamp.hpp"
#include "taskmap/errors.hpp"
#include "taskmap/observer.hpp"
#include "taskmap/run_summary.hpp"

// Where POSIX is at hand, a log line is one write(2) on an O_APPEND descriptor: it reaches
// the OS at once and lands whole even beside other processes appending to the same file.
// Elsewhere stdio with a flush per line. (Defining it to 0 tests the stdio fallback.)
#ifndef TASKMAP_DETAIL_POSIX_LOG
#if defined(__unix__) || defined(__APPLE__)
#define TASKMAP_DETAIL_POSIX_LOG 1
#else
#define TASKMAP_DETAIL_POSIX_LOG 0
#endif
#endif

#if TASKMAP_DETAIL_POSIX_LOG
#include <fcntl.h>
#include <unistd.h>

#include "taskmap/detail/file_descriptor.hpp"
#endif

namespace taskmap {

/// How much a LogObserver writes: events below its level are left out.
enum class LogLevel : std::uint8_t { debug, info, warning, error };

/// The level as written in a log line: "DEBUG", "INFO", "WARNING" or "ERROR".
[[nodiscard]] constexpr std::string_view to_string(LogLevel level) noexcept {
  switch (level) {
    case LogLevel::debug:
      return "DEBUG";
    case LogLevel::info:
      return "INFO";
    case LogLevel::warning:
      return "WARNING";
    case LogLevel::error:
      return "ERROR";
  }
  return "UNKNOWN";
}

/// Options of LogObserver; an aggregate: `{.level = LogLevel::info, .append = false}`.
struct LogOptions {
  /// The lowest level written. Queued tasks are DEBUG; started, finished and the run's
  /// start and end are INFO; skipped and cancelled WARNING; failures ERROR.
  LogLevel level = LogLevel::debug;
  /// Append to the file if it exists (true) or empty it first (false).
  bool append = true;
};

namespace detail {

/// An append-only file that takes a whole buffer at a time and hands it to the OS at once.
/// A template only so that its code is compiled in the programs that log (see
/// BasicLogObserver).
template <class = void>
class LogFile {
 public:
  /// Throws: Error naming the path and the OS's reason when it cannot be opened.
  LogFile(const std::filesystem::path& path, bool append);
  ~LogFile();
  LogFile(const LogFile&) = delete;
  LogFile& operator=(const LogFile&) = delete;

  /// Writes all of `data` and flushes it; returns 0, or the errno of the failure.
  [[nodiscard]] int write(std::string_view data) noexcept;

 private:
#if TASKMAP_DETAIL_POSIX_LOG
  int fd_ = -1;
#else
  std::FILE* file_ = nullptr;
#endif
};

/// The OS's words for an errno value.
inline std::string os_reason(int error) { return std::generic_category().message(error); }

}  // namespace detail

/// Writes one line per task event to a file, flushed as the event happens, so the log of
/// a crashed or killed run tells what was running (read it back with in_progress()):
///
///     2026-11-22T04:51:33.123456Z - etl - INFO - worker 3: starting task load users
///
/// Levels and messages: DEBUG `queueing task <name>`; INFO `starting task <name>`,
/// `finished task <name>`; ERROR `failed task <name>` followed by `task <name> raised:
/// <what()>`; WARNING `skipped task <name>`, `cancelled task <name>`; INFO `starting run:
/// <pending> of <tasks> tasks on <workers> workers` and `finished run: <s> succeeded, <f>
/// failed, <k> skipped, <c> cancelled in <seconds> s` (worker 0: the caller's thread).
/// Names and messages are escaped (`\` as `\\`, line breaks as `\n` and `\r`), so each
/// event is exactly one line; in the graph's name a `-` after a space is written `\-` as
/// well, so that " - " only ever separates fields. Timestamps are UTC with microseconds.
/// Thread safety: events may come from many workers at once; each line (or failure pair)
/// is formatted outside the lock and written whole, so lines never interleave.
/// Use it as LogObserver: the template parameter is unused, and only makes the code compiled
/// in the programs that use the class, not in every file that includes taskmap.hpp.
template <class = void>
class BasicLogObserver : public Observer {
 public:
  /// Opens (creating, appending to or emptying) the log file.
  /// Throws: Error naming the path and the reason when it cannot be opened.
  explicit BasicLogObserver(std::filesystem::path path, LogOptions options = {});

  /// The log file's path.
  [[nodiscard]] const std::filesystem::path& path() const noexcept { return path_; }
  /// The options it was made with.
  [[nodiscard]] const LogOptions& options() const noexcept { return options_; }

  /// Writes the `starting run:` line. Throws: Error when the write fails.
  void on_run_start(const RunInfo& run) override;
  /// Writes the event's line. Throws: Error when the write fails, which ends the run.
  void on_event(const TaskEvent& event) override;
  /// Writes the `finished run:` line. Throws: Error when the write fails.
  void on_run_end(const RunInfo& run, const RunSummary& summary) override;

 private:
  [[nodiscard]] bool wants(LogLevel level) const noexcept { return level >= options_.level; }
  static void begin_line(fmt::memory_buffer& out, std::chrono::system_clock::time_point time,
                         std::string_view graph, LogLevel level, std::size_t worker);
  void write(const fmt::memory_buffer& text);

  std::filesystem::path path_;
  LogOptions options_;
  detail::LogFile<> file_;
  std::mutex mutex_;
  // Runs going on per graph name: a run that starts while another of the same graph is open
  // (a task running a sub-graph with the same observer, both named "taskmap") is written as
  // a nested run, which in_progress() does not take for a fresh start.
  // Runs are told apart by their run id: a nested run ends as it started, nested.
  std::mutex runs_mutex_;
  std::map<std::string, std::size_t, std::less<>> open_runs_;
  std::set<std::uint64_t> nested_runs_;
};

/// Writes one line per task event to a file (see BasicLogObserver).
using LogObserver = BasicLogObserver<>;

/// What a log says is going on: tasks started and not ended, and tasks queued and not
/// started.
struct InProgress {
  /// Tasks whose last line says `starting task`.
  std::set<std::string> in_progress;
  /// Tasks whose last line says `queueing`.
  std::set<std::string> queued;
  /// Equal when both sets are.
  friend bool operator==(const InProgress&, const InProgress&) = default;
};

/// Reads a LogObserver log, of a finished, crashed or still running run. The last line of
/// each task wins: `queueing` makes it queued, `starting task` in progress, and finished,
/// failed, skipped or cancelled neither. A `starting run:` or `finished run:` line of a
/// graph forgets what came before from that graph, so a crashed run earlier in the same
/// file does not stay in progress forever (a run started while another of the same graph
/// name is open on the same observer is logged as a nested run and forgets nothing). Only complete
/// lines count (a line being written is left for the next read); lines LogObserver does not write
/// are skipped. Events below the observer's level were never written: queued tasks need
/// LogLevel::debug. Throws: Error naming the path and the reason when the file cannot be read.
/// Thread safety: any thread or process may call it while the log is being written.
/// (A template only so that its code is compiled in the programs that call it.)
template <class = void>
[[nodiscard]] InProgress in_progress(const std::filesystem::path& log);

// ---------------------------------------------------------------------------------------

namespace detail {

#if TASKMAP_DETAIL_POSIX_LOG

template <class U>
LogFile<U>::LogFile(const std::filesystem::path& path, bool append) {
  const int flags = O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | (append ? 0 : O_TRUNC);
  do {
    fd_ = ::open(path.c_str(), flags, 0666);
  } while (fd_ < 0 && errno == EINTR);
  if (fd_ < 0) {
    throw Error(fmt::format("cannot open log file '{}': {}", path.string(), os_reason(errno)));
  }
}

template <class U>
LogFile<U>::~LogFile() {
  ::close(fd_);
}

template <class U>
int LogFile<U>::write(std::string_view data) noexcept {
  return detail::write_all(fd_, data);
}

#else

template <class U>
LogFile<U>::LogFile(const std::filesystem::path& path, bool append) {
  errno = 0;
#if defined(_WIN32)
  file_ = ::_wfopen(path.c_str(), append ? L"ab" : L"wb");
#else
  file_ = std::fopen(path.string().c_str(), append ? "ab" : "wb");
#endif
  if (file_ == nullptr) {
    const int error = errno != 0 ? errno : EIO;
    throw Error(fmt::format("cannot open log file '{}': {}", path.string(), os_reason(error)));
  }
}

template <class U>
LogFile<U>::~LogFile() {
  std::fclose(file_);
}

template <class U>
int LogFile<U>::write(std::string_view data) noexcept {
  errno = 0;
  if (std::fwrite(data.data(), 1, data.size(), file_) != data.size() || std::fflush(file_) != 0) {
    std::clearerr(file_);
    return errno != 0 ? errno : EIO;
  }
  return 0;
}

#endif

/// What a log line says to in_progress().
enum class LogLineKind : std::uint8_t {
  queued,
  started,
  ended,
  run_started,
  run_ended,
  nested_run
};

/// One parsed log line; the views point into the line and are still escaped.
struct LogLine {
  LogLineKind kind = LogLineKind::queued;
  std::string_view graph;
  std::string_view task;  ///< empty for run lines
};

/// Every message LogObserver writes.
enum class LogMessage : std::uint8_t {
  queued,
  started,
  finished,
  failed,
  skipped,
  cancelled,
  up_to_date,
  run_started,
  run_finished,
  nested_run_started,
  nested_run_finished
};

/// A message's level, the words it starts with, and what it says to the reader.
struct LogVerb {
  LogMessage message;
  LogLevel level;
  std::string_view prefix;
  LogLineKind kind;
};

/// The log format's one table, indexed by LogMessage: LogObserver writes from it and
/// in_progress() reads with it, so the two cannot drift apart.
inline constexpr LogVerb log_verbs[] = {
    {LogMessage::queued, LogLevel::debug, "queueing task ", LogLineKind::queued},
    {LogMessage::started, LogLevel::info, "starting task ", LogLineKind::started},
    {LogMessage::finished, LogLevel::info, "finished task ", LogLineKind::ended},
    {LogMessage::failed, LogLevel::error, "failed task ", LogLineKind::ended},
    {LogMessage::skipped, LogLevel::warning, "skipped task ", LogLineKind::ended},
    {LogMessage::cancelled, LogLevel::warning, "cancelled task ", LogLineKind::ended},
    {LogMessage::up_to_date, LogLevel::info, "up-to-date task ", LogLineKind::ended},
    {LogMessage::run_started, LogLevel::info, "starting run: ", LogLineKind::run_started},
    {LogMessage::run_finished, LogLevel::info, "finished run: ", LogLineKind::run_ended},
    {LogMessage::nested_run_started, LogLevel::info,
     "starting nested run: ", LogLineKind::nested_run},
    {LogMessage::nested_run_finished, LogLevel::info,
     "finished nested run: ", LogLineKind::nested_run},
};

[[nodiscard]] constexpr const LogVerb& log_verb(LogMessage message) noexcept {
  return log_verbs[static_cast<std::size_t>(message)];
}

[[nodiscard]] constexpr const LogVerb& log_verb(EventKind kind) noexcept {
  switch (kind) {
    case EventKind::queued:
      return log_verb(LogMessage::queued);
    case EventKind::started:
      return log_verb(LogMessage::started);
    case EventKind::finished:
      return log_verb(LogMessage::finished);
    case EventKind::failed:
      return log_verb(LogMessage::failed);
    case EventKind::skipped:
      return log_verb(LogMessage::skipped);
    case EventKind::cancelled:
      return log_verb(LogMessage::cancelled);
    case EventKind::up_to_date:
      return log_verb(LogMessage::up_to_date);
  }
  return log_verb(LogMessage::finished);
}

[[nodiscard]] constexpr bool log_verbs_in_order() noexcept {
  for (std::size_t i = 0; i < std::size(log_verbs); ++i) {
    if (log_verbs[i].message != static_cast<LogMessage>(i)) return false;
  }
  return true;
}
static_assert(log_verbs_in_order(), "log_verbs lists one entry per LogMessage, in order");

/// Parses `<LEVEL> - worker <id>: <message>`; false unless log_verbs has the message at
/// that level.
inline bool parse_log_tail(std::string_view tail, LogLine& out) noexcept {
  constexpr std::string_view worker = " - worker ";
  const std::size_t level_end = tail.find(worker);
  if (level_end == std::string_view::npos) return false;
  const std::string_view level = tail.substr(0, level_end);
  std::string_view rest = tail.substr(level_end + worker.size());
  std::size_t digits = 0;
  while (digits < rest.size() && rest[digits] >= '0' && rest[digits] <= '9') ++digits;
  if (digits == 0 || rest.substr(digits, 2) != ": ") return false;
  rest.remove_prefix(digits + 2);
  for (const LogVerb& verb : log_verbs) {
    if (to_string(verb.level) != level || rest.substr(0, verb.prefix.size()) != verb.prefix) {
      continue;
    }
    out.kind = verb.kind;
    const bool run_line = verb.kind == LogLineKind::run_started ||
                          verb.kind == LogLineKind::run_ended ||
                          verb.kind == LogLineKind::nested_run;
    out.task = run_line ? std::string_view() : rest.substr(verb.prefix.size());
    return true;
  }
  return false;
}

/// Parses one line (without its '\n') as LogObserver writes it; false for anything else.
inline bool parse_log_line(std::string_view line, LogLine& out) noexcept {
  constexpr std::size_t stamp = 27;  // 2026-11-22T04:51:33.123456Z
  constexpr std::string_view separator = " - ";
  if (!is_timestamp(line.substr(0, stamp)) || line.substr(stamp, 3) != separator) return false;
  const std::string_view rest = line.substr(stamp + separator.size());
  // LogObserver writes the graph's name without " - " (a `-` after a space as `\-`), so the
  // first separator ends it, and a line is read that one way or not at all: trying later
  // separators would let a task name or an error message that holds " - INFO - worker 1:
  // starting task x" pass for a line of its own.
  const std::size_t at = rest.find(separator);
  if (at == std::string_view::npos || !parse_log_tail(rest.substr(at + separator.size()), out)) {
    return false;
  }
  out.graph = rest.substr(0, at);
  return true;
}

/// Folds log lines into the state of each task, per graph. A template only so that its map
/// code is compiled in the programs that read logs.
template <class = void>
class LogReader {
 public:
  void feed(std::string_view line) {
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);  // a CRLF copy of a log
    LogLine parsed;
    if (!parse_log_line(line, parsed)) return;
    if (parsed.kind == LogLineKind::nested_run) return;
    auto graph = graphs_.find(parsed.graph);
    if (parsed.kind == LogLineKind::run_started || parsed.kind == LogLineKind::run_ended) {
      if (graph != graphs_.end()) graphs_.erase(graph);
      return;
    }
    if (!unescape(parsed.task, name_)) return;
    if (parsed.kind == LogLineKind::ended) {
      if (graph != graphs_.end()) graph->second.erase(name_);
      return;
    }
    if (graph == graphs_.end()) graph = graphs_.emplace(std::string(parsed.graph), Tasks()).first;
    graph->second.insert_or_assign(name_, parsed.kind == LogLineKind::started);
  }

  [[nodiscard]] InProgress result() const {
    InProgress out;
    for (const auto& [graph, tasks] : graphs_) {
      for (const auto& [task, started] : tasks)
        (started ? out.in_progress : out.queued).insert(task);
    }
    return out;
  }

 private:
  using Tasks = std::map<std::string, bool>;  // task -> started (else queued)
  std::map<std::string, Tasks, std::less<>> graphs_;
  std::string name_;
};

struct FileCloser {
  void operator()(std::FILE* file) const noexcept { std::fclose(file); }
};

}  // namespace detail

template <class U>
BasicLogObserver<U>::BasicLogObserver(std::filesystem::path path, LogOptions options)
    : path_(std::move(path)), options_(options), file_(path_, options.append) {}

template <class U>
void BasicLogObserver<U>::begin_line(fmt::memory_buffer& out,
                                     std::chrono::system_clock::time_point time,
                                     std::string_view graph, LogLevel level, std::size_t worker) {
  detail::append_timestamp(out, time);
  detail::append_text(out, " - ");
  detail::append_escaped(out, graph, /*hide_separator=*/true);
  detail::append_format(out, " - {} - worker {}: ", to_string(level), worker);
}

template <class U>
void BasicLogObserver<U>::on_run_start(const RunInfo& run) {
  bool nested = false;
  {
    std::lock_guard lock(runs_mutex_);
    auto open = open_runs_.find(run.graph);
    if (open == open_runs_.end()) open = open_runs_.emplace(std::string(run.graph), 0).first;
    nested = open->second++ > 0;
    if (nested) nested_runs_.insert(run.run_id);
  }
  const detail::LogVerb& verb = detail::log_verb(nested ? detail::LogMessage::nested_run_started
                                                        : detail::LogMessage::run_started);
  if (!wants(verb.level)) return;
  fmt::memory_buffer line;
  begin_line(line, std::chrono::system_clock::now(), run.graph, verb.level, 0);
  detail::append_format(line, "{}{} of {} tasks on {} workers\n", verb.prefix, run.pending,
                        run.tasks, run.workers);
  write(line);
}

template <class U>
void BasicLogObserver<U>::on_event(const TaskEvent& event) {
  const detail::LogVerb& verb = detail::log_verb(event.kind);
  const LogLevel level = verb.level;
  if (!wants(level)) return;
  fmt::memory_buffer line;  // lines up to 500 bytes never touch the heap
  begin_line(line, event.time, event.graph, level, event.worker);
  detail::append_text(line, verb.prefix);
  detail::append_escaped(line, event.task);
  line.push_back('\n');
  if (event.kind == EventKind::failed) {
    // The pair is written at once: another worker's line never comes between.
    begin_line(line, event.time, event.graph, level, event.worker);
    detail::append_text(line, "task ");
    detail::append_escaped(line, event.task);
    detail::append_text(line, " raised: ");
    detail::append_escaped(line, detail::describe_exception(event.error));
    line.push_back('\n');
  } else if (event.kind == EventKind::started && event.trigger.is_special()) {
    // Why a task starts although a dependency failed, or before every one ended.
    begin_line(line, event.time, event.graph, level, event.worker);
    detail::append_text(line, "task ");
    detail::append_escaped(line, event.task);
    detail::append_text(line, " runs on its trigger ");
    detail::append_text(line, to_string(event.trigger));
    line.push_back('\n');
  }
  write(line);
}

template <class U>
void BasicLogObserver<U>::on_run_end(const RunInfo& run, const RunSummary& summary) {
  bool nested = false;
  {
    std::lock_guard lock(runs_mutex_);
    nested = nested_runs_.erase(run.run_id) > 0;
    const auto open = open_runs_.find(run.graph);
    if (open != open_runs_.end() && --open->second == 0) open_runs_.erase(open);
  }
  const detail::LogVerb& verb = detail::log_verb(nested ? detail::LogMessage::nested_run_finished
                                                        : detail::LogMessage::run_finished);
  if (!wants(verb.level)) return;
  fmt::memory_buffer line;
  begin_line(line, std::chrono::system_clock::now(), run.graph, verb.level, 0);
  detail::append_format(line, "{}{} succeeded, {} failed, {} skipped, {} cancelled", verb.prefix,
                        summary.succeeded, summary.failed, summary.skipped, summary.cancelled);
  // Only runs with a store have up-to-date tasks; other runs' lines stay as they were.
  if (summary.up_to_date != 0) detail::append_format(line, ", {} up to date", summary.up_to_date);
  detail::append_format(line, " in {:.3f} s\n",
                        std::chrono::duration<double>(summary.elapsed).count());
  write(line);
}

template <class U>
void BasicLogObserver<U>::write(const fmt::memory_buffer& text) {
  int error = 0;
  {
    std::lock_guard lock(mutex_);
    error = file_.write(std::string_view(text.data(), text.size()));
  }
  if (error != 0) {
    throw Error(
        fmt::format("cannot write to log file '{}': {}", path_.string(), detail::os_reason(error)));
  }
}

template <class>
InProgress in_progress(const std::filesystem::path& log) {
  errno = 0;
#if defined(_WIN32)
  std::unique_ptr<std::FILE, detail::FileCloser> file(::_wfopen(log.c_str(), L"rb"));
#else
  std::unique_ptr<std::FILE, detail::FileCloser> file(std::fopen(log.string().c_str(), "rb"));
#endif
  const auto fail = [&log] {
    const int error = errno != 0 ? errno : EIO;
    return Error(
        fmt::format("cannot read log file '{}': {}", log.string(), detail::os_reason(error)));
  };
  if (!file) throw fail();

  detail::LogReader<> reader;
  std::string buffer(std::size_t{1} << 16, '\0');
  std::string partial;  // the start of a line the previous chunk cut
  for (;;) {
    errno = 0;
    const std::size_t read = std::fread(buffer.data(), 1, buffer.size(), file.get());
    std::string_view chunk(buffer.data(), read);
    for (std::size_t end = chunk.find('\n'); end != std::string_view::npos;
         end = chunk.find('\n')) {
      if (partial.empty()) {
        reader.feed(chunk.substr(0, end));
      } else {
        partial.append(chunk.substr(0, end));
        reader.feed(partial);
        partial.clear();
      }
      chunk.remove_prefix(end + 1);
    }
    partial.append(chunk);  // unfinished: counts only once its '\n' arrives
    if (read < buffer.size()) {
      if (std::ferror(file.get())) throw fail();
      break;
    }
  }
  return reader.result();
}

}  // namespace taskmap
