#pragma once
// Small helpers that keep error messages readable, even for graphs of a million tasks.

#include <cstddef>
#include <string>
#include <string_view>

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

}  // namespace taskmap::detail
