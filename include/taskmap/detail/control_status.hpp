#pragma once
// What the control endpoint's `status` reports: an Observer that follows the runs it is
// given to (RunOptions::observers) and renders them as the reply's lines.

#include <algorithm>
#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "taskmap/detail/control_protocol.hpp"
#include "taskmap/observer.hpp"

namespace taskmap::detail {

/// Follows runs through their events. Thread safety: the observer calls may come from any
/// worker at once, append_status from the server's thread; one mutex guards everything.
class ControlRunTracker final : public Observer {
 public:
  /// Running tasks listed by `status` per run, so that a reply stays bounded.
  static constexpr std::size_t kMaxListed = 1000;

  void on_run_start(const RunInfo& run) override {
    std::lock_guard lock(mutex_);
    Run& r = runs_.emplace_back();
    r.id = run.run_id;
    r.graph.assign(run.graph);
    r.tasks = run.tasks;
    r.pending = run.pending;
    r.start = std::chrono::steady_clock::now();
  }

  void on_event(const TaskEvent& event) override {
    const auto now = std::chrono::steady_clock::now();
    std::lock_guard lock(mutex_);
    Run* r = find(event.run_id);
    if (r == nullptr) return;  // the observer was added to a run already going
    const auto kind = static_cast<std::size_t>(event.kind);
    if (kind < r->kinds.size()) ++r->kinds[kind];
    if (event.kind == EventKind::started) {
      r->running.insert_or_assign(std::string(event.task), now);
    } else if (event.kind != EventKind::queued) {
      const auto it = r->running.find(event.task);
      if (it != r->running.end()) r->running.erase(it);
    }
  }

  void on_run_end(const RunInfo& run, const RunSummary& /*summary*/) override {
    std::lock_guard lock(mutex_);
    const auto it =
        std::find_if(runs_.begin(), runs_.end(), [&](const Run& r) { return r.id == run.run_id; });
    if (it == runs_.end()) return;
    it->running.clear();
    it->end = std::chrono::steady_clock::now();
    last_ended_ = std::move(*it);
    runs_.erase(it);
  }

  /// True while a run this observer saw start has not ended.
  [[nodiscard]] bool running() const {
    std::lock_guard lock(mutex_);
    return !runs_.empty();
  }

  /// The graph names of the runs going now, outermost first.
  [[nodiscard]] std::vector<std::string> running_graphs() const {
    std::lock_guard lock(mutex_);
    std::vector<std::string> names;
    for (const Run& r : runs_) names.push_back(r.graph);
    return names;
  }

  /// Appends one `run` line and one `counts` line per run going now (or, when none is, for
  /// the last one that ended; `run none` if there was none), and a `task` line per running
  /// task, longest-running first.
  void append_status(std::string& out) const {
    const auto now = std::chrono::steady_clock::now();
    std::lock_guard lock(mutex_);
    if (runs_.empty()) {
      if (last_ended_) {
        append_run(out, *last_ended_, now);
      } else {
        out.append("run none\n");
      }
      return;
    }
    for (const Run& r : runs_) append_run(out, r, now);
  }

 private:
  struct Run {
    std::uint64_t id = 0;
    std::string graph;
    std::size_t tasks = 0;
    std::size_t pending = 0;
    // Per EventKind, up to up_to_date, the last (a kind added later is not counted).
    std::array<std::size_t, static_cast<std::size_t>(EventKind::up_to_date) + 1> kinds{};
    std::map<std::string, std::chrono::steady_clock::time_point, std::less<>> running;
    std::chrono::steady_clock::time_point start;
    std::optional<std::chrono::steady_clock::time_point> end;
  };

  Run* find(std::uint64_t id) {
    // The newest first: events come mostly from the innermost run.
    for (auto it = runs_.rbegin(); it != runs_.rend(); ++it) {
      if (it->id == id) return &*it;
    }
    return nullptr;
  }

  static std::int64_t ms(std::chrono::steady_clock::duration d) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(d).count();
  }

  static void append_run(std::string& out, const Run& r,
                         std::chrono::steady_clock::time_point now) {
    const auto count = [&](EventKind kind) { return r.kinds[static_cast<std::size_t>(kind)]; };
    out.append("run ");
    out.append(std::to_string(r.id));
    out.append(r.end ? " ended " : " running ");
    out.append(std::to_string(ms(r.end.value_or(now) - r.start)));
    out.append(" ms graph ");
    append_escaped(out, r.graph);
    out.push_back('\n');

    const std::size_t busy = r.running.size();
    const std::size_t ended = count(EventKind::finished) + count(EventKind::failed) +
                              count(EventKind::skipped) + count(EventKind::cancelled) +
                              count(EventKind::up_to_date);
    const std::size_t waiting = r.pending > ended + busy ? r.pending - ended - busy : 0;
    out.append("counts tasks=" + std::to_string(r.tasks) + " waiting=" + std::to_string(waiting) +
               " running=" + std::to_string(busy) +
               " done=" + std::to_string(count(EventKind::finished)) +
               " failed=" + std::to_string(count(EventKind::failed)) +
               " skipped=" + std::to_string(count(EventKind::skipped)) +
               " cancelled=" + std::to_string(count(EventKind::cancelled)) +
               " up_to_date=" + std::to_string(count(EventKind::up_to_date)) + "\n");

    std::vector<std::pair<std::chrono::steady_clock::time_point, std::string_view>> tasks;
    tasks.reserve(busy);
    for (const auto& [name, started] : r.running) tasks.emplace_back(started, name);
    std::sort(tasks.begin(), tasks.end());
    for (std::size_t i = 0; i < tasks.size() && i < kMaxListed; ++i) {
      out.append("task ");
      out.append(std::to_string(ms(now - tasks[i].first)));
      out.append(" ms ");
      append_escaped(out, tasks[i].second);
      out.push_back('\n');
    }
    if (tasks.size() > kMaxListed) {
      out.append("tasks " + std::to_string(tasks.size() - kMaxListed) + " more running\n");
    }
  }

  mutable std::mutex mutex_;
  std::vector<Run> runs_;  // going now, in start order
  std::optional<Run> last_ended_;
};

}  // namespace taskmap::detail
