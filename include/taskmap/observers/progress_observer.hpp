#pragma once
/// @file progress_observer.hpp
/// ProgressObserver: a live progress bar for long runs, or a progress line every few
/// seconds when the output is not a terminal.

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <utility>

#include <fmt/format.h>

#include "taskmap/detail/append_format.hpp"
#include "taskmap/detail/line_escape.hpp"
#include "taskmap/errors.hpp"
#include "taskmap/observer.hpp"
#include "taskmap/run_summary.hpp"

#if defined(_WIN32)
#include <io.h>
#elif defined(__unix__) || defined(__APPLE__)
#include <unistd.h>
#endif

namespace taskmap {

/// How a ProgressObserver shows progress.
enum class ProgressMode : std::uint8_t {
  automatic,  ///< `terminal` when the stream is a terminal, `plain` otherwise
  terminal,   ///< one line redrawn in place (carriage return), at most every redraw_interval
  plain,      ///< a new line every report_interval, for log files and CI
};

/// Options of ProgressObserver; an aggregate: `{.mode = ProgressMode::plain}`.
struct ProgressOptions {
  /// Where progress goes. It must stay open while the observer lives; it is not closed.
  std::FILE* stream = stderr;
  /// Terminal bar, plain lines, or chosen by whether `stream` is a terminal.
  ProgressMode mode = ProgressMode::automatic;
  /// Terminal mode: time between redraws of the bar.
  std::chrono::milliseconds redraw_interval{100};
  /// Plain mode: time between progress lines (natcap taskgraph's reporting_interval).
  std::chrono::milliseconds report_interval{5000};
};

/// Shows how a run is going: tasks done of those the run may start, failed, skipped,
/// running, tasks per second, elapsed time and an estimate of the time left. On a terminal
/// it redraws one line in place; otherwise it writes a plain line every report_interval.
/// Either way the run ends with a line of its final counts. A ticker thread draws, so a
/// long task still shows the time going by; events only bump atomic counters.
/// Write errors on the stream are ignored: a progress display must not fail a run.
/// Thread safety: events may come from many workers at once. The observer may watch many
/// runs, one after another; runs that overlap (a task running a graph with the same
/// observer) get mixed counts.
/// Use it as ProgressObserver: the template parameter is unused, and only makes the code
/// compiled in the programs that use the class, not in every file that includes taskmap.hpp.
template <class = void>
class BasicProgressObserver : public Observer {
 public:
  /// Throws: Error when the stream is null or an interval is not positive.
  explicit BasicProgressObserver(ProgressOptions options = {});
  /// Stops the ticker of a run that ended by an exception.
  ~BasicProgressObserver() override;
  BasicProgressObserver(const BasicProgressObserver&) = delete;
  BasicProgressObserver& operator=(const BasicProgressObserver&) = delete;

  /// True when it redraws a line in place (the terminal mode, chosen or detected).
  [[nodiscard]] bool terminal() const noexcept { return terminal_; }

  /// Resets the counts and starts the ticker. Throws: std::system_error when no thread
  /// can be started.
  void on_run_start(const RunInfo& run) override;
  /// Counts the event.
  void on_event(const TaskEvent& event) noexcept override;
  /// Stops the ticker and writes the final line.
  void on_run_end(const RunInfo& run, const RunSummary& summary) override;

 private:
  void stop_ticker() noexcept;
  void tick();
  void draw_progress();  // with mutex_ held
  void emit(std::string_view text) noexcept;

  ProgressOptions options_;
  bool terminal_ = false;

  std::atomic<std::size_t> finished_{0};
  std::atomic<std::size_t> failed_{0};
  std::atomic<std::size_t> skipped_{0};
  std::atomic<std::size_t> cancelled_{0};
  std::atomic<std::ptrdiff_t> running_{0};
  // The run the bar shows: events of other runs (a task running a sub-graph with this
  // observer) do not mix into its counts.
  std::atomic<std::uint64_t> shown_run_{0};

  std::mutex mutex_;  // guards what follows and writes to the stream
  std::condition_variable wake_;
  bool stop_ = false;
  std::string graph_;
  std::size_t total_ = 0;
  std::chrono::steady_clock::time_point start_;
  std::size_t drawn_width_ = 0;  // of the line drawn in place, to blank a longer one
  bool line_open_ = false;       // a terminal line without its newline yet
  std::thread ticker_;
};

/// Shows how a run is going (see BasicProgressObserver).
using ProgressObserver = BasicProgressObserver<>;

// ---------------------------------------------------------------------------------------

namespace detail {

/// True when `stream` is a terminal.
inline bool is_terminal(std::FILE* stream) noexcept {
#if defined(_WIN32)
  return ::_isatty(::_fileno(stream)) != 0;
#elif defined(__unix__) || defined(__APPLE__)
  return ::isatty(::fileno(stream)) != 0;
#else
  static_cast<void>(stream);
  return false;
#endif
}

/// 0:07, 12:34 or 1:02:03. (A template only so that its formatting is compiled in the programs
/// that show progress.)
template <class = void>
void append_duration(fmt::memory_buffer& out, double seconds) {
  const auto total = static_cast<long long>(std::llround(std::max(0.0, seconds)));
  if (total >= 3600) {
    detail::append_format(out, "{}:{:02}:{:02}", total / 3600, total / 60 % 60, total % 60);
  } else {
    detail::append_format(out, "{}:{:02}", total / 60, total % 60);
  }
}

/// At most `limit` bytes of `name`, cut on a UTF-8 character boundary, "..." when cut.
inline std::string shorten(std::string name, std::size_t limit) {
  if (name.size() <= limit) return name;
  std::size_t cut = limit - 3;
  while (cut > 0 && (static_cast<unsigned char>(name[cut]) & 0xC0U) == 0x80U) --cut;
  name.resize(cut);
  return name + "...";
}

}  // namespace detail

template <class U>
BasicProgressObserver<U>::BasicProgressObserver(ProgressOptions options) : options_(options) {
  if (options_.stream == nullptr) throw Error("ProgressObserver needs a stream; it got null");
  if (options_.redraw_interval.count() <= 0 || options_.report_interval.count() <= 0) {
    throw Error(
        fmt::format("ProgressObserver intervals must be positive; got redraw_interval {} ms and "
                    "report_interval {} ms",
                    options_.redraw_interval.count(), options_.report_interval.count()));
  }
  terminal_ = options_.mode == ProgressMode::terminal ||
              (options_.mode == ProgressMode::automatic && detail::is_terminal(options_.stream));
}

template <class U>
BasicProgressObserver<U>::~BasicProgressObserver() {
  stop_ticker();
  if (line_open_) emit("\n");
}

template <class U>
void BasicProgressObserver<U>::on_run_start(const RunInfo& run) {
  std::unique_lock lock(mutex_);
  // A run that ended by an exception left its ticker going, or a run on another thread is
  // still going on (the counts then mix): stop that ticker before starting this one.
  while (ticker_.joinable()) {
    lock.unlock();
    stop_ticker();
    lock.lock();
  }
  if (line_open_) emit("\n");
  line_open_ = false;
  drawn_width_ = 0;
  fmt::memory_buffer name;
  detail::append_escaped(name, run.graph);
  graph_.assign(name.data(), name.size());
  total_ = run.pending;
  start_ = std::chrono::steady_clock::now();
  finished_.store(0, std::memory_order_relaxed);
  failed_.store(0, std::memory_order_relaxed);
  skipped_.store(0, std::memory_order_relaxed);
  cancelled_.store(0, std::memory_order_relaxed);
  running_.store(0, std::memory_order_relaxed);
  shown_run_.store(run.run_id, std::memory_order_relaxed);
  stop_ = false;
  if (terminal_) draw_progress();
  ticker_ = std::thread([this] { tick(); });
}

template <class U>
void BasicProgressObserver<U>::on_event(const TaskEvent& event) noexcept {
  constexpr auto relaxed = std::memory_order_relaxed;  // a display needs no ordering
  if (event.run_id != shown_run_.load(relaxed)) return;
  switch (event.kind) {
    case EventKind::queued:
      break;
    case EventKind::started:
      running_.fetch_add(1, relaxed);
      break;
    case EventKind::finished:
      running_.fetch_sub(1, relaxed);
      finished_.fetch_add(1, relaxed);
      break;
    case EventKind::failed:
      running_.fetch_sub(1, relaxed);
      failed_.fetch_add(1, relaxed);
      break;
    case EventKind::skipped:
      skipped_.fetch_add(1, relaxed);
      break;
    case EventKind::up_to_date:  // done without running: counted with the finished
      finished_.fetch_add(1, relaxed);
      break;
    case EventKind::cancelled:
      cancelled_.fetch_add(1, relaxed);
      break;
  }
}

template <class U>
void BasicProgressObserver<U>::on_run_end(const RunInfo& run, const RunSummary& summary) {
  stop_ticker();
  std::lock_guard lock(mutex_);
  const std::size_t done =
      summary.succeeded + summary.failed + summary.skipped + summary.cancelled + summary.up_to_date;
  const double seconds = std::chrono::duration<double>(summary.elapsed).count();
  fmt::memory_buffer line;
  if (terminal_) line.push_back('\r');
  detail::append_format(line,
                        "{}: {}/{} tasks done in {:.1f} s: {} succeeded, {} failed, {} skipped, {} "
                        "cancelled ({:.1f} tasks/s)",
                        graph_, done, run.pending, seconds, summary.succeeded, summary.failed,
                        summary.skipped, summary.cancelled,
                        seconds > 0 ? static_cast<double>(done) / seconds : 0.0);
  const std::size_t width = line.size() - (terminal_ ? 1 : 0);
  if (terminal_ && width < drawn_width_) {
    for (std::size_t i = width; i < drawn_width_; ++i) line.push_back(' ');
  }
  line.push_back('\n');
  emit(std::string_view(line.data(), line.size()));
  line_open_ = false;
  drawn_width_ = 0;
}

template <class U>
void BasicProgressObserver<U>::stop_ticker() noexcept {
  std::thread ticker;
  {
    std::lock_guard lock(mutex_);
    stop_ = true;
    ticker = std::move(ticker_);
  }
  wake_.notify_all();
  if (ticker.joinable()) ticker.join();
}

template <class U>
void BasicProgressObserver<U>::tick() {
  const std::chrono::milliseconds interval =
      terminal_ ? options_.redraw_interval : options_.report_interval;
  std::unique_lock lock(mutex_);
  while (!wake_.wait_for(lock, interval, [this] { return stop_; })) {
    try {
      draw_progress();
    } catch (...) {  // out of memory while formatting: skip this frame, never end the program
    }
  }
}

template <class U>
void BasicProgressObserver<U>::draw_progress() {
  constexpr auto relaxed = std::memory_order_relaxed;
  const std::size_t failed = failed_.load(relaxed);
  const std::size_t skipped = skipped_.load(relaxed);
  const std::size_t done = finished_.load(relaxed) + failed + skipped + cancelled_.load(relaxed);
  const auto running =
      static_cast<std::size_t>(std::max<std::ptrdiff_t>(0, running_.load(relaxed)));
  const double elapsed =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  const double rate = elapsed > 0 ? static_cast<double>(done) / elapsed : 0.0;
  const std::size_t percent = total_ == 0 ? 100 : std::min<std::size_t>(100, done * 100 / total_);

  fmt::memory_buffer line;
  const auto append_eta = [&] {
    if (done >= total_) {
      detail::append_text(line, "0:00");
    } else if (done == 0 || rate <= 0) {
      detail::append_text(line, "?");
    } else {
      detail::append_duration(line, static_cast<double>(total_ - done) / rate);
    }
  };
  if (terminal_) {
    constexpr std::size_t bar = 20;
    const std::size_t filled = total_ == 0 ? bar : std::min(bar, done * bar / total_);
    detail::append_format(line, "\r{} [{:#<{}}{:-<{}}] {}/{} {:3}% | {} running",
                          detail::shorten(graph_, 24), "", filled, "", bar - filled, done, total_,
                          percent, running);
    if (failed != 0) detail::append_format(line, " | {} failed", failed);
    if (skipped != 0) detail::append_format(line, " | {} skipped", skipped);
    detail::append_format(line, " | {:.1f} tasks/s | ", rate);
    detail::append_duration(line, elapsed);
    detail::append_text(line, " | ETA ");
    append_eta();
    const std::size_t width = line.size() - 1;
    for (std::size_t i = width; i < drawn_width_; ++i) line.push_back(' ');
    drawn_width_ = width;
    line_open_ = true;
  } else {
    detail::append_format(line,
                          "{}: {}/{} tasks done ({}%), {} running, {} failed, {} skipped, {:.1f} "
                          "tasks/s, elapsed ",
                          graph_, done, total_, percent, running, failed, skipped, rate);
    detail::append_duration(line, elapsed);
    detail::append_text(line, ", ETA ");
    append_eta();
    line.push_back('\n');
  }
  emit(std::string_view(line.data(), line.size()));
}

template <class U>
void BasicProgressObserver<U>::emit(std::string_view text) noexcept {
  // Errors are ignored on purpose: a closed or full stderr must not fail the run.
  static_cast<void>(std::fwrite(text.data(), 1, text.size(), options_.stream));
  static_cast<void>(std::fflush(options_.stream));
}

}  // namespace taskmap
