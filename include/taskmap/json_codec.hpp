#pragma once
/// @file json_codec.hpp
/// JsonCodec<T>: a Codec for any type nlohmann/json converts (to_json and from_json), opted
/// into one type at a time. Needs nlohmann/json: link taskmap::json.

#include <cstddef>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "taskmap/codec.hpp"

namespace taskmap {

/// Encodes a T as the JSON text nlohmann/json makes of it. Opt in with
/// `template <> struct taskmap::Codec<P> : taskmap::JsonCodec<P> { static constexpr
/// std::string_view name = "P/1"; };` (the name is yours to give: bump it when the JSON of a
/// P changes meaning). Encoding is not automatic for every JSON type, so a program's
/// translation units all see the same Codec<P>.
template <class T>
struct JsonCodec {
  /// Writes the JSON text's length, then the text.
  /// Throws: nlohmann::json::exception when to_json does, or when a string in the value is
  /// not valid UTF-8 (JSON text must be).
  static void encode(ByteWriter& out, const T& value) {
    const nlohmann::json json = value;
    const std::string text = json.dump();
    out.write_count(text.size());
    out.write_bytes(text);
  }

  /// Parses the text and converts it with from_json.
  /// Throws: DecodeError for text cut short, text that is not JSON, or JSON that from_json
  /// refuses (any nlohmann::json::exception).
  static T decode(ByteReader& in) {
    const std::size_t start = in.offset();
    const std::string_view text = in.read_bytes(in.read_size());
    try {
      return nlohmann::json::parse(text.begin(), text.end()).template get<T>();
    } catch (const nlohmann::json::exception& e) {
      ByteReader::fail_at(start,
                          std::string("JSON that is not a value of this type (") + e.what() + ")");
    }
  }
};

}  // namespace taskmap
