#pragma once
// The wire format of tasks run in another process (ProcessPoolExecutor's workers, an
// MpiExecutor's ranks): a request names a task and carries the inputs the other side does not
// hold, a reply carries the task's value as Codec bytes or what it threw; and the calls that
// write, read and serve them, so every executor that runs tasks elsewhere feeds and ends a
// task by the same rules (the inputs ExecutorRun::invoke would gather, continuations run to
// their end where the task ran).
//
// Frame: [u64 length of the rest][rest]. Little-endian, as both ends are one program.
// Request: [u32 task][u32 inputs] then per input [u8 kind][u32 dep] and, for kind bytes,
//   [u64 size][Codec bytes of the value]: the other side keeps every value it held when the
//   run started or was sent since, so a value crosses once per process.
// Reply: [u8 kind][u32 task] then, for a value, its Codec bytes; for an error,
//   [u64 size][exception type name][what()].

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <exception>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <typeinfo>
#include <vector>

#if defined(__GNUG__) || defined(__clang__)
#include <cxxabi.h>
#endif

#include "taskmap/codec.hpp"
#include "taskmap/detail/continue_signal.hpp"
#include "taskmap/detail/graph_state.hpp"
#include "taskmap/detail/task_id.hpp"
#include "taskmap/detail/type_name.hpp"
#include "taskmap/errors.hpp"
#include "taskmap/run_options.hpp"

namespace taskmap::detail {

/// How one input of a request is fed.
enum class InputKind : std::uint8_t {
  null = 0,   // a dependency that did not succeed, fed to a task with a trigger rule
  known = 1,  // the worker holds the dependency's value already
  bytes = 2,  // the value follows as Codec bytes
};

/// How a task ended in its worker.
enum class ReplyKind : std::uint8_t {
  value = 0,      // Codec bytes follow
  no_value = 1,   // the task returned no value
  error = 2,      // it threw: type name and what() follow
  cancelled = 3,  // a stop request cancelled its continuation: nothing follows
};

inline void put_u8(std::string& out, std::uint8_t value) {
  out.push_back(static_cast<char>(value));
}

inline void put_u32(std::string& out, std::uint32_t value) {
  char bytes[4];
  std::memcpy(bytes, &value, 4);
  out.append(bytes, 4);
}

inline void put_u64(std::string& out, std::uint64_t value) {
  char bytes[8];
  std::memcpy(bytes, &value, 8);
  out.append(bytes, 8);
}

/// Reads the fields of a frame in order; a frame cut short reads as zeros and sets `bad`
/// (the other end is this same program, so that only happens when it was corrupted).
struct FrameReader {
  std::string_view rest;
  bool bad = false;

  std::string_view take(std::size_t n) noexcept {
    if (n > rest.size()) {
      bad = true;
      n = rest.size();
    }
    const std::string_view out = rest.substr(0, n);
    rest.remove_prefix(n);
    return out;
  }
  template <class U>
  U number() noexcept {
    U value{};
    const std::string_view bytes = take(sizeof(U));
    if (bytes.size() == sizeof(U)) std::memcpy(&value, bytes.data(), sizeof(U));
    return value;
  }
  std::string_view sized() noexcept {
    return take(static_cast<std::size_t>(number<std::uint64_t>()));
  }
};

/// Starts a frame in `out` (cleared); finish_frame writes its length once it is complete.
inline void begin_frame(std::string& out) {
  out.clear();
  put_u64(out, 0);
}

inline void finish_frame(std::string& out) noexcept {
  const std::uint64_t length = out.size() - 8;
  std::memcpy(out.data(), &length, 8);
}

/// Writes the request that runs `task` elsewhere: its inputs as ExecutorRun::invoke would
/// gather them, each as "null", "the other side holds it" or its bytes. `known` (per task:
/// the other side holds its value) is updated for the values sent; `bytes_of(dep)` gives a
/// done dependency's Codec bytes.
template <class T, class BytesOf>
void write_request(const GraphState<T>& g, TaskId task, std::vector<std::uint8_t>& known,
                   BytesOf&& bytes_of, std::string& out) {
  begin_frame(out);
  put_u32(out, task);
  const std::size_t count_at = out.size();
  put_u32(out, 0);
  std::uint32_t count = 0;
  const bool rule = g.has_rule(task);
  for (const TaskId dep : g.deps_of(task)) {
    if (rule && g.status[dep] != TaskStatus::done) {
      put_u8(out, static_cast<std::uint8_t>(InputKind::null));
      put_u32(out, dep);
      ++count;
      continue;
    }
    if (!g.results[dep].has_value()) continue;
    ++count;
    if (known[dep] != 0) {
      put_u8(out, static_cast<std::uint8_t>(InputKind::known));
      put_u32(out, dep);
      continue;
    }
    const std::string& bytes = bytes_of(dep);
    put_u8(out, static_cast<std::uint8_t>(InputKind::bytes));
    put_u32(out, dep);
    put_u64(out, bytes.size());
    out += bytes;
    known[dep] = 1;
  }
  std::memcpy(out.data() + count_at, &count, 4);
  finish_frame(out);
}

/// Reads a request (a frame without its length) on the side that runs the task: stores the
/// values that came as bytes in `g`'s results and points `inputs` at every input. `task` is
/// set first, so a request that cannot be read is still answered for its task. `holds(dep)`
/// says the value of `dep` here is this run's already: bytes sent for it again are skipped
/// (a task on another thread may be reading it). A value that cannot be decoded is dropped
/// here, never left stale. Throws: Error when the request is malformed, what the Codec threw.
template <class T, class Holds>
void read_request(GraphState<T>& g, std::string_view request, TaskId& task,
                  std::vector<const T*>& inputs, Holds&& holds) {
  FrameReader in{request};
  task = in.number<std::uint32_t>();
  const std::uint32_t count = in.number<std::uint32_t>();
  inputs.clear();
  for (std::uint32_t i = 0; i < count && !in.bad; ++i) {
    const auto kind = static_cast<InputKind>(in.number<std::uint8_t>());
    const TaskId dep = in.number<std::uint32_t>();
    if (kind == InputKind::null) {
      inputs.push_back(nullptr);
      continue;
    }
    if (dep >= g.size()) break;
    if (kind == InputKind::bytes) {
      const std::string_view bytes = in.sized();
      if (!holds(dep) || !g.results[dep]) {
        try {
          g.results[dep].emplace(decode_or_throw<T>(bytes));
        } catch (...) {
          g.results[dep].reset();
          throw;
        }
      }
    }
    if (!g.results[dep]) break;
    inputs.push_back(&*g.results[dep]);
  }
  if (in.bad || task >= g.size() || inputs.size() != count) {
    throw Error("taskmap: a task request sent to another process was malformed");
  }
}

/// Calls `task` of `g` with `inputs` on this thread and stores its value in g.results; a task
/// that returned a Continue<T> has its continuation run here to its end (continuation_run.hpp)
/// and ends with the value it ends with. Throws what the task (or its continuation) threw.
template <class T>
void call_task(GraphState<T>& g, const RunOptions& options, std::size_t worker, TaskId task,
               std::span<const T* const> inputs) {
  Context ctx(g.name, g.names[task], options.stop_token, worker);
  std::optional<T>& value = g.results[task];
  value.reset();
  try {
    g.funcs[task].invoke(ctx, inputs, value);
  } catch (const ContinueSignal<T>& signal) {
    std::exception_ptr error;
    const ContinuationEnd end =
        signal.chain->run(g.name, g.names[task], options.stop_token, value, error);
    if (end == ContinuationEnd::failed) std::rethrow_exception(error);
    if (end == ContinuationEnd::cancelled) throw ContinuationCancelled{};
  }
}

/// The reply of a task that returned: its value's bytes, or "no value".
template <class T>
void write_value_reply(std::string& out, TaskId task, const std::optional<T>& value) {
  begin_frame(out);
  put_u8(out, static_cast<std::uint8_t>(value ? ReplyKind::value : ReplyKind::no_value));
  put_u32(out, task);
  if (value) out += encode(*value);
  finish_frame(out);
}

/// The type name and what() of `error`, as a reply carries them.
struct ErrorText {
  std::string type = "an exception of unknown type";
  std::string what;

  static ErrorText of(const std::exception_ptr& error) {
    ErrorText text;
    try {
      std::rethrow_exception(error);
    } catch (const RemoteTaskError& e) {  // relayed again: keep what the task threw
      text.type = e.type_name();
      text.what = e.message();
    } catch (const std::exception& e) {
      text.type = type_name(typeid(e));
      text.what = e.what();
    } catch (...) {
#if defined(__GNUG__) || defined(__clang__)
      if (const std::type_info* info = abi::__cxa_current_exception_type()) {
        text.type = type_name(*info);
      }
#endif
    }
    return text;
  }
};

/// The reply of a task that threw `error`; a ContinuationCancelled is a `cancelled` reply.
inline void write_error_reply(std::string& out, TaskId task, const std::exception_ptr& error) {
  try {
    std::rethrow_exception(error);
  } catch (const ContinuationCancelled&) {
    begin_frame(out);
    put_u8(out, static_cast<std::uint8_t>(ReplyKind::cancelled));
    put_u32(out, task);
    finish_frame(out);
    return;
  } catch (...) {
  }
  const ErrorText text = ErrorText::of(error);
  begin_frame(out);
  put_u8(out, static_cast<std::uint8_t>(ReplyKind::error));
  put_u32(out, task);
  put_u64(out, text.type.size());
  out += text.type;
  out += text.what;
  finish_frame(out);
}

/// A reply as read (a frame without its length); views into it.
struct Reply {
  ReplyKind kind = ReplyKind::no_value;
  TaskId task = no_task;
  std::string_view type;   // for an error
  std::string_view bytes;  // the value's bytes, or the error's what()
  bool bad = false;

  static Reply read(std::string_view frame) noexcept {
    FrameReader in{frame};
    Reply reply;
    reply.kind = static_cast<ReplyKind>(in.number<std::uint8_t>());
    reply.task = in.number<std::uint32_t>();
    if (reply.kind == ReplyKind::error) reply.type = in.sized();
    reply.bytes = in.rest;
    reply.bad = in.bad || reply.kind > ReplyKind::cancelled ||
                (reply.kind == ReplyKind::cancelled && !in.rest.empty());
    return reply;
  }
};

}  // namespace taskmap::detail
