// Flow: a graph built from handles instead of names. A text is loaded once, four tasks count
// the words of a quarter of its lines each (in parallel), a gather task adds the counts in
// the order they were added, another finds the longest word, and a report combines both.
// The graph holds values of different types (std::any); each handle carries its task's
// value type, so a parameter of the wrong type would not compile.
#include <any>
#include <cstddef>
#include <cstdio>
#include <span>
#include <sstream>
#include <string>
#include <vector>

#include <taskmap/taskmap.hpp>

namespace {

constexpr const char* kText =
    "a graph of tasks\n"
    "built from handles\n"
    "each handle names its task\n"
    "and feeds the tasks that take it\n"
    "in the order it is given\n"
    "so the dependencies are the arguments\n"
    "as in python taskgraph's delayed calls\n"
    "and the result is an ordinary graph\n";

constexpr std::size_t kChunks = 4;

std::size_t count_words(const std::string& text) {
  std::istringstream in(text);
  std::size_t words = 0;
  for (std::string word; in >> word;) ++words;
  return words;
}

// The words of every kChunks-th line, starting at line `chunk`.
std::size_t count_chunk(const std::string& text, std::size_t chunk) {
  std::istringstream in(text);
  std::size_t words = 0;
  std::size_t index = 0;
  for (std::string line; std::getline(in, line); ++index) {
    if (index % kChunks == chunk) words += count_words(line);
  }
  return words;
}

}  // namespace

int main() {
  taskmap::Flow<std::any> f("count");

  const taskmap::FlowNode<std::string> text = f.add("load", [] { return std::string(kText); });
  std::vector<taskmap::FlowNode<std::size_t>> counts;
  for (std::size_t chunk = 0; chunk < kChunks; ++chunk) {
    counts.push_back(f.add([chunk](const std::string& t) { return count_chunk(t, chunk); }, text));
  }
  const auto total = f.add(
      "total",
      [](std::span<const std::any> parts) {
        std::size_t sum = 0;
        for (const std::any& part : parts) sum += std::any_cast<std::size_t>(part);
        return sum;
      },
      counts);
  const auto longest = f.add(
      "longest",
      [](const std::string& t) {
        std::istringstream in(t);
        std::string best;
        for (std::string word; in >> word;) {
          if (word.size() > best.size()) best = word;
        }
        return best;
      },
      text);
  const auto report = f.add(
      "report",
      [](std::size_t words, const std::string& word) {
        return std::to_string(words) + " words, the longest '" + word + "'";
      },
      total, longest);

  // Options name tasks by their handles' names.
  auto graph = std::move(f).build({.priority = {{longest.name(), 1}}, .name = "flow_example"});
  const taskmap::RunSummary summary = taskmap::run_parallel(graph);

  for (const auto& count : counts) {
    std::printf("%s: %zu\n", count.name().c_str(),
                std::any_cast<std::size_t>(graph.result(count.name())));
  }
  const auto& line = std::any_cast<const std::string&>(graph.result(report.name()));
  std::printf("%s (%zu tasks succeeded)\n", line.c_str(), summary.succeeded);
  const bool right = std::any_cast<std::size_t>(graph.result("total")) == count_words(kText);
  return right && summary.succeeded == kChunks + 4 ? 0 : 1;
}
