#pragma once
// TaskRecord: what a store keeps for a task that succeeded — everything its validity depends
// on (version, what each dependency fed, its input files and targets and how they are
// compared), a fingerprint over all of that, and its value's bytes. Made from a task's
// TaskFacts and the files as they are now; compared field by field, so a stale record says
// why it is stale.

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <tuple>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "taskmap/codec.hpp"
#include "taskmap/detail/hashing.hpp"
#include "taskmap/store.hpp"

namespace taskmap::detail {

/// A file as a record remembers it.
struct FileFact {
  std::string path;  // lexically normal, so "a//b" and "a/b" are one file
  bool exists = false;
  std::uint64_t size = 0;
  std::int64_t mtime_ns = 0;
  Digest content;  // only with FileCheck::content

  friend bool operator==(const FileFact&, const FileFact&) = default;
};

[[nodiscard]] inline std::string_view to_string(FileCheck check) noexcept {
  switch (check) {
    case FileCheck::stamp:
      return "stamp";
    case FileCheck::content:
      return "content";
    case FileCheck::exists:
      return "exists";
  }
  return "unknown";
}

[[nodiscard]] inline std::string normal_path(std::string_view path) {
  return std::filesystem::path(path).lexically_normal().string();
}

/// The file at `path` now, as `check` compares it.
[[nodiscard]] inline FileFact file_fact(std::string path, FileCheck check) {
  FileFact fact;
  fact.path = std::move(path);
  std::error_code error;
  const std::filesystem::file_status status = std::filesystem::status(fact.path, error);
  fact.exists = !error && std::filesystem::exists(status);
  if (!fact.exists || check == FileCheck::exists) return fact;
  if (std::filesystem::is_regular_file(status)) {
    fact.size = std::filesystem::file_size(fact.path, error);
    if (error) fact.size = 0;
  }
  // Only a regular file's bytes are hashed (a directory or a FIFO is compared by its stamp).
  if (check == FileCheck::content && std::filesystem::is_regular_file(status)) {
    // Only the bytes count: a file rewritten with the same content is unchanged.
    if (!hash_file(fact.path, fact.content)) {  // unreadable: compared as missing
      fact.exists = false;
      fact.size = 0;
      fact.content = {};
    }
    return fact;
  }
  const auto mtime = std::filesystem::last_write_time(fact.path, error);
  if (!error) {
    fact.mtime_ns =
        std::chrono::duration_cast<std::chrono::nanoseconds>(mtime.time_since_epoch()).count();
  }
  return fact;
}

/// The files of `paths` now, sorted by path (the order they were declared in never
/// matters).
[[nodiscard]] inline std::vector<FileFact> file_facts(const std::vector<std::string>& paths,
                                                      FileCheck check) {
  std::vector<std::string> normal;
  normal.reserve(paths.size());
  for (const std::string& path : paths) normal.push_back(normal_path(path));
  std::sort(normal.begin(), normal.end());
  normal.erase(std::unique(normal.begin(), normal.end()), normal.end());
  std::vector<FileFact> facts;
  facts.reserve(normal.size());
  for (std::string& path : normal) facts.push_back(file_fact(std::move(path), check));
  return facts;
}

struct TaskRecord {
  static constexpr std::uint32_t kFormat = 1;

  std::string version;
  FileCheck input_check = FileCheck::stamp;
  FileCheck target_check = FileCheck::stamp;
  std::vector<std::pair<std::string, std::optional<Digest>>> fed;  // dependency -> digest
  std::vector<FileFact> inputs;
  std::vector<FileFact> targets;
  Digest fingerprint;
  std::optional<std::string> value;

  /// A record of `task` as things are now, without its value and fingerprint. `inputs` are
  /// the input files as they were when the task started, when known.
  static TaskRecord of(const TaskFacts& task, std::optional<std::vector<FileFact>> inputs) {
    const Persistence& declared = *task.declared;
    TaskRecord record;
    record.version = declared.version;
    record.input_check = declared.input_check;
    record.target_check = declared.target_check;
    record.fed.reserve(task.dependencies.size());
    for (std::size_t i = 0; i < task.dependencies.size(); ++i) {
      record.fed.emplace_back(std::string(task.dependencies[i]), task.fed[i]);
    }
    record.inputs = inputs ? std::move(*inputs) : file_facts(declared.inputs, declared.input_check);
    record.targets = file_facts(declared.targets, declared.target_check);
    record.fingerprint = record.compute_fingerprint(task.name);
    return record;
  }

  /// The hash of everything the record's validity depends on, and the task's name.
  [[nodiscard]] Digest compute_fingerprint(std::string_view name) const {
    return hash128(encode(std::make_tuple(std::string(name), fields())));
  }

  [[nodiscard]] std::string to_bytes() const {
    return encode(std::make_tuple(kFormat, fields(), fingerprint_tuple(), value));
  }

  /// nullopt when the bytes are not a record of this format (damaged, older, foreign).
  [[nodiscard]] static std::optional<TaskRecord> from_bytes(std::string_view bytes) {
    const auto decoded = decode<Encoded>(bytes);
    if (!decoded || std::get<0>(*decoded) != kFormat) return std::nullopt;
    TaskRecord record;
    const auto& [version, checks, fed, inputs, targets] = std::get<1>(*decoded);
    record.version = version;
    const auto [input_check, target_check] = checks;
    if (input_check > 2 || target_check > 2) return std::nullopt;
    record.input_check = static_cast<FileCheck>(input_check);
    record.target_check = static_cast<FileCheck>(target_check);
    for (const auto& [dep, digest] : fed) {
      record.fed.emplace_back(
          dep,
          digest ? std::optional<Digest>(Digest{digest->first, digest->second}) : std::nullopt);
    }
    for (const auto& file : inputs) record.inputs.push_back(from_tuple(file));
    for (const auto& file : targets) record.targets.push_back(from_tuple(file));
    const auto [low, high] = std::get<2>(*decoded);
    record.fingerprint = {low, high};
    record.value = std::get<3>(*decoded);
    return record;
  }

  /// Why this record (as stored) does not match `now` (as things are), or empty when it
  /// does.
  [[nodiscard]] std::string stale_reason(const TaskRecord& now) const {
    if (version != now.version)
      return fmt::format("version {} -> {}", shown(version), shown(now.version));
    if (input_check != now.input_check) {
      return fmt::format("input files compared by {} instead of {}", to_string(now.input_check),
                         to_string(input_check));
    }
    if (target_check != now.target_check) {
      return fmt::format("targets compared by {} instead of {}", to_string(now.target_check),
                         to_string(target_check));
    }
    if (fed.size() != now.fed.size() ||
        !std::equal(fed.begin(), fed.end(), now.fed.begin(),
                    [](const auto& a, const auto& b) { return a.first == b.first; })) {
      return fmt::format("dependencies changed: {} -> {}", names_of(fed), names_of(now.fed));
    }
    for (std::size_t i = 0; i < fed.size(); ++i) {
      if (fed[i].second == now.fed[i].second) continue;
      if (!now.fed[i].second) return fmt::format("dependency {} produced no value", fed[i].first);
      if (!fed[i].second) return fmt::format("dependency {} produced a value", fed[i].first);
      return fmt::format("dependency {} produced a different value", fed[i].first);
    }
    if (std::string reason = files_reason("input file", inputs, now.inputs, input_check);
        !reason.empty()) {
      return reason;
    }
    if (std::string reason = files_reason("target", targets, now.targets, target_check);
        !reason.empty()) {
      return reason;
    }
    return {};
  }

 private:
  using FileTuple = std::tuple<std::string, bool, std::uint64_t, std::int64_t,
                               std::pair<std::uint64_t, std::uint64_t>>;
  using Fields = std::tuple<
      std::string, std::pair<std::uint8_t, std::uint8_t>,
      std::vector<std::pair<std::string, std::optional<std::pair<std::uint64_t, std::uint64_t>>>>,
      std::vector<FileTuple>, std::vector<FileTuple>>;
  using Encoded = std::tuple<std::uint32_t, Fields, std::pair<std::uint64_t, std::uint64_t>,
                             std::optional<std::string>>;

  [[nodiscard]] Fields fields() const {
    Fields out;
    auto& [out_version, checks, out_fed, out_inputs, out_targets] = out;
    out_version = version;
    checks = {static_cast<std::uint8_t>(input_check), static_cast<std::uint8_t>(target_check)};
    for (const auto& [dep, digest] : fed) {
      out_fed.emplace_back(
          dep, digest ? std::optional(std::pair(digest->low, digest->high)) : std::nullopt);
    }
    for (const FileFact& file : inputs) out_inputs.push_back(to_tuple(file));
    for (const FileFact& file : targets) out_targets.push_back(to_tuple(file));
    return out;
  }

  [[nodiscard]] std::pair<std::uint64_t, std::uint64_t> fingerprint_tuple() const {
    return {fingerprint.low, fingerprint.high};
  }

  static FileTuple to_tuple(const FileFact& f) {
    return {f.path, f.exists, f.size, f.mtime_ns, {f.content.low, f.content.high}};
  }
  static FileFact from_tuple(const FileTuple& t) {
    const auto& [path, exists, size, mtime, content] = t;
    return {path, exists, size, mtime, {content.first, content.second}};
  }

  static std::string shown(const std::string& version) {
    return version.empty() ? std::string("(none)") : version;
  }

  template <class Fed>
  static std::string names_of(const Fed& list) {
    std::string out = "(";
    for (std::size_t i = 0; i < list.size(); ++i) {
      if (i != 0) out += ", ";
      out += list[i].first;
    }
    return out + ")";
  }

  static std::string files_reason(std::string_view what, const std::vector<FileFact>& was,
                                  const std::vector<FileFact>& now, FileCheck check) {
    for (std::size_t i = 0; i < now.size(); ++i) {
      const FileFact& file = now[i];
      // The same place first: files declared in the same order (as they are, run after run)
      // are compared pairwise, also a path declared twice; else the first with that path.
      const auto old = i < was.size() && was[i].path == file.path
                           ? was.begin() + static_cast<std::ptrdiff_t>(i)
                           : std::find_if(was.begin(), was.end(),
                                          [&](const FileFact& f) { return f.path == file.path; });
      if (old == was.end()) return fmt::format("{} {} is new", what, file.path);
      if (!file.exists && !old->exists) continue;  // missing then and now: unchanged
      if (!file.exists) return fmt::format("{} {} missing", what, file.path);
      if (!old->exists) return fmt::format("{} {} appeared", what, file.path);
      if (check == FileCheck::exists) continue;
      if (old->size != file.size) return fmt::format("{} {} changed (size)", what, file.path);
      if (check == FileCheck::content) {
        if (old->content != file.content) {
          return fmt::format("{} {} changed (content)", what, file.path);
        }
      } else if (old->mtime_ns != file.mtime_ns) {
        return fmt::format("{} {} changed (mtime)", what, file.path);
      }
    }
    for (const FileFact& file : was) {
      if (std::none_of(now.begin(), now.end(),
                       [&](const FileFact& f) { return f.path == file.path; })) {
        return fmt::format("{} {} is no longer declared", what, file.path);
      }
    }
    return {};
  }
};

}  // namespace taskmap::detail
