// Per-worker state: each worker of a pool owns a random generator and a scratch buffer,
// built the first time one of its tasks asks, so 64 sampling tasks on 4 workers seed at most
// 4 generators and allocate at most 4 buffers, with no lock around either. The graph
// estimates pi by sampling points in the unit square; `combine` adds up the hits.

#include <atomic>
#include <cmath>
#include <cstddef>
#include <cstdio>
#include <random>
#include <span>
#include <string>
#include <vector>

#include <taskmap/taskmap.hpp>

namespace {

// What one worker keeps from task to task.
struct Sampler {
  std::mt19937_64 random;
  std::vector<double> scratch;  // reused by every task of the worker: no allocation per task
};

std::atomic<int> samplers_built{0};

constexpr int kTasks = 64;
constexpr std::size_t kPointsPerTask = 20'000;

}  // namespace

int main() {
  taskmap::ThreadPoolExecutor pool(4, taskmap::worker_state([](std::size_t worker) {
                                     samplers_built.fetch_add(1);
                                     // Seeded by worker: runs differ only in which worker
                                     // draws which task's points.
                                     return Sampler{std::mt19937_64(1000 + worker), {}};
                                   }));

  taskmap::FuncMap<double> funcs;
  taskmap::DependencyMap deps;
  std::vector<std::string> samples;
  for (int i = 0; i < kTasks; ++i) {
    const std::string name = "sample" + std::to_string(i);
    funcs[name] = [](taskmap::Context& ctx) {
      Sampler& sampler = ctx.worker_state<Sampler>();
      std::uniform_real_distribution<double> coordinate(0.0, 1.0);
      sampler.scratch.resize(kPointsPerTask);
      for (double& d : sampler.scratch) {
        const double x = coordinate(sampler.random);
        const double y = coordinate(sampler.random);
        d = x * x + y * y;
      }
      double hits = 0;
      for (const double d : sampler.scratch) hits += d <= 1.0 ? 1.0 : 0.0;
      return hits;
    };
    deps[name] = {};
    samples.push_back(name);
  }
  funcs["combine"] = [](std::span<const double> hits) {
    double total = 0;
    for (const double h : hits) total += h;
    return 4.0 * total / (static_cast<double>(kTasks) * kPointsPerTask);
  };
  deps["combine"] = samples;

  auto graph = taskmap::create_graph<double>(funcs, deps);
  pool.run(graph, {.raise_errors = true});
  const double pi = graph.result("combine");
  std::printf("pi is about %.4f (%d tasks, %d samplers built for 4 workers)\n", pi, kTasks,
              samplers_built.load());
  if (std::abs(pi - 3.14159) > 0.02) return 1;
  if (samplers_built.load() < 1 || samplers_built.load() > 4) return 1;
  return 0;
}
