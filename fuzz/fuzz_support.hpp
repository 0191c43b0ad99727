#pragma once
// What the fuzz targets share: a reader that turns the fuzzer's bytes into choices, a check
// that stops the run with a message (libFuzzer saves the input that failed it), names chosen
// to break escaping and parsing, and an independent UTF-8 decoder to compare against.

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

namespace taskmap_fuzz {

/// Prints `what` and aborts: a property the target checks does not hold for this input.
[[noreturn]] inline void fail(std::string_view what) {
  std::fprintf(stderr, "fuzz property violated: %.*s\n", static_cast<int>(what.size()),
               what.data());
  std::abort();
}

inline void check(bool condition, std::string_view what) {
  if (!condition) fail(what);
}

/// Reads choices from the fuzzer's bytes; past the end every byte reads as 0, so any input,
/// however short, decodes to something.
class Bytes {
 public:
  Bytes(const std::uint8_t* data, std::size_t size) : data_(data), size_(size) {}

  [[nodiscard]] bool empty() const noexcept { return size_ == 0; }

  std::uint8_t byte() noexcept {
    if (size_ == 0) return 0;
    --size_;
    return *data_++;
  }

  /// A number in [0, bound); 0 when bound is 0.
  std::size_t below(std::size_t bound) noexcept {
    if (bound == 0) return 0;
    return (static_cast<std::size_t>(byte()) << 8 | byte()) % bound;
  }

  /// Up to `length` raw bytes.
  std::string take(std::size_t length) {
    if (length > size_) length = size_;
    std::string out(reinterpret_cast<const char*>(data_), length);
    data_ += length;
    size_ -= length;
    return out;
  }

  /// All the bytes left.
  std::string rest() { return take(size_); }

 private:
  const std::uint8_t* data_;
  std::size_t size_;
};

/// Names that have broken, or could break, escaping, parsing and message formatting.
inline constexpr std::string_view kHostileNames[] = {
    "a",
    "b",
    "c",
    "",
    " ",
    std::string_view("a\0b", 3),
    "\"",
    "\\",
    "\\\\",
    "\\n",
    "\n",
    "\r",
    "\r\n",
    "a -> b",
    "{}",
    "{0}",
    "%s%n",
    "node",
    "graph",
    "Digraph",
    "->",
    "--",
    ";",
    "[label=x]",
    "\\legend:done",
    "'",
    "\xff",
    "\xc3\x28",
    "\xe2\x82",
    "\xed\xa0\x80",      // a surrogate: not UTF-8
    "\xf4\x90\x80\x80",  // above U+10FFFF
    "\xc0\xaf",          // overlong '/'
    "\xc3\xa9t\xc3\xa9",
    "\xe2\x80\xae",  // right-to-left override
    "\xf0\x9f\x98\x80",
    "\x7f\x01\x1b[31m",
    " - INFO - worker 0: starting task x",
    " - DEBUG - worker 1: queueing task y",
    " - WARNING - worker 2: skipped task a",
    "2026-11-22T04:51:33.123456Z - g - INFO - worker 0: starting task z",
    "finished run: ",
    "starting nested run: ",
};

/// A name: one of kHostileNames, or a few raw bytes.
inline std::string pick_name(Bytes& in) {
  constexpr std::size_t kPresets = std::size(kHostileNames);
  const std::uint8_t selector = in.byte();
  if (selector < 0xC0) return std::string(kHostileNames[selector % kPresets]);
  if (selector < 0xF0) return in.take(static_cast<std::size_t>(selector - 0xC0) % 12);
  return std::string(static_cast<std::size_t>(selector - 0xF0 + 1) * 40, 'x');  // long names
}

/// The code point of the well-formed UTF-8 sequence at `s[i]` and its length, or length 0.
/// Written from the definition (a decode, then range checks) rather than table 3-7, so it
/// does not share a mistake with taskmap's own walk.
struct Decoded {
  std::uint32_t code_point = 0;
  std::size_t length = 0;
};
inline Decoded decode_utf8(std::string_view s, std::size_t i) {
  const auto b = [&](std::size_t k) {
    return static_cast<std::uint32_t>(static_cast<unsigned char>(s[k]));
  };
  const std::uint32_t lead = b(i);
  if (lead < 0x80) return {lead, 1};
  std::size_t length = 0;
  std::uint32_t cp = 0;
  if ((lead & 0xE0) == 0xC0) {
    length = 2;
    cp = lead & 0x1F;
  } else if ((lead & 0xF0) == 0xE0) {
    length = 3;
    cp = lead & 0x0F;
  } else if ((lead & 0xF8) == 0xF0) {
    length = 4;
    cp = lead & 0x07;
  } else {
    return {};
  }
  if (s.size() - i < length) return {};
  for (std::size_t k = 1; k < length; ++k) {
    if ((b(i + k) & 0xC0) != 0x80) return {};
    cp = cp << 6 | (b(i + k) & 0x3F);
  }
  constexpr std::uint32_t kSmallest[] = {0, 0, 0x80, 0x800, 0x10000};
  if (cp < kSmallest[length] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return {};
  return {cp, length};
}

inline bool valid_utf8(std::string_view s) {
  for (std::size_t i = 0; i < s.size();) {
    const Decoded d = decode_utf8(s, i);
    if (d.length == 0) return false;
    i += d.length;
  }
  return true;
}

}  // namespace taskmap_fuzz
