#pragma once
// Text shared by the observers: escaping names onto one line and back, and timestamps.

#include <chrono>
#include <cstddef>
#include <string>
#include <string_view>

#include <fmt/format.h>

namespace taskmap::detail {

/// Appends `text` as it is.
inline void append_text(fmt::memory_buffer& out, std::string_view text) {
  out.append(text.data(), text.data() + text.size());
}

/// Appends `text` with `\` written `\\`, newline `\n` and carriage return `\r`, so that any
/// name fits on one line; every other byte (UTF-8 included) passes through.
inline void append_escaped(fmt::memory_buffer& out, std::string_view text) {
  std::size_t start = 0;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c != '\\' && c != '\n' && c != '\r') continue;
    out.append(text.data() + start, text.data() + i);
    out.push_back('\\');
    out.push_back(c == '\n' ? 'n' : c == '\r' ? 'r' : '\\');
    start = i + 1;
  }
  out.append(text.data() + start, text.data() + text.size());
}

/// Undoes append_escaped into `out`. False when `text` holds a raw line break or a
/// backslash sequence append_escaped never writes.
inline bool unescape(std::string_view text, std::string& out) {
  out.clear();
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '\n' || c == '\r') return false;
    if (c != '\\') {
      out.push_back(c);
      continue;
    }
    if (++i == text.size()) return false;
    switch (text[i]) {
      case '\\':
        out.push_back('\\');
        break;
      case 'n':
        out.push_back('\n');
        break;
      case 'r':
        out.push_back('\r');
        break;
      default:
        return false;
    }
  }
  return true;
}

/// Appends `time` as ISO 8601 UTC with microseconds: 2026-11-22T04:51:33.123456Z.
inline void append_timestamp(fmt::memory_buffer& out, std::chrono::system_clock::time_point time) {
  using namespace std::chrono;
  const auto micros = floor<microseconds>(time);
  const auto day = floor<days>(micros);
  const year_month_day date{day};
  const hh_mm_ss<microseconds> clock{micros - day};
  fmt::format_to(fmt::appender(out), "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:06}Z",
                 static_cast<int>(date.year()), static_cast<unsigned>(date.month()),
                 static_cast<unsigned>(date.day()), clock.hours().count(), clock.minutes().count(),
                 clock.seconds().count(), clock.subseconds().count());
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
