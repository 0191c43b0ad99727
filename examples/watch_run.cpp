// Watching a run: a small build pipeline with one failing branch runs on the thread pool with
// a TraceObserver, then the graph is drawn with to_dot. Writes run.trace.json and run.dot
// (into the directory given as the first argument, else the current one) and, when Graphviz's
// `dot` is on PATH, renders run.png.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <fstream>
#include <memory>
#include <span>
#include <stdexcept>
#include <string>
#include <thread>

#include <taskmap/dot.hpp>
#include <taskmap/observers/trace_observer.hpp>
#include <taskmap/taskmap.hpp>

namespace {

// A step that works for `ms` milliseconds (a stand-in for compiling, testing, ...).
auto step(int ms) {
  return [ms](std::span<const int>) {
    std::this_thread::sleep_for(std::chrono::milliseconds(ms));
    return ms;
  };
}

bool dot_available() {
#ifdef _WIN32
  return std::system("where dot >nul 2>nul") == 0;
#else
  return std::system("command -v dot >/dev/null 2>&1") == 0;
#endif
}

int watch(const std::filesystem::path& dir) {
  const std::filesystem::path trace_path = dir / "run.trace.json";
  const std::filesystem::path dot_path = dir / "run.dot";
  const std::filesystem::path png_path = dir / "run.png";

  taskmap::TaskGraph<int> build("build");
  build.add_task("fetch sources", step(30))
      .add_task("configure", step(15), {"fetch sources"})
      .add_task("compile core", step(60), {"configure"})
      .add_task("compile cli", step(35), {"configure"})
      .add_task("compile plugins",
                [](std::span<const int>) -> int {
                  std::this_thread::sleep_for(std::chrono::milliseconds(25));
                  throw std::runtime_error("lua.cpp:42: expected ';' before '}'");
                },
                {"configure"})
      .add_task("link", step(20), {"compile core", "compile cli"})
      .add_task("bundle plugins", step(10), {"compile plugins"})
      .add_task("unit tests", step(40), {"link"})
      .add_task("package", step(15), {"link", "bundle plugins"})
      .add_task("docs", step(45), {"fetch sources"});

  auto trace = std::make_shared<taskmap::TraceObserver>(trace_path);
  const taskmap::RunSummary summary =
      taskmap::run_parallel(build, {.ncores = 3, .observers = {trace}});
  std::printf("%zu succeeded, %zu failed, %zu skipped in %.0f ms\n", summary.succeeded,
              summary.failed, summary.skipped,
              std::chrono::duration<double, std::milli>(summary.elapsed).count());

  std::ofstream dot_file(dot_path);
  dot_file << taskmap::to_dot(build, {.rankdir = taskmap::RankDir::left_to_right});
  dot_file.close();
  if (!dot_file) throw std::runtime_error("cannot write " + dot_path.string());
  std::printf("wrote %s and %s\n", trace_path.string().c_str(), dot_path.string().c_str());
  std::printf(
      "open the trace at https://ui.perfetto.dev (Open trace file) or in chrome://tracing\n");

  if (dot_available()) {
    const std::string command =
        "dot -Tpng -o \"" + png_path.string() + "\" \"" + dot_path.string() + "\"";
    if (std::system(command.c_str()) != 0) {
      std::fprintf(stderr, "dot failed: %s\n", command.c_str());
      return 1;
    }
    std::printf("rendered %s\n", png_path.string().c_str());
  } else {
    std::printf("Graphviz is not installed: render it later with  dot -Tpng -o run.png run.dot\n");
  }

  const bool ok = summary.succeeded == 7 && summary.failed == 1 && summary.skipped == 2 &&
                  build.status("package") == taskmap::TaskStatus::skipped &&
                  std::filesystem::file_size(trace_path) > 0;
  return ok ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return watch(argc > 1 ? argv[1] : ".");
  } catch (const std::exception& e) {
    std::fprintf(stderr, "watch_run: %s\n", e.what());
    return 1;
  }
}
