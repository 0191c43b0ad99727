// to_dot: colours per status, a legend, edges in dependency order, deterministic text, and
// names of any shape that Graphviz reads back as distinct nodes (checked with `dot` when
// it is installed).

#include <taskmap/dot.hpp>

#include <cstdint>
#include <set>
#include <span>
#include <stdexcept>
#include <stop_token>
#include <string>
#include <string_view>
#include <vector>

#include "json.hpp"
#include "test_support.hpp"

using namespace taskmap;
using namespace taskmap_test;

namespace {

constexpr TaskStatus kAllStatuses[] = {TaskStatus::pending, TaskStatus::running,
                                       TaskStatus::done,    TaskStatus::failed,
                                       TaskStatus::skipped, TaskStatus::cancelled};

std::string dot_id(std::string_view name) {
  std::string out;
  detail::append_dot_id(out, name);
  return out;
}

// The line that declares task `name`.
std::string node_line(const std::string& dot, const std::string& name) {
  const std::string prefix = "  " + dot_id(name) + " [";
  for (const std::string& line : lines_of(dot)) {
    if (line.rfind(prefix, 0) == 0) return line;
  }
  FAIL("no node line for " << name << " in\n" << dot);
  return {};
}

std::string attribute(const std::string& line, const std::string& key) {
  const std::string start = key + "=\"";
  const std::size_t at = line.find(start);
  if (at == std::string::npos) return {};
  const std::size_t end = line.find('"', at + start.size());
  return line.substr(at + start.size(), end - at - start.size());
}

// The edges between tasks, in the order of the text.
std::vector<std::string> task_edges(const std::string& dot) {
  std::vector<std::string> out;
  for (const std::string& line : lines_of(dot)) {
    if (line.rfind("  \"", 0) == 0 && line.find("\" -> \"") != std::string::npos) {
      out.push_back(line.substr(2, line.size() - 3));  // without indent and ';'
    }
  }
  return out;
}

std::string xml_unescape(std::string_view s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '&') {
      out += s[i];
      continue;
    }
    const std::size_t end = s.find(';', i);
    REQUIRE(end != std::string_view::npos);
    const std::string entity(s.substr(i + 1, end - i - 1));
    if (entity == "amp") {
      out += '&';
    } else if (entity == "lt") {
      out += '<';
    } else if (entity == "gt") {
      out += '>';
    } else if (entity == "quot") {
      out += '"';
    } else if (entity == "apos") {
      out += '\'';
    } else if (entity.size() > 2 && entity[0] == '#' && entity[1] == 'x') {
      json::append_utf8(out, static_cast<std::uint32_t>(std::stoul(entity.substr(2), nullptr, 16)));
    } else if (entity.size() > 1 && entity[0] == '#') {
      json::append_utf8(out, static_cast<std::uint32_t>(std::stoul(entity.substr(1))));
    } else {
      FAIL("unknown entity &" << entity << ";");
    }
    i = end;
  }
  return out;
}

// The <title> of every node group of an SVG written by dot: the node's id as DOT read it.
std::vector<std::string> svg_node_titles(const std::string& svg) {
  std::vector<std::string> out;
  const std::string marker = "class=\"node\">";
  for (std::size_t at = svg.find(marker); at != std::string::npos; at = svg.find(marker, at + 1)) {
    const std::size_t open = svg.find("<title>", at);
    const std::size_t close = svg.find("</title>", open);
    REQUIRE((open != std::string::npos && close != std::string::npos));
    out.push_back(xml_unescape(std::string_view(svg).substr(open + 7, close - open - 7)));
  }
  return out;
}

// Inverts the id escaping of to_dot: \\ \n \r \xHH. Other text is kept.
std::string decode_id(std::string_view id) {
  std::string out;
  for (std::size_t i = 0; i < id.size(); ++i) {
    if (id[i] != '\\' || i + 1 == id.size()) {
      out += id[i];
      continue;
    }
    const char next = id[++i];
    if (next == 'n') {
      out += '\n';
    } else if (next == 'r') {
      out += '\r';
    } else if (next == 'x' && i + 2 < id.size()) {
      out += static_cast<char>(std::stoi(std::string(id.substr(i + 1, 2)), nullptr, 16));
      i += 2;
    } else {
      out += next;
    }
  }
  return out;
}

bool dot_available() {
  static const bool available = has_command("dot");
  return available;
}

struct Rendered {
  bool ok = false;
  std::string svg;
  std::string errors;
};

// Renders DOT text to SVG with Graphviz.
Rendered render_svg(const std::string& dot) {
  TempDir dir("taskmap-dot");
  write_file(dir / "g.dot", dot);
  Rendered r;
  r.ok = run_command("dot -Tsvg -o " + shell_quote(dir / "g.svg") + " " +
                     shell_quote(dir / "g.dot") + " 2>" + shell_quote(dir / "err.txt"));
  r.svg = read_file(dir / "g.svg");
  r.errors = read_file(dir / "err.txt");
  return r;
}

}  // namespace

TEST_CASE("every status has its own colour", "[dot]") {
  std::set<std::string_view> colours;
  for (const TaskStatus s : kAllStatuses) {
    const std::string_view c = status_colour(s);
    CHECK(c.size() == 7);
    CHECK(c[0] == '#');
    colours.insert(c);
  }
  CHECK(colours.size() == 6);
}

TEST_CASE("to_dot colours each task by its status and draws a legend", "[dot]") {
  auto g = create_graph<int>({{"ok", fa}, {"boom", fd}, {"child", fb}},
                             {{"ok", {}}, {"boom", {}}, {"child", {"boom"}}}, {.name = "statuses"});
  run(g);
  g.add_task("cancelled", fb, {"ok"});
  std::stop_source stop;
  stop.request_stop();
  run(g, {.stop_token = stop.get_token()});
  g.add_task("pending", fb, {"ok"});
  REQUIRE(g.status("ok") == TaskStatus::done);
  REQUIRE(g.status("boom") == TaskStatus::failed);
  REQUIRE(g.status("child") == TaskStatus::skipped);
  REQUIRE(g.status("cancelled") == TaskStatus::cancelled);
  REQUIRE(g.status("pending") == TaskStatus::pending);

  const std::string dot = to_dot(g);
  CHECK(dot.rfind("digraph \"statuses\" {\n", 0) == 0);
  CHECK(dot.substr(dot.size() - 2) == "}\n");
  for (const std::string& task : g.tasks()) {
    INFO("task " << task);
    const std::string line = node_line(dot, task);
    CHECK(attribute(line, "fillcolor") == status_colour(g.status(task)));
    CHECK(attribute(line, "label") == task);
  }
  CHECK(attribute(node_line(dot, "boom"), "tooltip") == "failed: some error");
  CHECK(attribute(node_line(dot, "child"), "tooltip") ==
        "skipped: Ancestor task boom failed; task not run");
  CHECK(attribute(node_line(dot, "ok"), "tooltip") == "done");

  // The legend: one node per status, in its colour, inside cluster_legend.
  CHECK(count_of(dot, "subgraph cluster_legend {") == 1);
  for (const TaskStatus s : kAllStatuses) {
    const std::string legend = fmt::format("\"\\legend:{0}\" [label=\"{0}\", fillcolor=\"{1}\"];",
                                           to_string(s), status_colour(s));
    CHECK(count_of(dot, legend) == 1);
  }
  CHECK(count_of(to_dot(g, {.legend = false}), "legend") == 0);
}

TEST_CASE("to_dot lists tasks and edges in dependency order", "[dot]") {
  auto g = create_graph<int>(
      {{"a", fa}, {"b", fb}, {"c", fc}, {"d", fc}, {"z", fa}, {"y", fb}},
      {{"d", {"c", "a"}}, {"c", {"b", "a"}}, {"b", {"a"}}, {"a", {}}, {"z", {}}, {"y", {"z"}}});
  const std::string dot = to_dot(g);
  CHECK(task_edges(dot) == std::vector<std::string>{"\"a\" -> \"b\"", "\"b\" -> \"c\"",
                                                    "\"a\" -> \"c\"", "\"c\" -> \"d\"",
                                                    "\"a\" -> \"d\"", "\"z\" -> \"y\""});
  // Nodes: among tasks whose dependencies are listed, the smallest name first.
  std::vector<std::string> nodes;
  for (const std::string& line : lines_of(dot)) {
    if (line.rfind("  \"", 0) == 0 && line.find(" [label=") != std::string::npos) {
      nodes.push_back(line.substr(3, line.find('"', 3) - 3));
    }
  }
  CHECK(nodes == std::vector<std::string>{"a", "b", "c", "d", "z", "y"});
}

TEST_CASE("to_dot is deterministic", "[dot]") {
  const DependencyMap deps{{"fetch", {}},
                           {"parse", {"fetch"}},
                           {"index", {"parse"}},
                           {"stats", {"parse"}},
                           {"report", {"index", "stats", "fetch"}},
                           {"cleanup", {"report"}},
                           {"lonely", {}}};
  auto build = [&](const std::vector<std::string>& order) {
    FuncMap<int> funcs;
    DependencyMap ordered;
    for (const std::string& name : order) {
      funcs.emplace(name, [](std::span<const int>) { return 1; });
      ordered.emplace(name, deps.at(name));
    }
    return create_graph<int>(std::move(funcs), std::move(ordered));
  };
  const auto g1 = build({"fetch", "parse", "index", "stats", "report", "cleanup", "lonely"});
  const auto g2 = build({"lonely", "cleanup", "report", "stats", "index", "parse", "fetch"});
  TaskGraph<int> g3;
  for (const std::string name :
       {"lonely", "fetch", "parse", "stats", "index", "report", "cleanup"}) {
    g3.add_task(
        name, [](std::span<const int>) { return 1; }, deps.at(name));
  }
  const std::string text = to_dot(g1);
  CHECK(to_dot(g1) == text);
  CHECK(to_dot(g2) == text);
  CHECK(to_dot(g3) == text);
}

TEST_CASE("to_dot of an empty graph", "[dot]") {
  const TaskGraph<int> empty("nothing");
  const std::string dot = to_dot(empty);
  CHECK(dot.rfind("digraph \"nothing\" {\n", 0) == 0);
  CHECK(task_edges(dot).empty());
  const std::string bare = to_dot(empty, {.legend = false});
  CHECK(count_of(bare, "->") == 0);
  CHECK(count_of(bare, "[label=") == 0);
  if (!dot_available()) {
    WARN("Graphviz's dot is not on PATH: rendering not checked");
    return;
  }
  const Rendered with_legend = render_svg(dot);
  REQUIRE(with_legend.ok);
  CHECK(with_legend.errors.empty());
  CHECK(count_of(with_legend.svg, "class=\"node\"") == 6);
  CHECK(count_of(with_legend.svg, "class=\"edge\"") == 0);
  const Rendered without = render_svg(bare);
  REQUIRE(without.ok);
  CHECK(count_of(without.svg, "class=\"node\"") == 0);
}

TEST_CASE("to_dot options set the direction and the legend", "[dot]") {
  auto g = create_graph<int>({{"a", fa}, {"b", fb}}, {{"a", {}}, {"b", {"a"}}});
  CHECK(count_of(to_dot(g), "rankdir=TB") == 1);
  CHECK(count_of(to_dot(g, {.rankdir = RankDir::left_to_right}), "rankdir=LR") == 1);
  CHECK(count_of(to_dot(g, {.rankdir = RankDir::bottom_to_top}), "rankdir=BT") == 1);
  CHECK(count_of(to_dot(g, {.rankdir = RankDir::right_to_left}), "rankdir=RL") == 1);
  CHECK(count_of(to_dot(g, {.legend = false}), "cluster_legend") == 0);
}

TEST_CASE("any task name is a distinct, valid DOT node", "[dot]") {
  const std::vector<std::string> names{
      "node",
      "edge",
      "graph",
      "subgraph",
      "digraph",
      "strict",
      "->",
      "--",
      " ",
      "",
      "with space",
      "quote\"inside",
      "\"",
      "\\",
      "back\\slash",
      "ends with backslash\\",
      "\\\"",
      "new\nline",
      "cr\rx",
      "tab\tx",
      std::string("ctrl\x01\x7f nul\0x", 12),
      "\xC3\xBCn\xC3\xAF\x63\xC3\xB8\x64\xC3\xA9 \xE2\x9C\x93 \xE6\x97\xA5\xE6\x9C\xAC "
      "\xF0\x9F\x8E\x89",
      "\\legend:pending",
      "\\\\legend:pending",
      "\\l",
      "\\N",
      "\\G",
      "a\\nb",
      "{",
      "}",
      "[label=x]",
      ";",
      "=",
      "<html>",
      "<b>bold</b>",
      "cluster_legend",
      "bad \xff",
      "bad \xfe",
      "\xC3",
      "\xE2\x82"};
  // A chain through every name, and every third task also depends on the first.
  TaskGraph<int> g("graph \"name\"\n\\ \xff");
  std::size_t edges = 0;
  for (std::size_t i = 0; i < names.size(); ++i) {
    std::vector<std::string> deps;
    if (i > 0) deps.push_back(names[i - 1]);
    if (i > 1 && i % 3 == 0) deps.push_back(names[0]);
    edges += deps.size();
    g.add_task(
        names[i], [](std::span<const int>) { return 1; }, deps);
  }
  run(g);

  for (const RankDir dir : {RankDir::top_to_bottom, RankDir::left_to_right}) {
    const std::string dot = to_dot(g, {.rankdir = dir});
    CHECK(task_edges(dot).size() == edges);
    if (!dot_available()) {
      WARN("Graphviz's dot is not on PATH: DOT validity not checked");
      return;
    }
    const Rendered r = render_svg(dot);
    INFO(dot);
    REQUIRE(r.ok);
    CHECK(r.errors.empty());
    CHECK(count_of(r.svg, "class=\"node\"") == names.size() + 6);
    CHECK(count_of(r.svg, "class=\"edge\"") == edges);
    CHECK(count_of(r.svg, "class=\"cluster\"") == 1);

    // dot read every task as its own node: the ids decode back to the names.
    std::multiset<std::string> decoded;
    std::multiset<std::string> legend;
    for (const std::string& title : svg_node_titles(r.svg)) {
      if (title.rfind("\\legend:", 0) == 0) {
        legend.insert(title);
      } else {
        decoded.insert(decode_id(title));
      }
    }
    CHECK(decoded == std::multiset<std::string>(names.begin(), names.end()));
    CHECK(legend.size() == 6);
    // Labels show the names; invalid UTF-8 as U+FFFD.
    CHECK(count_of(r.svg, "\xC3\xBCn\xC3\xAF\x63\xC3\xB8\x64\xC3\xA9") >= 1);
    CHECK(count_of(r.svg, "bad \xEF\xBF\xBD") == 2);
  }
}

TEST_CASE("to_dot writes a trigger rule under the task's name", "[dot][trigger]") {
  auto g = create_graph<int>(
      {{"a", fa},
       {"b", fa},
       {"quorum", [](std::span<const int> v) { return static_cast<int>(v.size()); }}},
      {{"a", {}}, {"b", {}}, {"quorum", {"a", "b"}}},
      {.triggers = {{"quorum", Trigger::n_success(1)}}});
  const std::string dot = to_dot(g);
  CHECK(dot.find("\"quorum\" [label=\"quorum\\ntrigger: n_success(1)\"") != std::string::npos);
  CHECK(dot.find("\"a\" [label=\"a\",") != std::string::npos);  // no rule: the name alone
}
