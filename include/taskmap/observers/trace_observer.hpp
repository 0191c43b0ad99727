#pragma once
/// @file trace_observer.hpp
/// TraceObserver: writes runs as a Chrome trace-event file for Perfetto or chrome://tracing.

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <string_view>
#include <system_error>
#include <unordered_map>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "taskmap/detail/append_format.hpp"
#include "taskmap/detail/describe_exception.hpp"
#include "taskmap/detail/utf8_escape.hpp"
#include "taskmap/errors.hpp"
#include "taskmap/observer.hpp"
#include "taskmap/run_summary.hpp"

namespace taskmap {

/// Records runs in a Chrome trace-event JSON file (the JSON Object Format) to open in
/// Perfetto (https://ui.perfetto.dev) or chrome://tracing. Each run is a process named after
/// its graph (pid 1 for the first run the observer saw, 2 for the next, ...) and each worker
/// a thread ("worker 0", ...). An executed task is one complete slice on the worker that
/// started it, with `args.status` "done" or "failed" (then `args.error` holds what() of the
/// exception, and the slice is coloured "terrible"); a skipped or cancelled task is an
/// instant event. Timestamps are microseconds since the observer's first run started.
///
/// During a run, events are only buffered. The file is rewritten at the end of every run
/// with every run the observer has seen (also a run ended by an observer's exception: tasks
/// still running then are slices with status "unfinished"), and by the destructor if a run
/// never reported its end.
///
/// Thread safety: the executor's calls may come from any thread. Runs that share an
/// observer may overlap in time when their graphs have distinct names; events are told
/// apart by graph name. A run of a graph started while a run of the same graph name is open
/// (a task running a sub-graph with this observer) is recorded as part of the open run.
///
/// Use it as TraceObserver: the template parameter is unused, and only makes the code
/// compiled in the programs that use the class, not in every file that includes taskmap.hpp.
template <class = void>
class BasicTraceObserver : public Observer {
 public:
  /// Writes an empty trace to `path` at once, so a bad path is reported before any run.
  /// Throws: Error naming the path when the file cannot be written.
  explicit BasicTraceObserver(std::filesystem::path path);
  /// Writes the file if a run ended without `on_run_end` (an exception); errors are ignored.
  ~BasicTraceObserver() override;
  BasicTraceObserver(const BasicTraceObserver&) = delete;
  BasicTraceObserver& operator=(const BasicTraceObserver&) = delete;

  /// The trace file.
  [[nodiscard]] const std::filesystem::path& path() const noexcept { return path_; }

  void on_run_start(const RunInfo& run) override;
  /// Buffers the event (queued events are not recorded).
  void on_event(const TaskEvent& event) override;
  /// Rewrites the file. Throws: Error naming the path when it cannot be written.
  void on_run_end(const RunInfo& run, const RunSummary& summary) override;

 private:
  struct Record {
    EventKind kind;
    std::size_t worker;
    std::int64_t time;  // ns since the system clock's epoch
    std::string task;
    std::exception_ptr error;
  };
  // The events of one graph buffered in one shard.
  struct Bucket {
    std::string graph;
    std::vector<Record> records;
  };
  // Events go to the shard of their worker, so workers rarely wait for each other.
  struct alignas(64) Shard {
    std::mutex mutex;
    std::vector<Bucket> buckets;
  };
  static constexpr std::size_t kShards = 16;
  struct ActiveRun {
    std::string graph;
    std::size_t number;  // the trace's pid
    std::size_t workers;
    std::int64_t start;
    std::uint64_t run_id = 0;
    // Runs of the same graph started inside this one and still open, by run id.
    std::vector<std::uint64_t> nested = {};
  };

  static std::int64_t now() noexcept;
  std::vector<Record> drain(std::string_view graph);
  void record_run(const ActiveRun& run, std::vector<Record> records, std::int64_t end,
                  const RunSummary* summary);
  void write_file();

  std::filesystem::path path_;
  std::filesystem::path file_;  // path_ made absolute
  std::unique_ptr<Shard[]> shards_;
  std::mutex mutex_;  // guards everything below
  std::vector<ActiveRun> active_;
  std::vector<std::string> recorded_;  // the events of each recorded run, as JSON lines
  std::int64_t epoch_ = 0;
  std::size_t runs_ = 0;
  bool unwritten_ = false;  // recorded_ holds a run the file does not show yet
};

/// Records runs in a Chrome trace-event JSON file (see BasicTraceObserver).
using TraceObserver = BasicTraceObserver<>;

// ---------------------------------------------------------------------------------------
// Implementation

namespace detail {

/// Appends `ns` nanoseconds as microseconds with three decimals, e.g. 1234567 -> 1234.567.
/// (A template only so that its formatting is compiled in the programs that trace.)
template <class = void>
void append_micros(std::string& out, std::int64_t ns) {
  if (ns < 0) {
    out += '-';
    ns = -ns;
  }
  detail::append_format(out, "{}.{:03}", ns / 1000, ns % 1000);
}

}  // namespace detail

template <class U>
BasicTraceObserver<U>::BasicTraceObserver(std::filesystem::path path)
    : path_(std::move(path)), shards_(std::make_unique<Shard[]>(kShards)) {
  if (path_.empty()) throw Error("TraceObserver: the trace file path is empty");
  // Later writes go to the same file even if the working directory changes.
  std::error_code error;
  file_ = std::filesystem::absolute(path_, error);
  if (error) file_ = path_;
  write_file();
}

template <class U>
BasicTraceObserver<U>::~BasicTraceObserver() {
  try {
    const std::lock_guard lock(mutex_);
    const std::int64_t end = now();
    for (const ActiveRun& run : active_) record_run(run, drain(run.graph), end, nullptr);
    active_.clear();
    // Events of a graph whose run never started (on_event called directly).
    for (std::size_t s = 0; s < kShards; ++s) {
      while (!shards_[s].buckets.empty()) {
        const std::string graph = shards_[s].buckets.front().graph;
        std::vector<Record> records = drain(graph);
        const std::int64_t start = records.empty() ? end : records.front().time;
        record_run({graph, ++runs_, 1, start}, std::move(records), end, nullptr);
      }
    }
    if (unwritten_) write_file();
  } catch (...) {
    // A destructor must not throw; the file keeps the runs of the last successful write.
  }
}

template <class U>
std::int64_t BasicTraceObserver<U>::now() noexcept {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

template <class U>
void BasicTraceObserver<U>::on_run_start(const RunInfo& run) {
  const std::lock_guard lock(mutex_);
  const std::int64_t start = now();
  if (runs_ == 0) epoch_ = start;
  // A run of a graph whose run is still open (a task running a sub-graph of the same name
  // with this observer; both default to "taskmap") is recorded as part of the open one.
  const auto open = std::find_if(active_.begin(), active_.end(),
                                 [&](const ActiveRun& r) { return r.graph == run.graph; });
  if (open != active_.end()) {
    open->nested.push_back(run.run_id);
    return;
  }
  active_.push_back({std::string(run.graph), ++runs_, run.workers, start, run.run_id});
}

template <class U>
void BasicTraceObserver<U>::on_event(const TaskEvent& event) {
  if (event.kind == EventKind::queued) return;
  const std::int64_t time =
      std::chrono::duration_cast<std::chrono::nanoseconds>(event.time.time_since_epoch()).count();
  Shard& shard = shards_[event.worker % kShards];
  const std::lock_guard lock(shard.mutex);
  auto bucket = std::find_if(shard.buckets.begin(), shard.buckets.end(),
                             [&](const Bucket& b) { return b.graph == event.graph; });
  if (bucket == shard.buckets.end()) {
    bucket = shard.buckets.insert(shard.buckets.end(), Bucket{std::string(event.graph), {}});
  }
  bucket->records.push_back(
      Record{event.kind, event.worker, time, std::string(event.task), event.error});
}

template <class U>
void BasicTraceObserver<U>::on_run_end(const RunInfo& run, const RunSummary& summary) {
  const std::lock_guard lock(mutex_);
  const std::int64_t end = now();
  for (ActiveRun& open : active_) {
    const auto nested = std::find(open.nested.begin(), open.nested.end(), run.run_id);
    if (nested != open.nested.end()) {
      open.nested.erase(nested);  // the end of a nested run: the open run records its events
      return;
    }
  }
  auto it = std::find_if(active_.rbegin(), active_.rend(),
                         [&](const ActiveRun& r) { return r.run_id == run.run_id; });
  if (it != active_.rend()) {
    record_run(*it, drain(run.graph), end, &summary);
    active_.erase(std::next(it).base());
  } else {
    // on_run_start was not called: record what there is.
    if (runs_ == 0) epoch_ = end;
    std::vector<Record> records = drain(run.graph);
    const std::int64_t start = records.empty() ? end : records.front().time;
    record_run({std::string(run.graph), ++runs_, run.workers, start, run.run_id},
               std::move(records), end, &summary);
  }
  write_file();
}

template <class U>
auto BasicTraceObserver<U>::drain(std::string_view graph) -> std::vector<Record> {
  std::vector<Record> out;
  for (std::size_t s = 0; s < kShards; ++s) {
    Shard& shard = shards_[s];
    const std::lock_guard lock(shard.mutex);
    auto bucket = std::find_if(shard.buckets.begin(), shard.buckets.end(),
                               [&](const Bucket& b) { return b.graph == graph; });
    if (bucket == shard.buckets.end()) continue;
    if (out.empty()) {
      out = std::move(bucket->records);
    } else {
      out.insert(out.end(), std::make_move_iterator(bucket->records.begin()),
                 std::make_move_iterator(bucket->records.end()));
    }
    shard.buckets.erase(bucket);
  }
  std::stable_sort(out.begin(), out.end(),
                   [](const Record& a, const Record& b) { return a.time < b.time; });
  return out;
}

template <class U>
void BasicTraceObserver<U>::record_run(const ActiveRun& run, std::vector<Record> records,
                                       std::int64_t end, const RunSummary* summary) {
  const auto pid = run.number;
  std::string meta;
  auto metadata = [&](std::string_view name, std::size_t tid, std::string_view key,
                      auto&& append_value) {
    detail::append_format(meta, "{{\"name\":\"{}\",\"ph\":\"M\",\"pid\":{},\"tid\":{},", name, pid,
                          tid);
    detail::append_format(meta, "\"args\":{{\"{}\":", key);
    append_value(meta);
    meta += "}},\n";
  };
  metadata("process_name", 0, "name",
           [&](std::string& out) { detail::append_json_string(out, run.graph); });
  metadata("process_sort_index", 0, "sort_index",
           [&](std::string& out) { detail::append_format(out, "{}", pid); });
  const std::string label =
      summary != nullptr
          ? fmt::format("run {}: {} succeeded, {} failed, {} skipped, {} cancelled", run.number,
                        summary->succeeded, summary->failed, summary->skipped, summary->cancelled)
          : fmt::format("run {}: ended by an exception", run.number);
  metadata("process_labels", 0, "labels",
           [&](std::string& out) { detail::append_json_string(out, label); });

  std::set<std::size_t> workers;
  for (std::size_t w = 0; w < std::max<std::size_t>(run.workers, 1); ++w) workers.insert(w);
  for (const Record& r : records) workers.insert(r.worker);
  for (const std::size_t w : workers) {
    metadata("thread_name", w, "name",
             [&](std::string& out) { detail::append_format(out, "\"worker {}\"", w); });
    metadata("thread_sort_index", w, "sort_index",
             [&](std::string& out) { detail::append_format(out, "{}", w); });
  }

  // Pair each task's end with its start by name: a task runs at most once per run, and its
  // start and end may have been reported by different workers.
  std::unordered_map<std::string_view, std::size_t> started;
  for (std::size_t i = 0; i < records.size(); ++i) {
    if (records[i].kind == EventKind::started) started.emplace(records[i].task, i);
  }
  std::vector<std::pair<std::int64_t, std::string>> events;  // (start time, JSON)
  auto add = [&](const Record& first, std::string_view phase, std::int64_t duration,
                 std::string_view status, std::string_view cname, const Record* last) {
    std::string e = "{\"name\":";
    detail::append_json_string(e, first.task);
    detail::append_format(e, ",\"cat\":\"task\",\"ph\":\"{}\",", phase);
    if (phase == "i") e += "\"s\":\"t\",";
    e += "\"ts\":";
    detail::append_micros(e, first.time - epoch_);
    if (phase == "X") {
      e += ",\"dur\":";
      detail::append_micros(e, std::max<std::int64_t>(duration, 0));
    }
    detail::append_format(e, ",\"pid\":{},\"tid\":{},", pid, first.worker);
    if (!cname.empty()) detail::append_format(e, "\"cname\":\"{}\",", cname);
    detail::append_format(e, "\"args\":{{\"status\":\"{}\"", status);
    const Record& ended = last != nullptr ? *last : first;
    if (ended.error) {
      e += ",\"error\":";
      detail::append_json_string(e, detail::describe_exception(ended.error));
    }
    if (last != nullptr && last->worker != first.worker) {
      detail::append_format(e, ",\"ended_on_worker\":{}", last->worker);
    }
    e += "}}";
    events.emplace_back(first.time, std::move(e));
  };
  for (const Record& r : records) {
    switch (r.kind) {
      case EventKind::finished:
      case EventKind::failed: {
        const bool failed = r.kind == EventKind::failed;
        const auto start = started.find(r.task);
        const std::string_view status = failed ? "failed" : "done";
        const std::string_view cname = failed ? "terrible" : "";
        if (start == started.end()) {
          add(r, "X", 0, status, cname, nullptr);  // its start was not seen
        } else {
          const Record& first = records[start->second];
          add(first, "X", r.time - first.time, status, cname, &r);
          started.erase(start);
        }
        break;
      }
      case EventKind::skipped:
        add(r, "i", 0, "skipped", "bad", nullptr);
        break;
      case EventKind::cancelled:
        add(r, "i", 0, "cancelled", "grey", nullptr);
        break;
      case EventKind::up_to_date:
        add(r, "i", 0, "up to date", "good", nullptr);
        break;
      case EventKind::queued:
      case EventKind::started:
        break;
    }
  }
  for (const auto& [task, index] : started) {
    const Record& first = records[index];
    add(first, "X", end - first.time, "unfinished", "yellow", nullptr);
  }
  std::stable_sort(events.begin(), events.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  for (const auto& event : events) {
    meta += event.second;
    meta += ",\n";
  }
  recorded_.push_back(std::move(meta));
  unwritten_ = true;
}

template <class U>
void BasicTraceObserver<U>::write_file() {
  std::string text = "{\"traceEvents\":[\n";
  for (const std::string& run : recorded_) text += run;
  // Each run's lines end in ",\n"; JSON allows no trailing comma.
  if (!recorded_.empty()) text.erase(text.size() - 2, 1);
  text += "],\n\"displayTimeUnit\":\"ms\"}\n";

  auto fail = [&](std::string_view what) {
    const int code = errno;
    throw Error(fmt::format("TraceObserver: cannot {} trace file '{}'{}", what, file_.string(),
                            code != 0 ? ": " + std::generic_category().message(code) : ""));
  };
  errno = 0;
  std::ofstream out(file_, std::ios::binary | std::ios::trunc);
  if (!out) fail("open");
  out.write(text.data(), static_cast<std::streamsize>(text.size()));
  out.close();
  if (!out) fail("write");
  unwritten_ = false;
}

}  // namespace taskmap
