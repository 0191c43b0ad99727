// The Trio graph scheduler's example: fetch three pages, count the words of each, and combine
// the counts. One fetch fails (a 404), so its count is skipped; the combine step runs under
// Trigger::all_done(), so it still runs once every count has ended and keeps the counts that
// succeeded. The "pages" are strings here, so the program needs no network.
#include <algorithm>
#include <any>
#include <cstddef>
#include <cstdio>
#include <exception>
#include <map>
#include <span>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include <taskmap/taskmap.hpp>

namespace {

using WordCounts = std::map<std::string, int>;

// Page name -> its text; an empty text stands for a page the server does not have.
const std::map<std::string, std::string>& pages() {
  static const std::map<std::string, std::string> all{
      {"fox", "The quick brown fox jumps over the lazy dog. The dog sleeps."},
      {"missing", ""},
      {"tortoise",
       "The tortoise and the hare: the hare runs, the tortoise walks, the tortoise wins."}};
  return all;
}

std::string fetch(const std::string& page) {
  const std::string& text = pages().at(page);
  if (text.empty()) throw std::runtime_error("GET /" + page + ": 404 Not Found");
  return text;
}

// Lower-case words of letters only.
WordCounts count_words(const std::string& text) {
  WordCounts counts;
  std::string word;
  for (const char c : text + " ") {
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) {
      word += static_cast<char>(c | 0x20);
    } else if (!word.empty()) {
      ++counts[word];
      word.clear();
    }
  }
  return counts;
}

// Fed the counts that succeeded (all_done feeds only values that exist), in page order.
WordCounts combine(std::span<const std::any> counts) {
  WordCounts total;
  for (const std::any& one : counts) {
    for (const auto& [word, n] : std::any_cast<const WordCounts&>(one)) total[word] += n;
  }
  return total;
}

}  // namespace

int main() {
  taskmap::FuncMap<std::any> funcs;
  taskmap::DependencyMap deps;
  std::vector<std::string> fetches;
  std::vector<std::string> counts;
  for (const auto& entry : pages()) {
    const std::string& page = entry.first;
    const std::string fetch_task = "fetch_" + page;
    const std::string count_task = "count_" + page;
    funcs.emplace(fetch_task, [page] { return fetch(page); });
    funcs.emplace(count_task, [](const std::string& body) { return count_words(body); });
    deps[fetch_task] = {};
    deps[count_task] = {fetch_task};
    fetches.push_back(fetch_task);
    counts.push_back(count_task);
  }
  funcs.emplace("combine", combine);
  deps["combine"] = counts;
  // The fetches wait on the network in the original: io_bound starts them first.
  auto graph =
      taskmap::create_graph<std::any>(std::move(funcs), std::move(deps),
                                      {.io_bound = fetches,
                                       .name = "word_count",
                                       .triggers = {{"combine", taskmap::Trigger::all_done()}}});

  taskmap::ThreadPoolExecutor pool(3);
  const taskmap::RunSummary summary = pool.run(graph);
  std::printf("%zu succeeded, %zu failed, %zu skipped\n", summary.succeeded, summary.failed,
              summary.skipped);
  for (const std::string& task : graph.failed()) {
    try {
      std::rethrow_exception(graph.error(task));
    } catch (const std::exception& e) {
      std::printf("  %s failed: %s\n", task.c_str(), e.what());
    }
  }
  if (graph.status("combine") != taskmap::TaskStatus::done) {
    std::printf("combine did not run\n");
    return 1;
  }

  // Top words: most frequent first, ties by word.
  const auto& total = std::any_cast<const WordCounts&>(graph.result("combine"));
  std::vector<std::pair<std::string, int>> ranked(total.begin(), total.end());
  std::stable_sort(ranked.begin(), ranked.end(),
                   [](const auto& a, const auto& b) { return a.second > b.second; });
  std::printf("top words of %zu pages:\n", counts.size() - graph.skipped().size());
  for (std::size_t i = 0; i < ranked.size() && i < 5; ++i) {
    std::printf("  %-10s %d\n", ranked[i].first.c_str(), ranked[i].second);
  }

  // The same counts computed directly from the pages that could be fetched.
  WordCounts expected;
  for (const auto& entry : pages()) {
    for (const auto& [word, n] : count_words(entry.second)) expected[word] += n;
  }
  const bool ok = total == expected && expected.at("the") == 8 && summary.succeeded == 5 &&
                  summary.failed == 1 && summary.skipped == 1 &&
                  graph.status("count_missing") == taskmap::TaskStatus::skipped;
  std::printf("%s\n", ok ? "result is right" : "result is WRONG");
  return ok ? 0 : 1;
}
