// Must not compile: a ProcessPoolExecutor cannot run a graph whose value type has no Codec.
// The ctest test process_pool_needs_a_codec builds it and looks for the static_assert's words.
#include <taskmap/executors/process_pool.hpp>
#include <taskmap/taskmap.hpp>

namespace {
struct Raster {
  int width = 0;
};
}  // namespace

int main() {
  auto graph = taskmap::create_graph<Raster>({{"load", [] { return Raster{1}; }}}, {{"load", {}}});
  taskmap::ProcessPoolExecutor pool(1);
  pool.run(graph);
}
