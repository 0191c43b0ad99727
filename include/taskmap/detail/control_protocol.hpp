#pragma once
// The control endpoint's line protocol (docs/control.md), without any I/O: a ControlSession
// turns the bytes one connection sent into the bytes to send back, asking a ControlTarget to
// do what the commands say. ControlServer feeds it from its sockets; the fuzz target
// fuzz/fuzz_control_line.cpp feeds it arbitrary bytes in arbitrary chunks.

#include <algorithm>
#include <charconv>
#include <cstddef>
#include <exception>
#include <span>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

#include "taskmap/detail/utf8_escape.hpp"

namespace taskmap::detail {

/// The largest `set_max_workers` accepts: the pools' own limit (WorkerPool::kMaxWorkers).
inline constexpr std::size_t kControlMaxWorkers = 256;

/// Wrong tokens a connection may send before it is closed.
inline constexpr int kControlAuthAttempts = 3;

/// What the commands act on. Called on the server's I/O thread only; an exception thrown by
/// a call becomes the command's `error:` line.
class ControlTarget {
 public:
  virtual ~ControlTarget() = default;
  /// The names of the executors served, in the order they were added.
  [[nodiscard]] virtual std::vector<std::string> executor_names() const = 0;
  /// The max_workers() of the executor `name` (one of executor_names()).
  [[nodiscard]] virtual std::size_t max_workers(std::string_view name) const = 0;
  /// Calls set_max_workers(count) on the executor `name` and returns its max_workers() after.
  virtual std::size_t set_max_workers(std::string_view name, std::size_t count) = 0;
  /// Appends the `status` reply's lines, each ending with '\n'.
  virtual void append_status(std::string& out) const = 0;
  /// Requests a stop of the current run; returns the reply's one informative line.
  virtual std::string cancel() = 0;
};

/// Appends `text` so that it is one line of printable text: valid UTF-8 beyond ASCII passes,
/// a backslash doubles, every other control character or invalid byte becomes `\xNN`.
inline void append_escaped(std::string& out, std::string_view text) {
  walk_utf8(
      text, [&](std::string_view sequence) { out.append(sequence); },
      [&](unsigned char c, bool ascii) {
        if (ascii && c >= 0x20 && c != 0x7F && c != '\\') {
          out.push_back(static_cast<char>(c));
        } else if (c == '\\') {
          out.append("\\\\");
        } else {
          constexpr std::string_view kHex = "0123456789abcdef";
          out.append("\\x");
          out.push_back(kHex[c >> 4]);
          out.push_back(kHex[c & 0xF]);
        }
      });
}

/// True when `line` is text a human could have typed: valid UTF-8 without control
/// characters other than tab.
[[nodiscard]] inline bool is_command_text(std::string_view line) {
  bool text = true;
  walk_utf8(
      line, [](std::string_view) {},
      [&](unsigned char c, bool ascii) {
        if (!ascii || (c < 0x20 && c != '\t') || c == 0x7F) text = false;
      });
  return text;
}

/// Splits `line` at spaces and tabs.
[[nodiscard]] inline std::vector<std::string_view> split_words(std::string_view line) {
  std::vector<std::string_view> words;
  std::size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && (line[i] == ' ' || line[i] == '\t')) ++i;
    const std::size_t start = i;
    while (i < line.size() && line[i] != ' ' && line[i] != '\t') ++i;
    if (i > start) words.push_back(line.substr(start, i - start));
  }
  return words;
}

/// Compares in time that depends on the lengths only, so that a wrong token's first bad
/// byte cannot be found by timing replies.
[[nodiscard]] inline bool same_token(std::string_view given, std::string_view expected) noexcept {
  unsigned difference = given.size() == expected.size() ? 0U : 1U;
  for (std::size_t i = 0; i < given.size(); ++i) {
    const auto a = static_cast<unsigned char>(given[i]);
    const auto b = static_cast<unsigned char>(expected.empty() ? 0 : expected[i % expected.size()]);
    difference |= static_cast<unsigned>(a ^ b);
  }
  return difference == 0;
}

/// The help text, one command per line.
inline constexpr std::string_view kControlHelp =
    "commands (one per line; the reply ends with a line 'ok' or 'error: ...'):\n"
    "  help                        this text\n"
    "  auth TOKEN                  authenticate (when the server has a token)\n"
    "  get_max_workers [EXECUTOR]  worker counts: 'max_workers NAME N' per executor\n"
    "  set_max_workers N [EXECUTOR]  set the worker count (1 to 256)\n"
    "  status                      runs, task counts, running tasks with elapsed ms\n"
    "  cancel                      request a stop of the current run\n"
    "  quit                        close this connection\n";

/// One connection's state: bytes in, reply bytes out.
class ControlSession {
 public:
  /// `token` empty: no `auth` needed. `max_line`: the longest line accepted, in bytes
  /// before the '\n' (a '\r' before it counts).
  ControlSession(ControlTarget& target, std::string token, std::size_t max_line)
      : target_(&target),
        token_(std::move(token)),
        max_line_(max_line),
        authenticated_(token_.empty()) {}

  /// Handles `bytes`, the next ones the client sent, appending the replies to `out`. A
  /// reply is produced per complete line, so the split of the bytes into calls does not
  /// change what is replied. Does nothing once closed().
  void feed(std::string_view bytes, std::string& out) {
    while (!bytes.empty() && !closed_) {
      const std::size_t newline = bytes.find('\n');
      const std::string_view piece = bytes.substr(0, newline);
      if (discarding_) {
        // The rest of an over-long line: its error was sent when it grew too long.
      } else if (line_.size() + piece.size() > max_line_) {
        out.append("error: line too long (more than ");
        out.append(std::to_string(max_line_));
        out.append(" bytes); ignored up to the next newline\n");
        line_.clear();
        discarding_ = true;
      } else {
        line_.append(piece);
      }
      if (newline == std::string_view::npos) return;
      bytes.remove_prefix(newline + 1);
      if (discarding_) {
        discarding_ = false;
      } else {
        handle_line(line_, out);
        line_.clear();
      }
    }
  }

  /// True after `quit` or too many wrong tokens: the connection should close once the reply
  /// is sent.
  [[nodiscard]] bool closed() const noexcept { return closed_; }

  /// True when commands other than `auth` are accepted.
  [[nodiscard]] bool authenticated() const noexcept { return authenticated_; }

 private:
  void handle_line(std::string_view line, std::string& out) {
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);  // telnet, nc -C
    if (!is_command_text(line)) {
      out.append(
          "error: not a command (binary data: NUL, control characters or invalid "
          "UTF-8)\n");
      return;
    }
    const std::vector<std::string_view> words = split_words(line);
    if (words.empty()) return;  // a blank line asks nothing
    const std::string_view command = words.front();
    const std::span<const std::string_view> args(words.data() + 1, words.size() - 1);
    if (command == "auth") return auth(args, out);
    if (!authenticated_) {
      out.append("error: not authenticated (send 'auth TOKEN' first)\n");
      return;
    }
    try {
      if (command == "help") {
        if (!no_arguments(args, out)) return;
        out.append(kControlHelp);
      } else if (command == "quit") {
        if (!no_arguments(args, out)) return;
        closed_ = true;
      } else if (command == "status") {
        if (!no_arguments(args, out)) return;
        std::string reply;  // nothing of a status that failed half-way
        target_->append_status(reply);
        out.append(reply);
      } else if (command == "cancel") {
        if (!no_arguments(args, out)) return;
        append_line(out, target_->cancel());
      } else if (command == "get_max_workers") {
        if (!get_max_workers(args, out)) return;
      } else if (command == "set_max_workers") {
        if (!set_max_workers(args, out)) return;
      } else {
        out.append("error: unknown command '");
        append_escaped(out, command.substr(0, 32));
        out.append(command.size() > 32 ? "...'" : "'");
        out.append(" (send 'help' for the list)\n");
        return;
      }
    } catch (const std::exception& e) {
      out.append("error: ");
      append_escaped(out, e.what());
      out.push_back('\n');
      return;
    } catch (...) {
      out.append("error: the command failed with an exception that is not a std::exception\n");
      return;
    }
    out.append("ok\n");
  }

  void auth(std::span<const std::string_view> args, std::string& out) {
    if (args.size() != 1) {
      out.append("error: auth takes one argument, the token\n");
      return;
    }
    if (token_.empty()) {
      out.append("no token is required\nok\n");
      return;
    }
    if (same_token(args[0], token_)) {
      authenticated_ = true;
      failed_auths_ = 0;
      out.append("ok\n");
      return;
    }
    if (++failed_auths_ >= kControlAuthAttempts) {
      out.append("error: wrong token; closing after ");
      out.append(std::to_string(kControlAuthAttempts));
      out.append(" wrong tokens\n");
      closed_ = true;
      return;
    }
    out.append("error: wrong token\n");
  }

  static bool no_arguments(std::span<const std::string_view> args, std::string& out) {
    if (args.empty()) return true;
    out.append("error: unexpected argument '");
    append_escaped(out, args.front().substr(0, 32));
    out.append("' (this command takes none)\n");
    return false;
  }

  static void append_line(std::string& out, std::string_view text) {
    append_escaped(out, text);
    out.push_back('\n');
  }

  /// The executors a command with optional name `name` (empty: none given) applies to.
  /// `all`: without a name, every executor (else there must be exactly one).
  bool pick(std::string_view name, bool all, std::vector<std::string>& picked,
            std::string& out) const {
    std::vector<std::string> names = target_->executor_names();
    if (names.empty()) {
      out.append("error: no executor is served (ControlServer::add_executor)\n");
      return false;
    }
    if (name.empty()) {
      if (names.size() > 1 && !all) {
        out.append("error: name the executor, one of:");
        for (const std::string& n : names) {
          out.push_back(' ');
          append_escaped(out, n);
        }
        out.push_back('\n');
        return false;
      }
      picked = std::move(names);
      return true;
    }
    if (std::find(names.begin(), names.end(), name) == names.end()) {
      out.append("error: no executor named '");
      append_escaped(out, name.substr(0, 64));
      out.append("'\n");
      return false;
    }
    picked.emplace_back(name);
    return true;
  }

  bool get_max_workers(std::span<const std::string_view> args, std::string& out) const {
    if (args.size() > 1) {
      out.append("error: get_max_workers takes at most one argument, the executor's name\n");
      return false;
    }
    std::vector<std::string> names;
    if (!pick(args.empty() ? std::string_view() : args[0], true, names, out)) return false;
    std::string reply;
    for (const std::string& name : names) append_count(reply, name, target_->max_workers(name));
    out.append(reply);
    return true;
  }

  bool set_max_workers(std::span<const std::string_view> args, std::string& out) {
    if (args.empty() || args.size() > 2) {
      out.append(
          "error: set_max_workers takes a worker count and, optionally, the "
          "executor's name\n");
      return false;
    }
    const std::string_view number = args[0];
    std::size_t count = 0;
    const auto [end, ec] = std::from_chars(number.data(), number.data() + number.size(), count);
    if (ec == std::errc::result_out_of_range ||
        (ec == std::errc() && end == number.data() + number.size() &&
         (count == 0 || count > kControlMaxWorkers))) {
      out.append("error: the worker count must be between 1 and ");
      out.append(std::to_string(kControlMaxWorkers));
      out.push_back('\n');
      return false;
    }
    if (ec != std::errc() || end != number.data() + number.size()) {
      out.append("error: '");
      append_escaped(out, number.substr(0, 32));
      out.append("' is not a worker count (a positive integer)\n");
      return false;
    }
    std::vector<std::string> names;
    if (!pick(args.size() == 2 ? args[1] : std::string_view(), false, names, out)) return false;
    append_count(out, names.front(), target_->set_max_workers(names.front(), count));
    return true;
  }

  static void append_count(std::string& out, std::string_view name, std::size_t count) {
    out.append("max_workers ");
    append_escaped(out, name);
    out.push_back(' ');
    out.append(std::to_string(count));
    out.push_back('\n');
  }

  ControlTarget* target_;
  std::string token_;
  std::size_t max_line_;
  std::string line_;
  bool discarding_ = false;
  bool authenticated_;
  bool closed_ = false;
  int failed_auths_ = 0;
};

}  // namespace taskmap::detail
