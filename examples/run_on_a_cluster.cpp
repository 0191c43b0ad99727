// The README's "Running on a cluster": every rank builds the same graph, rank 0 hands out the
// tasks, and every rank ends with every result. Run it with `mpirun -np 3 ./run_on_a_cluster`.
#include <algorithm>
#include <cstdio>
#include <span>
#include <string>
#include <vector>

#include <taskmap/mpi.hpp>
#include <taskmap/taskmap.hpp>

// Counts the primes below `limit`: work worth sending to another machine.
long count_primes(long from, long to) {
  long count = 0;
  for (long n = std::max(from, 2L); n < to; ++n) {
    bool prime = true;
    for (long d = 2; d * d <= n && prime; ++d) prime = n % d != 0;
    count += prime;
  }
  return count;
}

int main(int argc, char** argv) {
  taskmap::MpiSession mpi_session(argc, argv);
  taskmap::MpiExecutor cluster;  // MPI_COMM_WORLD, one task thread per rank

  taskmap::FuncMap<long> funcs;
  taskmap::DependencyMap deps;
  std::vector<std::string> parts;
  for (long part = 0; part < 12; ++part) {
    const std::string name = "primes_" + std::to_string(part);
    funcs.emplace(name, [part] { return count_primes(part * 50000, (part + 1) * 50000); });
    deps.emplace(name, std::vector<std::string>{});
    parts.push_back(name);
  }
  funcs.emplace("total", [](std::span<const long> counts) {
    long sum = 0;
    for (const long c : counts) sum += c;
    return sum;
  });
  deps.emplace("total", parts);
  auto graph = taskmap::create_graph<long>(std::move(funcs), std::move(deps));

  const taskmap::RunSummary summary = cluster.run(graph);
  std::printf("rank %d of %d: %ld primes below 600000 (%zu tasks)\n", cluster.rank(),
              cluster.ranks(), graph.result("total"), summary.succeeded);
  return graph.result("total") == 49098 && summary.ok() ? 0 : 1;
}
