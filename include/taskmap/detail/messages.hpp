#pragma once
// Small helpers that keep error messages readable, even for graphs of a million tasks.

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>

namespace taskmap::detail {

/// 'a', 'b', 'c' — the first `limit` names of a range, then "and N more".
template <class Range>
std::string quoted_list(const Range& names, std::size_t limit = 20) {
  std::string out;
  std::size_t count = 0;
  for (const auto& name : names) {
    if (count == limit) {
      out += ", ...";
      break;
    }
    if (count != 0) out += ", ";
    out += '\'';
    out += std::string_view(name);
    out += '\'';
    ++count;
  }
  std::size_t total = 0;
  for ([[maybe_unused]] const auto& name : names) ++total;
  if (total > limit) out += fmt::format(" ({} in all)", total);
  return out;
}

/// A cycle's path as a message shows it: `a -> b -> c -> a` when it has at most
/// `whole` tasks; otherwise its first and last few tasks around a `...` and the count,
/// `t0 -> ... -> t9 -> t0 (1000000 tasks in the cycle)`, so a cycle of a million tasks gives
/// a short message (CycleError::cycle() keeps the whole path). Precondition: `cycle` is a
/// closed path, its first name repeated at the end.
inline std::string cycle_path(const std::vector<std::string>& cycle, std::size_t whole = 10) {
  const std::size_t tasks = cycle.empty() ? 0 : cycle.size() - 1;
  constexpr std::size_t kHead = 5;
  constexpr std::size_t kTail = 4;
  std::string out;
  auto add = [&](std::string_view name) {
    if (!out.empty()) out += " -> ";
    out += name;
  };
  if (tasks <= whole || tasks <= kHead + kTail) {
    for (const std::string& name : cycle) add(name);
    return out;
  }
  for (std::size_t i = 0; i < kHead; ++i) add(cycle[i]);
  add("...");
  for (std::size_t i = tasks - kTail; i <= tasks; ++i) add(cycle[i]);
  out += fmt::format(" ({} tasks in the cycle)", tasks);
  return out;
}

}  // namespace taskmap::detail
