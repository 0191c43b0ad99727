// A CPU-heavy pipeline: 8 independent chunks are each "parsed" and "scored", then merged.
// Runs it with run() and with run_parallel() and prints the speed-up.
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <string>
#include <thread>

#include <taskmap/taskmap.hpp>

namespace {

// About 20 ms of arithmetic that the optimiser cannot remove.
double burn(double seed) {
  double x = seed;
  for (int i = 0; i < 2'000'000; ++i) x = std::fmod(x * 1.0000001 + std::sqrt(x + i), 1e6);
  return x;
}

taskmap::TaskGraph<double> make_pipeline() {
  taskmap::FuncMap<double> funcs;
  taskmap::DependencyMap deps;
  std::vector<std::string> scores;
  for (int chunk = 0; chunk < 8; ++chunk) {
    const std::string parse = "parse" + std::to_string(chunk);
    const std::string score = "score" + std::to_string(chunk);
    funcs.emplace(parse, [chunk] { return burn(chunk + 1.0); });
    funcs.emplace(score, [](double parsed) { return burn(parsed); });
    deps[parse] = {};
    deps[score] = {parse};
    scores.push_back(score);
  }
  funcs.emplace("merge", [](std::span<const double> all) {
    double total = 0;
    for (double s : all) total += s;
    return total;
  });
  deps["merge"] = scores;
  return taskmap::create_graph<double>(std::move(funcs), std::move(deps), {.name = "pipeline"});
}

}  // namespace

int main() {
  auto sequential = make_pipeline();
  auto parallel = make_pipeline();

  const taskmap::RunSummary one = taskmap::run(sequential);
  const taskmap::RunSummary many = taskmap::run_parallel(parallel, {.ncores = 0});

  const double s1 = std::chrono::duration<double>(one.elapsed).count();
  const double sn = std::chrono::duration<double>(many.elapsed).count();
  std::printf("run:          %.3f s\n", s1);
  std::printf("run_parallel: %.3f s on %u hardware threads (speed-up %.2fx)\n", sn,
              std::thread::hardware_concurrency(), s1 / sn);
  const bool same = sequential.result("merge") == parallel.result("merge");
  std::printf("same result: %s\n", same ? "yes" : "no");
  return same && many.succeeded == 17 ? 0 : 1;
}
