// ProgressObserver: plain lines and terminal redraws, on every executor.

#include <taskmap/observers/progress_observer.hpp>

#include <chrono>
#include <cstdio>
#include <memory>
#include <regex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "executors.hpp"
#include "test_support.hpp"

using namespace taskmap;
using namespace taskmap_test;
using namespace std::chrono_literals;

namespace {

// A temporary file opened for the observer to write to.
class Output {
 public:
  Output() : stream_(std::fopen(path_.string().c_str(), "wb")) { REQUIRE(stream_ != nullptr); }
  ~Output() { std::fclose(stream_); }
  Output(const Output&) = delete;
  Output& operator=(const Output&) = delete;

  [[nodiscard]] std::FILE* stream() const noexcept { return stream_; }
  [[nodiscard]] std::string text() const { return read_file(path_.path()); }
  [[nodiscard]] std::vector<std::string> lines() const { return read_lines(path_.path()); }

  // Waits (from a task) until the output holds `needle` `times` times.
  [[nodiscard]] bool shows(const std::string& needle, std::size_t times = 1) const {
    return eventually([&] { return count_of(text(), needle) >= times; });
  }

 private:
  TempPath path_{"taskmap-progress"};
  std::FILE* stream_;
};

std::shared_ptr<ProgressObserver> plain(const Output& out,
                                        std::chrono::milliseconds interval = 1ms) {
  return std::make_shared<ProgressObserver>(ProgressOptions{
      .stream = out.stream(), .mode = ProgressMode::plain, .report_interval = interval});
}

std::shared_ptr<ProgressObserver> terminal(const Output& out) {
  return std::make_shared<ProgressObserver>(ProgressOptions{
      .stream = out.stream(), .mode = ProgressMode::terminal, .redraw_interval = 1ms});
}

const std::regex& plain_line() {
  static const std::regex format(
      R"(^.*: \d+/\d+ tasks done \(\d+%\), \d+ running, \d+ failed, \d+ skipped, \d+\.\d tasks/s, elapsed \d+:\d\d, ETA (\?|\d+:\d\d)$)");
  return format;
}

const std::regex& final_line() {
  static const std::regex format(
      R"(^.*: \d+/\d+ tasks done in \d+\.\d s: \d+ succeeded, \d+ failed, \d+ skipped, \d+ cancelled \(\d+\.\d tasks/s\)$)");
  return format;
}

}  // namespace

TEMPLATE_TEST_CASE("plain progress lines show done of total, then the final counts", "[progress]",
                   TASKMAP_TEST_EXECUTORS) {
  Output out;
  auto executor = make_executor<TestType>();
  bool saw_progress = false;
  auto g = create_graph<int>({{"a", fa},
                              {"b",
                               [&](int x) {
                                 saw_progress = out.shows("1/3 tasks done (33%), 1 running, ");
                                 return x;
                               }},
                              {"c", fb}},
                             {{"a", {}}, {"b", {"a"}}, {"c", {"b"}}}, {.name = "chain"});
  executor.run(g, {.observers = {plain(out)}});
  CHECK(saw_progress);
  const std::string text = out.text();
  CHECK(text.find('\r') == std::string::npos);
  const std::vector<std::string> lines = out.lines();
  REQUIRE(lines.size() >= 2);
  for (std::size_t i = 0; i + 1 < lines.size(); ++i) {
    INFO(lines[i]);
    CHECK(std::regex_match(lines[i], plain_line()));
    CHECK(lines[i].rfind("chain: ", 0) == 0);
  }
  INFO(lines.back());
  CHECK(std::regex_match(lines.back(), final_line()));
  CHECK(lines.back().rfind("chain: 3/3 tasks done in ", 0) == 0);
  CHECK(lines.back().find(": 3 succeeded, 0 failed, 0 skipped, 0 cancelled (") !=
        std::string::npos);
  CHECK(text.back() == '\n');
}

TEST_CASE("progress counts failures and skips", "[progress]") {
  Output out;
  bool saw_failure = false;
  auto g = create_graph<int>({{"bad", fd},
                              {"child", fb},
                              {"watcher",
                               [&] {
                                 saw_failure = out.shows(", 1 failed, 1 skipped, ");
                                 return 1;
                               }}},
                             {{"bad", {}}, {"child", {"bad"}}, {"watcher", {}}},
                             {.priority = {{"bad", 10}}});
  const RunSummary summary = run(g, {.observers = {plain(out)}});
  CHECK(summary.failed == 1);
  CHECK(saw_failure);
  const std::string last = out.lines().back();
  INFO(last);
  CHECK(last.find("taskmap: 3/3 tasks done in ") == 0);
  CHECK(last.find(": 1 succeeded, 1 failed, 1 skipped, 0 cancelled (") != std::string::npos);
}

TEMPLATE_TEST_CASE("terminal progress redraws one line in place and ends it", "[progress]",
                   TASKMAP_TEST_EXECUTORS) {
  Output out;
  auto executor = make_executor<TestType>();
  bool saw_redraws = false;
  auto g = create_graph<int>({{"a", fa},
                              {"b",
                               [&](int x) {
                                 saw_redraws = out.shows("] 1/2  50% | 1 running | ", 3);
                                 return x;
                               }}},
                             {{"a", {}}, {"b", {"a"}}}, {.name = "bar"});
  const auto observer = terminal(out);
  CHECK(observer->terminal());
  executor.run(g, {.observers = {observer}});
  CHECK(saw_redraws);
  const std::string text = out.text();
  REQUIRE(!text.empty());
  CHECK(text.front() == '\r');
  CHECK(text.back() == '\n');
  CHECK(count_of(text, "\n") == 1);  // every redraw stays on the one line
  CHECK(text.find("bar [##########----------] 1/2  50% | 1 running | ") != std::string::npos);
  const std::string last = text.substr(text.rfind('\r') + 1);
  INFO(last);
  CHECK(last.rfind("bar: 2/2 tasks done in ", 0) == 0);
  CHECK(last.find(": 2 succeeded, 0 failed, 0 skipped, 0 cancelled (") != std::string::npos);
}

TEST_CASE("a long task still gets progress lines", "[progress]") {
  Output out;
  bool ticked = false;
  auto g = create_graph<int>({{"long",
                               [&] {
                                 // No event comes while this runs: only the ticker writes.
                                 ticked = out.shows("long: 0/1 tasks done (0%), 1 running", 3);
                                 return 1;
                               }}},
                             {{"long", {}}}, {.name = "long"});
  ThreadPoolExecutor executor(2);
  executor.run(g, {.observers = {plain(out, 5ms)}});
  CHECK(ticked);
  for (const std::string& line : out.lines()) {
    if (line.find("tasks done (") != std::string::npos)
      CHECK(line.find("ETA ?") != std::string::npos);
  }
}

TEMPLATE_TEST_CASE("one progress observer watches runs one after another", "[progress]",
                   TASKMAP_TEST_EXECUTORS) {
  Output out;
  auto executor = make_executor<TestType>();
  const auto observer = plain(out, 10s);  // only final lines
  auto first =
      create_graph<int>({{"a", fa}, {"b", fb}}, {{"a", {}}, {"b", {"a"}}}, {.name = "first"});
  auto second = create_graph<int>({{"d", fd}}, {{"d", {}}}, {.name = "two\nlines"});
  executor.run(first, {.observers = {observer}});
  executor.run(second, {.observers = {observer}});
  reset_tasks(first, {"b"});
  executor.run(first, {.observers = {observer}});
  const std::vector<std::string> lines = out.lines();
  REQUIRE(lines.size() == 3);
  CHECK(lines[0].rfind("first: 2/2 tasks done in ", 0) == 0);
  CHECK(lines[0].find(": 2 succeeded, 0 failed, 0 skipped, 0 cancelled (") != std::string::npos);
  CHECK(lines[1].rfind(R"(two\nlines: 1/1 tasks done in )", 0) == 0);
  CHECK(lines[1].find(": 0 succeeded, 1 failed, 0 skipped, 0 cancelled (") != std::string::npos);
  CHECK(lines[2].rfind("first: 1/1 tasks done in ", 0) == 0);
}

TEST_CASE("one progress observer survives runs that overlap on several threads",
          "[progress][stress]") {
  Output out;
  const auto observer = plain(out, 1ms);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&observer] {
      for (int round = 0; round < 50; ++round) {
        auto g = create_graph<int>({{"a", fa}, {"b", fb}}, {{"a", {}}, {"b", {"a"}}});
        run(g, {.observers = {observer}});
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  CHECK(count_of(out.text(), " tasks done in ") == 200);  // one final line per run
}

TEST_CASE("a task may run a graph with its own run's progress observer", "[progress]") {
  Output out;
  const auto observer = plain(out, 1ms);
  auto g = create_graph<int>(
      {{"outer",
        [&observer] {
          auto inner = create_graph<int>({{"a", fa}}, {{"a", {}}}, {.name = "inner"});
          run(inner, {.observers = {observer}});
          return inner.result("a");
        }}},
      {{"outer", {}}}, {.name = "outer"});
  run_parallel(g, {.ncores = 2, .observers = {observer}});
  CHECK(g.result("outer") == 5);
  CHECK(count_of(out.text(), " tasks done in ") == 2);
}

TEMPLATE_TEST_CASE("a run ended by an exception leaves the progress observer usable", "[progress]",
                   TASKMAP_TEST_EXECUTORS) {
  struct Throwing : Observer {
    void on_event(const TaskEvent& event) override {
      if (event.kind == EventKind::started) throw std::runtime_error("observer broke");
    }
  };
  Output out;
  auto executor = make_executor<TestType>();
  auto g = create_graph<int>({{"a", fa}}, {{"a", {}}}, {.name = "broken"});
  {
    const auto observer = terminal(out);
    CHECK_THROWS_AS(executor.run(g, {.observers = {observer, std::make_shared<Throwing>()}}),
                    std::runtime_error);
    // Its ticker is still going (no on_run_end came); the next run takes over.
    executor.run(g, {.observers = {observer}});
  }
  {
    const auto observer = terminal(out);
    reset_tasks(g, {"a"});
    CHECK_THROWS_AS(executor.run(g, {.observers = {observer, std::make_shared<Throwing>()}}),
                    std::runtime_error);
  }  // the destructor stops the ticker and ends the line
  const std::string text = out.text();
  CHECK(text.find("broken: 1/1 tasks done in ") != std::string::npos);
  CHECK(text.back() == '\n');
  CHECK(count_of(text, "\n") == 3);  // the broken run's line, the final line, the last line
}

TEST_CASE("progress options are checked", "[progress]") {
  CHECK_THROWS_AS(ProgressObserver(ProgressOptions{.stream = nullptr}), Error);
  CHECK_THROWS_AS(ProgressObserver(ProgressOptions{.redraw_interval = 0ms}), Error);
  CHECK_THROWS_AS(ProgressObserver(ProgressOptions{.report_interval = -1ms}), Error);
  Output out;
  CHECK_FALSE(ProgressObserver(ProgressOptions{.stream = out.stream()}).terminal());
  CHECK(ProgressObserver(ProgressOptions{.stream = out.stream(), .mode = ProgressMode::terminal})
            .terminal());
  CHECK_FALSE(ProgressObserver(ProgressOptions{.stream = out.stream(), .mode = ProgressMode::plain})
                  .terminal());
}

TEST_CASE("progress from many workers adds up", "[progress][stress]") {
  constexpr std::size_t tasks = 5000;
  Output out;
  FuncMap<int> funcs;
  DependencyMap deps;
  for (std::size_t i = 0; i < tasks; ++i) {
    const std::string name = "t" + std::to_string(i);
    funcs.emplace(name, [] { return 1; });
    deps[name] =
        i == 0 ? std::vector<std::string>{} : std::vector<std::string>{"t" + std::to_string(i / 2)};
  }
  auto g = create_graph<int>(std::move(funcs), std::move(deps), {.name = "tree"});
  ThreadPoolExecutor executor(8);
  executor.run(g, {.observers = {plain(out)}});
  const std::vector<std::string> lines = out.lines();
  REQUIRE(!lines.empty());
  for (std::size_t i = 0; i + 1 < lines.size(); ++i)
    CHECK(std::regex_match(lines[i], plain_line()));
  CHECK(lines.back().rfind("tree: 5000/5000 tasks done in ", 0) == 0);
}
