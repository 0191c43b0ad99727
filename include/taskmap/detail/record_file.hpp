#pragma once
// The file DirectoryStore keeps one task's record in, and the name of that file.
//
// Layout (integers little-endian):
//   offset 0      8 bytes   magic "\x89tmrec\r\n" (the \x89 and \r\n catch text-mode copies)
//   offset 8      u32       format version (kRecordFileVersion)
//   offset 12     u32       n, the task name's length
//   offset 16     n bytes   the task name
//   offset 16+n   u64       r, the record's length
//   offset 24+n   u64       XXH3-64 of bytes [0, 24+n) followed by the record
//   offset 32+n   r bytes   the record
// and nothing after it. Anything else (short, long, another name, another version, a
// checksum that does not match) is not a record: the task runs again.

#include <array>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>

#include "taskmap/detail/xxhash.hpp"

namespace taskmap::detail {

inline constexpr std::string_view kRecordFileMagic{"\x89tmrec\r\n", 8};
inline constexpr std::uint32_t kRecordFileVersion = 1;
// Bytes around the name and the record: magic, version, n, r, checksum.
inline constexpr std::size_t kRecordFileOverhead = 8 + 4 + 4 + 8 + 8;
// The longest task name a record file holds (n is 32 bits).
inline constexpr std::size_t kRecordFileMaxName = std::numeric_limits<std::uint32_t>::max();

/// The file name of `task`'s record: the 128-bit XXH3 of the name in hex, then ".rec"
/// (36 characters). Another name with the same hash finds a file whose name differs from its
/// own, which reads as "no record".
inline std::array<char, 37> record_file_name(std::string_view task) noexcept {
  const XXH128_hash_t hash = XXH3_128bits(task.data(), task.size());
  std::array<char, 37> out{};
  constexpr std::string_view digits = "0123456789abcdef";
  const auto put = [&](std::uint64_t half, std::size_t at) {
    for (std::size_t i = 0; i < 16; ++i) out[at + i] = digits[(half >> (60 - 4 * i)) & 0xF];
  };
  put(hash.high64, 0);
  put(hash.low64, 16);
  out[32] = '.';
  out[33] = 'r';
  out[34] = 'e';
  out[35] = 'c';
  out[36] = '\0';
  return out;
}

/// Whether `file_name` is one record_file_name() gives (32 lowercase hex digits and ".rec").
inline bool is_record_file_name(std::string_view file_name) noexcept {
  if (file_name.size() != 36 || file_name.substr(32) != ".rec") return false;
  for (const char c : file_name.substr(0, 32)) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

template <class UInt>
void put_le(std::string& out, UInt value) {
  for (std::size_t i = 0; i < sizeof(UInt); ++i) {
    out.push_back(static_cast<char>(static_cast<unsigned char>(value >> (8 * i))));
  }
}

template <class UInt>
UInt get_le(std::string_view in, std::size_t at) noexcept {
  UInt value = 0;
  for (std::size_t i = 0; i < sizeof(UInt); ++i) {
    value |=
        static_cast<UInt>(static_cast<UInt>(static_cast<unsigned char>(in[at + i])) << (8 * i));
  }
  return value;
}

/// XXH3-64 of `head` followed by `record`, without joining them.
inline std::uint64_t record_file_checksum(std::string_view head, std::string_view record) noexcept {
  XXH3_state_t state;
  XXH3_INITSTATE(&state);
  XXH3_64bits_reset(&state);
  XXH3_64bits_update(&state, head.data(), head.size());
  XXH3_64bits_update(&state, record.data(), record.size());
  return XXH3_64bits_digest(&state);
}

/// The whole file that keeps `record` under `task`. Precondition: task.size() <=
/// kRecordFileMaxName.
inline std::string encode_record_file(std::string_view task, std::string_view record) {
  std::string out;
  out.reserve(kRecordFileOverhead + task.size() + record.size());
  out.append(kRecordFileMagic);
  put_le<std::uint32_t>(out, kRecordFileVersion);
  put_le<std::uint32_t>(out, static_cast<std::uint32_t>(task.size()));
  out.append(task);
  put_le<std::uint64_t>(out, record.size());
  put_le<std::uint64_t>(out, record_file_checksum(out, record));
  out.append(record);
  return out;
}

/// What the first bytes of a file (`prefix`, at least 16 of them) say about its size: the
/// whole size once the prefix holds the record's length, else the size the prefix must reach
/// to tell it. nullopt when the file cannot be a record file (wrong magic or version, or a
/// size beyond size_t). A reader uses it to stop reading a long foreign file early.
inline std::optional<std::size_t> record_file_size_hint(std::string_view prefix) noexcept {
  if (prefix.size() < 16) return 16;
  if (prefix.substr(0, 8) != kRecordFileMagic) return std::nullopt;
  if (get_le<std::uint32_t>(prefix, 8) != kRecordFileVersion) return std::nullopt;
  const std::size_t name_size = get_le<std::uint32_t>(prefix, 12);
  if (prefix.size() < 24 + name_size) return 24 + name_size;
  const std::uint64_t record_size = get_le<std::uint64_t>(prefix, 16 + name_size);
  if (record_size > std::numeric_limits<std::size_t>::max() - kRecordFileOverhead - name_size) {
    return std::nullopt;
  }
  return kRecordFileOverhead + name_size + static_cast<std::size_t>(record_size);
}

/// The record in `file` when `file` is, byte for byte, a record file of `task`: right magic,
/// version, name, lengths and checksum, nothing after the record. nullopt otherwise.
inline std::optional<std::string_view> decode_record_file(std::string_view file,
                                                          std::string_view task) noexcept {
  if (file.size() < kRecordFileOverhead) return std::nullopt;
  if (file.substr(0, 8) != kRecordFileMagic) return std::nullopt;
  if (get_le<std::uint32_t>(file, 8) != kRecordFileVersion) return std::nullopt;
  const std::size_t name_size = get_le<std::uint32_t>(file, 12);
  if (name_size != task.size() || file.size() - kRecordFileOverhead < name_size) {
    return std::nullopt;
  }
  if (file.substr(16, name_size) != task) return std::nullopt;
  const std::uint64_t record_size = get_le<std::uint64_t>(file, 16 + name_size);
  if (record_size != file.size() - kRecordFileOverhead - name_size) return std::nullopt;
  const std::size_t head_size = 24 + name_size;
  const std::string_view record = file.substr(head_size + 8);
  if (get_le<std::uint64_t>(file, head_size) !=
      record_file_checksum(file.substr(0, head_size), record)) {
    return std::nullopt;
  }
  return record;
}

}  // namespace taskmap::detail
