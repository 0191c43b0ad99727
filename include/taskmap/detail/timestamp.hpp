#pragma once
// The log's timestamps: ISO 8601 UTC with microseconds, written and recognised.

#include <chrono>
#include <cstddef>
#include <string_view>

#include <fmt/format.h>

#include "taskmap/detail/append_format.hpp"

namespace taskmap::detail {

/// Appends `time` as ISO 8601 UTC with microseconds: 2026-11-22T04:51:33.123456Z.
/// (A template only so that its formatting is compiled in the programs that log.)
template <class = void>
void append_timestamp(fmt::memory_buffer& out, std::chrono::system_clock::time_point time) {
  using namespace std::chrono;
  const auto micros = floor<microseconds>(time);
  const auto day = floor<days>(micros);
  const year_month_day date{day};
  const hh_mm_ss<microseconds> clock{micros - day};
  append_format(out, "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:06}Z", static_cast<int>(date.year()),
                static_cast<unsigned>(date.month()), static_cast<unsigned>(date.day()),
                clock.hours().count(), clock.minutes().count(), clock.seconds().count(),
                clock.subseconds().count());
}

/// True when `text` has the shape append_timestamp writes (years 0000 to 9999).
[[nodiscard]] constexpr bool is_timestamp(std::string_view text) noexcept {
  constexpr std::string_view shape = "dddd-dd-ddTdd:dd:dd.ddddddZ";
  if (text.size() != shape.size()) return false;
  for (std::size_t i = 0; i < shape.size(); ++i) {
    const bool ok = shape[i] == 'd' ? (text[i] >= '0' && text[i] <= '9') : text[i] == shape[i];
    if (!ok) return false;
  }
  return true;
}

}  // namespace taskmap::detail
