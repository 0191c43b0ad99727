#pragma once
/// @file codec.hpp
/// Codec<T>: how a value becomes bytes and back, so a store can keep task results between
/// processes. Built in for arithmetic types, enums, std::string and the standard containers
/// of encodable types; specialise it for your own. Not included by taskmap.hpp.

#include <cstdint>
#include <exception>
#include <optional>
#include <string>
#include <string_view>

#include "taskmap/detail/codec_builtin.hpp"
#include "taskmap/detail/codec_bytes.hpp"
#include "taskmap/errors.hpp"

namespace taskmap {

/// Turns a T into bytes and back. Left undefined: a specialisation provides
/// `static constexpr std::string_view name` (the type's signature, e.g. "geo::Raster/1",
/// stored as a hash with every value so bytes of one type are never decoded as another's),
/// `static void encode(ByteWriter&, const T&)` (writing at least one byte) and
/// `static T decode(ByteReader&)` (throwing DecodeError on bytes encode() never writes).
template <class T>
struct Codec;

/// True when Codec<T> is specialised with a constant name, encode() and decode().
template <class T>
concept Encodable = detail::CodecFor<T>;

namespace detail {

template <class T>
constexpr bool check_encodable() {
  if constexpr (
      requires { sizeof(Codec<T>); } && !requires { Codec<T>::name; }) {
    static_assert(
        requires { Codec<T>::name; },
        "taskmap: Codec<T> has no name. Add `static constexpr std::string_view name = "
        "\"MyType/1\";` to it (a Codec deriving from JsonCodec too): the signature "
        "hashed into the tag stored with every value (docs/codecs.md)");
    return false;
  } else {
    static_assert(Encodable<T>,
                  "taskmap: T has no Codec. Specialise taskmap::Codec<T> with a name, encode() "
                  "and decode() (docs/codecs.md), or use a built-in type; T must not be const or "
                  "a reference");
    return Encodable<T>;
  }
}

inline constexpr std::size_t kTagBytes = 8;

inline std::string hex(std::uint64_t value) {
  std::string out = "0x0000000000000000";
  for (std::size_t i = out.size(); value != 0; value >>= 4)
    out[--i] = "0123456789abcdef"[value & 15];
  return out;
}

}  // namespace detail

/// The tag stored before the bytes of every T: a 64-bit FNV-1a hash of Codec<T>::name.
template <Encodable T>
[[nodiscard]] constexpr std::uint64_t codec_tag() noexcept {
  return detail::fnv1a(Codec<T>::name);
}

/// `value` as bytes: T's tag (8 bytes, little-endian), then what Codec<T>::encode writes.
/// Throws: what Codec<T>::encode throws (the built-ins: std::bad_alloc, and
/// std::invalid_argument for a variant valueless by exception).
template <class T>
[[nodiscard]] std::string encode(const T& value) {
  std::string out;
  if constexpr (detail::check_encodable<T>()) {
    ByteWriter writer(out);
    Codec<std::uint64_t>::encode(writer, codec_tag<T>());
    Codec<T>::encode(writer, value);
  }
  return out;
}

/// The T that encode() turned into `bytes`.
/// Throws: DecodeError saying what is wrong and at which offset: a tag of another type
/// (naming T's signature), bytes cut short, malformed, or left over after the value; what
/// a user's Codec throws other than DecodeError passes through.
template <class T>
[[nodiscard]] T decode_or_throw(std::string_view bytes) {
  if constexpr (detail::check_encodable<T>()) {
    ByteReader in(bytes);
    if (bytes.size() < detail::kTagBytes) {
      ByteReader::fail_at(0, "cannot decode a " + std::string(Codec<T>::name) + ": " +
                                 std::to_string(bytes.size()) + " bytes, too short for a tag");
    }
    const std::uint64_t tag = Codec<std::uint64_t>::decode(in);
    if (tag != codec_tag<T>()) {
      ByteReader::fail_at(0, "cannot decode a " + std::string(Codec<T>::name) +
                                 ": the bytes were written for another type (tag " +
                                 detail::hex(tag) + ", expected " + detail::hex(codec_tag<T>()) +
                                 ")");
    }
    try {
      T value = Codec<T>::decode(in);
      if (in.remaining() != 0) {
        in.fail(std::to_string(in.remaining()) + " bytes left over after the value");
      }
      return value;
    } catch (const DecodeError& e) {
      throw DecodeError("cannot decode a " + std::string(Codec<T>::name) + ": " + e.what(),
                        e.offset());
    }
  } else {
    std::terminate();  // unreachable: check_encodable has stopped the build
  }
}

/// The T that encode() turned into `bytes`, or nullopt when they are not one: a tag of
/// another type, bytes cut short, malformed, or left over. Never reads out of bounds, and
/// allocates no more than a small multiple of the bytes' size whatever lengths they claim.
/// Throws: what a user's Codec throws other than DecodeError; std::bad_alloc.
template <class T>
[[nodiscard]] std::optional<T> decode(std::string_view bytes) {
  if constexpr (detail::check_encodable<T>()) {
    try {
      return decode_or_throw<T>(bytes);
    } catch (const DecodeError&) {
      return std::nullopt;
    }
  } else {
    return std::nullopt;
  }
}

}  // namespace taskmap
