// Property: the messages of tasks run in another process (taskmap/detail/task_messages.hpp,
// read by ProcessPoolExecutor's workers and parent and by MpiExecutor's ranks) are read
// safely whatever their bytes:
// - read_request either throws (taskmap::Error, or the Codec's DecodeError) or returns a task
//   of the graph with exactly as many inputs as the request announced, each null or pointing
//   at a value the graph holds; a value that could not be decoded is not left behind;
// - Reply::read never reads out of its bytes, and a reply it does not call bad has a known kind;
// - a request written by write_request for a graph state reads back as the same inputs.
//
// Input: a byte that shapes the graph (its size and which tasks are done with a value), then
// the bytes read as a request, then those read as a reply (split at a byte of the input).

#include <cstddef>
#include <cstdint>
#include <exception>
#include <string>
#include <string_view>
#include <vector>

#include <taskmap/detail/task_messages.hpp>
#include <taskmap/taskmap.hpp>

#include "fuzz_support.hpp"

using taskmap_fuzz::check;

namespace {

using Value = std::vector<std::int32_t>;

taskmap::TaskGraph<Value> make_graph(std::size_t size) {
  taskmap::FuncMap<Value> funcs;
  taskmap::DependencyMap deps;
  for (std::size_t i = 0; i < size; ++i) {
    const std::string name = "t" + std::to_string(i);
    funcs.emplace(name, [](std::span<const Value>) { return Value{}; });
    std::vector<std::string> mine;
    for (std::size_t d = 0; d < i; ++d) mine.push_back("t" + std::to_string(d));
    deps.emplace(name, std::move(mine));
  }
  return taskmap::create_graph<Value>(std::move(funcs), std::move(deps));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  taskmap_fuzz::Bytes in(data, size);
  const std::uint8_t shape = in.byte();
  const std::size_t tasks = 1 + shape % 6;
  auto graph = make_graph(tasks);
  auto& g = taskmap::detail::GraphAccess::state(graph);
  for (std::size_t t = 0; t + 1 < tasks; ++t) {
    if ((shape >> (t % 8)) & 1) {
      g.status[t] = taskmap::TaskStatus::done;
      g.results[t].emplace(Value(t, static_cast<std::int32_t>(t)));
    }
  }

  // Round trip: the last task's request as written, read on a copy that holds nothing.
  {
    std::vector<std::uint8_t> known(tasks, 0);
    std::string request;
    const taskmap::TaskId last = static_cast<taskmap::TaskId>(tasks - 1);
    taskmap::detail::write_request(
        g, last, known,
        [&](taskmap::TaskId dep) -> const std::string& {
          static thread_local std::string bytes;
          bytes = taskmap::encode(*g.results[dep]);
          return bytes;
        },
        request);
    auto copy = make_graph(tasks);
    auto& c = taskmap::detail::GraphAccess::state(copy);
    std::vector<const Value*> inputs;
    taskmap::TaskId task = taskmap::no_task;
    taskmap::detail::read_request(c, std::string_view(request).substr(8), task, inputs,
                                  [](taskmap::TaskId) { return false; });
    check(task == last, "a written request names its task");
    std::vector<const Value*> expected;
    taskmap::detail::gather_inputs(g, last, expected);
    check(inputs.size() == expected.size(), "a written request carries every input");
    for (std::size_t i = 0; i < inputs.size(); ++i) {
      check(inputs[i] != nullptr && *inputs[i] == *expected[i], "inputs cross unchanged");
    }
  }

  const std::size_t split = in.below(size + 1);
  const std::string request = in.take(split);
  const std::string reply = in.rest();

  std::vector<const Value*> inputs;
  taskmap::TaskId task = taskmap::no_task;
  try {
    taskmap::detail::read_request(g, request, task, inputs, [](taskmap::TaskId) { return false; });
    check(task < tasks, "a request that reads names a task of the graph");
    for (const Value* input : inputs) {
      bool points_into_graph = input == nullptr;
      for (std::size_t t = 0; t < tasks && !points_into_graph; ++t) {
        points_into_graph = g.results[t].has_value() && &*g.results[t] == input;
      }
      check(points_into_graph, "an input is null or a value the graph holds");
    }
  } catch (const taskmap::Error&) {  // also the Codec's DecodeError
  }
  // Whatever was read, a value the graph holds is whole: it encodes and decodes back.
  for (std::size_t t = 0; t < tasks; ++t) {
    if (!g.results[t].has_value()) continue;
    const std::string bytes = taskmap::encode(*g.results[t]);
    check(taskmap::decode<Value>(bytes) == *g.results[t], "a held value is whole");
  }

  const taskmap::detail::Reply read = taskmap::detail::Reply::read(reply);
  if (!read.bad) {
    check(read.kind == taskmap::detail::ReplyKind::value ||
              read.kind == taskmap::detail::ReplyKind::no_value ||
              read.kind == taskmap::detail::ReplyKind::error ||
              read.kind == taskmap::detail::ReplyKind::cancelled,
          "a reply that reads has a known kind");
    check(read.bytes.data() >= reply.data() &&
              read.bytes.data() + read.bytes.size() <= reply.data() + reply.size(),
          "a reply's bytes are inside it");
  }
  return 0;
}
