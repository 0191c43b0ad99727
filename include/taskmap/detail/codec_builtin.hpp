#pragma once
// The built-in Codec specialisations: arithmetic types, enums, std::string and the standard
// containers and sum/product types of encodable types; and the compile-time signatures they
// compose ("map<string,vector<f64>>").
//
// Every encoding is canonical: bytes that decode re-encode to exactly themselves. So each
// decode() refuses anything encode() never writes: a bool byte other than 0 or 1, a count
// with more bytes than needed, map keys out of order, padding bits set.

#include <algorithm>
#include <array>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <iterator>
#include <limits>
#include <map>
#include <numeric>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <variant>
#include <vector>

#include "taskmap/detail/codec_bytes.hpp"

namespace taskmap {

namespace detail {

// --- Signatures, composed at compile time. ---

template <const std::string_view&... Parts>
struct JoinNames {
  static constexpr std::size_t size = (Parts.size() + ... + 0);
  static constexpr std::array<char, size + 1> storage = [] {
    std::array<char, size + 1> out{};
    std::size_t i = 0;
    ((void)(std::copy(Parts.begin(), Parts.end(), out.begin() + static_cast<std::ptrdiff_t>(i)),
            i += Parts.size()),
     ...);
    return out;
  }();
  static constexpr std::string_view value{storage.data(), size};
};

inline constexpr std::string_view kComma = ",";
inline constexpr std::string_view kClose = ">";

// "a,b,c" from a, b, c.
template <const std::string_view&... Items>
struct CommaList {
  static constexpr std::string_view value{};
};
template <const std::string_view& First>
struct CommaList<First> {
  static constexpr std::string_view value = First;
};
template <const std::string_view& First, const std::string_view& Second,
          const std::string_view&... Rest>
struct CommaList<First, Second, Rest...> {
  static constexpr std::string_view value =
      JoinNames<First, kComma, CommaList<Second, Rest...>::value>::value;
};

// "<Open><A,B,...>>", e.g. "tuple<" + "i32,string" + ">".
template <const std::string_view& Open, const std::string_view&... Items>
inline constexpr std::string_view kGeneric =
    JoinNames<Open, CommaList<Items...>::value, kClose>::value;

template <std::size_t N>
struct DecimalName {
  static constexpr std::size_t digits = [] {
    std::size_t d = 1;
    for (std::size_t n = N; n >= 10; n /= 10) ++d;
    return d;
  }();
  static constexpr std::array<char, digits + 1> storage = [] {
    std::array<char, digits + 1> out{};
    std::size_t n = N;
    for (std::size_t i = digits; i-- > 0; n /= 10) out[i] = static_cast<char>('0' + n % 10);
    return out;
  }();
  static constexpr std::string_view value{storage.data(), digits};
};

/// FNV-1a, 64 bits: the tag stored with a value, so bytes of one type are not read as
/// another's. A tag, not a fingerprint: nothing depends on it resisting deliberate collisions.
constexpr std::uint64_t fnv1a(std::string_view text) noexcept {
  std::uint64_t hash = 0xcbf29ce484222325ULL;
  for (const char c : text) {
    hash ^= static_cast<unsigned char>(c);
    hash *= 0x100000001b3ULL;
  }
  return hash;
}

// The fewest bytes any value of T encodes to. Containers check their count against the bytes
// left with it before allocating; a codec that does not declare min_size takes at least 1.
template <class T>
constexpr std::size_t min_encoded_size() {
  if constexpr (requires { Codec<T>::min_size; }) {
    static_assert(Codec<T>::min_size >= 1,
                  "a Codec's min_size must be at least 1: every value takes at least one byte");
    return Codec<T>::min_size;
  } else {
    return 1;
  }
}

// How many elements a container reserves before decoding them: no more than the count, nor
// than 16 bytes of memory per byte left, so a corrupt count cannot make a large allocation
// (beyond it the container grows as elements actually decode).
template <class T>
std::size_t reserve_for(std::size_t count, std::size_t bytes_left) {
  return std::min(count, bytes_left / sizeof(T) * 16 + 1);
}

// Checks that an element of a container took a byte: read_size() bounds counts by the bytes
// left, which holds only when every element takes at least one.
template <class T>
void expect_written(const ByteWriter& out, std::size_t before) {
  if (out.size() == before) {
    throw std::logic_error("taskmap::Codec<" + std::string(Codec<T>::name) +
                           ">::encode wrote no bytes; every value must take at least one");
  }
}

template <class T>
void encode_element(ByteWriter& out, const T& value) {
  const std::size_t before = out.size();
  Codec<T>::encode(out, value);
  expect_written<T>(out, before);
}

template <class T>
inline constexpr bool is_char_type =
    std::is_same_v<T, char> || std::is_same_v<T, wchar_t> || std::is_same_v<T, char8_t> ||
    std::is_same_v<T, char16_t> || std::is_same_v<T, char32_t>;

template <class T>
constexpr std::string_view arithmetic_name() {
  if constexpr (std::is_same_v<T, bool>) {
    return "bool";
  } else if constexpr (std::is_same_v<T, char>) {
    return "char";
  } else if constexpr (std::is_same_v<T, char8_t>) {
    return "char8";
  } else if constexpr (std::is_same_v<T, char16_t>) {
    return "char16";
  } else if constexpr (std::is_same_v<T, char32_t>) {
    return "char32";
  } else if constexpr (std::is_same_v<T, wchar_t>) {
    return sizeof(wchar_t) == 2 ? "wchar16" : "wchar32";
  } else if constexpr (std::is_integral_v<T>) {
    // By representation, not spelling: long and long long of 64 bits are both "i64", so an
    // int64_t value reads back whichever type the platform makes it.
    constexpr std::string_view names[2][5] = {{"u8", "u16", "u32", "u64", "u128"},
                                              {"i8", "i16", "i32", "i64", "i128"}};
    return names[std::is_signed_v<T>][std::countr_zero(sizeof(T))];
  } else if constexpr (std::is_same_v<T, float>) {
    return "f32";
  } else if constexpr (std::is_same_v<T, double>) {
    return "f64";
  } else if constexpr (std::numeric_limits<long double>::digits == 53) {
    return "f64";
  } else if constexpr (std::numeric_limits<long double>::digits == 64) {
    return "f80";
  } else {
    return "f128";
  }
}

// The bytes of T's value; long double's padding is left out (x87's 80 bits in 16 bytes).
template <class T>
constexpr std::size_t arithmetic_bytes() {
  if constexpr (std::is_same_v<T, long double> && std::numeric_limits<long double>::digits == 64) {
    return 10;
  } else {
    return sizeof(T);
  }
}

template <class T>
inline constexpr bool supported_arithmetic = std::is_arithmetic_v<T> &&
                                             (!std::is_floating_point_v<T> ||
                                              std::numeric_limits<T>::is_iec559 ||
                                              (std::is_same_v<T, long double> &&
                                               std::numeric_limits<long double>::digits == 64)) &&
                                             (sizeof(T) <= 16) && std::has_single_bit(sizeof(T));

// Arrays of these are copied as they lie in memory on a little-endian machine: the
// representation is the encoding, and every bit pattern is a valid value.
template <class T>
inline constexpr bool bulk_copyable =
    std::endian::native == std::endian::little&& supported_arithmetic<T> &&
    !std::is_same_v<T, bool> && arithmetic_bytes<T>() == sizeof(T);

// The unsigned integer a value's bits are shifted in and out of.
template <class T>
struct BitsOf {
  using type = std::conditional_t<
      sizeof(T) == 1, std::uint8_t,
      std::conditional_t<sizeof(T) == 2, std::uint16_t,
                         std::conditional_t<sizeof(T) == 4, std::uint32_t, std::uint64_t>>>;
};
template <class T>
requires(std::is_integral_v<T> && !std::is_same_v<T, bool>) struct BitsOf<T> {
  using type = std::make_unsigned_t<T>;  // 128 bits too, where the compiler has them
};

// For each alternative index of a variant, a function that decodes that alternative.
template <class V, class... Ts, std::size_t... I>
constexpr auto variant_decoders(std::index_sequence<I...>) {
  return std::array<V (*)(ByteReader&), sizeof...(Ts)>{
      +[](ByteReader& in) { return V(std::in_place_index<I>, in.read<Ts>()); }...};
}

template <class C>
inline constexpr bool is_map = !std::is_same_v<typename C::key_type, typename C::value_type>;

template <class C, class K>
void write_sorted_by_key_bytes(ByteWriter& out, const C& container) {
  // Unordered containers iterate in an order that depends on their history: sort by the
  // keys' bytes so equal containers encode equally (keys need no operator<).
  std::string keys;
  ByteWriter key_writer(keys);
  std::vector<std::pair<std::size_t, std::size_t>> spans;  // offset, length
  std::vector<const typename C::value_type*> entries;
  spans.reserve(container.size());
  entries.reserve(container.size());
  for (const auto& entry : container) {
    const std::size_t start = keys.size();
    if constexpr (is_map<C>) {
      key_writer.write(entry.first);
    } else {
      key_writer.write(entry);
    }
    spans.emplace_back(start, keys.size() - start);
    entries.push_back(&entry);
  }
  std::vector<std::size_t> order(entries.size());
  std::iota(order.begin(), order.end(), std::size_t{0});
  const std::string_view all = keys;
  const auto key_bytes = [&](std::size_t i) { return all.substr(spans[i].first, spans[i].second); };
  std::sort(order.begin(), order.end(),
            [&](std::size_t a, std::size_t b) { return key_bytes(a) < key_bytes(b); });
  out.write_count(entries.size());
  for (const std::size_t i : order) {
    const std::size_t before = out.size();
    out.write_bytes(key_bytes(i));
    if constexpr (is_map<C>) out.write(entries[i]->second);
    expect_written<K>(out, before);
  }
}

// The fewest bytes one entry of a map (key K, value V) or set (V void) can take: bounds
// the entry count a reader accepts before allocating.
template <class K, class V>
constexpr std::size_t min_entry_size() {
  if constexpr (std::is_void_v<V>) {
    return min_encoded_size<K>();
  } else {
    return min_encoded_size<K>() + min_encoded_size<V>();
  }
}

// Decodes the entries of an unordered container written by write_sorted_by_key_bytes:
// keys strictly increasing by their bytes, none equal to another.
template <class C, class K, class V>
C read_sorted_by_key_bytes(ByteReader& in) {
  constexpr std::size_t each = min_entry_size<K, V>();
  const std::size_t count = in.read_size(each);
  C out;
  out.reserve(reserve_for<typename C::value_type>(count, in.remaining()));
  std::string_view previous;
  for (std::size_t i = 0; i < count; ++i) {
    const std::size_t start = in.offset();
    K key = in.read<K>();
    const std::string_view key_bytes = in.data().substr(start, in.offset() - start);
    if (i > 0 && !(previous < key_bytes)) {
      ByteReader::fail_at(start, "keys not in increasing order of their bytes");
    }
    previous = key_bytes;
    bool inserted = false;
    if constexpr (std::is_void_v<V>) {
      inserted = out.insert(std::move(key)).second;
    } else {
      inserted = out.emplace(std::move(key), in.read<V>()).second;
    }
    if (!inserted) ByteReader::fail_at(start, "a key equal to an earlier one");
  }
  return out;
}

// The key of a map's entry or a set's element.
template <class K, class V>
const K& key_of(const std::pair<const K, V>& entry) {
  return entry.first;
}
template <class K>
const K& key_of(const K& element) {
  return element;
}

template <class C, class K, class V>
C read_in_key_order(ByteReader& in) {
  constexpr std::size_t each = min_entry_size<K, V>();
  const std::size_t count = in.read_size(each);
  C out;
  for (std::size_t i = 0; i < count; ++i) {
    const std::size_t start = in.offset();
    K key = in.read<K>();
    if (i > 0 && !out.key_comp()(key_of(*std::prev(out.end())), key)) {
      ByteReader::fail_at(start, "keys not in strictly increasing order");
    }
    if constexpr (std::is_void_v<V>) {
      out.emplace_hint(out.end(), std::move(key));
    } else {
      V value = in.read<V>();
      out.emplace_hint(out.end(), std::move(key), std::move(value));
    }
  }
  return out;
}

inline constexpr std::string_view kEnum = "enum<";
inline constexpr std::string_view kVector = "vector<";
inline constexpr std::string_view kArray = "array<";
inline constexpr std::string_view kMap = "map<";
inline constexpr std::string_view kUnorderedMap = "unordered_map<";
inline constexpr std::string_view kSet = "set<";
inline constexpr std::string_view kUnorderedSet = "unordered_set<";
inline constexpr std::string_view kOptional = "optional<";
inline constexpr std::string_view kPair = "pair<";
inline constexpr std::string_view kTuple = "tuple<";
inline constexpr std::string_view kVariant = "variant<";

}  // namespace detail

// --- Arithmetic types: fixed width, little-endian; floating point bit for bit. ---

template <class T>
requires detail::supported_arithmetic<T>
struct Codec<T> {
  static constexpr std::string_view name = detail::arithmetic_name<T>();
  static constexpr std::size_t min_size = detail::arithmetic_bytes<T>();

  static void encode(ByteWriter& out, const T& value) {
    std::array<char, min_size> bytes{};
    if constexpr (std::is_floating_point_v<T> && sizeof(T) > 8) {
      static_assert(std::endian::native == std::endian::little,
                    "taskmap encodes long double only on little-endian machines");
      std::memcpy(bytes.data(), &value, min_size);
    } else {
      using U = typename detail::BitsOf<T>::type;
      auto bits = std::bit_cast<U>(value);
      for (char& byte : bytes) {
        byte = static_cast<char>(static_cast<unsigned char>(bits & 0xFF));
        if constexpr (sizeof(U) > 1) bits = static_cast<U>(bits >> 8);
      }
    }
    out.write_bytes({bytes.data(), bytes.size()});
  }

  static T decode(ByteReader& in) {
    const std::size_t start = in.offset();
    const std::string_view bytes = in.read_bytes(min_size);
    if constexpr (std::is_same_v<T, bool>) {
      if (bytes[0] != 0 && bytes[0] != 1) {
        ByteReader::fail_at(start, "a bool byte that is neither 0 nor 1");
      }
      return bytes[0] == 1;
    } else if constexpr (std::is_floating_point_v<T> && sizeof(T) > 8) {
      T value{};
      std::memcpy(&value, bytes.data(), min_size);
      return value;
    } else {
      using U = typename detail::BitsOf<T>::type;
      U bits = 0;
      for (std::size_t i = min_size; i-- > 0;) {
        if constexpr (sizeof(U) > 1) bits = static_cast<U>(bits << 8);
        bits = static_cast<U>(bits | static_cast<unsigned char>(bytes[i]));
      }
      return std::bit_cast<T>(bits);
    }
  }
};

// --- Enums with a fixed underlying type (every scoped enum), as that type. ---
// An unscoped enum without one may not hold values outside its enumerators' range, so decoding
// any other would be undefined behaviour: such an enum needs a Codec of its own.

template <class E>
requires std::is_enum_v<E> && requires {
  E{std::underlying_type_t<E>{}};
} && detail::CodecFor<std::underlying_type_t<E>>
struct Codec<E> {
  using Underlying = std::underlying_type_t<E>;
  static constexpr std::string_view name = detail::kGeneric<detail::kEnum, Codec<Underlying>::name>;
  static constexpr std::size_t min_size = detail::min_encoded_size<Underlying>();

  static void encode(ByteWriter& out, const E& value) {
    Codec<Underlying>::encode(out, static_cast<Underlying>(value));
  }
  static E decode(ByteReader& in) { return static_cast<E>(Codec<Underlying>::decode(in)); }
};

// --- std::string: its length, then its bytes. ---

template <>
struct Codec<std::string> {
  static constexpr std::string_view name = "string";
  static constexpr std::size_t min_size = 1;

  static void encode(ByteWriter& out, const std::string& value) {
    out.write_count(value.size());
    out.write_bytes(value);
  }
  static std::string decode(ByteReader& in) { return std::string(in.read_bytes(in.read_size())); }
};

// --- std::vector: its length, then its elements (numbers in one copy where possible). ---

template <class T, class A>
requires detail::CodecFor<T>
struct Codec<std::vector<T, A>> {
  static constexpr std::string_view name = detail::kGeneric<detail::kVector, Codec<T>::name>;
  static constexpr std::size_t min_size = 1;

  static void encode(ByteWriter& out, const std::vector<T, A>& value) {
    out.write_count(value.size());
    if constexpr (detail::bulk_copyable<T>) {
      if (!value.empty()) {
        out.write_bytes({reinterpret_cast<const char*>(value.data()), value.size() * sizeof(T)});
      }
    } else {
      for (const T& element : value) detail::encode_element(out, element);
    }
  }

  static std::vector<T, A> decode(ByteReader& in) {
    const std::size_t count = in.read_size(detail::min_encoded_size<T>());
    std::vector<T, A> out;
    if constexpr (detail::bulk_copyable<T>) {
      const std::string_view bytes = in.read_bytes(count * sizeof(T));
      out.resize(count);
      if (count != 0) std::memcpy(out.data(), bytes.data(), bytes.size());
    } else {
      out.reserve(detail::reserve_for<T>(count, in.remaining()));
      for (std::size_t i = 0; i < count; ++i) out.push_back(in.read<T>());
    }
    return out;
  }
};

// std::vector<bool>: its length, then its bits, eight to a byte, first element in the lowest
// bit; the unused bits of the last byte are zero.
template <class A>
struct Codec<std::vector<bool, A>> {
  static constexpr std::string_view name = "vector<bool>";
  static constexpr std::size_t min_size = 1;

  static void encode(ByteWriter& out, const std::vector<bool, A>& value) {
    out.write_count(value.size());
    std::uint8_t byte = 0;
    for (std::size_t i = 0; i < value.size(); ++i) {
      if (value[i]) byte = static_cast<std::uint8_t>(byte | 1U << (i % 8));
      if (i % 8 == 7 || i + 1 == value.size()) {
        out.write_byte(byte);
        byte = 0;
      }
    }
  }

  static std::vector<bool, A> decode(ByteReader& in) {
    const std::size_t start = in.offset();
    const std::uint64_t count = in.read_count();
    if (count / 8 + (count % 8 != 0) > in.remaining()) {
      ByteReader::fail_at(start, "a count of " + std::to_string(count) + " bits, with " +
                                     std::to_string(in.remaining()) + " bytes left");
    }
    const auto size = static_cast<std::size_t>(count);
    const std::string_view bytes = in.read_bytes(size / 8 + (size % 8 != 0));
    if (size % 8 != 0 && (static_cast<unsigned char>(bytes.back()) >> (size % 8)) != 0) {
      ByteReader::fail_at(in.offset() - 1, "unused bits set after the last bool");
    }
    std::vector<bool, A> out(size);
    for (std::size_t i = 0; i < size; ++i) {
      out[i] = (static_cast<unsigned char>(bytes[i / 8]) >> (i % 8) & 1U) != 0;
    }
    return out;
  }
};

// --- std::array: its elements, no length (an empty array is one zero byte). ---

template <class T, std::size_t N>
requires detail::CodecFor<T>
struct Codec<std::array<T, N>> {
  static constexpr std::string_view name =
      detail::kGeneric<detail::kArray, Codec<T>::name, detail::DecimalName<N>::value>;
  static constexpr std::size_t min_size = N == 0 ? 1 : N * detail::min_encoded_size<T>();

  static void encode(ByteWriter& out, const std::array<T, N>& value) {
    if constexpr (N == 0) {
      out.write_byte(0);
    } else {
      for (const T& element : value) out.write(element);
    }
  }

  static std::array<T, N> decode(ByteReader& in) {
    if constexpr (N == 0) {
      if (in.read_byte() != 0)
        ByteReader::fail_at(in.offset() - 1, "an empty array's byte is not 0");
      return {};
    } else if constexpr (std::is_default_constructible_v<T>) {
      std::array<T, N> out;
      for (T& element : out) element = in.read<T>();
      return out;
    } else {
      return [&]<std::size_t... I>(std::index_sequence<I...>) {
        return std::array<T, N>{((void)I, in.read<T>())...};
      }
      (std::make_index_sequence<N>());
    }
  }
};

// --- Ordered maps and sets: length, then entries in key order (strictly increasing). ---

template <class K, class V, class C, class A>
requires detail::CodecFor<K> && detail::CodecFor<V>
struct Codec<std::map<K, V, C, A>> {
  static constexpr std::string_view name =
      detail::kGeneric<detail::kMap, Codec<K>::name, Codec<V>::name>;
  static constexpr std::size_t min_size = 1;

  static void encode(ByteWriter& out, const std::map<K, V, C, A>& value) {
    out.write_count(value.size());
    for (const auto& [key, mapped] : value) {
      const std::size_t before = out.size();
      out.write(key);
      out.write(mapped);
      detail::expect_written<K>(out, before);
    }
  }
  static std::map<K, V, C, A> decode(ByteReader& in) {
    return detail::read_in_key_order<std::map<K, V, C, A>, K, V>(in);
  }
};

template <class K, class C, class A>
requires detail::CodecFor<K>
struct Codec<std::set<K, C, A>> {
  static constexpr std::string_view name = detail::kGeneric<detail::kSet, Codec<K>::name>;
  static constexpr std::size_t min_size = 1;

  static void encode(ByteWriter& out, const std::set<K, C, A>& value) {
    out.write_count(value.size());
    for (const K& key : value) detail::encode_element(out, key);
  }
  static std::set<K, C, A> decode(ByteReader& in) {
    return detail::read_in_key_order<std::set<K, C, A>, K, void>(in);
  }
};

// --- Unordered maps and sets: length, then entries sorted by their keys' encoded bytes. ---

template <class K, class V, class H, class E, class A>
requires detail::CodecFor<K> && detail::CodecFor<V>
struct Codec<std::unordered_map<K, V, H, E, A>> {
  static constexpr std::string_view name =
      detail::kGeneric<detail::kUnorderedMap, Codec<K>::name, Codec<V>::name>;
  static constexpr std::size_t min_size = 1;

  static void encode(ByteWriter& out, const std::unordered_map<K, V, H, E, A>& value) {
    detail::write_sorted_by_key_bytes<std::unordered_map<K, V, H, E, A>, K>(out, value);
  }
  static std::unordered_map<K, V, H, E, A> decode(ByteReader& in) {
    return detail::read_sorted_by_key_bytes<std::unordered_map<K, V, H, E, A>, K, V>(in);
  }
};

template <class K, class H, class E, class A>
requires detail::CodecFor<K>
struct Codec<std::unordered_set<K, H, E, A>> {
  static constexpr std::string_view name = detail::kGeneric<detail::kUnorderedSet, Codec<K>::name>;
  static constexpr std::size_t min_size = 1;

  static void encode(ByteWriter& out, const std::unordered_set<K, H, E, A>& value) {
    detail::write_sorted_by_key_bytes<std::unordered_set<K, H, E, A>, K>(out, value);
  }
  static std::unordered_set<K, H, E, A> decode(ByteReader& in) {
    return detail::read_sorted_by_key_bytes<std::unordered_set<K, H, E, A>, K, void>(in);
  }
};

// --- std::optional: a byte 0 (empty) or 1, then the value. ---

template <class T>
requires detail::CodecFor<T>
struct Codec<std::optional<T>> {
  static constexpr std::string_view name = detail::kGeneric<detail::kOptional, Codec<T>::name>;
  static constexpr std::size_t min_size = 1;

  static void encode(ByteWriter& out, const std::optional<T>& value) {
    out.write_byte(value.has_value() ? 1 : 0);
    if (value) out.write(*value);
  }
  static std::optional<T> decode(ByteReader& in) {
    const std::uint8_t flag = in.read_byte();
    if (flag > 1) ByteReader::fail_at(in.offset() - 1, "an optional's flag is neither 0 nor 1");
    if (flag == 0) return std::nullopt;
    return std::optional<T>(in.read<T>());
  }
};

// --- std::pair and std::tuple: their elements in order (an empty tuple is one zero byte). ---

template <class A, class B>
requires detail::CodecFor<A> && detail::CodecFor<B>
struct Codec<std::pair<A, B>> {
  static constexpr std::string_view name =
      detail::kGeneric<detail::kPair, Codec<A>::name, Codec<B>::name>;
  static constexpr std::size_t min_size =
      detail::min_encoded_size<A>() + detail::min_encoded_size<B>();

  static void encode(ByteWriter& out, const std::pair<A, B>& value) {
    out.write(value.first);
    out.write(value.second);
  }
  static std::pair<A, B> decode(ByteReader& in) {
    return std::pair<A, B>{in.read<A>(), in.read<B>()};  // braces: read in order
  }
};

template <class... Ts>
requires(detail::CodecFor<Ts>&&...) struct Codec<std::tuple<Ts...>> {
  static constexpr std::string_view name = detail::kGeneric<detail::kTuple, Codec<Ts>::name...>;
  static constexpr std::size_t min_size =
      sizeof...(Ts) == 0 ? 1 : (detail::min_encoded_size<Ts>() + ... + 0);

  static void encode(ByteWriter& out, const std::tuple<Ts...>& value) {
    if constexpr (sizeof...(Ts) == 0) {
      out.write_byte(0);
    } else {
      std::apply([&](const Ts&... elements) { (out.write(elements), ...); }, value);
    }
  }
  static std::tuple<Ts...> decode(ByteReader& in) {
    if constexpr (sizeof...(Ts) == 0) {
      if (in.read_byte() != 0)
        ByteReader::fail_at(in.offset() - 1, "an empty tuple's byte is not 0");
      return {};
    } else {
      return std::tuple<Ts...>{in.read<Ts>()...};  // braces: read in order
    }
  }
};

// --- std::variant: the index of its alternative, then that value. ---

template <class... Ts>
requires(sizeof...(Ts) > 0 && (detail::CodecFor<Ts> && ...)) struct Codec<std::variant<Ts...>> {
  static constexpr std::string_view name = detail::kGeneric<detail::kVariant, Codec<Ts>::name...>;
  static constexpr std::size_t min_size = 1 + std::min({detail::min_encoded_size<Ts>()...});

  /// Throws: std::invalid_argument for a variant valueless by exception.
  static void encode(ByteWriter& out, const std::variant<Ts...>& value) {
    if (value.valueless_by_exception()) {
      throw std::invalid_argument("taskmap::Codec<" + std::string(name) +
                                  ">: cannot encode a variant valueless by exception");
    }
    out.write_count(value.index());
    std::visit([&](const auto& alternative) { out.write(alternative); }, value);
  }

  static std::variant<Ts...> decode(ByteReader& in) {
    static constexpr auto decoders =
        detail::variant_decoders<std::variant<Ts...>, Ts...>(std::index_sequence_for<Ts...>());
    const std::size_t start = in.offset();
    const std::uint64_t index = in.read_count();
    if (index >= sizeof...(Ts)) {
      ByteReader::fail_at(start, "variant alternative " + std::to_string(index) + " of " +
                                     std::to_string(sizeof...(Ts)));
    }
    return decoders[static_cast<std::size_t>(index)](in);
  }
};

// std::monostate: one zero byte.
template <>
struct Codec<std::monostate> {
  static constexpr std::string_view name = "monostate";
  static constexpr std::size_t min_size = 1;

  static void encode(ByteWriter& out, const std::monostate&) { out.write_byte(0); }
  static std::monostate decode(ByteReader& in) {
    if (in.read_byte() != 0) ByteReader::fail_at(in.offset() - 1, "a monostate's byte is not 0");
    return {};
  }
};

}  // namespace taskmap
