// TraceObserver: the file is valid JSON in the trace-event format with one slice per executed
// task, whatever the executor, the names or the way the run ended.

#include <taskmap/observers/trace_observer.hpp>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <filesystem>
#include <map>
#include <memory>
#include <set>
#include <stdexcept>
#include <stop_token>
#include <string>
#include <thread>
#include <vector>

#include "executors.hpp"
#include "json.hpp"
#include "test_support.hpp"

using namespace taskmap;
using namespace taskmap_test;

namespace {

// One event of the trace, with the fields the tests look at.
struct Event {
  std::string name;
  std::string ph;
  std::string cat;
  std::string scope;
  std::string cname;
  std::string status;
  std::string error;
  std::string arg_name;  // args.name of metadata events
  double ts = 0;
  double dur = 0;
  double pid = 0;
  double tid = 0;
};

struct Trace {
  std::vector<Event> events;

  [[nodiscard]] std::vector<Event> with(const std::string& ph, const std::string& cat = "") const {
    std::vector<Event> out;
    for (const Event& e : events) {
      if (e.ph == ph && (cat.empty() || e.cat == cat)) out.push_back(e);
    }
    return out;
  }
  [[nodiscard]] std::vector<Event> slices() const { return with("X", "task"); }
  [[nodiscard]] std::vector<Event> instants() const { return with("i", "task"); }
  [[nodiscard]] const Event* find(const std::string& ph, const std::string& name) const {
    for (const Event& e : events) {
      if (e.ph == ph && e.name == name) return &e;
    }
    return nullptr;
  }
  [[nodiscard]] const Event* metadata(const std::string& name, double pid, double tid) const {
    for (const Event& e : events) {
      if (e.ph == "M" && e.name == name && e.pid == pid && e.tid == tid) return &e;
    }
    return nullptr;
  }
};

std::string string_member(const json::Value& object, std::string_view key) {
  const json::Value* v = object.find(key);
  if (v == nullptr) return {};
  REQUIRE(v->is_string());
  return v->string();
}

double number_member(const json::Value& object, std::string_view key) {
  const json::Value& v = object.at(key);
  REQUIRE(v.is_number());
  return v.number();
}

bool python_available() {
  static const bool available = has_command("python3");
  return available;
}

// Checks the file is strict JSON in the trace-event object format, and returns its events.
Trace load_trace(const std::filesystem::path& path) {
  const std::string text = read_file(path);
  json::Value root;
  try {
    root = json::parse(text);
  } catch (const json::ParseError& e) {
    FAIL("trace is not valid JSON: " << e.what() << "\n" << text);
  }
  REQUIRE(root.is_object());
  REQUIRE(root.size() == 2);
  REQUIRE(string_member(root, "displayTimeUnit") == "ms");
  REQUIRE(root.at("traceEvents").is_array());
  Trace trace;
  for (const json::Value& item : root.at("traceEvents").array()) {
    REQUIRE(item.is_object());
    Event e;
    e.name = string_member(item, "name");
    e.ph = string_member(item, "ph");
    e.cat = string_member(item, "cat");
    e.scope = string_member(item, "s");
    e.cname = string_member(item, "cname");
    e.pid = number_member(item, "pid");
    e.tid = number_member(item, "tid");
    if (e.ph == "X" || e.ph == "i") e.ts = number_member(item, "ts");
    if (e.ph == "X") e.dur = number_member(item, "dur");
    if (const json::Value* args = item.find("args")) {
      REQUIRE(args->is_object());
      if (e.ph == "M") {
        if (args->find("name") != nullptr) e.arg_name = string_member(*args, "name");
        if (args->find("labels") != nullptr) e.arg_name = string_member(*args, "labels");
      } else {
        e.status = string_member(*args, "status");
        e.error = string_member(*args, "error");
      }
    }
    REQUIRE((e.ph == "X" || e.ph == "i" || e.ph == "M"));
    trace.events.push_back(std::move(e));
  }
  if (python_available()) {
    CHECK(run_command("python3 -m json.tool " + shell_quote(path) + " >/dev/null"));
  }
  return trace;
}

std::multiset<std::string> names_of(const std::vector<Event>& events) {
  std::multiset<std::string> out;
  for (const Event& e : events) out.insert(e.name);
  return out;
}

}  // namespace

TEST_CASE("the test JSON parser accepts JSON and rejects everything else", "[trace][json]") {
  const json::Value v =
      json::parse(R"( {"a": [1, -0.5, 2e3, true, false, null], "s": "\u00e9\ud83c\udf89\n"} )");
  CHECK(v.at("a").array().size() == 6);
  CHECK(v.at("a").array()[2].number() == 2000.0);
  CHECK(v.at("s").string() == "\xC3\xA9\xF0\x9F\x8E\x89\n");
  CHECK(json::parse("\"\xE6\x97\xA5\"").string() == "\xE6\x97\xA5");
  for (const std::string bad : {"",
                                "{",
                                "[1,]",
                                "{\"a\":1,}",
                                "01",
                                "1.",
                                ".5",
                                "+1",
                                "\"a\nb\"",
                                "\"\\x\"",
                                "\"\xff\"",
                                "\"\xC0\xAF\"",
                                "\"\xED\xA0\x80\"",
                                "\"\\ud800\"",
                                "\"\\udc00\"",
                                "{\"a\":1,\"a\":2}",
                                "[] []",
                                "tru",
                                "\"open",
                                "{'a':1}",
                                "NaN"}) {
    INFO("input: " << bad);
    CHECK_THROWS_AS(json::parse(bad), json::ParseError);
  }
}

TEST_CASE("JSON strings are escaped and invalid UTF-8 replaced", "[trace]") {
  auto json_of = [](std::string_view s) {
    std::string out;
    detail::append_json_string(out, s);
    return out;
  };
  CHECK(json_of("plain") == "\"plain\"");
  CHECK(json_of("a\"b\\c") == R"("a\"b\\c")");
  CHECK(json_of(std::string("\x01\n\t\x1f\x7f\0", 6)) ==
        R"("\u0001\u000a\u0009\u001f\u007f\u0000")");
  CHECK(json_of("\xC3\xA9 \xE2\x9C\x93 \xF0\x9F\x8E\x89") ==
        "\"\xC3\xA9 \xE2\x9C\x93 \xF0\x9F\x8E\x89\"");
  const std::string fffd = "\xEF\xBF\xBD";
  CHECK(json_of("\xff") == "\"" + fffd + "\"");
  CHECK(json_of("a\xE2\x82") == "\"a" + fffd + fffd + "\"");                      // truncated
  CHECK(json_of("\xC0\xAF") == "\"" + fffd + fffd + "\"");                        // overlong
  CHECK(json_of("\xED\xA0\x80") == "\"" + fffd + fffd + fffd + "\"");             // surrogate
  CHECK(json_of("\xF4\x90\x80\x80") == "\"" + fffd + fffd + fffd + fffd + "\"");  // > U+10FFFF
  CHECK(json_of("\xF4\x8F\xBF\xBF") == "\"\xF4\x8F\xBF\xBF\"");                   // U+10FFFF itself
  CHECK(json_of("\xEF\xBF\xBF") == "\"\xEF\xBF\xBF\"");                           // U+FFFF
}

TEMPLATE_TEST_CASE("the trace has one slice per executed task, failures marked", "[trace]",
                   TASKMAP_TEST_EXECUTORS) {
  auto executor = make_executor<TestType>(3);
  TempDir dir("taskmap-trace");
  const auto path = dir / "run.trace.json";
  auto trace = std::make_shared<TraceObserver>(path);
  CHECK(trace->path() == path);

  FuncMap<int> funcs{
      {"a", fa},          {"b", fb},
      {"c", fb},          {"boom", []() -> int { throw std::runtime_error("it went \"boom\""); }},
      {"after boom", fb}, {"after after", fb}};
  DependencyMap deps{{"a", {}},
                     {"b", {"a"}},
                     {"c", {"b"}},
                     {"boom", {}},
                     {"after boom", {"boom"}},
                     {"after after", {"after boom"}}};
  for (int i = 0; i < 40; ++i) {
    funcs.emplace("w" + std::to_string(i), fa);
    deps.emplace("w" + std::to_string(i), std::vector<std::string>{});
  }
  auto g = create_graph<int>(funcs, deps, {.name = "traced"});
  const RunSummary summary = executor.run(g, {.observers = {trace}});
  REQUIRE(summary.succeeded == 43);
  REQUIRE(summary.failed == 1);
  REQUIRE(summary.skipped == 2);

  const Trace t = load_trace(path);
  const std::vector<Event> slices = t.slices();
  CHECK(slices.size() == summary.succeeded + summary.failed);
  std::multiset<std::string> executed;
  for (const auto& name : g.done()) executed.insert(name);
  executed.insert("boom");
  CHECK(names_of(slices) == executed);

  for (const Event& s : slices) {
    INFO("slice " << s.name);
    CHECK(s.dur >= 0);
    CHECK(s.ts >= 0);
    CHECK(s.pid == 1);
    CHECK(s.status == (s.name == "boom" ? "failed" : "done"));
    const Event* thread = t.metadata("thread_name", s.pid, s.tid);
    REQUIRE(thread != nullptr);
    CHECK(thread->arg_name == "worker " + std::to_string(static_cast<int>(s.tid)));
  }
  const Event* boom = t.find("X", "boom");
  REQUIRE(boom != nullptr);
  CHECK(boom->cname == "terrible");
  CHECK(boom->error == "it went \"boom\"");

  const std::vector<Event> instants = t.instants();
  CHECK(instants.size() == summary.skipped);
  CHECK(names_of(instants) == std::multiset<std::string>{"after boom", "after after"});
  for (const Event& i : instants) {
    CHECK(i.scope == "t");
    CHECK(i.status == "skipped");
    CHECK(i.error == "Ancestor task boom failed; task not run");
  }

  // A chain's slices follow each other, whichever workers ran them.
  const Event* a = t.find("X", "a");
  const Event* b = t.find("X", "b");
  const Event* c = t.find("X", "c");
  REQUIRE((a != nullptr && b != nullptr && c != nullptr));
  CHECK(a->ts + a->dur <= b->ts + 1e-3);
  CHECK(b->ts + b->dur <= c->ts + 1e-3);

  const Event* process = t.metadata("process_name", 1, 0);
  REQUIRE(process != nullptr);
  CHECK(process->arg_name == "traced");
  const Event* labels = t.metadata("process_labels", 1, 0);
  REQUIRE(labels != nullptr);
  CHECK(labels->arg_name == "run 1: 43 succeeded, 1 failed, 2 skipped, 0 cancelled");
}

TEMPLATE_TEST_CASE("cancelled tasks are instant events", "[trace]", TASKMAP_TEST_EXECUTORS) {
  auto executor = make_executor<TestType>(1);
  TempDir dir("taskmap-trace");
  auto trace = std::make_shared<TraceObserver>(dir / "t.json");
  std::stop_source stop;
  auto g = create_graph<int>({{"first",
                               [&] {
                                 stop.request_stop();
                                 return 1;
                               }},
                              {"second", fb},
                              {"third", fb}},
                             {{"first", {}}, {"second", {"first"}}, {"third", {"second"}}});
  const RunSummary summary =
      executor.run(g, {.stop_token = stop.get_token(), .observers = {trace}});
  REQUIRE(summary.cancelled == 2);
  const Trace t = load_trace(dir / "t.json");
  CHECK(names_of(t.slices()) == std::multiset<std::string>{"first"});
  const std::vector<Event> instants = t.instants();
  CHECK(names_of(instants) == std::multiset<std::string>{"second", "third"});
  for (const Event& i : instants) CHECK(i.status == "cancelled");
}

TEST_CASE("one observer over two runs writes both into one file", "[trace]") {
  TempDir dir("taskmap-trace");
  const auto path = dir / "two.json";
  auto trace = std::make_shared<TraceObserver>(path);
  CHECK(load_trace(path).events.empty());  // the constructor wrote an empty trace

  bool broken = true;
  auto g = create_graph<int>({{"load", fa},
                              {"parse",
                               [&](int x) {
                                 if (broken) throw std::runtime_error("bad header");
                                 return x;
                               }},
                              {"report", fb}},
                             {{"load", {}}, {"parse", {"load"}}, {"report", {"parse"}}},
                             {.name = "etl"});
  run(g, {.observers = {trace}});
  const Trace first = load_trace(path);
  CHECK(names_of(first.slices()) == std::multiset<std::string>{"load", "parse"});

  broken = false;
  reset_failed_tasks(g);
  run_parallel(g, {.ncores = 2, .observers = {trace}});
  const Trace both = load_trace(path);
  std::vector<Event> run1;
  std::vector<Event> run2;
  for (const Event& s : both.slices()) (s.pid == 1 ? run1 : run2).push_back(s);
  CHECK(names_of(run1) == std::multiset<std::string>{"load", "parse"});
  CHECK(names_of(run2) == std::multiset<std::string>{"parse", "report"});
  for (const Event& s : run2) CHECK(s.pid == 2);
  for (const double pid : {1.0, 2.0}) {
    const Event* process = both.metadata("process_name", pid, 0);
    REQUIRE(process != nullptr);
    CHECK(process->arg_name == "etl");
  }
  // The second run comes after the first on the shared time line.
  double first_end = 0;
  for (const Event& s : run1) first_end = std::max(first_end, s.ts + s.dur);
  for (const Event& s : run2) CHECK(s.ts >= first_end - 1e-3);
}

TEST_CASE("any task name gives valid JSON", "[trace]") {
  TempDir dir("taskmap-trace");
  const auto path = dir / "names.json";
  auto trace = std::make_shared<TraceObserver>(path);
  const std::string fffd = "\xEF\xBF\xBD";
  // name -> how it reads back from the JSON
  const std::map<std::string, std::string> names{
      {"say \"hi\"", "say \"hi\""},
      {"back\\slash\\", "back\\slash\\"},
      {"tab\there\nnew line\r", "tab\there\nnew line\r"},
      {std::string("ctrl\x01\x1f\x7f nul\0end", 15), std::string("ctrl\x01\x1f\x7f nul\0end", 15)},
      {"\xC3\xBCn\xC3\xAF\x63\xC3\xB8\x64\xC3\xA9 \xE2\x9C\x93 \xE6\x97\xA5\xE6\x9C\xAC "
       "\xF0\x9F\x8E\x89",
       "\xC3\xBCn\xC3\xAF\x63\xC3\xB8\x64\xC3\xA9 \xE2\x9C\x93 \xE6\x97\xA5\xE6\x9C\xAC "
       "\xF0\x9F\x8E\x89"},
      {"bad \xff\xfe byte", "bad " + fffd + fffd + " byte"},
      {"truncated \xE2\x82", "truncated " + fffd + fffd},
      {"overlong \xC0\xAF", "overlong " + fffd + fffd},
      {"surrogate \xED\xA0\x80", "surrogate " + fffd + fffd + fffd},
      {"</script>{\"x\":[1,]}", "</script>{\"x\":[1,]}"},
      {"", ""},
  };
  FuncMap<int> funcs;
  DependencyMap deps;
  for (const auto& [name, expected] : names) {
    funcs.emplace(name, [] { return 1; });
    deps.emplace(name, std::vector<std::string>{});
  }
  funcs.emplace("fails \xff", []() -> int { throw std::runtime_error("what \"\\\n\x01\xff"); });
  deps.emplace("fails \xff", std::vector<std::string>{});
  funcs.emplace("skipped \"child\"", fb);
  deps.emplace("skipped \"child\"", std::vector<std::string>{"fails \xff"});
  auto g = create_graph<int>(funcs, deps, {.name = "graph \"\xff\" \\ name"});
  run(g, {.observers = {trace}});

  const Trace t = load_trace(path);
  std::multiset<std::string> expected;
  for (const auto& [name, reads_as] : names) expected.insert(reads_as);
  expected.insert("fails " + fffd);
  CHECK(names_of(t.slices()) == expected);
  const Event* failed = t.find("X", "fails " + fffd);
  REQUIRE(failed != nullptr);
  CHECK(failed->error == "what \"\\\n\x01" + fffd);
  CHECK(names_of(t.instants()) == std::multiset<std::string>{"skipped \"child\""});
  const Event* process = t.metadata("process_name", 1, 0);
  REQUIRE(process != nullptr);
  CHECK(process->arg_name == "graph \"" + fffd + "\" \\ name");
}

TEST_CASE("a trace file that cannot be written is an error naming it", "[trace]") {
  TempDir dir("taskmap-trace");
  const auto missing = dir / "no such directory" / "t.json";
  CHECK_THROWS_AS(TraceObserver(missing), Error);
  CHECK_THROWS_WITH(TraceObserver(missing), Catch::Matchers::Contains(missing.string()));
  CHECK_THROWS_WITH(TraceObserver(dir.path()), Catch::Matchers::Contains(dir.path().string()));
  CHECK_THROWS_AS(TraceObserver(""), Error);

  // The directory disappears before the run ends: the run reports it.
  const auto sub = dir / "sub";
  std::filesystem::create_directory(sub);
  auto trace = std::make_shared<TraceObserver>(sub / "t.json");
  std::filesystem::remove_all(sub);
  auto g = create_graph<int>({{"a", fa}}, {{"a", {}}});
  CHECK_THROWS_WITH(run(g, {.observers = {trace}}),
                    Catch::Matchers::Contains((sub / "t.json").string()));
  CHECK(g.status("a") == TaskStatus::done);
  run(g, {});  // the graph is not left running
}

TEMPLATE_TEST_CASE("a run ended by an observer's exception is still written", "[trace]",
                   TASKMAP_TEST_EXECUTORS) {
  struct Breaks : Observer {
    void on_event(const TaskEvent& event) override {
      if (event.kind == EventKind::started && event.task == "b") {
        throw std::runtime_error("observer broke");
      }
    }
  };
  auto executor = make_executor<TestType>(2);
  TempDir dir("taskmap-trace");
  const auto path = dir / "t.json";
  auto trace = std::make_shared<TraceObserver>(path);
  auto g = create_graph<int>({{"a", fa}, {"b", fb}, {"c", fb}},
                             {{"a", {}}, {"b", {"a"}}, {"c", {"b"}}}, {.name = "broken"});
  CHECK_THROWS_WITH(executor.run(g, {.observers = {trace, std::make_shared<Breaks>()}}),
                    "observer broke");
  // on_run_end still came (quietly), so the file is written at once.
  const Trace t = load_trace(path);
  const Event* a = t.find("X", "a");
  const Event* b = t.find("X", "b");
  REQUIRE(a != nullptr);
  REQUIRE(b != nullptr);
  CHECK(a->status == "done");
  CHECK(b->status == "unfinished");
  CHECK(b->dur >= 0);
  CHECK(t.find("X", "c") == nullptr);
  const Event* labels = t.metadata("process_labels", 1, 0);
  REQUIRE(labels != nullptr);
  CHECK(labels->arg_name == "run 1: 1 succeeded, 0 failed, 0 skipped, 0 cancelled");
}

TEST_CASE("a run an observer's exception ended and the next run are two runs", "[trace]") {
  struct BreaksOnce : Observer {
    bool armed = true;
    void on_event(const TaskEvent& event) override {
      if (armed && event.kind == EventKind::finished) {
        armed = false;
        throw std::runtime_error("observer broke");
      }
    }
  };
  TempDir dir("taskmap-trace");
  const auto path = dir / "t.json";
  auto trace = std::make_shared<TraceObserver>(path);
  auto breaks = std::make_shared<BreaksOnce>();
  auto g = create_graph<int>({{"a", fa}, {"b", fb}}, {{"a", {}}, {"b", {"a"}}});
  CHECK_THROWS(run(g, {.observers = {trace, breaks}}));
  run(g, {.observers = {trace, breaks}});
  const Trace t = load_trace(path);
  CHECK(t.metadata("process_labels", 1, 0)->arg_name ==
        "run 1: 1 succeeded, 0 failed, 0 skipped, 0 cancelled");
  CHECK(t.metadata("process_labels", 2, 0)->arg_name ==
        "run 2: 1 succeeded, 0 failed, 0 skipped, 0 cancelled");
  std::map<double, std::multiset<std::string>> slices;
  for (const Event& s : t.slices()) slices[s.pid].insert(s.name);
  // a had finished when the observer after the trace broke the run; the next run does b.
  CHECK(slices[1] == std::multiset<std::string>{"a"});
  CHECK(slices[2] == std::multiset<std::string>{"b"});
}

TEST_CASE("concurrent runs of differently named graphs share one observer", "[trace]") {
  TempDir dir("taskmap-trace");
  const auto path = dir / "t.json";
  auto trace = std::make_shared<TraceObserver>(path);
  auto make = [](const std::string& name) {
    FuncMap<int> funcs;
    DependencyMap deps;
    for (int i = 0; i < 200; ++i) {
      funcs.emplace("t" + std::to_string(i), fa);
      deps.emplace("t" + std::to_string(i), std::vector<std::string>{});
    }
    return create_graph<int>(funcs, deps, {.name = name});
  };
  auto g1 = make("one");
  auto g2 = make("two");
  std::thread other([&] { run_parallel(g2, {.ncores = 3, .observers = {trace}}); });
  run_parallel(g1, {.ncores = 3, .observers = {trace}});
  other.join();
  const Trace t = load_trace(path);
  std::map<double, std::string> process;
  for (const double pid : {1.0, 2.0}) {
    const Event* p = t.metadata("process_name", pid, 0);
    REQUIRE(p != nullptr);
    process[pid] = p->arg_name;
  }
  CHECK(std::set<std::string>{process[1], process[2]} == std::set<std::string>{"one", "two"});
  std::map<double, int> count;
  for (const Event& s : t.slices()) ++count[s.pid];
  CHECK(count[1] == 200);
  CHECK(count[2] == 200);
}

TEST_CASE("a sub-graph of the same name run from a task is part of the open run", "[trace]") {
  TempDir dir("taskmap-trace");
  const auto path = dir / "t.json";
  auto trace = std::make_shared<TraceObserver>(path);
  auto g = create_graph<int>({{"outer",
                               [&trace] {
                                 auto inner = create_graph<int>({{"inner", fa}}, {{"inner", {}}});
                                 run(inner, {.observers = {trace}});
                                 return inner.result("inner");
                               }},
                              {"after", fb}},
                             {{"outer", {}}, {"after", {"outer"}}});  // both named "taskmap"
  run_parallel(g, {.ncores = 2, .observers = {trace}});
  const Trace t = load_trace(path);
  std::map<double, std::multiset<std::string>> slices;
  for (const Event& s : t.slices()) slices[s.pid].insert(s.name);
  CHECK(slices.size() == 1);  // one run in the file
  CHECK(slices[1] == std::multiset<std::string>{"after", "inner", "outer"});
  const Event* outer = t.find("X", "outer");
  REQUIRE(outer != nullptr);
  CHECK(outer->status == "done");
}
