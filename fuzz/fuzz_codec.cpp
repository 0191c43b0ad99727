// Property: decoding any bytes as any of several types is safe (no crash, no read out of
// bounds, no large allocation) and canonical: when decode succeeds, encoding the value gives
// back exactly the input bytes, and decoding those again gives the same value. decode and
// decode_or_throw agree on which bytes decode.
//
// Input: one selector byte, then the bytes to decode. The selector's low bits choose the
// type; its top bit says whether the bytes are used as they are (tag included: almost always
// a tag of another type) or after the chosen type's tag, so the fuzzer explores payloads.

#include <array>
#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <tuple>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <variant>
#include <vector>

#include <taskmap/codec.hpp>

#include "fuzz_support.hpp"

using taskmap_fuzz::check;

namespace {

enum class Shade : std::uint8_t { light, dark };

using Monster = std::map<
    std::string,
    std::vector<std::variant<std::monostate, std::int64_t, std::string,
                             std::optional<std::tuple<double, std::vector<bool>>>,
                             std::pair<std::array<std::uint8_t, 2>, std::set<int>>,
                             std::unordered_map<std::string, std::unordered_set<std::int32_t>>>>>;

template <class T>
void check_type(std::string_view bytes, bool raw) {
  std::string input;
  if (!raw) {
    taskmap::ByteWriter writer(input);
    writer.write(taskmap::codec_tag<T>());
  }
  input.append(bytes);

  const std::optional<T> value = taskmap::decode<T>(input);
  bool threw = false;
  try {
    (void)taskmap::decode_or_throw<T>(input);
  } catch (const taskmap::DecodeError& e) {
    threw = true;
    check(e.offset() <= input.size(), "a DecodeError's offset lies within the input");
  }
  check(threw == !value.has_value(), "decode and decode_or_throw agree");
  if (!value) return;

  const std::string again = taskmap::encode(*value);
  check(again == input, "bytes that decode re-encode to themselves");
  const std::optional<T> twice = taskmap::decode<T>(again);
  check(twice.has_value(), "an encoding decodes");
  check(taskmap::encode(*twice) == again, "decode(encode(v)) encodes as v does");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::uint8_t selector = data[0];
  const std::string_view bytes(reinterpret_cast<const char*>(data) + 1, size - 1);
  const bool raw = (selector & 0x80) != 0;
  switch (selector & 0x0F) {
    case 0:
      check_type<int>(bytes, raw);
      break;
    case 1:
      check_type<double>(bytes, raw);
      break;
    case 2:
      check_type<std::string>(bytes, raw);
      break;
    case 3:
      check_type<std::vector<std::string>>(bytes, raw);
      break;
    case 4:
      check_type<std::map<std::string, std::vector<double>>>(bytes, raw);
      break;
    case 5:
      check_type<std::optional<std::tuple<int, std::string>>>(bytes, raw);
      break;
    case 6:
      check_type<std::variant<std::monostate, std::int64_t, std::string, std::vector<bool>, float>>(
          bytes, raw);
      break;
    case 7:
      check_type<Monster>(bytes, raw);
      break;
    case 8:
      check_type<std::unordered_map<std::string, std::unordered_set<std::int32_t>>>(bytes, raw);
      break;
    case 9:
      check_type<std::vector<bool>>(bytes, raw);
      break;
    case 10:
      check_type<std::tuple<std::array<std::uint16_t, 3>, Shade, bool, char, long double>>(bytes,
                                                                                           raw);
      break;
    case 11:
      check_type<std::set<std::pair<std::int8_t, std::string>>>(bytes, raw);
      break;
    case 12:
      check_type<std::unordered_set<double>>(bytes, raw);
      break;
    case 13:
      check_type<std::vector<std::optional<std::vector<std::monostate>>>>(bytes, raw);
      break;
    case 14:
      check_type<std::map<std::uint64_t, std::tuple<>>>(bytes, raw);
      break;
    default:
      check_type<std::vector<std::pair<std::string, std::optional<double>>>>(bytes, raw);
      break;
  }
  return 0;
}
