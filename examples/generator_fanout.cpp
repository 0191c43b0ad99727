// python-taskgraph's README scenario in C++: a generator yields inputs, each input is fanned
// out to a computation that runs in parallel with the others, and the results are gathered
// as a list in yield order. Here the generator runs in one task ("generate"), and the next
// task fans its inputs out with ctx.map, which returns the results in item order. Unlike
// python-taskgraph, whose generator of one yield gives a bare value, ctx.map always returns
// a vector: the second run yields once and still gets a vector of one.
#include <cstddef>
#include <cstdio>
#include <optional>
#include <vector>

#include <taskmap/taskmap.hpp>

namespace {

// The README's computation, smaller: sum(range(n)), here of i xor (i >> 3) so that the
// compiler cannot fold the loop into a formula.
long computation(long n) {
  long total = 0;
  for (long i = 0; i < n; ++i) total += i ^ (i >> 3);
  return total;
}

// A generator of `count` inputs: each call yields the next, std::nullopt ends it.
auto make_generator(int count) {
  return [count, yielded = 0]() mutable -> std::optional<long> {
    if (yielded == count) return std::nullopt;
    ++yielded;
    return 2'000'000L * yielded;  // later inputs are larger: later items finish last
  };
}

// Runs the fan-out for a generator of `count` yields; returns the results in yield order.
std::vector<long> fan_out(taskmap::ThreadPoolExecutor& pool, int count) {
  taskmap::TaskGraph<std::vector<long>> graph("fan_out");
  graph.add_task("generate", [count] {
    std::vector<long> inputs;
    auto next = make_generator(count);
    for (std::optional<long> input = next(); input.has_value(); input = next()) {
      inputs.push_back(*input);
    }
    return inputs;
  });
  graph.add_task("compute",
                 [](taskmap::Context& ctx, const std::vector<long>& inputs) {
                   return ctx.map(inputs, computation);  // in parallel, gathered in yield order
                 },
                 {"generate"});
  pool.run(graph, {.raise_errors = true});
  return graph.result("compute");
}

}  // namespace

int main() {
  taskmap::ThreadPoolExecutor pool(4);
  bool ok = true;
  for (const int count : {10, 1, 0}) {
    const std::vector<long> results = fan_out(pool, count);
    std::printf("%d yields -> a vector of %zu:", count, results.size());
    for (const long r : results) std::printf(" %ld", r);
    std::printf("\n");
    ok = ok && results.size() == static_cast<std::size_t>(count);
    for (std::size_t i = 0; ok && i < results.size(); ++i) {
      ok = results[i] == computation(2'000'000L * static_cast<long>(i + 1));
    }
  }
  return ok ? 0 : 1;
}
