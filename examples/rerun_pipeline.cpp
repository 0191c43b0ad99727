// A pipeline of file-producing tasks over an embedded SQLite store: the first run does all
// the work, a second run (a new graph, as a new process would build) does none of it, and
// after one input file changes, only the tasks downstream of it run again. explain() says
// why each task would run.
#include <chrono>
#include <cstddef>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>
#include <string>

#include <taskmap/sqlite_store.hpp>
#include <taskmap/taskmap.hpp>

namespace fs = std::filesystem;

namespace {

// Copies the non-empty lines of `in` to `out`; returns how many there were.
std::size_t clean(const fs::path& in, const fs::path& out) {
  std::ifstream source(in);
  std::ofstream target(out);
  std::size_t rows = 0;
  for (std::string line; std::getline(source, line);) {
    if (line.empty()) continue;
    target << line << '\n';
    ++rows;
  }
  return rows;
}

}  // namespace

int main(int argc, char** argv) {
  const fs::path work =
      argc > 1 ? fs::path(argv[1])
               : fs::temp_directory_path() /
                     ("taskmap-rerun-pipeline-" + std::to_string(std::random_device()()));
  fs::remove_all(work);
  fs::create_directories(work / "data");
  fs::create_directories(work / "out");
  const std::string a_csv = (work / "data/a.csv").string();
  const std::string b_csv = (work / "data/b.csv").string();
  const std::string a_out = (work / "out/a.csv").string();
  const std::string b_out = (work / "out/b.csv").string();
  const std::string merged = (work / "out/merged.csv").string();
  std::ofstream(a_csv) << "1,2\n\n3,4\n";
  std::ofstream(b_csv) << "5,6\n";

  auto pipeline = [&] {
    return taskmap::create_graph<std::size_t>(
        {{"clean_a", [&] { return clean(a_csv, a_out); }},
         {"clean_b", [&] { return clean(b_csv, b_out); }},
         {"merge",
          [&](std::size_t a_rows, std::size_t b_rows) {
            std::ofstream out(merged);
            out << std::ifstream(a_out).rdbuf() << std::ifstream(b_out).rdbuf();
            return a_rows + b_rows;
          }},
         {"report",
          [](std::size_t rows) {
            std::printf("  report: %zu rows\n", rows);
            return rows;
          }}},
        {{"clean_a", {}},
         {"clean_b", {}},
         {"merge", {"clean_a", "clean_b"}},
         {"report", {"merge"}}},
        {.name = "pipeline",
         .persistence = {{"clean_a", {.inputs = {a_csv}, .targets = {a_out}}},
                         {"clean_b", {.inputs = {b_csv}, .targets = {b_out}}},
                         {"merge", {.version = "1", .targets = {merged}}},
                         {"report", {.transient = true}}}});
  };

  taskmap::SqliteStore store(work / "pipeline.db");

  auto first = pipeline();
  const taskmap::RunSummary ran = taskmap::run(first, {.store = &store});
  std::printf("first run: %zu ran, %zu up to date\n", ran.succeeded, ran.up_to_date);

  auto second = pipeline();
  const taskmap::RunSummary skipped = taskmap::run(second, {.store = &store});
  std::printf("second run: %zu ran, %zu up to date\n", skipped.succeeded, skipped.up_to_date);

  // Someone adds a row to a.csv (a second later, as a real edit would be).
  std::ofstream(a_csv, std::ios::app) << "7,8\n";
  fs::last_write_time(a_csv, fs::last_write_time(a_csv) + std::chrono::seconds(1));
  auto third = pipeline();
  std::printf("after editing data/a.csv:\n");
  for (const char* task : {"clean_a", "clean_b", "merge", "report"}) {
    std::printf("  %-8s %s\n", task, taskmap::explain(third, store, task).c_str());
  }
  const taskmap::RunSummary rerun = taskmap::run(third, {.store = &store});
  std::printf("third run: %zu ran, %zu up to date\n", rerun.succeeded, rerun.up_to_date);

  const bool ok = ran.succeeded == 4 && skipped.succeeded == 1 && skipped.up_to_date == 3 &&
                  rerun.succeeded == 3 && rerun.up_to_date == 1 && third.result("report") == 4;
  fs::remove_all(work);
  return ok ? 0 : 1;
}
