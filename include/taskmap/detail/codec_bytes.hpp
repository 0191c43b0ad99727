#pragma once
// ByteWriter and ByteReader, what a Codec writes to and reads from, and the requirement a
// Codec specialisation meets (taskmap::Encodable is its public name, in codec.hpp).

#include <concepts>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <string>
#include <string_view>
#include <type_traits>

#include "taskmap/errors.hpp"

namespace taskmap {

template <class T>
struct Codec;
class ByteWriter;
class ByteReader;

namespace detail {

// The name must be a constant: it is hashed at compile time into the tag stored with values.
template <class T>
concept CodecFor = std::is_object_v<T> && !std::is_const_v<T> && !std::is_volatile_v<T> &&
                   requires(ByteWriter & out, ByteReader& in, const T& value) {
  typename std::integral_constant<std::size_t, std::string_view(Codec<T>::name).size()>;
  Codec<T>::encode(out, value);
  { Codec<T>::decode(in) } -> std::same_as<T>;
};

}  // namespace detail

/// Appends the bytes of encoded values to a std::string; a Codec's encode() writes through it.
class ByteWriter {
 public:
  /// Appends to `out`, which must outlive the writer.
  explicit ByteWriter(std::string& out) noexcept : out_(&out) {}

  /// Appends `bytes` as they are.
  void write_bytes(std::string_view bytes) { out_->append(bytes); }

  /// Appends one byte.
  void write_byte(std::uint8_t byte) { out_->push_back(static_cast<char>(byte)); }

  /// Appends `count` as an unsigned LEB128 number (1 byte below 128, at most 10): the length
  /// of a container, read back by ByteReader::read_count or read_size.
  void write_count(std::uint64_t count) {
    while (count >= 0x80) {
      write_byte(static_cast<std::uint8_t>(count | 0x80));
      count >>= 7;
    }
    write_byte(static_cast<std::uint8_t>(count));
  }

  /// Appends `value` with its type's Codec (no tag): the way a Codec writes its fields.
  template <class T>
  requires detail::CodecFor<T>
  void write(const T& value) { Codec<T>::encode(*this, value); }

  /// How many bytes the output holds.
  [[nodiscard]] std::size_t size() const noexcept { return out_->size(); }

 private:
  std::string* out_;
};

/// Reads the bytes of encoded values in order; a Codec's decode() reads through it. Every
/// read checks the bytes left and throws DecodeError, naming the offset, rather than read
/// past the end.
class ByteReader {
 public:
  /// Reads `bytes`, which must outlive the reader, from `offset` on (offsets in messages
  /// count from the start of `bytes`).
  explicit ByteReader(std::string_view bytes, std::size_t offset = 0) noexcept
      : bytes_(bytes), at_(offset < bytes.size() ? offset : bytes.size()) {}

  /// The next `n` bytes, as a view into the input.
  /// Throws: DecodeError when fewer than `n` bytes are left.
  std::string_view read_bytes(std::size_t n) {
    if (n > remaining()) {
      fail("truncated: " + std::to_string(n) + " bytes needed, " + std::to_string(remaining()) +
           " left");
    }
    const std::string_view out = bytes_.substr(at_, n);
    at_ += n;
    return out;
  }

  /// The next byte.
  /// Throws: DecodeError at the end of the input.
  std::uint8_t read_byte() { return static_cast<std::uint8_t>(read_bytes(1)[0]); }

  /// A number written by ByteWriter::write_count.
  /// Throws: DecodeError when it is cut short, longer than needed (so every number has one
  /// encoding) or above 2^64 - 1.
  std::uint64_t read_count() {
    const std::size_t start = at_;
    std::uint64_t value = 0;
    for (unsigned shift = 0;; shift += 7) {
      const std::uint8_t byte = read_byte();
      if (shift == 63 && byte > 1) fail_at(start, "a count above 2^64 - 1");
      value |= static_cast<std::uint64_t>(byte & 0x7F) << shift;
      if ((byte & 0x80) == 0) {
        if (byte == 0 && shift != 0) fail_at(start, "a count written with more bytes than needed");
        return value;
      }
    }
  }

  /// The length of a container whose elements take at least `min_bytes_each` bytes each:
  /// a count checked against the bytes left, so a corrupt length is refused before anything
  /// is allocated for it.
  /// Throws: DecodeError as read_count does, and when the count cannot fit in the bytes left.
  std::size_t read_size(std::size_t min_bytes_each = 1) {
    const std::size_t start = at_;
    const std::uint64_t count = read_count();
    if (min_bytes_each == 0) min_bytes_each = 1;
    if (count > remaining() / min_bytes_each) {
      fail_at(start, "a count of " + std::to_string(count) + " elements of at least " +
                         std::to_string(min_bytes_each) + " bytes each, with " +
                         std::to_string(remaining()) + " bytes left");
    }
    return static_cast<std::size_t>(count);
  }

  /// The next value, decoded with its type's Codec (no tag): the way a Codec reads its fields.
  /// Throws: DecodeError when the bytes are not a value of T.
  template <class T>
  requires detail::CodecFor<T> T read() { return Codec<T>::decode(*this); }

  /// Throws DecodeError saying `what` is wrong at the current offset; for a Codec's own
  /// checks (a field out of range, an unknown version...).
  [[noreturn]] void fail(const std::string& what) const { fail_at(at_, what); }

  /// Throws DecodeError saying `what` is wrong at `offset`.
  [[noreturn]] static void fail_at(std::size_t offset, const std::string& what) {
    throw DecodeError(what + " at offset " + std::to_string(offset), offset);
  }

  /// The offset of the next byte to read.
  [[nodiscard]] std::size_t offset() const noexcept { return at_; }
  /// How many bytes are left to read.
  [[nodiscard]] std::size_t remaining() const noexcept { return bytes_.size() - at_; }
  /// The whole input, read or not.
  [[nodiscard]] std::string_view data() const noexcept { return bytes_; }

 private:
  std::string_view bytes_;
  std::size_t at_;
};

}  // namespace taskmap
