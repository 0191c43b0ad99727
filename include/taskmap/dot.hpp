#pragma once
/// @file dot.hpp
/// to_dot: a graph and the status of its tasks as Graphviz DOT text.

#include <cstddef>
#include <cstdint>
#include <functional>
#include <iterator>
#include <queue>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>

#include "taskmap/detail/append_format.hpp"
#include "taskmap/detail/describe_exception.hpp"
#include "taskmap/detail/utf8_escape.hpp"
#include "taskmap/graph.hpp"
#include "taskmap/task_status.hpp"

namespace taskmap {

/// The direction of a drawing's dependency edges (Graphviz's rankdir).
enum class RankDir : std::uint8_t { top_to_bottom, left_to_right, bottom_to_top, right_to_left };

/// Options of to_dot; an aggregate: `to_dot(g, {.rankdir = RankDir::left_to_right})`.
struct DotOptions {
  /// Which way dependency edges point in the drawing.
  RankDir rankdir = RankDir::top_to_bottom;
  /// Draw a legend: one node per status in its colour.
  bool legend = true;
};

/// The fill colour to_dot gives a task of that status, as "#rrggbb". Every status has its
/// own, light enough for black text.
[[nodiscard]] constexpr std::string_view status_colour(TaskStatus status) noexcept {
  switch (status) {
    case TaskStatus::pending:
      return "#e0e0e0";  // grey
    case TaskStatus::running:
      return "#90caf9";  // blue
    case TaskStatus::done:
      return "#a5d6a7";  // green
    case TaskStatus::failed:
      return "#ef9a9a";  // red
    case TaskStatus::skipped:
      return "#ffcc80";  // orange
    case TaskStatus::cancelled:
      return "#ce93d8";  // purple
  }
  return "#ffffff";
}

/// The graph as Graphviz DOT text: `digraph "<graph name>" {...}`, one box per task filled
/// with the colour of its status (status_colour), a failed or skipped task's error in its
/// tooltip, a trigger rule other than all_success under the name, and an edge from each
/// dependency to its dependent. Tasks come in dependency
/// order (among tasks whose dependencies are all listed, the smallest name first) and each
/// task's incoming edges in declared order, so the same graph always gives the same text.
/// Names are quoted and escaped: any name, DOT keywords, quotes, backslashes, newlines and
/// invalid UTF-8 included, is a distinct node whose label shows it (invalid bytes as U+FFFD).
/// Thread safety: like any const member of the graph, not while the graph runs.
template <class T>
[[nodiscard]] std::string to_dot(const TaskGraph<T>& graph, const DotOptions& options = {});

// ---------------------------------------------------------------------------------------
// Implementation

namespace detail {

[[nodiscard]] constexpr std::string_view rankdir_name(RankDir dir) noexcept {
  switch (dir) {
    case RankDir::top_to_bottom:
      return "TB";
    case RankDir::left_to_right:
      return "LR";
    case RankDir::bottom_to_top:
      return "BT";
    case RankDir::right_to_left:
      return "RL";
  }
  return "TB";
}

}  // namespace detail

template <class T>
std::string to_dot(const TaskGraph<T>& graph, const DotOptions& options) {
  const detail::GraphState<T>& g = detail::GraphAccess::state(graph);
  const std::size_t n = g.size();

  // Kahn's order with the smallest name first among ready tasks: depends on nothing but the
  // names and edges, unlike the graph's internal numbering.
  std::vector<std::uint32_t> child_offsets;
  std::vector<std::uint32_t> children;
  g.build_children_into(child_offsets, children);
  std::vector<std::uint32_t> waiting(n);
  auto later = [&](std::uint32_t a, std::uint32_t b) { return g.names[a] > g.names[b]; };
  std::priority_queue<std::uint32_t, std::vector<std::uint32_t>, decltype(later)> ready(later);
  for (std::uint32_t task = 0; task < n; ++task) {
    waiting[task] = static_cast<std::uint32_t>(g.deps_of(task).size());
    if (waiting[task] == 0) ready.push(task);
  }
  std::vector<std::uint32_t> order;
  order.reserve(n);
  while (!ready.empty()) {
    const std::uint32_t task = ready.top();
    ready.pop();
    order.push_back(task);
    for (std::uint32_t k = child_offsets[task]; k < child_offsets[task + 1]; ++k) {
      // A task listing the same dependency twice has it twice among that one's children.
      if (--waiting[children[k]] == 0) ready.push(children[k]);
    }
  }

  std::string out = "digraph ";
  detail::append_dot_id(out, g.name);
  out += " {\n";
  detail::append_format(
      out,
      "  graph [rankdir={}, charset=\"UTF-8\", fontname=\"Helvetica\", labelloc=t, "
      "label=",
      detail::rankdir_name(options.rankdir));
  detail::append_dot_label(out, g.name);
  out += "];\n";
  out +=
      "  node [shape=box, style=\"rounded,filled\", fontname=\"Helvetica\", fontcolor=\"black\", "
      "color=\"#555555\"];\n";
  out += "  edge [color=\"#555555\"];\n";

  if (options.legend) {
    // Legend ids start with `\l`, which no escaped task name does (see append_dot_id). A
    // chain of invisible edges keeps the statuses in order; in one rank when ranks are rows,
    // so that the legend is a row whichever way the graph is drawn.
    const bool rows =
        options.rankdir == RankDir::top_to_bottom || options.rankdir == RankDir::bottom_to_top;
    out += "  subgraph cluster_legend {\n";
    out +=
        "    graph [label=\"status\", style=\"rounded\", color=\"#999999\", fontsize=10];\n"
        "    node [fontsize=9, height=0.25, margin=\"0.08,0.02\"];\n";
    if (rows) out += "    { rank=same;\n";
    constexpr auto kStatuses = static_cast<std::uint8_t>(TaskStatus::cancelled) + 1;
    for (std::uint8_t s = 0; s < kStatuses; ++s) {
      const auto status = static_cast<TaskStatus>(s);
      detail::append_format(out, "    \"\\legend:{0}\" [label=\"{0}\", fillcolor=\"{1}\"];\n",
                            to_string(status), status_colour(status));
    }
    if (rows) out += "    }\n";
    out += "    edge [style=invis];\n   ";
    for (std::uint8_t s = 0; s < kStatuses; ++s) {
      detail::append_format(out, "{} \"\\legend:{}\"", s == 0 ? "" : " ->",
                            to_string(static_cast<TaskStatus>(s)));
    }
    out += ";\n";
    out += "  }\n";
  }

  for (const std::uint32_t task : order) {
    const TaskStatus status = g.status[task];
    out += "  ";
    detail::append_dot_id(out, g.names[task]);
    out += " [label=";
    if (g.has_rule(task)) {
      // A task with a trigger rule says so under its name: it runs after failures too.
      detail::append_dot_label(out, g.names[task] + "\ntrigger: " + to_string(g.triggers[task]));
    } else {
      detail::append_dot_label(out, g.names[task]);
    }
    detail::append_format(out, ", fillcolor=\"{}\", tooltip=", status_colour(status));
    std::string tooltip(to_string(status));
    if (g.errors[task] && (status == TaskStatus::failed || status == TaskStatus::skipped)) {
      tooltip += ": ";
      tooltip += detail::describe_exception(g.errors[task]);
    }
    detail::append_dot_label(out, tooltip);
    out += "];\n";
  }
  for (const std::uint32_t task : order) {
    for (const std::uint32_t dep : g.deps_of(task)) {
      out += "  ";
      detail::append_dot_id(out, g.names[dep]);
      out += " -> ";
      detail::append_dot_id(out, g.names[task]);
      out += ";\n";
    }
  }
  out += "}\n";
  return out;
}

}  // namespace taskmap
