// Property: the control endpoint's line protocol (taskmap/detail/control_protocol.hpp)
// answers any bytes with well-formed replies and does only what a well-formed command asks:
// - the replies do not depend on how the bytes are split into reads;
// - every reply line is printable text (valid UTF-8, no control characters), ends with
//   '\n', and each complete line gets at most one final line (`ok` or `error: ...`), the
//   last of its reply, of bounded length;
// - with a token, nothing but `auth` acts before the right token was sent;
// - set_max_workers reaches an executor only with a count in [1, 256], and only a line that
//   spells the command does so; a closed session answers nothing more.
//
// Input: a configuration byte (token or not, how many executors, max_line), a byte that
// seeds the read sizes, the names of the graph and of a running task that `status` reports,
// then the bytes the client sends.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <taskmap/detail/control_protocol.hpp>
#include <taskmap/detail/control_status.hpp>

#include "fuzz_support.hpp"

using taskmap_fuzz::check;

namespace {

class FakeTarget final : public taskmap::detail::ControlTarget {
 public:
  FakeTarget(std::size_t executors, const std::string& graph, const std::string& task) {
    static constexpr const char* kNames[] = {"pool", "io"};
    for (std::size_t i = 0; i < executors; ++i) {
      names_.emplace_back(kNames[i]);
      counts_.push_back(2);
    }
    taskmap::RunInfo run;
    run.graph = graph;
    run.tasks = 3;
    run.pending = 3;
    run.run_id = 7;
    tracker_.on_run_start(run);
    taskmap::TaskEvent started{taskmap::EventKind::started, graph, task, 0, {}};
    started.run_id = 7;
    tracker_.on_event(started);
  }

  [[nodiscard]] std::vector<std::string> executor_names() const override { return names_; }
  [[nodiscard]] std::size_t max_workers(std::string_view name) const override {
    ++calls;
    return counts_.at(index(name));
  }
  std::size_t set_max_workers(std::string_view name, std::size_t count) override {
    ++calls;
    ++sets;
    check(count >= 1 && count <= taskmap::detail::kControlMaxWorkers,
          "set_max_workers gets a count in range");
    counts_.at(index(name)) = count;
    return count;
  }
  void append_status(std::string& out) const override {
    ++calls;
    tracker_.append_status(out);
  }
  std::string cancel() override {
    ++calls;
    return "stop requested";
  }

  mutable int calls = 0;
  int sets = 0;

 private:
  [[nodiscard]] std::size_t index(std::string_view name) const {
    for (std::size_t i = 0; i < names_.size(); ++i) {
      if (names_[i] == name) return i;
    }
    taskmap_fuzz::fail("a command reached an executor that is not served");
  }

  std::vector<std::string> names_;
  std::vector<std::size_t> counts_;
  taskmap::detail::ControlRunTracker tracker_;
};

/// `out` with each number in the `run` and `task` lines of status replies as '#': those are
/// elapsed times, which differ between two sessions fed the same bytes.
std::string without_times(std::string_view out) {
  std::string kept;
  bool at_line_start = true;
  bool timed = false;
  for (std::size_t i = 0; i < out.size(); ++i) {
    if (at_line_start) {
      timed = out.substr(i).starts_with("run ") || out.substr(i).starts_with("task ");
    }
    const char c = out[i];
    const bool digit = c >= '0' && c <= '9';
    if (timed && digit) {
      if (kept.empty() || kept.back() != '#') kept.push_back('#');  // 9 ms and 10 ms alike
    } else {
      kept.push_back(c);
    }
    at_line_start = c == '\n';
  }
  return kept;
}

bool is_final(std::string_view line) { return line == "ok" || line.starts_with("error: "); }

/// Checks one complete line's reply and returns how many of its lines are final.
void check_reply(std::string_view reply, std::size_t max_line) {
  if (reply.empty()) return;
  check(reply.back() == '\n', "a reply ends with a newline");
  std::size_t finals = 0;
  bool last_final = false;
  while (!reply.empty()) {
    const std::size_t end = reply.find('\n');
    const std::string_view line = reply.substr(0, end);
    check(taskmap_fuzz::valid_utf8(line), "a reply line is valid UTF-8");
    check(taskmap::detail::is_command_text(line) && line.find('\t') == std::string_view::npos,
          "a reply line holds no control character");
    last_final = is_final(line);
    if (last_final) {
      ++finals;
      check(line.size() <= 200 + 4 * max_line, "an error line is of bounded length");
    }
    reply.remove_prefix(end + 1);
  }
  check(finals <= 1, "one final line per command");
  check(finals == 0 || last_final, "the final line comes last");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  taskmap_fuzz::Bytes in(data, size);
  const std::uint8_t config = in.byte();
  const bool with_token = (config & 1) != 0;
  const std::size_t executors = (config >> 1) % 3;
  const std::size_t max_line = (config & 0x80) != 0 ? 1024 : 4 + (config >> 3) % 16;
  std::uint32_t chunks = in.byte();
  const std::string graph = taskmap_fuzz::pick_name(in);
  const std::string task = taskmap_fuzz::pick_name(in);
  const std::string bytes = in.rest();
  const std::string token = with_token ? "s3cret" : "";

  // All at once.
  FakeTarget whole_target(executors, graph, task);
  taskmap::detail::ControlSession whole(whole_target, token, max_line);
  std::string whole_out;
  whole.feed(bytes, whole_out);

  // In pieces of pseudo-random sizes.
  FakeTarget pieces_target(executors, graph, task);
  taskmap::detail::ControlSession pieces(pieces_target, token, max_line);
  std::string pieces_out;
  for (std::size_t i = 0; i < bytes.size();) {
    chunks = chunks * 1103515245U + 12345U;
    const std::size_t n = 1 + (chunks >> 16) % 37;
    pieces.feed(std::string_view(bytes).substr(i, n), pieces_out);
    i += n;
  }
  check(without_times(whole_out) == without_times(pieces_out),
        "the replies do not depend on how the bytes are split");
  check(whole.closed() == pieces.closed(), "closing does not depend on the split");
  check(whole_target.sets == pieces_target.sets, "the commands do not depend on the split");

  // Line by line: each complete line's reply on its own.
  FakeTarget lines_target(executors, graph, task);
  taskmap::detail::ControlSession lines(lines_target, token, max_line);
  std::string lines_out;
  std::string_view rest = bytes;
  bool authenticated = !with_token;
  while (!rest.empty()) {
    const std::size_t end = rest.find('\n');
    const std::string_view line =
        rest.substr(0, end == std::string_view::npos ? rest.size() : end + 1);
    rest.remove_prefix(line.size());
    const bool was_closed = lines.closed();
    const int calls_before = lines_target.calls;
    const int sets_before = lines_target.sets;
    std::string reply;
    lines.feed(line, reply);
    if (was_closed) check(reply.empty(), "a closed session answers nothing");
    if (line.back() == '\n') {
      check_reply(reply, max_line);
    } else {
      // An unfinished line is answered only if it grew too long.
      check(reply.empty() || reply.starts_with("error: line too long"),
            "an unfinished line is not answered");
    }
    if (!authenticated) {
      check(lines_target.calls == calls_before, "nothing acts before authentication");
    }
    if (lines_target.sets != sets_before) {
      check(line.find("set_max_workers") != std::string_view::npos,
            "only set_max_workers changes the workers");
    }
    authenticated = lines.authenticated();
    lines_out += reply;
  }
  check(without_times(lines_out) == without_times(whole_out),
        "line by line replies as all at once");
  return 0;
}
