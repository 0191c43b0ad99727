#pragma once
// Writing any name onto one line of a log or terminal and reading it back: only `\`, newline
// and carriage return are escaped, so names stay readable.

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
/// name fits on one line; every other byte (UTF-8 included) passes through. With
/// `hide_separator`, a `-` right after a space is written `\-` too: the result then never
/// holds " - ", so that text can only ever separate the fields around it.
inline void append_escaped(fmt::memory_buffer& out, std::string_view text,
                           bool hide_separator = false) {
  std::size_t start = 0;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    const bool separator_dash = hide_separator && c == '-' && i > 0 && text[i - 1] == ' ';
    if (c != '\\' && c != '\n' && c != '\r' && !separator_dash) continue;
    out.append(text.data() + start, text.data() + i);
    out.push_back('\\');
    out.push_back(c == '\n' ? 'n' : c == '\r' ? 'r' : c);
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
      case '-':
        out.push_back('-');
        break;
      default:
        return false;
    }
  }
  return true;
}

}  // namespace taskmap::detail
