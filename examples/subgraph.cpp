// Graphs that grow while they run: a task discovers its work only when it runs. "crawl" reads
// a small table of contents, runs a child graph with one task per chapter (each counting the
// words of its chapter's paragraphs with ctx.map), and reads the child's results; a recursive
// task sums a range by splitting it in a child graph per level. On the thread pool the child
// tasks run in parallel, the task that started them helping. Then a coroutine task awaits a
// child graph of "downloads" with co_await ctx.run_async on CoroutineExecutor: while they
// wait, a sibling task keeps ticking on the same thread.
#include <chrono>
#include <cstddef>
#include <cstdio>
#include <numeric>
#include <sstream>
#include <string>
#include <vector>

#include <taskmap/taskmap.hpp>

namespace {

const std::vector<std::vector<std::string>> kChapters = {
    {"graphs that grow", "while they run"},
    {"a task finds more work", "and runs it as a child graph", "on the same pool"},
    {"the results come back in order"},
};

std::size_t count_words(const std::string& text) {
  std::istringstream in(text);
  std::size_t words = 0;
  for (std::string word; in >> word;) ++words;
  return words;
}

// The sum of [low, high): small ranges directly, larger ones as a child graph of two halves.
long sum_range(taskmap::Context& ctx, long low, long high) {
  if (high - low <= 100) {
    long total = 0;
    for (long i = low; i < high; ++i) total += i;
    return total;
  }
  const long middle = low + (high - low) / 2;
  taskmap::TaskGraph<long> halves("halves");
  halves.add_task("low", [=](taskmap::Context& c) { return sum_range(c, low, middle); });
  halves.add_task("high", [=](taskmap::Context& c) { return sum_range(c, middle, high); });
  ctx.run(halves);
  return halves.result("low") + halves.result("high");
}

}  // namespace

int main() {
  taskmap::TaskGraph<long> graph("book");
  graph.add_task("crawl", [](taskmap::Context& ctx) {
    // The chapters are known only now: one child task per chapter.
    taskmap::TaskGraph<std::size_t> chapters("chapters");
    for (std::size_t c = 0; c < kChapters.size(); ++c) {
      chapters.add_task("chapter " + std::to_string(c), [c](taskmap::Context& inner) {
        const std::vector<std::size_t> counts = inner.map(kChapters[c], count_words);
        return std::accumulate(counts.begin(), counts.end(), std::size_t{0});
      });
    }
    ctx.run(chapters);
    long words = 0;
    for (std::size_t c = 0; c < kChapters.size(); ++c) {
      const std::size_t count = chapters.result("chapter " + std::to_string(c));
      std::printf("chapter %zu: %zu words\n", c, count);
      words += static_cast<long>(count);
    }
    return words;
  });
  graph.add_task("sum", [](taskmap::Context& ctx) { return sum_range(ctx, 0, 100'000); });

  taskmap::ThreadPoolExecutor pool(4);
  const taskmap::RunSummary summary = pool.run(graph, {.raise_errors = true});
  std::printf("%ld words; sum of 0..99999 = %ld; %zu tasks succeeded\n", graph.result("crawl"),
              graph.result("sum"), summary.succeeded);

  using namespace std::chrono_literals;
  bool downloading = true;
  int ticks = 0;
  taskmap::TaskGraph<int> site("site");
  site.add_task("download", [&](taskmap::Context& ctx) -> taskmap::Task<int> {
    taskmap::TaskGraph<int> pages("pages");
    for (int page = 1; page <= 3; ++page) {
      pages.add_task("page " + std::to_string(page), [page]() -> taskmap::Task<int> {
        co_await taskmap::sleep_for(20ms);  // a download
        co_return 1000 * page;
      });
    }
    co_await ctx.run_async(pages);  // suspended: the event loop runs the pages and "ticker"
    downloading = false;
    co_return pages.result("page 1") + pages.result("page 2") + pages.result("page 3");
  });
  site.add_task("ticker", [&]() -> taskmap::Task<int> {
    while (downloading) {
      co_await taskmap::sleep_for(2ms);
      ++ticks;
    }
    co_return ticks;
  });
  taskmap::CoroutineExecutor{}.run(site, {.raise_errors = true});
  std::printf("downloaded %d bytes while the ticker ticked %d times\n", site.result("download"),
              ticks);
  return graph.result("crawl") == 28 && graph.result("sum") == 4'999'950'000L &&
                 site.result("download") == 6000 && ticks > 0
             ? 0
             : 1;
}
