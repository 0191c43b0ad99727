#pragma once
// A small strict JSON parser (RFC 8259) for checking the files taskmap writes, independent of
// the code under test: no trailing commas, no leading zeros, no raw control characters, only
// well-formed UTF-8 and paired surrogates, no duplicate keys, nothing after the value.

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace taskmap_test::json {

/// A JSON value. Objects keep their members in file order: keys[i] names items[i].
struct Value {
  enum class Kind { null, boolean, number, string, array, object };
  Kind kind = Kind::null;
  bool boolean = false;
  double num = 0;
  std::string str;
  std::vector<std::string> keys;  // objects only
  std::vector<Value> items;       // array elements, or object member values

  [[nodiscard]] bool is_object() const { return kind == Kind::object; }
  [[nodiscard]] bool is_array() const { return kind == Kind::array; }
  [[nodiscard]] bool is_string() const { return kind == Kind::string; }
  [[nodiscard]] bool is_number() const { return kind == Kind::number; }
  [[nodiscard]] const std::vector<Value>& array() const { return items; }
  [[nodiscard]] const std::string& string() const { return str; }
  [[nodiscard]] double number() const { return num; }
  [[nodiscard]] std::size_t size() const { return items.size(); }

  /// The member `key` of an object, or null when absent (or not an object).
  [[nodiscard]] const Value* find(std::string_view key) const {
    if (!is_object()) return nullptr;
    for (std::size_t i = 0; i < keys.size(); ++i) {
      if (keys[i] == key) return &items[i];
    }
    return nullptr;
  }
  /// The member `key`. Throws std::out_of_range when absent.
  [[nodiscard]] const Value& at(std::string_view key) const {
    const Value* v = find(key);
    if (v == nullptr) throw std::out_of_range("no member '" + std::string(key) + "'");
    return *v;
  }

  static Value of(Kind kind) {
    Value v;
    v.kind = kind;
    return v;
  }
};

class ParseError : public std::runtime_error {
 public:
  ParseError(const std::string& what, std::size_t offset)
      : std::runtime_error(what + " at byte " + std::to_string(offset)), offset_(offset) {}
  [[nodiscard]] std::size_t offset() const noexcept { return offset_; }

 private:
  std::size_t offset_;
};

/// Appends code point `cp` to `out` as UTF-8.
inline void append_utf8(std::string& out, std::uint32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

namespace detail {

class Parser {
 public:
  explicit Parser(std::string_view text) : text_(text) {}

  Value document() {
    skip_space();
    Value v = value(0);
    skip_space();
    if (pos_ != text_.size()) fail("text after the value");
    return v;
  }

 private:
  [[noreturn]] void fail(const std::string& what) const { throw ParseError(what, pos_); }

  [[nodiscard]] bool at_end() const { return pos_ >= text_.size(); }
  [[nodiscard]] char peek() const { return at_end() ? '\0' : text_[pos_]; }

  void skip_space() {
    while (!at_end() && (peek() == ' ' || peek() == '\t' || peek() == '\n' || peek() == '\r')) {
      ++pos_;
    }
  }

  void expect(char c) {
    if (peek() != c || at_end()) fail(std::string("expected '") + c + "'");
    ++pos_;
  }

  Value value(int depth) {
    if (depth > 256) fail("nesting too deep");
    if (at_end()) fail("expected a value");
    switch (peek()) {
      case '{':
        return object(depth);
      case '[':
        return array(depth);
      case '"': {
        Value v = Value::of(Value::Kind::string);
        v.str = string();
        return v;
      }
      case 't':
        literal("true");
        return boolean(true);
      case 'f':
        literal("false");
        return boolean(false);
      case 'n':
        literal("null");
        return Value{};
      default: {
        Value v = Value::of(Value::Kind::number);
        v.num = number();
        return v;
      }
    }
  }

  static Value boolean(bool b) {
    Value v = Value::of(Value::Kind::boolean);
    v.boolean = b;
    return v;
  }

  void literal(std::string_view word) {
    if (text_.substr(pos_, word.size()) != word) fail("bad literal");
    pos_ += word.size();
  }

  Value object(int depth) {
    expect('{');
    Value members = Value::of(Value::Kind::object);
    skip_space();
    if (peek() == '}') {
      ++pos_;
      return members;
    }
    while (true) {
      skip_space();
      if (peek() != '"') fail("expected a member name");
      std::string key = string();
      if (members.find(key) != nullptr) fail("duplicate member '" + key + "'");
      skip_space();
      expect(':');
      skip_space();
      Value v = value(depth + 1);
      members.keys.push_back(std::move(key));
      members.items.push_back(std::move(v));
      skip_space();
      if (peek() == ',') {
        ++pos_;
        continue;
      }
      expect('}');
      return members;
    }
  }

  Value array(int depth) {
    expect('[');
    Value items = Value::of(Value::Kind::array);
    skip_space();
    if (peek() == ']') {
      ++pos_;
      return items;
    }
    while (true) {
      skip_space();
      items.items.push_back(value(depth + 1));
      skip_space();
      if (peek() == ',') {
        ++pos_;
        continue;
      }
      expect(']');
      return items;
    }
  }

  std::uint32_t hex4() {
    std::uint32_t v = 0;
    for (int i = 0; i < 4; ++i) {
      const char c = peek();
      if (at_end()) fail("truncated \\u escape");
      std::uint32_t digit = 0;
      if (c >= '0' && c <= '9') {
        digit = static_cast<std::uint32_t>(c - '0');
      } else if (c >= 'a' && c <= 'f') {
        digit = static_cast<std::uint32_t>(c - 'a' + 10);
      } else if (c >= 'A' && c <= 'F') {
        digit = static_cast<std::uint32_t>(c - 'A' + 10);
      } else {
        fail("bad hex digit in \\u escape");
      }
      v = v * 16 + digit;
      ++pos_;
    }
    return v;
  }

  // Decodes one UTF-8 sequence starting at pos_, checking it is well formed.
  void utf8(std::string& out) {
    const auto byte = [&](std::size_t k) {
      return pos_ + k < text_.size() ? static_cast<unsigned char>(text_[pos_ + k]) : 0u;
    };
    const unsigned lead = byte(0);
    std::size_t length = 0;
    std::uint32_t cp = 0;
    if (lead >= 0xC0 && lead < 0xE0) {
      length = 2;
      cp = lead & 0x1F;
    } else if (lead >= 0xE0 && lead < 0xF0) {
      length = 3;
      cp = lead & 0x0F;
    } else if (lead >= 0xF0 && lead < 0xF8) {
      length = 4;
      cp = lead & 0x07;
    } else {
      fail("invalid UTF-8 lead byte");
    }
    for (std::size_t k = 1; k < length; ++k) {
      if ((byte(k) & 0xC0) != 0x80) fail("invalid UTF-8 continuation byte");
      cp = (cp << 6) | (byte(k) & 0x3F);
    }
    static constexpr std::uint32_t kMinimum[] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < kMinimum[length]) fail("overlong UTF-8");
    if (cp >= 0xD800 && cp <= 0xDFFF) fail("UTF-8 encoded surrogate");
    if (cp > 0x10FFFF) fail("UTF-8 beyond U+10FFFF");
    out.append(text_.substr(pos_, length));
    pos_ += length;
  }

  std::string string() {
    expect('"');
    std::string out;
    while (true) {
      if (at_end()) fail("unterminated string");
      const auto c = static_cast<unsigned char>(text_[pos_]);
      if (c == '"') {
        ++pos_;
        return out;
      }
      if (c < 0x20) fail("raw control character in string");
      if (c >= 0x80) {
        utf8(out);
        continue;
      }
      ++pos_;
      if (c != '\\') {
        out += static_cast<char>(c);
        continue;
      }
      if (at_end()) fail("truncated escape");
      const char e = text_[pos_++];
      switch (e) {
        case '"':
          out += '"';
          break;
        case '\\':
          out += '\\';
          break;
        case '/':
          out += '/';
          break;
        case 'b':
          out += '\b';
          break;
        case 'f':
          out += '\f';
          break;
        case 'n':
          out += '\n';
          break;
        case 'r':
          out += '\r';
          break;
        case 't':
          out += '\t';
          break;
        case 'u': {
          std::uint32_t cp = hex4();
          if (cp >= 0xDC00 && cp <= 0xDFFF) fail("lone low surrogate");
          if (cp >= 0xD800 && cp <= 0xDBFF) {
            if (text_.substr(pos_, 2) != "\\u") fail("high surrogate without a low one");
            pos_ += 2;
            const std::uint32_t low = hex4();
            if (low < 0xDC00 || low > 0xDFFF) fail("high surrogate without a low one");
            cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
          }
          append_utf8(out, cp);
          break;
        }
        default:
          fail("bad escape");
      }
    }
  }

  double number() {
    const std::size_t start = pos_;
    auto digits = [&] {
      const std::size_t first = pos_;
      while (!at_end() && peek() >= '0' && peek() <= '9') ++pos_;
      if (pos_ == first) fail("expected a digit");
    };
    if (peek() == '-') ++pos_;
    if (peek() == '0') {
      ++pos_;
      if (!at_end() && peek() >= '0' && peek() <= '9') fail("leading zero");
    } else {
      digits();
    }
    if (peek() == '.' && !at_end()) {
      ++pos_;
      digits();
    }
    if ((peek() == 'e' || peek() == 'E') && !at_end()) {
      ++pos_;
      if (peek() == '+' || peek() == '-') ++pos_;
      digits();
    }
    const std::string literal(text_.substr(start, pos_ - start));
    return std::strtod(literal.c_str(), nullptr);
  }

  std::string_view text_;
  std::size_t pos_ = 0;
};

}  // namespace detail

/// Parses a whole JSON text. Throws: ParseError with the byte offset.
inline Value parse(std::string_view text) { return detail::Parser(text).document(); }

}  // namespace taskmap_test::json
