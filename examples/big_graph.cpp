// The README's "cheapest way to build a big graph": a million-step chain built from two
// vectors of pairs (no hash map of the user's), run once; each step adds its index to the
// previous step's value. Also shows small capturing lambdas: `[i]` is stored inside its TaskFn.
#include <cstddef>
#include <cstdio>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include <taskmap/taskmap.hpp>

int main() {
  const int n = 1'000'000;
  std::vector<std::pair<std::string, taskmap::TaskFn<long>>> funcs;
  std::vector<std::pair<std::string, std::vector<std::string>>> deps;
  funcs.reserve(n);
  deps.reserve(n);
  for (int i = 0; i < n; ++i) {
    std::string name = "step_" + std::to_string(i);
    funcs.emplace_back(
        name, [i](std::span<const long> prev) { return (prev.empty() ? 0 : prev[0]) + i; });
    deps.emplace_back(std::move(name),
                      i == 0 ? std::vector<std::string>{}
                             : std::vector<std::string>{"step_" + std::to_string(i - 1)});
  }
  auto chain = taskmap::create_graph<long>(std::move(funcs), std::move(deps));

  const taskmap::RunSummary summary = taskmap::run(chain);
  const long last = chain.result("step_" + std::to_string(n - 1));
  const long expected = static_cast<long>(n - 1) * n / 2;  // 0 + 1 + ... + (n - 1)
  std::printf("%zu steps, last = %ld\n", summary.succeeded, last);
  return summary.succeeded == static_cast<std::size_t>(n) && last == expected ? 0 : 1;
}
