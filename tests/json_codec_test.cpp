// JsonCodec: a type with to_json/from_json opts into a Codec; its values round-trip alone and
// inside built-in containers, and bytes that are not its JSON fail to decode (DecodeError),
// never a crash.

#include <cmath>
#include <limits>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>
#include <taskmap/json_codec.hpp>

#include "catch.hpp"

namespace json_codec_test {

struct Point {
  std::string label;
  double x = 0;
  double y = 0;
  std::vector<int> tags;
  friend bool operator==(const Point&, const Point&) = default;
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(Point, label, x, y, tags)

// The same JSON fields as Point: only the tag tells their bytes apart.
struct Twin {
  std::string label;
  double x = 0;
  double y = 0;
  std::vector<int> tags;
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(Twin, label, x, y, tags)

}  // namespace json_codec_test

template <>
struct taskmap::Codec<json_codec_test::Point> : taskmap::JsonCodec<json_codec_test::Point> {
  static constexpr std::string_view name = "json_codec_test::Point/1";
};

template <>
struct taskmap::Codec<json_codec_test::Twin> : taskmap::JsonCodec<json_codec_test::Twin> {
  static constexpr std::string_view name = "json_codec_test::Twin/1";
};

namespace json_codec_test {

using namespace taskmap;

std::string tagged_text(std::string_view text) {
  std::string out;
  ByteWriter writer(out);
  writer.write(codec_tag<Point>());
  writer.write_count(text.size());
  writer.write_bytes(text);
  return out;
}

TEST_CASE("json codec: a type opts in and round-trips, alone and in containers", "[json]") {
  STATIC_REQUIRE(Encodable<Point>);
  STATIC_REQUIRE(Codec<std::vector<Point>>::name == "vector<json_codec_test::Point/1>");
  const Point p{"north \xc3\xa9", 1.5, -1e300, {1, 2, 3}};
  const std::string bytes = encode(p);
  CHECK(bytes.find(R"("label":"north)") != std::string::npos);  // JSON text, readable
  CHECK(decode<Point>(bytes) == p);
  CHECK(decode<Point>(encode(Point{})) == Point{});
  const std::map<std::string, std::vector<Point>> nested{{"a", {p, Point{}}}, {"b", {}}};
  CHECK(decode<std::map<std::string, std::vector<Point>>>(encode(nested)) == nested);
  CHECK(decode<std::optional<Point>>(encode(std::optional<Point>(p))) == std::optional<Point>(p));
}

TEST_CASE("json codec: doubles keep every bit of their value, -0.0 included", "[json]") {
  for (const double v : {0.1, 1.0 / 3, -0.0, std::numeric_limits<double>::denorm_min(),
                         std::numeric_limits<double>::max()}) {
    const auto back = decode<Point>(encode(Point{"", v, 0, {}}));
    REQUIRE(back.has_value());
    CHECK(back->x == v);
    CHECK(std::signbit(back->x) == std::signbit(v));
  }
}

TEST_CASE("json codec: bytes that are not the type's JSON do not decode", "[json]") {
  CHECK_FALSE(decode<Point>(encode(Twin{"t", 1, 2, {}})).has_value());  // another type's tag
  CHECK(decode<Point>(tagged_text(R"({"label":"a","x":1,"y":2,"tags":[]})")).has_value());
  CHECK_FALSE(decode<Point>(tagged_text(R"({"label":"a","x":1,"y":2,"tags":[})")).has_value());
  CHECK_FALSE(decode<Point>(tagged_text(R"({"label":"a","x":"1","y":2,"tags":[]})")).has_value());
  CHECK_FALSE(decode<Point>(tagged_text(R"({"label":"a","y":2,"tags":[]})")).has_value());
  CHECK_FALSE(decode<Point>(tagged_text("[1,2]")).has_value());
  CHECK_FALSE(decode<Point>(tagged_text("")).has_value());
  CHECK_FALSE(decode<Point>(tagged_text("\xff")).has_value());
  CHECK_FALSE(decode<Point>(tagged_text(std::string(100000, '['))).has_value());
  try {
    (void)decode_or_throw<Point>(tagged_text(R"({"label":"a","x":"1","y":2,"tags":[]})"));
    FAIL("no DecodeError");
  } catch (const DecodeError& e) {
    const std::string what = e.what();
    CHECK(what.find("cannot decode a json_codec_test::Point/1") != std::string::npos);
    CHECK(what.find("JSON that is not a value of this type") != std::string::npos);
    CHECK(e.offset() == 8);
  }
  const std::string bytes = encode(Point{"cut", 1, 2, {3}});
  for (std::size_t cut = 0; cut < bytes.size(); ++cut) {
    CHECK_FALSE(decode<Point>(std::string_view(bytes).substr(0, cut)).has_value());
  }
  CHECK_FALSE(decode<Point>(bytes + " ").has_value());
}

TEST_CASE("json codec: what JSON cannot hold fails at encode or at decode, never silently",
          "[json]") {
  // JSON text is UTF-8: nlohmann refuses to write a string that is not.
  CHECK_THROWS_AS(encode(Point{"\xff", 0, 0, {}}), nlohmann::json::exception);
  // JSON has no NaN: nlohmann writes null, which does not read back as a double, so the value
  // does not decode (a stored result of this kind makes its task run again).
  const std::string nan_bytes = encode(Point{"", std::nan(""), 0, {}});
  CHECK_FALSE(decode<Point>(nan_bytes).has_value());
}

}  // namespace json_codec_test
