// A live control endpoint: a graph of 200 tasks of 10 ms runs on a pool of 2 workers while
// a client, connected over TCP like `nc 127.0.0.1 PORT` would be, raises the pool to 4
// workers and asks for the run's status. Exits 0 when the endpoint did what it said.

#include <taskmap/control_server.hpp>
#include <taskmap/taskmap.hpp>

#include <chrono>
#include <cstdio>
#include <string>
#include <thread>
#include <vector>

#include <asio/connect.hpp>
#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/read_until.hpp>
#include <asio/streambuf.hpp>
#include <asio/write.hpp>

namespace {

/// A line-at-a-time client of the control protocol.
class ControlClient {
 public:
  explicit ControlClient(std::uint16_t port) : socket_(io_) {
    socket_.connect({asio::ip::make_address("127.0.0.1"), port});
  }

  /// Sends `command`; returns the reply's lines up to and including `ok` or `error: ...`.
  std::vector<std::string> ask(const std::string& command) {
    asio::write(socket_, asio::buffer(command + "\n"));
    std::vector<std::string> lines;
    for (;;) {
      const std::size_t n = asio::read_until(socket_, asio::dynamic_buffer(buffer_), '\n');
      lines.push_back(buffer_.substr(0, n - 1));
      buffer_.erase(0, n);
      if (lines.back() == "ok" || lines.back().rfind("error: ", 0) == 0) return lines;
    }
  }

 private:
  asio::io_context io_;
  asio::ip::tcp::socket socket_;
  std::string buffer_;
};

void print(const std::vector<std::string>& lines) {
  for (const std::string& line : lines) std::printf("  < %s\n", line.c_str());
}

}  // namespace

int main() {
  using namespace std::chrono_literals;
  taskmap::TaskGraph<int> graph("long graph");
  for (int i = 0; i < 200; ++i) {
    graph.add_task("step" + std::to_string(i), [] {
      std::this_thread::sleep_for(10ms);
      return 1;
    });
  }

  taskmap::ThreadPoolExecutor pool(2);
  taskmap::ControlServer server;  // 127.0.0.1, any free port
  server.add_executor("pool", pool);
  std::printf("control endpoint on 127.0.0.1:%u\n", static_cast<unsigned>(server.port()));

  taskmap::RunSummary summary;
  std::thread runner([&] {
    summary =
        pool.run(graph, {.stop_token = server.stop_token(), .observers = {server.observer()}});
  });

  ControlClient client(server.port());
  // Wait (at most 10 s) until the observer has seen the run start.
  std::vector<std::string> status;
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  do {
    status = client.ask("status");
  } while (status.front().find(" running ") == std::string::npos &&
           std::chrono::steady_clock::now() < deadline);

  std::printf("> set_max_workers 4\n");
  const std::vector<std::string> resized = client.ask("set_max_workers 4");
  print(resized);
  std::printf("> status\n");
  status = client.ask("status");
  print(status);
  runner.join();

  bool ok = true;
  const auto expect = [&](bool condition, const char* what) {
    if (!condition) {
      std::fprintf(stderr, "control_server: %s\n", what);
      ok = false;
    }
  };
  expect(resized == std::vector<std::string>{"max_workers pool 4", "ok"},
         "set_max_workers 4 was not acknowledged");
  expect(pool.max_workers() == 4, "the pool did not grow to 4 workers");
  expect(status.size() >= 3 && status.front().rfind("run ", 0) == 0 &&
             status.front().find(" ms graph long graph") != std::string::npos &&
             status[1].rfind("counts tasks=200 ", 0) == 0 && status.back() == "ok",
         "status did not report the run");
  expect(summary.succeeded == 200, "the run did not complete");
  std::printf("%zu tasks done on %zu workers\n", summary.succeeded, pool.max_workers());
  return ok ? 0 : 1;
}
