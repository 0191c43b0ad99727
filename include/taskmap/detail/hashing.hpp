#pragma once
// The hashes of fingerprints: 128-bit XXH3 of values' bytes and of files' contents.

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>
#include <string_view>

#include "taskmap/detail/xxhash.hpp"
#include "taskmap/store.hpp"

namespace taskmap::detail {

[[nodiscard]] inline Digest hash128(std::string_view bytes) noexcept {
  const XXH128_hash_t h = XXH3_128bits(bytes.data(), bytes.size());
  return {h.low64, h.high64};
}

/// The 128-bit hash of a file's bytes, read in blocks; nullopt-like false when it cannot be
/// read.
[[nodiscard]] inline bool hash_file(const std::string& path, Digest& out) {
  struct Closer {
    void operator()(std::FILE* f) const noexcept { std::fclose(f); }
  };
  struct StateFree {
    void operator()(XXH3_state_t* s) const noexcept { XXH3_freeState(s); }
  };
  const std::unique_ptr<std::FILE, Closer> file(std::fopen(path.c_str(), "rb"));
  if (!file) return false;
  const std::unique_ptr<XXH3_state_t, StateFree> state(XXH3_createState());
  if (!state || XXH3_128bits_reset(state.get()) != XXH_OK) return false;
  std::string block(std::size_t{1} << 16, '\0');
  for (;;) {
    const std::size_t got = std::fread(block.data(), 1, block.size(), file.get());
    if (got > 0) XXH3_128bits_update(state.get(), block.data(), got);
    if (got < block.size()) break;
  }
  if (std::ferror(file.get()) != 0) return false;
  const XXH128_hash_t h = XXH3_128bits_digest(state.get());
  out = {h.low64, h.high64};
  return true;
}

}  // namespace taskmap::detail
