// Codec<T>: the built-in encodings round-trip bit for bit, refuse bytes of another type, cut
// short, malformed or followed by more, never allocate for a count the bytes cannot hold, and
// are canonical (bytes that decode re-encode to themselves); users specialise Codec.

#include <array>
#include <bit>
#include <chrono>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <limits>
#include <map>
#include <optional>
#include <random>
#include <set>
#include <stdexcept>
#include <string>
#include <string_view>
#include <tuple>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <variant>
#include <vector>

#include <taskmap/codec.hpp>

#include "catch.hpp"

namespace codec_test {

struct Reading {
  std::string name;
  std::vector<double> values;
  std::optional<int> sensor;
  friend bool operator==(const Reading&, const Reading&) = default;
};

// A codec that writes nothing: containers must refuse it.
struct Empty {
  friend auto operator<=>(const Empty&, const Empty&) = default;
};

// A type whose copy throws, to make a variant valueless by exception.
struct Fragile {
  Fragile() = default;
  Fragile(const Fragile&) { throw std::runtime_error("no copy"); }
  Fragile& operator=(const Fragile&) = default;
  friend bool operator==(const Fragile&, const Fragile&) = default;
};

struct NoCodec {};

enum Unscoped { unscoped_a, unscoped_b };
enum FixedUnscoped : unsigned char { fixed_a, fixed_b };
enum class Scoped : std::int16_t { low = -300, high = 300 };

}  // namespace codec_test

template <>
struct taskmap::Codec<codec_test::Reading> {
  static constexpr std::string_view name = "codec_test::Reading/1";
  static void encode(ByteWriter& out, const codec_test::Reading& value) {
    out.write(value.name);
    out.write(value.values);
    out.write(value.sensor);
  }
  static codec_test::Reading decode(ByteReader& in) {
    codec_test::Reading out;
    out.name = in.read<std::string>();
    out.values = in.read<std::vector<double>>();
    out.sensor = in.read<std::optional<int>>();
    if (out.sensor && *out.sensor < 0) in.fail("a negative sensor number");
    return out;
  }
};

template <>
struct taskmap::Codec<codec_test::Fragile> {
  static constexpr std::string_view name = "codec_test::Fragile";
  static void encode(ByteWriter& out, const codec_test::Fragile&) { out.write_byte(0); }
  static codec_test::Fragile decode(ByteReader& in) {
    (void)in.read_byte();
    return {};
  }
};

template <>
struct taskmap::Codec<codec_test::Empty> {
  static constexpr std::string_view name = "codec_test::Empty";
  static void encode(ByteWriter&, const codec_test::Empty&) {}
  static codec_test::Empty decode(ByteReader&) { return {}; }
};

namespace codec_test {

using namespace taskmap;
using namespace std::string_view_literals;

// Counts what a container asks its allocator for.
struct AllocationLog {
  std::size_t largest = 0;
  std::size_t total = 0;
};
inline AllocationLog allocation_log;

template <class T>
struct CountingAllocator {
  using value_type = T;
  CountingAllocator() = default;
  template <class U>
  CountingAllocator(const CountingAllocator<U>&) noexcept {}  // NOLINT: converting, as required
  T* allocate(std::size_t n) {
    allocation_log.largest = std::max(allocation_log.largest, n * sizeof(T));
    allocation_log.total += n * sizeof(T);
    return std::allocator<T>().allocate(n);
  }
  void deallocate(T* p, std::size_t n) noexcept { std::allocator<T>().deallocate(p, n); }
  friend bool operator==(const CountingAllocator&, const CountingAllocator&) = default;
};

// The payload of an encoding: its bytes after the tag.
std::string payload(const std::string& bytes) { return bytes.substr(8); }

template <class T>
std::string tagged(std::string_view payload_bytes) {
  std::string out;
  ByteWriter writer(out);
  writer.write(codec_tag<T>());
  writer.write_bytes(payload_bytes);
  return out;
}

template <class T>
void check_round_trip(const T& value) {
  const std::string bytes = encode(value);
  const std::optional<T> back = decode<T>(bytes);
  REQUIRE(back.has_value());
  CHECK(*back == value);
  CHECK(encode(*back) == bytes);
}

// Every proper prefix of `bytes` fails to decode as T, and so do `bytes` with one more byte.
template <class T>
void check_every_cut_fails(const std::string& bytes) {
  REQUIRE(decode<T>(bytes).has_value());
  for (std::size_t cut = 0; cut < bytes.size(); ++cut) {
    INFO("cut at " << cut << " of " << bytes.size());
    CHECK_FALSE(decode<T>(std::string_view(bytes).substr(0, cut)).has_value());
  }
  CHECK_FALSE(decode<T>(bytes + '\0').has_value());
}

// For many random mutations of `bytes` (flipped bits, bytes changed, inserted, removed): any
// that decodes re-encodes to exactly itself. Returns how many decoded.
template <class T>
std::size_t check_canonical_under_mutation(const std::string& bytes, std::uint32_t seed) {
  std::mt19937 rng(seed);
  std::size_t decoded = 0;
  for (int round = 0; round < 3000; ++round) {
    std::string mutated = bytes;
    const int edits = 1 + static_cast<int>(rng() % 3);
    for (int e = 0; e < edits; ++e) {
      // Mutate only the payload most of the time: a changed tag decodes nothing.
      const std::size_t low = mutated.size() > 8 && rng() % 8 != 0 ? 8 : 0;
      if (mutated.size() <= low) break;
      const std::size_t at = low + rng() % (mutated.size() - low);
      switch (rng() % 4) {
        case 0:
          mutated[at] = static_cast<char>(mutated[at] ^ (1 << (rng() % 8)));
          break;
        case 1:
          mutated[at] = static_cast<char>(rng() % 256);
          break;
        case 2:
          mutated.insert(at, 1, static_cast<char>(rng() % 256));
          break;
        default:
          mutated.erase(at, 1);
          break;
      }
    }
    const std::optional<T> value = decode<T>(mutated);
    if (value) {
      ++decoded;
      INFO("round " << round);
      REQUIRE(encode(*value) == mutated);
    }
  }
  return decoded;
}

std::string decode_error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const DecodeError& e) {
    return e.what();
  }
  return "<no DecodeError>";
}

using Monster =
    std::map<std::string,
             std::vector<std::variant<std::monostate, std::int64_t, std::string,
                                      std::optional<std::tuple<double, std::vector<bool>>>,
                                      std::pair<std::array<std::uint8_t, 2>, std::set<int>>>>>;

Monster make_monster() {
  Monster m;
  m["empty"] = {};
  m["mixed"] = {std::monostate{},
                std::int64_t{-1},
                std::string("x\0y", 3),
                std::optional<std::tuple<double, std::vector<bool>>>{},
                std::optional<std::tuple<double, std::vector<bool>>>{
                    std::tuple<double, std::vector<bool>>{-0.0, {true, false, true}}},
                std::pair<std::array<std::uint8_t, 2>, std::set<int>>{{0, 255}, {-5, 0, 7}}};
  m[""] = {std::int64_t{std::numeric_limits<std::int64_t>::min()}};
  return m;
}

TEST_CASE("codec: built-in signatures compose from their parts", "[codec]") {
  STATIC_REQUIRE(Codec<int>::name == "i32");
  STATIC_REQUIRE(Codec<unsigned char>::name == "u8");
  STATIC_REQUIRE(Codec<signed char>::name == "i8");
  STATIC_REQUIRE(Codec<char>::name == "char");
  STATIC_REQUIRE(Codec<char8_t>::name == "char8");
  STATIC_REQUIRE(Codec<char16_t>::name == "char16");
  STATIC_REQUIRE(Codec<char32_t>::name == "char32");
  STATIC_REQUIRE(Codec<bool>::name == "bool");
  STATIC_REQUIRE(Codec<float>::name == "f32");
  STATIC_REQUIRE(Codec<double>::name == "f64");
  STATIC_REQUIRE(Codec<std::int64_t>::name == "i64");
  STATIC_REQUIRE(Codec<long long>::name == "i64");  // by representation, not spelling
  STATIC_REQUIRE(Codec<std::string>::name == "string");
  STATIC_REQUIRE(Codec<std::vector<int>>::name == "vector<i32>");
  STATIC_REQUIRE(Codec<std::vector<bool>>::name == "vector<bool>");
  STATIC_REQUIRE(Codec<std::map<std::string, double>>::name == "map<string,f64>");
  STATIC_REQUIRE(Codec<std::unordered_map<int, std::string>>::name == "unordered_map<i32,string>");
  STATIC_REQUIRE(Codec<std::set<std::uint16_t>>::name == "set<u16>");
  STATIC_REQUIRE(Codec<std::unordered_set<char>>::name == "unordered_set<char>");
  STATIC_REQUIRE(Codec<std::array<float, 12>>::name == "array<f32,12>");
  STATIC_REQUIRE(Codec<std::array<float, 0>>::name == "array<f32,0>");
  STATIC_REQUIRE(Codec<std::optional<std::pair<int, bool>>>::name == "optional<pair<i32,bool>>");
  STATIC_REQUIRE(Codec<std::tuple<>>::name == "tuple<>");
  STATIC_REQUIRE(Codec<std::tuple<int, std::string, std::monostate>>::name ==
                 "tuple<i32,string,monostate>");
  STATIC_REQUIRE(Codec<std::variant<std::monostate, Scoped>>::name ==
                 "variant<monostate,enum<i16>>");
  STATIC_REQUIRE(Codec<FixedUnscoped>::name == "enum<u8>");
  STATIC_REQUIRE(Codec<Monster>::name ==
                 "map<string,vector<variant<monostate,i64,string,optional<tuple<f64,vector<bool>>>,"
                 "pair<array<u8,2>,set<i32>>>>>");
  STATIC_REQUIRE(codec_tag<int>() == detail::fnv1a("i32"));
  STATIC_REQUIRE(detail::fnv1a("") == 0xcbf29ce484222325ULL);
  STATIC_REQUIRE(detail::fnv1a("a") == 0xaf63dc4c8601ec8cULL);
}

TEST_CASE("codec: Encodable holds exactly for types with a usable Codec", "[codec]") {
  STATIC_REQUIRE(Encodable<int>);
  STATIC_REQUIRE(Encodable<Reading>);
  STATIC_REQUIRE(Encodable<std::vector<Reading>>);
  STATIC_REQUIRE(Encodable<Scoped>);
  STATIC_REQUIRE(Encodable<FixedUnscoped>);
  // Decoding a value outside its enumerators' range would be undefined behaviour.
  STATIC_REQUIRE_FALSE(Encodable<Unscoped>);
  STATIC_REQUIRE_FALSE(Encodable<NoCodec>);
  STATIC_REQUIRE_FALSE(Encodable<std::vector<NoCodec>>);
  STATIC_REQUIRE_FALSE(Encodable<std::map<int, NoCodec>>);
  STATIC_REQUIRE_FALSE(Encodable<std::optional<NoCodec>>);
  STATIC_REQUIRE_FALSE(Encodable<std::tuple<int, NoCodec>>);
  STATIC_REQUIRE_FALSE(Encodable<std::variant<int, NoCodec>>);
  STATIC_REQUIRE_FALSE(Encodable<const int>);
  STATIC_REQUIRE_FALSE(Encodable<int&>);
  STATIC_REQUIRE_FALSE(Encodable<int*>);
  STATIC_REQUIRE_FALSE(Encodable<std::string_view>);
  STATIC_REQUIRE(std::is_base_of_v<Error, DecodeError>);
}

TEMPLATE_TEST_CASE("codec: integers round-trip at their limits, fixed-width little-endian",
                   "[codec]", signed char, unsigned char, short, unsigned short, int, unsigned,
                   long, unsigned long, long long, unsigned long long, char, wchar_t, char8_t,
                   char16_t, char32_t) {
  using L = std::numeric_limits<TestType>;
  for (const TestType value :
       {L::min(), L::max(), TestType{0}, TestType{1}, static_cast<TestType>(L::max() / 3)}) {
    check_round_trip(value);
    const std::string bytes = encode(value);
    REQUIRE(bytes.size() == 8 + sizeof(TestType));
    std::uint64_t low_bits = 0;
    for (std::size_t i = 0; i < sizeof(TestType); ++i) {
      low_bits |= static_cast<std::uint64_t>(static_cast<unsigned char>(bytes[8 + i])) << (8 * i);
    }
    using U = std::make_unsigned_t<TestType>;
    CHECK(low_bits == static_cast<std::uint64_t>(static_cast<U>(value)));
  }
}

TEST_CASE("codec: the tag and numbers are little-endian bytes", "[codec]") {
  const std::string bytes = encode(std::uint32_t{0x01020304});
  CHECK(payload(bytes) == std::string("\x04\x03\x02\x01", 4));
  const std::uint64_t tag = codec_tag<std::uint32_t>();
  for (std::size_t i = 0; i < 8; ++i) {
    CHECK(static_cast<unsigned char>(bytes[i]) == ((tag >> (8 * i)) & 0xFF));
  }
  CHECK(payload(encode(std::int16_t{-2})) == "\xfe\xff");
}

// libstdc++ counts __int128 as an integral type outside strict ISO mode (-std=gnu++20).
#if defined(__SIZEOF_INT128__) && defined(__GLIBCXX_TYPE_INT_N_0)
TEST_CASE("codec: 128-bit integers round-trip where the compiler has them", "[codec]") {
  __extension__ typedef __int128 I128;
  __extension__ typedef unsigned __int128 U128;
  STATIC_REQUIRE(Codec<I128>::name == "i128");
  STATIC_REQUIRE(Codec<U128>::name == "u128");
  const U128 big = (static_cast<U128>(0x0123456789abcdefULL) << 64) | 0xfedcba9876543210ULL;
  check_round_trip(big);
  check_round_trip(static_cast<I128>(-static_cast<I128>(big >> 1)));
  CHECK(payload(encode(big)).substr(0, 2) == "\x10\x32");
}
#endif

TEMPLATE_TEST_CASE("codec: floating point round-trips bit for bit", "[codec]", float, double) {
  using L = std::numeric_limits<TestType>;
  using Bits = std::conditional_t<sizeof(TestType) == 4, std::uint32_t, std::uint64_t>;
  const Bits quiet = std::bit_cast<Bits>(L::quiet_NaN());
  const std::vector<TestType> values = {
      TestType{0},
      -TestType{0},
      L::min(),
      L::denorm_min(),
      -L::denorm_min(),
      L::max(),
      L::lowest(),
      L::infinity(),
      -L::infinity(),
      L::epsilon(),
      L::quiet_NaN(),
      -L::quiet_NaN(),
      std::bit_cast<TestType>(static_cast<Bits>(quiet | 1)),  // a NaN with a payload
      std::bit_cast<TestType>(  // signalling: the quiet bit clear, a payload set
          static_cast<Bits>((quiet & ~(Bits{1} << (L::digits - 2))) | 1)),
  };
  for (const TestType value : values) {
    const std::string bytes = encode(value);
    REQUIRE(bytes.size() == 8 + sizeof(TestType));
    const std::optional<TestType> back = decode<TestType>(bytes);
    REQUIRE(back.has_value());
    CHECK(std::bit_cast<Bits>(*back) == std::bit_cast<Bits>(value));
    CHECK(encode(*back) == bytes);
  }
  // In containers, which copy arrays of numbers in one go, too.
  const std::optional<std::vector<TestType>> back = decode<std::vector<TestType>>(encode(values));
  REQUIRE(back.has_value());
  REQUIRE(back->size() == values.size());
  for (std::size_t i = 0; i < values.size(); ++i) {
    CHECK(std::bit_cast<Bits>((*back)[i]) == std::bit_cast<Bits>(values[i]));
  }
}

TEST_CASE("codec: long double round-trips its value bits", "[codec]") {
  using L = std::numeric_limits<long double>;
  for (const long double value : {0.0L, -0.0L, 1.0L / 3, L::max(), L::lowest(), L::denorm_min(),
                                  L::infinity(), L::quiet_NaN()}) {
    const std::string bytes = encode(value);
    CHECK(bytes.size() == 8 + Codec<long double>::min_size);
    const std::optional<long double> back = decode<long double>(bytes);
    REQUIRE(back.has_value());
    CHECK(encode(*back) == bytes);
    if (!std::isnan(value)) {
      CHECK(*back == value);
      CHECK(std::signbit(*back) == std::signbit(value));
    }
  }
}

TEST_CASE("codec: bool is one byte, 0 or 1, and nothing else decodes", "[codec]") {
  check_round_trip(true);
  check_round_trip(false);
  CHECK(payload(encode(true)) == std::string("\x01", 1));
  for (int byte = 2; byte < 256; ++byte) {
    CHECK_FALSE(decode<bool>(tagged<bool>(std::string(1, static_cast<char>(byte)))).has_value());
  }
  CHECK_FALSE(decode<std::vector<bool>>(tagged<std::vector<bool>>("\x01\x02"sv)).has_value());
}

TEST_CASE("codec: enums round-trip through their underlying type", "[codec]") {
  check_round_trip(Scoped::low);
  check_round_trip(Scoped::high);
  check_round_trip(static_cast<Scoped>(12345));  // any value of the underlying type
  check_round_trip(fixed_b);
  CHECK(payload(encode(Scoped::low)) == payload(encode(std::int16_t{-300})));
  CHECK_FALSE(decode<Scoped>(encode(std::int16_t{-300})).has_value());  // tags differ
}

TEST_CASE("codec: strings and containers round-trip, empty and nested", "[codec]") {
  check_round_trip(std::string());
  check_round_trip(std::string("with\0nul", 8));
  check_round_trip(std::string(300, 'x'));  // a two-byte length
  check_round_trip(std::string("\xff\xfe not UTF-8"));
  check_round_trip(std::vector<int>{});
  check_round_trip(std::vector<int>{std::numeric_limits<int>::min(), 0, -1, 7});
  check_round_trip(std::vector<std::string>{"", "a", std::string(200, 'b')});
  check_round_trip(std::vector<std::vector<std::uint8_t>>{{}, {1}, {}, {2, 3}});
  for (std::size_t n = 0; n <= 17; ++n) {
    std::vector<bool> bits(n);
    for (std::size_t i = 0; i < n; ++i) bits[i] = (i * 7 + n) % 3 == 0;
    check_round_trip(bits);
    CHECK(payload(encode(bits)).size() == 1 + (n + 7) / 8);
  }
  check_round_trip(std::array<double, 3>{1.5, -2.5, 0});
  check_round_trip(std::array<std::string, 2>{"a", ""});
  check_round_trip(std::array<int, 0>{});
  check_round_trip(std::map<std::string, double>{});
  check_round_trip(std::map<std::string, std::vector<double>>{{"a", {1, 2}}, {"b", {}}, {"", {3}}});
  check_round_trip(std::map<int, std::string, std::greater<>>{{1, "one"}, {2, "two"}});
  check_round_trip(std::set<std::string>{"x", "", "y"});
  check_round_trip(std::set<int>{});
  check_round_trip(std::unordered_map<std::string, int>{{"a", 1}, {"bb", 2}, {"", 3}});
  check_round_trip(std::unordered_map<int, std::vector<int>>{});
  check_round_trip(std::unordered_set<std::int64_t>{5, -5, 0, 1LL << 40});
  check_round_trip(std::optional<int>{});
  check_round_trip(std::optional<int>{0});
  check_round_trip(std::optional<std::optional<std::string>>{std::optional<std::string>{}});
  check_round_trip(std::pair<int, std::string>{-1, "p"});
  check_round_trip(std::tuple<>{});
  check_round_trip(std::tuple<int, std::string, bool>{3, "t", true});
  check_round_trip(std::variant<int, std::string>{std::string("v")});
  check_round_trip(std::variant<int, std::string>{7});
  check_round_trip(std::variant<int, int>{std::in_place_index<1>, 4});
  check_round_trip(std::monostate{});
  check_round_trip(std::vector<std::monostate>(5));
  check_round_trip(make_monster());
}

TEST_CASE("codec: a variant's alternative is kept even when two have the same type", "[codec]") {
  const std::variant<int, int> second{std::in_place_index<1>, 4};
  const auto back = decode<std::variant<int, int>>(encode(second));
  REQUIRE(back.has_value());
  CHECK(back->index() == 1);
  CHECK(payload(encode(second)) !=
        payload(encode(std::variant<int, int>{std::in_place_index<0>, 4})));
}

TEST_CASE("codec: bytes written for one type do not decode as another", "[codec]") {
  CHECK_FALSE(decode<std::vector<unsigned>>(encode(std::vector<int>{1, 2})).has_value());
  CHECK_FALSE(decode<std::vector<char>>(encode(std::string("abc"))).has_value());
  CHECK_FALSE(decode<std::string>(encode(std::vector<char>{'a', 'b', 'c'})).has_value());
  CHECK_FALSE(decode<std::int64_t>(encode(std::int32_t{1})).has_value());
  CHECK_FALSE(decode<float>(encode(std::int32_t{1})).has_value());
  CHECK_FALSE(decode<int>(encode(std::optional<int>{1})).has_value());
  CHECK_FALSE(decode<std::unordered_map<int, int>>(encode(std::map<int, int>{{1, 2}})).has_value());
  CHECK_FALSE(decode<std::set<int>>(encode(std::vector<int>{1})).has_value());
  CHECK_FALSE(
      decode<Reading>(encode(std::tuple<std::string, std::vector<double>, std::optional<int>>{}))
          .has_value());
  CHECK_FALSE(decode<int>(std::string_view()).has_value());
  const std::string message = decode_error_of(
      [] { (void)decode_or_throw<std::vector<unsigned>>(encode(std::vector<int>{1})); });
  CHECK(message.find("cannot decode a vector<u32>") != std::string::npos);
  CHECK(message.find("written for another type") != std::string::npos);
  try {
    (void)decode_or_throw<std::vector<unsigned>>(encode(std::vector<int>{1}));
  } catch (const DecodeError& e) {
    CHECK(e.offset() == 0);
  }
}

TEST_CASE("codec: bytes cut short at any offset do not decode", "[codec]") {
  check_every_cut_fails<int>(encode(42));
  check_every_cut_fails<std::string>(encode(std::string("hello")));
  check_every_cut_fails<std::vector<double>>(encode(std::vector<double>{1, 2, 3}));
  check_every_cut_fails<std::vector<bool>>(encode(std::vector<bool>(11, true)));
  check_every_cut_fails<std::map<std::string, std::vector<double>>>(
      encode(std::map<std::string, std::vector<double>>{{"a", {1}}, {"bc", {2, 3}}}));
  check_every_cut_fails<std::unordered_map<std::string, int>>(
      encode(std::unordered_map<std::string, int>{{"a", 1}, {"b", 2}}));
  check_every_cut_fails<std::optional<std::tuple<int, std::string>>>(
      encode(std::optional<std::tuple<int, std::string>>{std::tuple<int, std::string>{1, "s"}}));
  check_every_cut_fails<Monster>(encode(make_monster()));
  check_every_cut_fails<Reading>(encode(Reading{"r", {1.5}, 3}));

  std::string bytes = encode(std::vector<std::int32_t>{1, 2});
  bytes.resize(bytes.size() - 3);
  const std::string message =
      decode_error_of([&] { (void)decode_or_throw<std::vector<std::int32_t>>(bytes); });
  CHECK(message.find("cannot decode a vector<i32>") != std::string::npos);
  CHECK(message.find("at offset 8") != std::string::npos);  // the count that cannot fit
}

TEST_CASE("codec: bytes left over after the value do not decode", "[codec]") {
  CHECK_FALSE(decode<int>(encode(1) + 'x').has_value());
  CHECK_FALSE(decode<std::string>(encode(std::string("s")) + std::string(1, '\0')).has_value());
  CHECK_FALSE(decode<std::monostate>(encode(std::monostate{}) + std::string(1, '\0')).has_value());
  const std::string message = decode_error_of(
      [] { (void)decode_or_throw<std::vector<int>>(encode(std::vector<int>{}) + "ab"); });
  CHECK(message.find("2 bytes left over") != std::string::npos);
  CHECK(message.find("at offset 9") != std::string::npos);
}

TEST_CASE("codec: a count larger than the bytes left is refused before any allocation", "[codec]") {
  std::string huge;
  ByteWriter(huge).write_count(std::uint64_t{1} << 60);
  std::string max;
  ByteWriter(max).write_count(std::numeric_limits<std::uint64_t>::max());
  const auto start = std::chrono::steady_clock::now();
  for (const std::string& count : {huge, max}) {
    const std::string tail = count + "abcdefgh";
    CHECK_FALSE(decode<std::string>(tagged<std::string>(tail)).has_value());
    CHECK_FALSE(decode<std::vector<char>>(tagged<std::vector<char>>(tail)).has_value());
    CHECK_FALSE(decode<std::vector<double>>(tagged<std::vector<double>>(tail)).has_value());
    CHECK_FALSE(decode<std::vector<bool>>(tagged<std::vector<bool>>(tail)).has_value());
    CHECK_FALSE(
        decode<std::vector<std::monostate>>(tagged<std::vector<std::monostate>>(tail)).has_value());
    CHECK_FALSE(decode<std::map<int, int>>(tagged<std::map<int, int>>(tail)).has_value());
    CHECK_FALSE(
        decode<std::unordered_set<std::string>>(tagged<std::unordered_set<std::string>>(tail))
            .has_value());

    allocation_log = {};
    using Counted = std::vector<std::string, CountingAllocator<std::string>>;
    CHECK_FALSE(decode<Counted>(tagged<Counted>(tail)).has_value());
    CHECK(allocation_log.total == 0);
  }
  // A count that fits the bytes left, of elements that fail at once: what is reserved is
  // bounded by those bytes, not by the count times the elements' size in memory.
  allocation_log = {};
  using Readings = std::vector<Reading, CountingAllocator<Reading>>;
  std::string claim;
  ByteWriter(claim).write_count(100000);
  CHECK_FALSE(decode<Readings>(tagged<Readings>(claim + std::string(100000, '\xff'))).has_value());
  CHECK(allocation_log.largest <= 16 * 100000 + sizeof(Reading));
  CHECK(allocation_log.largest < 100000 * sizeof(Reading));
  CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(2));
}

TEST_CASE("codec: only canonical bytes decode", "[codec]") {
  // A count written with more bytes than needed: 1 as 0x81 0x00.
  CHECK(decode<std::string>(tagged<std::string>("\x01x"sv)).has_value());
  CHECK_FALSE(decode<std::string>(tagged<std::string>(std::string("\x81\x00x", 3))).has_value());
  // A count above 2^64 - 1 (an eleventh byte, or a tenth above 1).
  CHECK_FALSE(decode<std::vector<std::monostate>>(
                  tagged<std::vector<std::monostate>>(std::string(10, '\xff') + '\x01'))
                  .has_value());
  // Map keys out of order, or twice.
  CHECK_FALSE(decode<std::map<std::uint8_t, std::uint8_t>>(
                  tagged<std::map<std::uint8_t, std::uint8_t>>("\x02\x02\x00\x01\x00"sv))
                  .has_value());
  CHECK_FALSE(
      decode<std::set<std::uint8_t>>(tagged<std::set<std::uint8_t>>("\x02\x01\x01"sv)).has_value());
  CHECK(
      decode<std::set<std::uint8_t>>(tagged<std::set<std::uint8_t>>("\x02\x01\x02"sv)).has_value());
  // Unordered keys out of the order of their bytes, and keys equal though their bytes differ.
  CHECK_FALSE(decode<std::unordered_set<std::uint8_t>>(
                  tagged<std::unordered_set<std::uint8_t>>("\x02\x02\x01"sv))
                  .has_value());
  std::string zeros;
  ByteWriter zero_writer(zeros);
  zero_writer.write_count(2);
  zero_writer.write(0.0);
  zero_writer.write(-0.0);  // 0.0 == -0.0, so a set of both cannot exist
  CHECK_FALSE(
      decode<std::unordered_set<double>>(tagged<std::unordered_set<double>>(zeros)).has_value());
  // A bit set after the last bool; an optional's flag other than 0 or 1; an alternative out
  // of range; a monostate, empty tuple or empty array byte other than 0.
  CHECK_FALSE(decode<std::vector<bool>>(tagged<std::vector<bool>>("\x03\x0f"sv)).has_value());
  CHECK(decode<std::vector<bool>>(tagged<std::vector<bool>>("\x03\x07"sv)).has_value());
  CHECK_FALSE(decode<std::optional<std::uint8_t>>(tagged<std::optional<std::uint8_t>>("\x02\x00"sv))
                  .has_value());
  CHECK_FALSE(decode<std::variant<std::uint8_t, bool>>(
                  tagged<std::variant<std::uint8_t, bool>>("\x02\x00"sv))
                  .has_value());
  CHECK_FALSE(decode<std::monostate>(tagged<std::monostate>("\x01"sv)).has_value());
  CHECK_FALSE(decode<std::tuple<>>(tagged<std::tuple<>>("\x01"sv)).has_value());
  CHECK_FALSE(decode<std::array<int, 0>>(tagged<std::array<int, 0>>("\x01"sv)).has_value());
}

TEST_CASE("codec: bytes that decode re-encode to themselves, under random mutation", "[codec]") {
  std::size_t decoded = 0;
  decoded += check_canonical_under_mutation<Monster>(encode(make_monster()), 1);
  decoded += check_canonical_under_mutation<std::unordered_map<std::string, std::vector<int>>>(
      encode(std::unordered_map<std::string, std::vector<int>>{
          {"a", {1}}, {"b", {}}, {"c", {2, 3}}, {"", {4}}}),
      2);
  decoded += check_canonical_under_mutation<std::unordered_set<double>>(
      encode(std::unordered_set<double>{0.0, 1.5, -2.0}), 3);
  decoded += check_canonical_under_mutation<std::map<std::string, std::set<std::int8_t>>>(
      encode(std::map<std::string, std::set<std::int8_t>>{{"a", {1, 2}}, {"b", {-1}}}), 4);
  decoded += check_canonical_under_mutation<std::vector<std::optional<bool>>>(
      encode(std::vector<std::optional<bool>>{true, std::nullopt, false}), 5);
  decoded += check_canonical_under_mutation<std::vector<bool>>(
      encode(std::vector<bool>{true, false, true, true, false, true, false, false, true}), 6);
  // Some mutations must have decoded, or the property was never tested.
  CHECK(decoded > 100);
}

TEST_CASE("codec: an unordered container encodes the same whatever its history", "[codec]") {
  std::unordered_map<std::string, int> small;
  std::unordered_map<std::string, int> large(1024);
  for (int i = 0; i < 50; ++i) small.emplace("k" + std::to_string(i), i);
  for (int i = 49; i >= 0; --i) large.emplace("k" + std::to_string(i), i);
  CHECK(encode(small) == encode(large));
}

TEST_CASE("codec: a user's Codec round-trips, alone and inside containers", "[codec]") {
  const Reading reading{"north", {1.5, -0.0, 1e300}, 4};
  check_round_trip(reading);
  check_round_trip(Reading{});
  check_round_trip(std::vector<Reading>{reading, Reading{"", {}, std::nullopt}});
  check_round_trip(std::map<std::string, Reading>{{"r", reading}});
  CHECK(encode(reading).substr(0, 8) != encode(std::string()).substr(0, 8));
  // Its own check: DecodeError from ByteReader::fail.
  const std::string negative = encode(Reading{"n", {}, -1});
  CHECK_FALSE(decode<Reading>(negative).has_value());
  const std::string message = decode_error_of([&] { (void)decode_or_throw<Reading>(negative); });
  CHECK(message.find("cannot decode a codec_test::Reading/1: a negative sensor number") !=
        std::string::npos);
}

TEST_CASE("codec: a Codec that writes nothing is refused inside a container", "[codec]") {
  CHECK(encode(Empty{}).size() == 8);
  CHECK_THROWS_AS(encode(std::vector<Empty>(2)), std::logic_error);
  CHECK_THROWS_AS(encode(std::map<Empty, Empty>{{Empty{}, Empty{}}}), std::logic_error);
  CHECK(encode(std::vector<Empty>{}).size() == 9);  // no element, nothing to refuse
}

TEST_CASE("codec: a variant valueless by exception cannot be encoded", "[codec]") {
  std::variant<int, Fragile> broken;
  const Fragile source;
  CHECK_THROWS_AS(broken.emplace<1>(source), std::runtime_error);
  REQUIRE(broken.valueless_by_exception());
  CHECK_THROWS_AS(encode(broken), std::invalid_argument);
  check_round_trip(std::variant<int, Fragile>{7});
}

}  // namespace codec_test
