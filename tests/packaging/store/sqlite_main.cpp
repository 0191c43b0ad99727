// A consumer of taskmap::sqlite: runs a graph with a SqliteStore, then a second graph over the
// same file, which must find every task up to date with its value. The packaging tests build
// it when taskmap::sqlite was built (find_package with COMPONENTS sqlite, and FetchContent).
#include <cstdio>
#include <filesystem>

#include <taskmap/sqlite_store.hpp>
#include <taskmap/taskmap.hpp>

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: sqlite_consumer <database file>\n");
    return 2;
  }
  const std::filesystem::path file = argv[1];
  std::filesystem::remove(file);
  int calls = 0;
  auto make = [&] {
    return taskmap::create_graph<int>({{"a",
                                        [&] {
                                          ++calls;
                                          return 5;
                                        }},
                                       {"b",
                                        [&](int a) {
                                          ++calls;
                                          return a + 10;
                                        }}},
                                      {{"a", {}}, {"b", {"a"}}});
  };
  taskmap::SqliteStore store(file);
  auto first = make();
  taskmap::run(first, {.store = &store});
  auto second = make();
  const taskmap::RunSummary summary = taskmap::run(second, {.store = &store});
  if (calls != 2 || summary.up_to_date != 2 || second.result("b") != 15) {
    std::fprintf(stderr, "%s: %d calls, %zu up to date\n", store.describe().c_str(), calls,
                 summary.up_to_date);
    return 1;
  }
  std::printf("taskmap sqlite consumer: b = %d, %s\n", second.result("b"),
              taskmap::explain(second, store, "b").c_str());
  return 0;
}
