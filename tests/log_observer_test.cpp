// LogObserver's lines and in_progress(), on every executor.

#include <taskmap/observers/log_observer.hpp>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <cstddef>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <regex>
#include <set>
#include <span>
#include <stdexcept>
#include <stop_token>
#include <string>
#include <system_error>
#include <vector>

#include "executors.hpp"
#include "test_support.hpp"

namespace Catch {
template <>
struct StringMaker<taskmap::InProgress> {
  static std::string convert(const taskmap::InProgress& value) {
    const auto list = [](const std::set<std::string>& names) {
      std::string out = "{";
      for (const std::string& name : names) out += (out.size() > 1 ? ", \"" : "\"") + name + "\"";
      return out + "}";
    };
    return "in_progress " + list(value.in_progress) + ", queued " + list(value.queued);
  }
};
}  // namespace Catch

using namespace taskmap;
using namespace taskmap_test;

namespace {

// One log line: <timestamp> - <graph> - <LEVEL> - worker <id>: <message>.
const std::regex& line_format() {
  static const std::regex format(
      R"(^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})\.(\d{6})Z - (.*?) - (DEBUG|INFO|WARNING|ERROR) - worker (\d+): (.*)$)");
  return format;
}

struct Line {
  std::chrono::system_clock::time_point time;
  std::string graph;
  std::string level;
  std::size_t worker = 0;
  std::string message;
};

int number(const std::string& digits) {
  int value = 0;
  std::from_chars(digits.data(), digits.data() + digits.size(), value);
  return value;
}

// Parses a line of the exact format; fails the test when it does not match.
Line parse(const std::string& text) {
  std::smatch match;
  INFO("line: " << text);
  REQUIRE(std::regex_match(text, match, line_format()));
  using namespace std::chrono;
  const sys_days day =
      year_month_day{year{number(match[1])}, month{static_cast<unsigned>(number(match[2]))},
                     std::chrono::day{static_cast<unsigned>(number(match[3]))}};
  Line line;
  line.time = time_point_cast<system_clock::duration>(
      day + hours{number(match[4])} + minutes{number(match[5])} + seconds{number(match[6])} +
      microseconds{number(match[7])});
  line.graph = match[8];
  line.level = match[9];
  line.worker = static_cast<std::size_t>(number(match[10]));
  line.message = match[11];
  return line;
}

std::vector<std::string> messages(const std::filesystem::path& log) {
  std::vector<std::string> out;
  for (const std::string& text : read_lines(log)) out.push_back(parse(text).message);
  return out;
}

// The Error a call throws, or a failure.
template <class F>
std::string error_of(F&& call) {
  try {
    call();
  } catch (const Error& e) {
    return e.what();
  }
  FAIL("no taskmap::Error was thrown");
  return {};
}

// in_progress() of the log without its last line: as if the run had been killed just
// before it ended, which is what the entries of single tasks must get right on their own.
InProgress in_progress_before_end(const std::filesystem::path& log) {
  std::string text = read_file(log);
  REQUIRE(text.size() >= 2);
  const std::size_t last = text.rfind('\n', text.size() - 2);
  REQUIRE(text.find("finished run: ", last) != std::string::npos);
  TempPath cut("taskmap-cut");
  write_file(cut.path(), text.substr(0, last + 1));
  return in_progress(cut.path());
}

std::shared_ptr<LogObserver> log_to(const TempPath& file, LogOptions options = {}) {
  return std::make_shared<LogObserver>(file.path(), options);
}

}  // namespace

TEMPLATE_TEST_CASE("a running task finds itself in progress in the live log", "[log]",
                   TASKMAP_TEST_EXECUTORS) {
  TempPath log("taskmap-live");
  auto executor = make_executor<TestType>();
  InProgress seen_by_self;
  InProgress seen_by_after;
  auto g = create_graph<int>({{"first", fa},
                              {"self",
                               [&](int x) {
                                 seen_by_self = in_progress(log.path());
                                 return x;
                               }},
                              {"after",
                               [&](int x) {
                                 seen_by_after = in_progress(log.path());
                                 return x;
                               }}},
                             {{"first", {}}, {"self", {"first"}}, {"after", {"self"}}},
                             {.name = "live"});
  const RunSummary summary = executor.run(g, {.observers = {log_to(log)}});
  CHECK(summary.succeeded == 3);
  // "first" has finished; "after" is not queued before "self" ends.
  CHECK(seen_by_self == InProgress{{"self"}, {}});
  CHECK(seen_by_after == InProgress{{"after"}, {}});
  CHECK(in_progress(log.path()) == InProgress{});
  CHECK(in_progress_before_end(log.path()) == InProgress{});
}

TEMPLATE_TEST_CASE("a sub-graph of the same name run from a task is a nested run", "[log]",
                   TASKMAP_TEST_EXECUTORS) {
  TempPath log("taskmap-nested");
  auto executor = make_executor<TestType>();
  const auto observer = log_to(log);
  InProgress seen_after_inner;
  auto g = create_graph<int>({{"outer",
                               [&] {
                                 // Both graphs are named "taskmap": the inner run must not
                                 // make in_progress() forget that "outer" is running.
                                 auto inner = create_graph<int>({{"inner", fa}}, {{"inner", {}}});
                                 run(inner, {.observers = {observer}});
                                 seen_after_inner = in_progress(log.path());
                                 return inner.result("inner");
                               }}},
                             {{"outer", {}}});
  executor.run(g, {.observers = {observer}});
  CHECK(seen_after_inner == InProgress{{"outer"}, {}});
  CHECK(in_progress(log.path()) == InProgress{});
  const std::string text = read_file(log.path());
  CHECK(text.find("starting nested run: 1 of 1 tasks") != std::string::npos);
  CHECK(text.find("finished nested run: 1 succeeded") != std::string::npos);
}

TEMPLATE_TEST_CASE("tasks ready together are queued until they start", "[log]",
                   TASKMAP_TEST_EXECUTORS) {
  TempPath log("taskmap-queued");
  auto executor = make_executor<TestType>(1);  // one worker: one of the two runs first
  InProgress seen_by_x;
  InProgress seen_by_y;
  auto g = create_graph<int>({{"x",
                               [&] {
                                 seen_by_x = in_progress(log.path());
                                 return 1;
                               }},
                              {"y",
                               [&] {
                                 seen_by_y = in_progress(log.path());
                                 return 2;
                               }}},
                             {{"x", {}}, {"y", {}}});
  executor.run(g, {.observers = {log_to(log)}});
  const bool x_first = seen_by_x == InProgress{{"x"}, {"y"}} && seen_by_y == InProgress{{"y"}, {}};
  const bool y_first = seen_by_y == InProgress{{"y"}, {"x"}} && seen_by_x == InProgress{{"x"}, {}};
  INFO("seen by x: " << Catch::StringMaker<InProgress>::convert(seen_by_x));
  INFO("seen by y: " << Catch::StringMaker<InProgress>::convert(seen_by_y));
  CHECK((x_first || y_first));
  CHECK(in_progress(log.path()) == InProgress{});
}

TEMPLATE_TEST_CASE("failed and skipped tasks are neither in progress nor queued", "[log]",
                   TASKMAP_TEST_EXECUTORS) {
  TempPath log("taskmap-failed");
  auto executor = make_executor<TestType>();
  InProgress seen_by_watcher;
  bool saw_failure = false;
  auto g = create_graph<int>(
      {{"bad", fd},
       {"child", fb},
       {"watcher",
        [&] {
          // "bad" goes first on one thread (priority); on a pool it may run alongside.
          saw_failure = eventually([&] {
            return read_file(log.path()).find("skipped task child\n") != std::string::npos;
          });
          seen_by_watcher = in_progress(log.path());
          return 1;
        }}},
      {{"bad", {}}, {"child", {"bad"}}, {"watcher", {}}}, {.priority = {{"bad", 10}}});
  const RunSummary summary = executor.run(g, {.observers = {log_to(log)}});
  CHECK(summary.failed == 1);
  CHECK(summary.skipped == 1);
  CHECK(saw_failure);
  CHECK(seen_by_watcher == InProgress{{"watcher"}, {}});
  CHECK(in_progress(log.path()) == InProgress{});
  CHECK(in_progress_before_end(log.path()) == InProgress{});
}

TEMPLATE_TEST_CASE("a fail_fast run leaves nothing in progress or queued", "[log]",
                   TASKMAP_TEST_EXECUTORS) {
  TempPath log("taskmap-fail-fast");
  auto executor = make_executor<TestType>(1);
  FuncMap<int> funcs{{"bad", fd}};
  DependencyMap deps{{"bad", {}}};
  for (int i = 0; i < 20; ++i) {
    funcs.emplace("t" + std::to_string(i), fa);
    deps["t" + std::to_string(i)] = {};
  }
  auto g = create_graph<int>(std::move(funcs), std::move(deps), {.priority = {{"bad", 10}}});
  const RunSummary summary = executor.run(g, {.fail_fast = true, .observers = {log_to(log)}});
  CHECK(summary.failed == 1);
  // Tasks queued but never started stay pending with no event of their own: the run's end
  // tells in_progress they are no longer waiting.
  CHECK(g.status("t0") == TaskStatus::pending);
  CHECK_FALSE(in_progress_before_end(log.path()).queued.empty());
  CHECK(in_progress(log.path()) == InProgress{});
}

TEMPLATE_TEST_CASE("a stopped run leaves no queued entries for its cancelled tasks", "[log]",
                   TASKMAP_TEST_EXECUTORS) {
  TempPath log("taskmap-stopped");
  auto executor = make_executor<TestType>();
  std::stop_source stop;
  auto g = create_graph<int>(
      {{"stopper",
        [&] {
          stop.request_stop();
          return 1;
        }},
       {"after", fb},
       {"x1", fb},
       {"x2", fb}},
      {{"stopper", {}}, {"after", {"stopper"}}, {"x1", {"after"}}, {"x2", {"after"}}});
  const RunSummary summary =
      executor.run(g, {.stop_token = stop.get_token(), .observers = {log_to(log)}});
  CHECK(summary.succeeded == 1);
  CHECK(summary.cancelled == 3);
  const std::vector<std::string> lines = messages(log.path());
  CHECK(std::count(lines.begin(), lines.end(), "queueing task after") == 1);
  CHECK(std::count(lines.begin(), lines.end(), "cancelled task after") == 1);
  CHECK(in_progress(log.path()) == InProgress{});
  CHECK(in_progress_before_end(log.path()) == InProgress{});
}

TEST_CASE("log lines have the documented format", "[log]") {
  TempPath log("taskmap-format");
  const auto before = std::chrono::system_clock::now();
  auto g = create_graph<int>(
      {{"a", fa}, {"d", [](int) -> int { throw std::runtime_error("no"); }}, {"c", fb}},
      {{"a", {}}, {"d", {"a"}}, {"c", {"d"}}}, {.name = "format graph"});
  run(g, {.observers = {log_to(log)}});
  const auto after = std::chrono::system_clock::now();

  const std::vector<std::string> lines = read_lines(log.path());
  std::vector<std::string> got;
  for (const std::string& text : lines) {
    const Line line = parse(text);
    CHECK(line.graph == "format graph");
    CHECK(line.worker == 0);
    // Microsecond timestamps in UTC, between the run's start and end.
    CHECK(line.time >= std::chrono::floor<std::chrono::microseconds>(before));
    CHECK(line.time <= after);
    got.push_back(line.level + " " + line.message);
  }
  const std::vector<std::string> expected = {
      "INFO starting run: 3 of 3 tasks on 1 workers",
      "DEBUG queueing task a",
      "INFO starting task a",
      "INFO finished task a",
      "DEBUG queueing task d",
      "INFO starting task d",
      "ERROR failed task d",
      "ERROR task d raised: no",
      "WARNING skipped task c",
  };
  REQUIRE(got.size() == expected.size() + 1);
  CHECK(std::vector<std::string>(got.begin(), got.end() - 1) == expected);
  CHECK(std::regex_match(
      got.back(),
      std::regex(
          R"(INFO finished run: 1 succeeded, 1 failed, 1 skipped, 0 cancelled in \d+\.\d{3} s)")));
}

TEMPLATE_TEST_CASE("a failure is logged with what the task threw", "[log]",
                   TASKMAP_TEST_EXECUTORS) {
  struct NotAStdException {};
  TempPath log("taskmap-raised");
  auto executor = make_executor<TestType>();
  auto g = create_graph<int>(
      {{"what", []() -> int { throw std::invalid_argument("bad input\nsecond line"); }},
       {"odd", []() -> int { throw NotAStdException{}; }}},
      {{"what", {}}, {"odd", {}}});
  executor.run(g, {.observers = {log_to(log, {.level = LogLevel::error})}});
  const std::vector<std::string> lines = messages(log.path());
  REQUIRE(lines.size() == 4);
  // Each pair is written together, so it is never split by another worker's line.
  for (std::size_t i = 0; i < lines.size(); i += 2) {
    const std::string task = lines[i].substr(std::string("failed task ").size());
    CHECK(lines[i] == "failed task " + task);
    if (task == "what") {
      CHECK(lines[i + 1] == R"(task what raised: bad input\nsecond line)");
    } else {
      CHECK(task == "odd");
      CHECK(lines[i + 1].rfind("task odd raised: an exception of type ", 0) == 0);
      CHECK(lines[i + 1].find("NotAStdException") != std::string::npos);
    }
  }
}

// Python taskmap's logging tests, T10 to T13.
TEST_CASE("T10 a run without a LogObserver writes no log", "[log][python]") {
  TempPath dir("taskmap-nolog");
  std::filesystem::create_directory(dir.path());
  auto g = create_graph<int>({{"a", fa}}, {{"a", {}}}, {.name = "name"});
  run(g, {});
  CHECK(std::filesystem::is_empty(dir.path()));
}

TEST_CASE("T11 the graph's name is in every log line", "[log][python]") {
  TempPath log("taskmap-name");
  auto g = create_graph<int>({{"a", fa}}, {{"a", {}}}, {.name = "test-taskmap-name"});
  run(g, {.observers = {log_to(log)}});
  const std::vector<std::string> lines = read_lines(log.path());
  REQUIRE(lines.size() == 5);
  for (const std::string& line : lines) CHECK(parse(line).graph == "test-taskmap-name");
}

TEST_CASE("T12 the default level logs everything", "[log][python]") {
  TempPath log("taskmap-default-level");
  const LogObserver observer(log.path());
  CHECK(observer.options().level == LogLevel::debug);
  CHECK(observer.path() == log.path());

  auto g =
      create_graph<int>({{"a", fa}, {"d", fd}, {"c", fb}}, {{"a", {}}, {"d", {}}, {"c", {"d"}}},
                        {.name = "test-taskmap-default-level"});
  run(g, {.observers = {log_to(log)}});
  std::set<std::string> levels;
  for (const std::string& line : read_lines(log.path())) levels.insert(parse(line).level);
  CHECK(levels == std::set<std::string>{"DEBUG", "INFO", "WARNING", "ERROR"});
}

TEST_CASE("T13 an explicit level ERROR logs only failures", "[log][python]") {
  TempPath log("taskmap-error-level");
  auto g =
      create_graph<int>({{"a", fa}, {"d", fd}, {"c", fb}}, {{"a", {}}, {"d", {}}, {"c", {"d"}}},
                        {.name = "test-taskmap-explicit-level"});
  run(g, {.observers = {log_to(log, {.level = LogLevel::error})}});
  const std::vector<std::string> lines = read_lines(log.path());
  REQUIRE(lines.size() == 2);
  CHECK(parse(lines[0]).level == "ERROR");
  CHECK(parse(lines[0]).message == "failed task d");
  CHECK(parse(lines[1]).level == "ERROR");
  CHECK(parse(lines[1]).message == "task d raised: some error");
}

TEST_CASE("a level leaves out the events below it", "[log]") {
  const auto levels_written = [](LogLevel level) {
    TempPath log("taskmap-level");
    auto g =
        create_graph<int>({{"a", fa}, {"d", fd}, {"c", fb}}, {{"a", {}}, {"d", {}}, {"c", {"d"}}});
    run(g, {.observers = {log_to(log, {.level = level})}});
    std::map<std::string, int> count;
    for (const std::string& line : read_lines(log.path())) ++count[parse(line).level];
    return count;
  };
  using Counts = std::map<std::string, int>;
  CHECK(levels_written(LogLevel::debug) ==
        Counts{{"DEBUG", 2}, {"INFO", 5}, {"WARNING", 1}, {"ERROR", 2}});
  CHECK(levels_written(LogLevel::info) == Counts{{"INFO", 5}, {"WARNING", 1}, {"ERROR", 2}});
  CHECK(levels_written(LogLevel::warning) == Counts{{"WARNING", 1}, {"ERROR", 2}});
  CHECK(levels_written(LogLevel::error) == Counts{{"ERROR", 2}});
  CHECK(to_string(LogLevel::warning) == "WARNING");
}

TEMPLATE_TEST_CASE("names with spaces, quotes, line breaks, backslashes and unicode round-trip",
                   "[log]", TASKMAP_TEST_EXECUTORS) {
  const std::vector<std::string> names = {
      "with space",
      "\"double\" and 'single' quotes",
      "new\nline",
      "back\\slash",
      "ends with a backslash\\",
      "\\n is not a line break",
      "carriage\rreturn",
      "crlf\r\n",
      "\xC3\xBCn\xC3\xAF"
      "c\xC3\xB8"
      "d\xC3\xA9 \xE2\x9C\x93 \xE6\x97\xA5\xE6\x9C\xAC",
      "tab\there",
      "x - INFO - worker 0: starting task y",
      "trailing space ",
  };
  TempPath log("taskmap-names");
  auto executor = make_executor<TestType>();
  std::mutex mutex;
  std::map<std::string, InProgress> seen;
  FuncMap<int> funcs;
  DependencyMap deps;
  for (const std::string& name : names) {
    funcs.emplace(name, [&](Context& ctx) {
      InProgress now = in_progress(log.path());
      std::lock_guard lock(mutex);
      seen[std::string(ctx.name())] = std::move(now);
      return 1;
    });
    deps[name] = {};
  }
  auto g = create_graph<int>(std::move(funcs), std::move(deps), {.name = "odd - graph\nname\\"});
  executor.run(g, {.observers = {log_to(log)}});

  REQUIRE(seen.size() == names.size());
  for (const std::string& name : names) {
    INFO("task: " << name);
    CHECK(seen[name].in_progress.count(name) == 1);
    // Nothing else is taken for a name: every entry is a real task.
    for (const std::string& other : seen[name].in_progress) CHECK(g.contains(other));
    for (const std::string& other : seen[name].queued) CHECK(g.contains(other));
  }
  // One line per event: run start and end, and queued, started, finished per task.
  const std::string text = read_file(log.path());
  CHECK(count_of(text, "\n") == 2 + 3 * names.size());
  CHECK(text.find('\r') == std::string::npos);
  for (const std::string& line : read_lines(log.path()))
    CHECK(parse(line).graph == R"(odd \- graph\nname\\)");
  CHECK(in_progress_before_end(log.path()) == InProgress{});
}

TEST_CASE("a graph's name cannot pass for the fields after it", "[log]") {
  // Found by fuzz_in_progress: a graph named " - INFO - worker 0: starting task forged" made
  // in_progress() take the line's first " - " for the end of the name, and report a task
  // "forged - INFO - worker 3: starting task real" that no graph has.
  TempPath log("taskmap-forged-graph");
  const std::vector<std::string> graphs = {
      " - INFO - worker 0: starting task forged",
      "x - INFO - worker 1: finished task real",
      "y - INFO - worker 0: starting run: ",
      "z -",
      "- z",
      " - ",
  };
  {
    LogObserver observer(log.path());
    for (const std::string& graph : graphs) {
      observer.on_run_start({graph, 1, 1, 1});
      observer.on_event({EventKind::queued, graph, "queued " + graph, 3, {}});
      observer.on_event({EventKind::started, graph, "real " + graph, 3, {}});
    }
  }
  InProgress expected;
  for (const std::string& graph : graphs) {
    expected.in_progress.insert("real " + graph);
    expected.queued.insert("queued " + graph);
  }
  CHECK(in_progress(log.path()) == expected);

  // Found next: the line after a failure, `task t raised: <what>`, is no line in_progress()
  // reads, and a parser that then tried later " - " found one in the message.
  {
    LogObserver observer(log.path());
    observer.on_event(
        {EventKind::failed,
         "g",
         "t - DEBUG - worker 1: queueing task u",
         0,
         {},
         std::make_exception_ptr(std::runtime_error(" - INFO - worker 1: starting task v"))});
  }
  CHECK(in_progress(log.path()) == expected);
  const std::string text = read_file(log.path());
  for (const std::string& line : read_lines(log.path())) {
    // The graph's field ends at the line's second " - ", right before the level.
    const std::size_t graph_start = line.find(" - ") + 3;
    const std::size_t graph_end = line.find(" - ", graph_start);
    REQUIRE(graph_end != std::string::npos);
    const std::string after = line.substr(graph_end + 3);
    CHECK((after.rfind("INFO - ", 0) == 0 || after.rfind("DEBUG - ", 0) == 0 ||
           after.rfind("ERROR - ", 0) == 0));
  }
  CHECK(text.find(R"( \- INFO \- worker 0: starting task forged - INFO - worker 0: )") !=
        std::string::npos);
}

TEST_CASE("LogObserver writes each event with the table's level and words", "[log]") {
  TempPath log("taskmap-table");
  constexpr EventKind kinds[] = {EventKind::queued, EventKind::started, EventKind::finished,
                                 EventKind::failed, EventKind::skipped, EventKind::cancelled};
  {
    LogObserver observer(log.path());
    for (const EventKind kind : kinds) {
      observer.on_event({kind, "g", "t", 0, {}, std::make_exception_ptr(std::runtime_error("e"))});
    }
  }
  std::vector<std::string> lines = read_lines(log.path());
  // A failure is a pair of lines; the second, "task t raised: e", is not read by in_progress.
  REQUIRE(lines.size() == std::size(kinds) + 1);
  lines.erase(lines.begin() + 4);
  for (std::size_t i = 0; i < std::size(kinds); ++i) {
    const detail::LogVerb& verb = detail::log_verb(kinds[i]);
    INFO(lines[i]);
    const Line line = parse(lines[i]);
    CHECK(line.level == to_string(verb.level));
    CHECK(line.message == std::string(verb.prefix) + "t");
    detail::LogLine parsed;
    REQUIRE(detail::parse_log_line(lines[i], parsed));
    CHECK(parsed.kind == verb.kind);
    CHECK(parsed.task == "t");
  }
}

TEST_CASE("many workers never interleave their lines", "[log][stress]") {
  constexpr std::size_t tasks = 5000;
  TempPath log("taskmap-many");
  FuncMap<int> funcs;
  DependencyMap deps;
  for (std::size_t i = 0; i < tasks; ++i) {
    const std::string name = "task " + std::to_string(i);
    if (i % 97 == 0) {
      funcs.emplace(name, [i]() -> int { throw std::runtime_error("boom " + std::to_string(i)); });
    } else {
      funcs.emplace(name, [] { return 1; });
    }
    deps[name] = {};
  }
  auto g = create_graph<int>(std::move(funcs), std::move(deps), {.name = "many"});
  ThreadPoolExecutor executor(8);
  const RunSummary summary = executor.run(g, {.observers = {log_to(log)}});
  const std::size_t failures = (tasks + 96) / 97;
  CHECK(summary.failed == failures);

  // Every line parses; each task's lines come in event order; failure pairs are adjacent.
  const std::vector<std::string> lines = read_lines(log.path());
  REQUIRE(lines.size() == 2 + 3 * tasks + failures);
  std::map<std::string, std::size_t> count;
  std::map<std::string, std::vector<std::string>> per_task;
  std::set<std::size_t> workers;
  for (std::size_t i = 0; i < lines.size(); ++i) {
    const Line line = parse(lines[i]);
    REQUIRE(line.graph == "many");
    workers.insert(line.worker);
    const std::string& m = line.message;
    const std::size_t space = m.find(" task ");
    if (m.rfind("starting run: ", 0) == 0 || m.rfind("finished run: ", 0) == 0) {
      ++count[m.substr(0, m.find(':'))];
    } else if (m.rfind("task ", 0) == 0) {
      ++count["raised"];
      REQUIRE(i > 0);
      const std::string task = m.substr(5, m.find(" raised: ") - 5);
      CHECK(lines[i - 1].substr(lines[i - 1].find(": failed task ")) == ": failed task " + task);
      CHECK(m == "task " + task + " raised: boom " + task.substr(5));
    } else {
      REQUIRE(space != std::string::npos);
      const std::string verb = m.substr(0, space);
      ++count[verb];
      per_task[m.substr(space + 1)].push_back(verb);
    }
  }
  CHECK(count["starting run"] == 1);
  CHECK(count["finished run"] == 1);
  CHECK(count["queueing"] == tasks);
  CHECK(count["starting"] == tasks);
  CHECK(count["finished"] == tasks - failures);
  CHECK(count["failed"] == failures);
  CHECK(count["raised"] == failures);
  CHECK(per_task.size() == tasks);
  for (const auto& [task, verbs] : per_task) {
    INFO(task);
    REQUIRE(verbs.size() == 3);
    CHECK(verbs[0] == "queueing");
    CHECK(verbs[1] == "starting");
    CHECK((verbs[2] == "finished" || verbs[2] == "failed"));
  }
  CHECK(*workers.rbegin() < 8);
  CHECK(in_progress(log.path()) == InProgress{});
}

TEST_CASE("in_progress skips what LogObserver does not write", "[log]") {
  TempPath log("taskmap-malformed");
  const std::string ts = "2026-11-22T04:51:33.123456Z";
  const auto line = [&](const std::string& graph, const std::string& level,
                        const std::string& message) {
    return ts + " - " + graph + " - " + level + " - worker 1: " + message + "\n";
  };

  SECTION("an empty file") {
    write_file(log.path(), "");
    CHECK(in_progress(log.path()) == InProgress{});
  }
  SECTION("garbage and near misses among real lines") {
    std::string text;
    text += "hello\n\n   \n - - - \n";
    text += line("g", "INFO", "starting task real");
    text += line("g", "DEBUG", "queueing task waiting");
    text += "2026-11-22 04:51:33,123 - g - INFO - starting task python style\n";
    text += line("g", "DEBUG", "starting task wrong level");
    text += line("g", "INFO", "queueing task wrong level too");
    text += line("g", "TRACE", "starting task unknown level");
    text += ts + " - g - INFO - worker : starting task no worker id\n";
    text += ts + " - g - INFO - worker x1: starting task bad worker id\n";
    text += ts + " - g - INFO - thread 1: starting task no worker\n";
    text += "2026-11-22T04:51:33Z - g - INFO - worker 1: starting task short stamp\n";
    text += "2026-13-22T04:51:33.123456 - g - INFO - worker 1: starting task no Z\n";
    text += line("g", "INFO", "starting task bad \\escape");
    text += line("g", "INFO", "starting task dangling backslash\\");
    text += line("g", "INFO", "starting thing not a task");
    text += line("g", "INFO", "starting task crlf copy");
    text.insert(text.size() - 1, "\r");  // the last line as a CRLF copy: still read
    write_file(log.path(), text);
    CHECK(in_progress(log.path()) == InProgress{{"crlf copy", "real"}, {"waiting"}});
  }
  SECTION("a truncated last line does not count yet") {
    write_file(log.path(), line("g", "INFO", "starting task done") +
                               line("g", "INFO", "finished task done") +
                               line("g", "INFO", "starting task half").substr(0, 60));
    CHECK(in_progress(log.path()) == InProgress{});
    std::string whole = line("g", "INFO", "starting task half");
    write_file(log.path(), whole);
    CHECK(in_progress(log.path()) == InProgress{{"half"}, {}});
    whole.pop_back();
    write_file(log.path(), whole);  // the name is all there, but the line is not ended
    CHECK(in_progress(log.path()) == InProgress{});
  }
  SECTION("binary junk") {
    std::mt19937 random(42);
    std::string junk;
    for (int i = 0; i < 200000; ++i) junk.push_back(static_cast<char>(random() & 0xFF));
    junk += "\n" + line("g", "INFO", "starting task after junk");
    junk +=
        std::string("\0\0\0\n", 4) + line("g", "DEBUG", std::string("queueing task nul\0byte", 22));
    write_file(log.path(), junk);
    CHECK(in_progress(log.path()) == InProgress{{"after junk"}, {std::string("nul\0byte", 8)}});
  }
  SECTION("a crashed run is forgotten when the graph runs again") {
    std::string text;
    text += line("g", "INFO", "starting run: 3 of 3 tasks on 2 workers");
    text += line("g", "DEBUG", "queueing task a");
    text += line("g", "DEBUG", "queueing task b");
    text += line("g", "INFO", "starting task a");
    text += line("other", "INFO", "starting task elsewhere");  // another graph, still going
    // crash: no ends, no "finished run"
    text += line("g", "INFO", "starting run: 3 of 3 tasks on 2 workers");
    text += line("g", "DEBUG", "queueing task c");
    text += line("g", "INFO", "starting task c");
    text += line("g", "DEBUG", "queueing task d");
    write_file(log.path(), text);
    CHECK(in_progress(log.path()) == InProgress{{"c", "elsewhere"}, {"d"}});
    // Tasks are told apart by graph: "c" of another graph ending leaves g's "c" running.
    text += line("other", "INFO", "finished task c");
    write_file(log.path(), text);
    CHECK(in_progress(log.path()) == InProgress{{"c", "elsewhere"}, {"d"}});
    text +=
        line("g", "INFO", "finished run: 1 succeeded, 0 failed, 0 skipped, 0 cancelled in 1.000 s");
    write_file(log.path(), text);
    CHECK(in_progress(log.path()) == InProgress{{"elsewhere"}, {}});
  }
  SECTION("the last event of a task wins") {
    std::string text;
    text += line("g", "DEBUG", "queueing task a");
    text += line("g", "INFO", "starting task a");
    text += line("g", "ERROR", "failed task a");
    text += line("g", "ERROR", "task a raised: it broke");
    text += line("g", "DEBUG", "queueing task a");  // a rerun, or a second graph of that name
    text += line("g", "WARNING", "skipped task s");
    text += line("g", "DEBUG", "queueing task k");
    text += line("g", "WARNING", "cancelled task k");
    write_file(log.path(), text);
    CHECK(in_progress(log.path()) == InProgress{{}, {"a"}});
  }
  SECTION("a graph name holding the separator") {
    // LogObserver writes the graph "a - INFO - b" as "a \- INFO \- b". A line with " - "
    // inside the graph's field is not one it writes: skipped, never read as another task.
    write_file(log.path(), line(R"(a \- INFO \- b)", "INFO", "starting task t") +
                               line("", "DEBUG", "queueing task u") +
                               line("c - INFO - d", "INFO", "starting task v"));
    CHECK(in_progress(log.path()) == InProgress{{"t"}, {"u"}});
  }
  SECTION("lines longer than a read") {
    const std::string long_name(200000, 'n');
    write_file(log.path(), line("g", "INFO", "starting task " + long_name));
    CHECK(in_progress(log.path()) == InProgress{{long_name}, {}});
  }
}

TEST_CASE("in_progress survives any damage to a real log", "[log]") {
  TempPath log("taskmap-damaged");
  auto g = create_graph<int>({{"a", fa}, {"d", fd}, {"c", fb}, {"b", fb}},
                             {{"a", {}}, {"d", {}}, {"c", {"d"}}, {"b", {"a"}}});
  run(g, {.observers = {log_to(log)}});
  const std::string original = read_file(log.path());
  std::mt19937 random(7);
  TempPath damaged("taskmap-damaged-copy");
  for (int round = 0; round < 300; ++round) {
    std::string text = original;
    const int edits = 1 + static_cast<int>(random() % 8);
    for (int e = 0; e < edits; ++e) {
      const std::size_t at = random() % text.size();
      switch (random() % 4) {
        case 0:
          text[at] = static_cast<char>(random() & 0xFF);
          break;
        case 1:
          text.erase(at, random() % 40);
          break;
        case 2:
          text.insert(at, 1, "\n\\- :"[random() % 5]);
          break;
        default:
          text.resize(at);
          break;
      }
      if (text.empty()) text = "x";
    }
    write_file(damaged.path(), text);
    const InProgress got = in_progress(damaged.path());
    for (const auto* names : {&got.in_progress, &got.queued}) {
      for (const std::string& name : *names) CHECK(name.size() <= original.size());
    }
  }
}

TEST_CASE("in_progress of a file it cannot read names it", "[log]") {
  TempPath missing("taskmap-missing");
  const std::string what = error_of([&] { static_cast<void>(in_progress(missing.path())); });
  CHECK(what.find(missing.string()) != std::string::npos);
  CHECK(what.find(std::generic_category().message(ENOENT)) != std::string::npos);

  TempPath dir("taskmap-dir");
  std::filesystem::create_directory(dir.path());
  const std::string dir_what = error_of([&] { static_cast<void>(in_progress(dir.path())); });
  CHECK(dir_what.find(dir.string()) != std::string::npos);
}

TEST_CASE("a log that cannot be opened throws an Error naming it", "[log]") {
  TempPath dir("taskmap-nodir");
  const std::filesystem::path path = dir.path() / "sub" / "run.log";
  const std::string what = error_of([&] { LogObserver observer(path); });
  CHECK(what.find(path.string()) != std::string::npos);
  CHECK(what.find(std::generic_category().message(ENOENT)) != std::string::npos);
  CHECK_FALSE(std::filesystem::exists(path));
}

TEST_CASE("a log is appended to by default and emptied on request", "[log]") {
  TempPath log("taskmap-append");
  const auto run_once = [&](LogOptions options) {
    auto g = create_graph<int>({{"a", fa}}, {{"a", {}}});
    run(g, {.observers = {log_to(log, options)}});
    return read_lines(log.path()).size();
  };
  CHECK(run_once({}) == 5);
  CHECK(run_once({}) == 10);
  CHECK(run_once({.append = true}) == 15);
  CHECK(run_once({.append = false}) == 5);
  // Constructing alone already empties the file.
  const LogObserver truncating(log.path(), {.append = false});
  CHECK(read_file(log.path()).empty());
}

TEMPLATE_TEST_CASE("a log that cannot be written ends the run with an Error naming it", "[log]",
                   TASKMAP_TEST_EXECUTORS) {
  const std::filesystem::path full = "/dev/full";  // every write fails with ENOSPC
  if (!std::filesystem::exists(full)) return;
  auto executor = make_executor<TestType>();
  auto g = create_graph<int>({{"a", fa}, {"d", fd}}, {{"a", {}}, {"d", {}}});

  // The run's first line fails in on_run_start, before any task.
  const std::string at_start =
      error_of([&] { executor.run(g, {.observers = {std::make_shared<LogObserver>(full)}}); });
  CHECK(at_start.find("cannot write to log file '/dev/full'") != std::string::npos);
  CHECK(at_start.find(std::generic_category().message(ENOSPC)) != std::string::npos);

  // At level ERROR, the failure of "d" is the first line: on_event throws on a worker.
  const std::string at_event = error_of([&] {
    executor.run(
        g,
        {.observers = {std::make_shared<LogObserver>(full, LogOptions{.level = LogLevel::error})}});
  });
  CHECK(at_event.find("cannot write to log file '/dev/full'") != std::string::npos);
}

TEST_CASE("the log says which rule starts a task with a trigger rule, and in_progress reads on",
          "[log][trigger]") {
  TempPath log("taskmap-trigger");
  auto g = create_graph<int>(
      {{"a", fa},
       {"d", fd},
       {"report", [](std::span<const int> values) { return static_cast<int>(values.size()); }}},
      {{"a", {}}, {"d", {}}, {"report", {"a", "d"}}},
      {.name = "rules", .triggers = {{"report", Trigger::all_done()}}});
  run(g, {.observers = {log_to(log)}});
  REQUIRE(g.result("report") == 1);
  const std::vector<std::string> got = messages(log.path());
  const auto starting = std::find(got.begin(), got.end(), "starting task report");
  REQUIRE(starting != got.end());
  REQUIRE(starting + 1 != got.end());
  CHECK(*(starting + 1) == "task report runs on its trigger all_done");
  // Tasks without a rule get no such line.
  CHECK(std::count_if(got.begin(), got.end(), [](const std::string& m) {
          return m.find("runs on its trigger") != std::string::npos;
        }) == 1);
  const InProgress state = in_progress_before_end(log.path());
  CHECK(state.in_progress.empty());
  CHECK(state.queued.empty());
}
