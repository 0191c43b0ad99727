#pragma once
// Quoting user text for the files the trace and DOT writers produce: one walk over UTF-8
// that tells well-formed sequences from stray bytes, and the JSON string, DOT id and DOT
// label escapers built on it. Names come from users and may hold any bytes; a file we write
// must still parse.

#include <cstddef>
#include <iterator>
#include <string>
#include <string_view>

#include <fmt/format.h>

#include "taskmap/detail/append_format.hpp"

namespace taskmap::detail {

/// U+FFFD, the replacement character, in UTF-8.
inline constexpr std::string_view kReplacementCharacter = "\xEF\xBF\xBD";

/// Length (1 to 4) of the well-formed UTF-8 sequence that starts at `s[i]`, or 0 when none
/// does there: Unicode's table 3-7, so no overlong forms, no surrogates, nothing above
/// U+10FFFF. Precondition: i < s.size().
[[nodiscard]] constexpr std::size_t utf8_sequence_length(std::string_view s,
                                                         std::size_t i) noexcept {
  const auto byte = [&](std::size_t k) { return static_cast<unsigned char>(s[k]); };
  const unsigned char lead = byte(i);
  if (lead < 0x80) return 1;
  std::size_t length = 0;
  unsigned char low = 0x80;  // the range of the second byte, narrowed for some lead bytes
  unsigned char high = 0xBF;
  if (lead >= 0xC2 && lead <= 0xDF) {
    length = 2;
  } else if (lead == 0xE0) {
    length = 3;
    low = 0xA0;
  } else if (lead == 0xED) {
    length = 3;
    high = 0x9F;
  } else if (lead >= 0xE1 && lead <= 0xEF) {
    length = 3;
  } else if (lead == 0xF0) {
    length = 4;
    low = 0x90;
  } else if (lead >= 0xF1 && lead <= 0xF3) {
    length = 4;
  } else if (lead == 0xF4) {
    length = 4;
    high = 0x8F;
  } else {
    return 0;
  }
  if (s.size() - i < length) return 0;
  if (byte(i + 1) < low || byte(i + 1) > high) return 0;
  for (std::size_t k = 2; k < length; ++k) {
    if ((byte(i + k) & 0xC0) != 0x80) return 0;
  }
  return length;
}

/// Walks `text` front to back: `on_sequence(std::string_view)` gets each well-formed UTF-8
/// sequence of two to four bytes, `on_byte(unsigned char c, bool ascii)` each other byte:
/// an ASCII character (`ascii`) or a byte of invalid UTF-8 (not `ascii`).
template <class OnSequence, class OnByte>
constexpr void walk_utf8(std::string_view text, OnSequence&& on_sequence, OnByte&& on_byte) {
  for (std::size_t i = 0; i < text.size();) {
    const auto c = static_cast<unsigned char>(text[i]);
    const std::size_t length = c < 0x80 ? 1 : utf8_sequence_length(text, i);
    if (length > 1) {
      on_sequence(text.substr(i, length));
      i += length;
    } else {
      on_byte(c, length == 1);
      ++i;
    }
  }
}

/// Appends `s` as a JSON string literal, quotes included: `"` and `\` escaped, control
/// characters as \u00XX, valid UTF-8 passed through, each byte of invalid UTF-8 replaced by
/// U+FFFD, so the result is always valid JSON.
inline void append_json_string(std::string& out, std::string_view s) {
  constexpr char kHex[] = "0123456789abcdef";
  out += '"';
  walk_utf8(
      s, [&](std::string_view sequence) { out += sequence; },
      [&](unsigned char c, bool ascii) {
        if (!ascii) {
          out += kReplacementCharacter;
        } else if (c == '"' || c == '\\') {
          out += '\\';
          out += static_cast<char>(c);
        } else if (c < 0x20 || c == 0x7F) {
          out += "\\u00";
          out += kHex[c >> 4];
          out += kHex[c & 0xF];
        } else {
          out += static_cast<char>(c);
        }
      });
  out += '"';
}

/// Appends `name` as a quoted DOT id. The mapping is one-to-one: `"` and `\` are escaped
/// (DOT keeps `\\` as two characters in an id, so the id of `a\b` is not that of `a\\b`),
/// newline and carriage return become `\n` and `\r`, other control characters and bytes of
/// invalid UTF-8 `\xHH`. Every backslash of the result starts one of those pairs, so an id
/// such as `\legend` can never come from a task name.
inline void append_dot_id(std::string& out, std::string_view name) {
  out += '"';
  walk_utf8(
      name, [&](std::string_view sequence) { out += sequence; },
      [&](unsigned char c, bool ascii) {
        if (ascii && (c == '"' || c == '\\')) {
          out += '\\';
          out += static_cast<char>(c);
        } else if (c == '\n') {
          out += "\\n";
        } else if (c == '\r') {
          out += "\\r";
        } else if (!ascii || c < 0x20 || c == 0x7F) {
          append_format(out, "\\x{:02x}", c);
        } else {
          out += static_cast<char>(c);
        }
      });
  out += '"';
}

/// Appends `text` as a quoted DOT label (an escString): shown as written, newlines as line
/// breaks, other control characters as their Unicode control pictures (U+2400...), invalid
/// UTF-8 as U+FFFD.
inline void append_dot_label(std::string& out, std::string_view text) {
  out += '"';
  walk_utf8(
      text, [&](std::string_view sequence) { out += sequence; },
      [&](unsigned char c, bool ascii) {
        if (!ascii) {
          out += kReplacementCharacter;
        } else if (c == '"' || c == '\\') {
          out += '\\';
          out += static_cast<char>(c);
        } else if (c == '\n') {
          out += "\\n";
        } else if (c == 0x7F) {
          out += "\xE2\x90\xA1";  // U+2421 SYMBOL FOR DELETE
        } else if (c < 0x20) {
          // U+2400 + c: E2 90 (80 + c)
          out += "\xE2\x90";
          out += static_cast<char>(0x80 + c);
        } else {
          out += static_cast<char>(c);
        }
      });
  out += '"';
}

}  // namespace taskmap::detail
