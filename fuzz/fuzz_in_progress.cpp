// Property: in_progress() given any bytes in a log file returns (or throws a taskmap::Error)
// without crashing, hanging or growing without bound, and only ever reports a task that a
// complete `starting task` (or `queueing task`) line names. Half the inputs are instead a
// log that a real LogObserver wrote — runs, nested runs and events of hostile graph and task
// names at any level, with junk lines between them — cut at any byte as by a crash; there
// in_progress() must say exactly what a model of the documented rules says.

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <set>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

#include <unistd.h>

#include <taskmap/observers/log_observer.hpp>

#include "fuzz_support.hpp"

using namespace taskmap;
using taskmap_fuzz::Bytes;
using taskmap_fuzz::check;

namespace {

const std::filesystem::path& log_path() {
  static const std::filesystem::path path =
      std::filesystem::temp_directory_path() /
      ("taskmap-fuzz-in-progress-" + std::to_string(::getpid()) + ".log");
  return path;
}

std::string read_all(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

std::string escaped(std::string_view name) {
  std::string out;
  for (const char c : name) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\r') {
      out += "\\r";
    } else {
      out += c;
    }
  }
  return out;
}

// Complete lines of `text` (a CRLF line without its CR).
std::vector<std::string_view> complete_lines(std::string_view text) {
  std::vector<std::string_view> lines;
  for (std::size_t end = text.find('\n'); end != std::string_view::npos; end = text.find('\n')) {
    std::string_view line = text.substr(0, end);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    lines.push_back(line);
    text.remove_prefix(end + 1);
  }
  return lines;
}

// True when a complete line at `level` has `verb` followed by a name that reads back as
// `task` (the reader unescapes names, and both `-` and `\-` read back as `-`).
bool some_line_names(const std::vector<std::string_view>& lines, std::string_view level,
                     std::string_view verb, const std::string& task) {
  for (const std::string_view line : lines) {
    if (line.find(level) == std::string_view::npos) continue;
    for (std::size_t at = line.find(verb); at != std::string_view::npos;
         at = line.find(verb, at + 1)) {
      std::string name;
      if (taskmap::detail::unescape(line.substr(at + verb.size()), name) && name == task) {
        return true;
      }
    }
  }
  return false;
}

void fuzz_raw(Bytes& in) {
  const std::string text = in.rest();
  {
    std::ofstream out(log_path(), std::ios::binary | std::ios::trunc);
    out.write(text.data(), static_cast<std::streamsize>(text.size()));
  }
  const InProgress got = in_progress(log_path());
  const auto lines = complete_lines(text);
  for (const std::string& task : got.in_progress) {
    check(some_line_names(lines, " - INFO - worker ", ": starting task ", task),
          "a task in progress has a complete starting line");
  }
  for (const std::string& task : got.queued) {
    check(some_line_names(lines, " - DEBUG - worker ", ": queueing task ", task),
          "a queued task has a complete queueing line");
  }
}

// One thing the structured log holds, for the model.
struct Written {
  enum Kind { event, run_start, run_end, junk } kind = junk;
  EventKind event_kind = EventKind::queued;
  std::string graph;
  std::string task;
  bool nested = false;
  bool logged = false;        // at or above the observer's level
  std::size_t first_end = 0;  // where its first line ends (the offset of its '\n' + 1)
};

void fuzz_structured(Bytes& in) {
  std::vector<std::string> graphs;
  std::vector<std::string> tasks;
  for (std::size_t i = 0, n = 1 + in.byte() % 3; i < n; ++i) {
    graphs.push_back(taskmap_fuzz::pick_name(in));
  }
  for (std::size_t i = 0, n = 1 + in.byte() % 6; i < n; ++i) {
    tasks.push_back(taskmap_fuzz::pick_name(in));
  }
  const auto level = static_cast<LogLevel>(in.byte() % 4);
  std::vector<Written> written;
  {
    LogObserver observer(log_path(), {.level = level, .append = false});
    // Open runs per graph, newest last, as executors make them: each run has its own id, and
    // a run ends with the id it started with (the observer pairs them by it).
    std::map<std::string, std::vector<std::pair<std::uint64_t, bool>>> open;  // id, nested
    std::uint64_t next_run_id = 1;
    const std::size_t steps = in.byte() % 40;
    for (std::size_t step = 0; step < steps && !in.empty(); ++step) {
      Written w;
      const std::uint8_t op = in.byte();
      w.graph = graphs[in.below(graphs.size())];
      const std::size_t before = std::filesystem::file_size(log_path());
      if (op % 8 < 5) {
        w.kind = Written::event;
        w.event_kind = static_cast<EventKind>(in.byte() % 6);
        w.task = tasks[in.below(tasks.size())];
        constexpr LogLevel kLevels[] = {LogLevel::debug, LogLevel::info,    LogLevel::info,
                                        LogLevel::error, LogLevel::warning, LogLevel::warning};
        w.logged = kLevels[static_cast<std::size_t>(w.event_kind)] >= level;
        observer.on_event({w.event_kind,
                           w.graph,
                           w.task,
                           in.byte(),
                           {},
                           std::make_exception_ptr(std::runtime_error(tasks[0]))});
      } else if (op % 8 == 5) {
        w.kind = Written::run_start;
        auto& runs = open[w.graph];
        w.nested = !runs.empty();
        const std::uint64_t id = next_run_id++;
        runs.emplace_back(id, w.nested);
        w.logged = level <= LogLevel::info;
        observer.on_run_start({w.graph, 3, 2, 1, id});
      } else if (op % 8 == 6) {
        w.kind = Written::run_end;
        std::uint64_t id = next_run_id++;  // the end of a run never started, unless one is open
        const auto at = open.find(w.graph);
        if (at != open.end()) {
          id = at->second.back().first;
          w.nested = at->second.back().second;
          at->second.pop_back();
          if (at->second.empty()) open.erase(at);
        }
        w.logged = level <= LogLevel::info;
        observer.on_run_end({w.graph, 3, 2, 1, id}, RunSummary{});
      } else {
        w.kind = Written::junk;
        std::string junk = "G" + in.take(in.byte() % 64);
        for (char& c : junk) {
          if (c == '\n') c = ' ';
        }
        std::ofstream out(log_path(), std::ios::binary | std::ios::app);
        out << junk << '\n';
      }
      w.first_end = before;
      written.push_back(std::move(w));
    }
  }
  const std::string text = read_all(log_path());
  const std::size_t cut = in.below(text.size() + 1);
  std::filesystem::resize_file(log_path(), cut);

  // The model: the documented rules applied to every complete line that was written.
  std::map<std::string, std::map<std::string, bool>> state;  // graph -> task -> started
  for (Written& w : written) {
    if (!w.logged || w.kind == Written::junk) continue;
    const std::size_t newline = text.find('\n', w.first_end);
    check(newline != std::string::npos, "every logged event ends its line");
    if (newline + 1 > cut) break;
    if (w.kind == Written::run_start || w.kind == Written::run_end) {
      if (!w.nested) state.erase(w.graph);
      continue;
    }
    switch (w.event_kind) {
      case EventKind::queued:
        state[w.graph][w.task] = false;
        break;
      case EventKind::started:
        state[w.graph][w.task] = true;
        break;
      default:
        if (state.count(w.graph) != 0) state[w.graph].erase(w.task);
        break;
    }
  }
  InProgress expected;
  for (const auto& [graph, tasks_of_graph] : state) {
    for (const auto& [task, started] : tasks_of_graph) {
      (started ? expected.in_progress : expected.queued).insert(task);
    }
  }
  const InProgress got = in_progress(log_path());
  if (got != expected) {
    // What a person needs to see the disagreement: the log as read, both answers.
    std::fprintf(stderr, "log (%zu of %zu bytes):\n%s\n", cut, text.size(),
                 escaped(text.substr(0, cut)).c_str());
    const auto print = [](const char* what, const std::set<std::string>& names) {
      std::fprintf(stderr, "%s:", what);
      for (const std::string& name : names) std::fprintf(stderr, " [%s]", escaped(name).c_str());
      std::fprintf(stderr, "\n");
    };
    print("expected in progress", expected.in_progress);
    print("got in progress", got.in_progress);
    print("expected queued", expected.queued);
    print("got queued", got.queued);
  }
  check(got.in_progress == expected.in_progress, "in progress as the documented rules say");
  check(got.queued == expected.queued, "queued as the documented rules say");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  Bytes in(data, size);
  try {
    if (in.byte() % 2 == 0) {
      fuzz_raw(in);
    } else {
      fuzz_structured(in);
    }
  } catch (const Error&) {
    // Documented: an Error naming the path when the file cannot be opened or read (here only
    // if the temporary directory fails us); anything else escapes and is a finding.
  }
  return 0;
}
