// taskmap/control_server.hpp through a real TCP client on 127.0.0.1: every command's reply
// and errors, commands while a graph runs on a pool (set_max_workers, status, cancel), the
// token, the connection limit, over-long lines, binary garbage, silent and slow clients, and
// a thousand connections of random bytes beside a run.

#include <taskmap/control_server.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <asio.hpp>

#include "test_support.hpp"

using namespace taskmap;
using namespace std::chrono_literals;
using asio::ip::tcp;

static_assert(detail::kControlMaxWorkers == detail::WorkerPool::kMaxWorkers,
              "set_max_workers accepts the counts the pools accept");

namespace {

/// A blocking client with deadlines: every wait runs its own io_context for at most the
/// given time, so a server that does not answer fails the test instead of hanging it.
class Client {
 public:
  explicit Client(std::uint16_t port) : socket_(io_) {
    bool done = false;
    std::error_code result;
    socket_.async_connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port),
                          [&](const std::error_code& ec) {
                            result = ec;
                            done = true;
                          });
    REQUIRE(wait(done, 5s));
    REQUIRE_FALSE(result);
  }

  /// Sends `bytes` as they are.
  void send(std::string_view bytes) {
    bool done = false;
    std::error_code result;
    asio::async_write(socket_, asio::buffer(bytes.data(), bytes.size()),
                      [&](const std::error_code& ec, std::size_t) {
                        result = ec;
                        done = true;
                      });
    REQUIRE(wait(done, 5s));
    REQUIRE_FALSE(result);
  }

  /// The next line without its '\n'; nullopt when the server closed the connection.
  std::optional<std::string> line(std::chrono::milliseconds timeout = 10s) {
    bool done = false;
    std::error_code result;
    std::size_t length = 0;
    asio::async_read_until(socket_, asio::dynamic_buffer(buffer_), '\n',
                           [&](const std::error_code& ec, std::size_t n) {
                             result = ec;
                             length = n;
                             done = true;
                           });
    REQUIRE(wait(done, timeout));
    if (result) return std::nullopt;
    std::string text = buffer_.substr(0, length - 1);
    buffer_.erase(0, length);
    return text;
  }

  /// Sends `command` and a newline; returns the reply's lines up to and including the last
  /// one (`ok` or `error: ...`).
  std::vector<std::string> command(std::string_view command) {
    send(std::string(command) + "\n");
    return reply();
  }

  /// The lines of one reply, up to and including `ok` or `error: ...`.
  std::vector<std::string> reply() {
    std::vector<std::string> lines;
    for (;;) {
      std::optional<std::string> next = line();
      REQUIRE(next.has_value());
      lines.push_back(*next);
      if (*next == "ok" || next->rfind("error: ", 0) == 0) return lines;
    }
  }

  /// True when the server closes the connection within `timeout` (lines before are read
  /// and dropped).
  bool closed_within(std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      if (!line(timeout).has_value()) return true;
    }
    return false;
  }

 private:
  bool wait(bool& done, std::chrono::milliseconds timeout) {
    io_.restart();
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!done && io_.run_one_until(deadline) > 0) {
    }
    if (!done) {  // let the operation end, so that its handler does not outlive `done`
      std::error_code ignored;
      socket_.cancel(ignored);
      io_.restart();
      while (!done && io_.run_one() > 0) {
      }
      return false;
    }
    return true;
  }

  asio::io_context io_;
  tcp::socket socket_;
  std::string buffer_;
};

/// The reply of a command that succeeds with no lines but `ok`.
const std::vector<std::string> kOk = {"ok"};

/// True when `lines` holds a line that starts with `prefix`.
bool has_line(const std::vector<std::string>& lines, std::string_view prefix) {
  return std::any_of(lines.begin(), lines.end(),
                     [&](const std::string& l) { return l.rfind(prefix, 0) == 0; });
}

/// Asks `status` until `ready` holds for its lines or `timeout` passes; returns the last.
template <class Ready>
std::vector<std::string> status_until(Client& client, Ready ready,
                                      std::chrono::milliseconds timeout = 10s) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  std::vector<std::string> lines;
  do {
    lines = client.command("status");
    if (ready(lines)) return lines;
    std::this_thread::sleep_for(5ms);
  } while (std::chrono::steady_clock::now() < deadline);
  return lines;
}

/// Polls `condition` until it holds or `timeout` passes.
template <class Condition>
bool eventually(Condition condition, std::chrono::milliseconds timeout = 10s) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!condition()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(2ms);
  }
  return true;
}

/// A run on its own thread, joined when the test ends, also when a REQUIRE fails first
/// (after `release`, which lets blocked tasks finish).
class Runner {
 public:
  Runner(std::function<void()> run, std::function<void()> release = {})
      : release_(std::move(release)), thread_(std::move(run)) {}
  Runner(const Runner&) = delete;
  Runner& operator=(const Runner&) = delete;
  ~Runner() { join(); }
  void join() {
    if (release_) release_();
    if (thread_.joinable()) thread_.join();
  }

 private:
  std::function<void()> release_;
  std::thread thread_;
};

/// Tasks that sleep `each` in steps, giving up when the run is asked to stop, and count how
/// many run at once.
struct SleepyGraph {
  std::atomic<int> now{0};
  std::atomic<int> peak{0};
  TaskGraph<int> graph;

  SleepyGraph(std::string name, int tasks, std::chrono::milliseconds each)
      : graph(std::move(name)) {
    for (int i = 0; i < tasks; ++i) {
      graph.add_task("sleep" + std::to_string(i), [this, each](Context& ctx) {
        const int running = ++now;
        int seen = peak.load();
        while (running > seen && !peak.compare_exchange_weak(seen, running)) {
        }
        const auto until = std::chrono::steady_clock::now() + each;
        while (std::chrono::steady_clock::now() < until && !ctx.stop_requested()) {
          std::this_thread::sleep_for(1ms);
        }
        --now;
        return 1;
      });
    }
  }
};

}  // namespace

TEST_CASE("control: help, blank lines and quit", "[control]") {
  ControlServer server;
  REQUIRE(server.port() != 0);
  Client client(server.port());
  client.send("\n   \r\n");  // blank lines ask nothing: the first reply is help's
  const std::vector<std::string> help = client.command("help");
  REQUIRE(help.size() > 5);
  REQUIRE(help.back() == "ok");
  for (const char* command :
       {"auth", "get_max_workers", "set_max_workers", "status", "cancel", "quit"}) {
    REQUIRE(has_line(help, std::string("  ") + command));
  }
  REQUIRE(client.command("help\r").back() == "ok");  // '\r\n' works as a line end
  REQUIRE(client.command("help extra") ==
          std::vector<std::string>{"error: unexpected argument 'extra' (this command takes none)"});
  REQUIRE(
      client.command("frobnicate now") ==
      std::vector<std::string>{"error: unknown command 'frobnicate' (send 'help' for the list)"});
  REQUIRE(client.command("quit") == kOk);
  REQUIRE(client.closed_within(5s));
  REQUIRE(eventually([&] { return server.connections() == 0; }));
}

TEST_CASE("control: get_max_workers and set_max_workers, and their errors", "[control]") {
  ThreadPoolExecutor pool(2);
  ControlServer server;
  Client client(server.port());
  REQUIRE(client.command("get_max_workers") ==
          std::vector<std::string>{"error: no executor is served (ControlServer::add_executor)"});
  server.add_executor("pool", pool);

  REQUIRE(client.command("get_max_workers") ==
          std::vector<std::string>{"max_workers pool 2", "ok"});
  REQUIRE(client.command("get_max_workers pool") ==
          std::vector<std::string>{"max_workers pool 2", "ok"});
  REQUIRE(client.command("set_max_workers 3") ==
          std::vector<std::string>{"max_workers pool 3", "ok"});
  REQUIRE(pool.max_workers() == 3);
  REQUIRE(client.command("set_max_workers\t1   pool") ==
          std::vector<std::string>{"max_workers pool 1", "ok"});
  REQUIRE(pool.max_workers() == 1);

  const std::string range = "error: the worker count must be between 1 and 256";
  const std::string not_count = "' is not a worker count (a positive integer)";
  const std::vector<std::pair<std::string, std::string>> errors = {
      {"set_max_workers",
       "error: set_max_workers takes a worker count and, optionally, the "
       "executor's name"},
      {"set_max_workers 2 pool extra",
       "error: set_max_workers takes a worker count and, "
       "optionally, the executor's name"},
      {"set_max_workers 0", range},
      {"set_max_workers 257", range},
      {"set_max_workers 99999999999999999999999999", range},
      {"set_max_workers -1", "error: '-1" + not_count},
      {"set_max_workers +4", "error: '+4" + not_count},
      {"set_max_workers 4x", "error: '4x" + not_count},
      {"set_max_workers 1.5", "error: '1.5" + not_count},
      {"set_max_workers four", "error: 'four" + not_count},
      {"set_max_workers 2 nosuch", "error: no executor named 'nosuch'"},
      {"get_max_workers nosuch", "error: no executor named 'nosuch'"},
      {"get_max_workers pool extra",
       "error: get_max_workers takes at most one argument, the executor's name"},
  };
  for (const auto& [command, error] : errors) {
    INFO(command);
    REQUIRE(client.command(command) == std::vector<std::string>{error});
  }
  REQUIRE(pool.max_workers() == 1);  // no error changed it
  REQUIRE(client.command("set_max_workers 256") ==
          std::vector<std::string>{"max_workers pool 256", "ok"});
  REQUIRE(client.command("set_max_workers 002") ==
          std::vector<std::string>{"max_workers pool 2", "ok"});
}

TEST_CASE("control: several executors are told apart by name", "[control]") {
  ThreadPoolExecutor pool(2);
  CoroutinePoolExecutor coroutines(3);
  ControlServer server;
  server.add_executor("pool", pool);
  server.add_executor("coro", coroutines);
  REQUIRE_THROWS_WITH(server.add_executor("pool", coroutines),
                      Catch::Contains("an executor named 'pool' is already served"));
  REQUIRE_THROWS_WITH(server.add_executor("two words", pool), Catch::Contains("is not 1 to 64"));
  REQUIRE_THROWS_WITH(server.add_executor("", pool), Catch::Contains("is not 1 to 64"));

  Client client(server.port());
  REQUIRE(client.command("get_max_workers") ==
          std::vector<std::string>{"max_workers pool 2", "max_workers coro 3", "ok"});
  REQUIRE(client.command("set_max_workers 5") ==
          std::vector<std::string>{"error: name the executor, one of: pool coro"});
  REQUIRE(client.command("set_max_workers 5 coro") ==
          std::vector<std::string>{"max_workers coro 5", "ok"});
  REQUIRE(coroutines.max_workers() == 5);
  REQUIRE(pool.max_workers() == 2);

  REQUIRE(server.remove_executor("pool"));
  REQUIRE_FALSE(server.remove_executor("pool"));
  REQUIRE(client.command("set_max_workers 4") ==
          std::vector<std::string>{"max_workers coro 4", "ok"});
  REQUIRE(client.command("get_max_workers pool") ==
          std::vector<std::string>{"error: no executor named 'pool'"});
}

TEST_CASE("control: set_max_workers while a graph runs changes the pool", "[control]") {
  ThreadPoolExecutor pool(2);
  ControlServer server;
  server.add_executor("pool", pool);
  SleepyGraph work("resized", 400, 10ms);
  RunSummary summary;
  Runner runner([&] {
    summary =
        pool.run(work.graph, {.stop_token = server.stop_token(), .observers = {server.observer()}});
  });
  Client client(server.port());
  const auto running = status_until(client, [](const auto& lines) {
    return has_line(lines, "run ") && has_line(lines, "task ");
  });
  REQUIRE(has_line(running, "task "));
  REQUIRE(running.front().ends_with(" ms graph resized"));
  REQUIRE(work.peak.load() <= 2);
  REQUIRE(client.command("set_max_workers 4") ==
          std::vector<std::string>{"max_workers pool 4", "ok"});
  REQUIRE(pool.max_workers() == 4);
  // The new workers take tasks of the run already going.
  REQUIRE(eventually([&] { return work.peak.load() >= 3; }));
  runner.join();
  REQUIRE(summary.succeeded == 400);
  REQUIRE(work.graph.done().size() == 400);
  REQUIRE(client.command("get_max_workers") ==
          std::vector<std::string>{"max_workers pool 4", "ok"});
}

TEST_CASE("control: status reports the graph, the counts and each running task", "[control]") {
  ThreadPoolExecutor pool(3);
  ControlServer server;
  Client client(server.port());
  REQUIRE(client.command("status") == std::vector<std::string>{"run none", "ok"});

  std::atomic<bool> release{false};
  TaskGraph<int> graph("status graph");
  const auto blocked = [&release] {
    while (!release.load()) std::this_thread::sleep_for(1ms);
    return 1;
  };
  graph.add_task("first", blocked);
  graph.add_task("second", blocked);
  graph.add_task("third task", blocked);
  graph.add_task("after", [](int a) { return a; }, {"first"});
  RunSummary summary;
  Runner runner([&] { summary = pool.run(graph, {.observers = {server.observer()}}); },
                [&] { release = true; });

  const auto lines = status_until(client, [](const auto& l) {
    return std::count_if(l.begin(), l.end(),
                         [](const std::string& s) { return s.rfind("task ", 0) == 0; }) == 3;
  });
  runner.join();
  INFO(Catch::Detail::stringify(lines));
  REQUIRE(lines.size() == 6);
  REQUIRE(lines[0].rfind("run ", 0) == 0);
  REQUIRE(lines[0].find(" running ") != std::string::npos);
  REQUIRE(lines[0].size() > std::string_view(" ms graph status graph").size());
  REQUIRE(lines[0].ends_with(" ms graph status graph"));
  REQUIRE(lines[1] ==
          "counts tasks=4 waiting=1 running=3 done=0 failed=0 skipped=0 cancelled=0 "
          "up_to_date=0");
  std::vector<std::string> names;
  for (std::size_t i = 2; i < 5; ++i) {
    REQUIRE(lines[i].rfind("task ", 0) == 0);
    const std::size_t ms = lines[i].find(" ms ");
    REQUIRE(ms != std::string::npos);
    REQUIRE(std::all_of(lines[i].begin() + 5, lines[i].begin() + static_cast<std::ptrdiff_t>(ms),
                        [](char c) { return c >= '0' && c <= '9'; }));
    names.push_back(lines[i].substr(ms + 4));
  }
  std::sort(names.begin(), names.end());
  REQUIRE(names == std::vector<std::string>{"first", "second", "third task"});
  REQUIRE(lines[5] == "ok");

  REQUIRE(summary.succeeded == 4);
  const std::vector<std::string> after = client.command("status");
  REQUIRE(after.size() == 3);
  REQUIRE(after[0].find(" ended ") != std::string::npos);
  REQUIRE(after[1] ==
          "counts tasks=4 waiting=0 running=0 done=4 failed=0 skipped=0 cancelled=0 up_to_date=0");
}

TEST_CASE("control: cancel stops the run and leaves the rest cancelled", "[control]") {
  ThreadPoolExecutor pool(2);
  ControlServer server;
  SleepyGraph work("cancelled", 200, 20ms);
  RunSummary summary;
  const std::stop_token token = server.stop_token();
  Runner runner([&] {
    summary = pool.run(work.graph, {.stop_token = token, .observers = {server.observer()}});
  });
  Client client(server.port());
  status_until(client, [](const auto& lines) { return has_line(lines, "task "); });
  REQUIRE(client.command("cancel") ==
          std::vector<std::string>{"stop requested for the run of graph cancelled", "ok"});
  runner.join();
  REQUIRE(token.stop_requested());
  REQUIRE(summary.cancelled > 0);
  REQUIRE(summary.succeeded + summary.cancelled == 200);
  std::size_t cancelled = 0;
  for (int i = 0; i < 200; ++i) {
    const TaskStatus status = work.graph.status("sleep" + std::to_string(i));
    REQUIRE((status == TaskStatus::done || status == TaskStatus::cancelled));
    if (status == TaskStatus::cancelled) ++cancelled;
  }
  REQUIRE(cancelled == summary.cancelled);

  // The next run takes a fresh token, and runs what was cancelled.
  const std::stop_token next = server.stop_token();
  REQUIRE_FALSE(next.stop_requested());
  const RunSummary rerun =
      pool.run(work.graph, {.stop_token = next, .observers = {server.observer()}});
  REQUIRE(rerun.succeeded == summary.cancelled);
  REQUIRE(work.graph.done().size() == 200);

  const std::vector<std::string> idle = client.command("cancel");
  REQUIRE(idle.size() == 2);
  REQUIRE(idle[0].rfind("stop requested; no run is going", 0) == 0);
  REQUIRE(server.stop_token().stop_requested() == false);
}

TEST_CASE("control: a token is required before any other command", "[control]") {
  ThreadPoolExecutor pool(2);
  ControlServer server({.token = "s3cret"});
  server.add_executor("pool", pool);
  Client client(server.port());
  const std::vector<std::string> refused = {"error: not authenticated (send 'auth TOKEN' first)"};
  REQUIRE(client.command("help") == refused);
  REQUIRE(client.command("set_max_workers 7") == refused);
  REQUIRE(client.command("quit") == refused);
  REQUIRE(client.command("auth") ==
          std::vector<std::string>{"error: auth takes one argument, the token"});
  REQUIRE(client.command("auth s3cre") == std::vector<std::string>{"error: wrong token"});
  REQUIRE(client.command("auth s3cret") == kOk);
  REQUIRE(client.command("set_max_workers 7") ==
          std::vector<std::string>{"max_workers pool 7", "ok"});
  REQUIRE(pool.max_workers() == 7);

  Client guesser(server.port());
  REQUIRE(guesser.command("auth a") == std::vector<std::string>{"error: wrong token"});
  REQUIRE(guesser.command("auth b") == std::vector<std::string>{"error: wrong token"});
  REQUIRE(guesser.command("auth c") ==
          std::vector<std::string>{"error: wrong token; closing after 3 wrong tokens"});
  REQUIRE(guesser.closed_within(5s));

  ControlServer open;
  Client anyone(open.port());
  REQUIRE(anyone.command("auth whatever") ==
          std::vector<std::string>{"no token is required", "ok"});
}

TEST_CASE("control: connections beyond max_connections are refused", "[control]") {
  ControlServer server({.max_connections = 2});
  auto first = std::make_unique<Client>(server.port());
  Client second(server.port());
  REQUIRE(first->command("help").back() == "ok");
  REQUIRE(second.command("help").back() == "ok");
  REQUIRE(server.connections() == 2);
  Client third(server.port());
  REQUIRE(third.line() == std::optional<std::string>("error: too many connections"));
  REQUIRE(third.closed_within(5s));
  REQUIRE(second.command("status") == std::vector<std::string>{"run none", "ok"});

  first.reset();  // a slot frees when the server sees the close
  REQUIRE(eventually([&] { return server.connections() == 1; }));
  Client fourth(server.port());
  REQUIRE(fourth.command("status") == std::vector<std::string>{"run none", "ok"});
}

TEST_CASE("control: an over-long line gets one error and the connection stays usable",
          "[control]") {
  ControlServer server({.max_line = 64});
  Client client(server.port());
  const std::vector<std::string> too_long = {
      "error: line too long (more than 64 bytes); ignored up to the next newline"};
  client.send(std::string(1000, 'a') + "\nhelp\n");
  REQUIRE(client.reply() == too_long);
  REQUIRE(client.reply().back() == "ok");

  // In pieces: still one error, sent as soon as the line grew too long.
  client.send(std::string(40, 'b'));
  client.send(std::string(40, 'b'));
  REQUIRE(client.reply() == too_long);
  client.send(std::string(5000, 'c'));
  client.send("ccc\nstatus\n");
  REQUIRE(client.reply() == std::vector<std::string>{"run none", "ok"});

  // 64 bytes is not too long.
  REQUIRE(client.command("status" + std::string(58, ' ')) ==
          std::vector<std::string>{"run none", "ok"});
  REQUIRE(client.command("status" + std::string(59, ' ')) == too_long);

  ControlServer defaults;
  Client other(defaults.port());
  REQUIRE(other.command(std::string(1025, 'x')) ==
          std::vector<std::string>{
              "error: line too long (more than 1024 bytes); ignored up to the next newline"});
}

TEST_CASE("control: binary garbage gets one error and the connection stays usable", "[control]") {
  ControlServer server;
  Client client(server.port());
  const std::vector<std::string> binary = {
      "error: not a command (binary data: NUL, control characters or invalid UTF-8)"};
  REQUIRE(client.command(std::string("help\0", 5)) == binary);
  REQUIRE(client.command("\xff\xfe\xfd") == binary);
  REQUIRE(client.command("st\x1b[Aatus") == binary);
  REQUIRE(client.command("\xc3\xa9t\xc3\xa9") ==  // valid UTF-8, unknown: echoed as is
          std::vector<std::string>{"error: unknown command '\xc3\xa9t\xc3\xa9' (send 'help' "
                                   "for the list)"});
  REQUIRE(client.command("help").back() == "ok");
}

TEST_CASE("control: silent and slow clients are closed after the idle timeout", "[control]") {
  ControlServer server({.idle_timeout = 300ms});
  Client silent(server.port());
  Client slow(server.port());
  // The slow client asks for more than the socket buffers hold and reads none of it.
  std::string many;
  for (int i = 0; i < 2000; ++i) many.append("help\n");
  for (int i = 0; i < 10; ++i) slow.send(many);
  // Meanwhile others are served.
  Client other(server.port());
  REQUIRE(other.command("status") == std::vector<std::string>{"run none", "ok"});
  REQUIRE(silent.closed_within(10s));
  REQUIRE(slow.closed_within(10s));
  REQUIRE(eventually([&] { return server.connections() == 0; }));
}

TEST_CASE("control: destroying the server closes its connections", "[control]") {
  auto server = std::make_unique<ControlServer>();
  Client a(server->port());
  Client b(server->port());
  REQUIRE(a.command("help").back() == "ok");
  b.send("hel");  // half a command
  REQUIRE(eventually([&] { return server->connections() == 2; }));
  server.reset();
  REQUIRE(a.closed_within(5s));
  REQUIRE(b.closed_within(5s));
}

TEST_CASE("control: binding beyond loopback needs allow_remote", "[control]") {
  REQUIRE_THROWS_AS(ControlServer({.bind_address = "0.0.0.0"}), Error);
  REQUIRE_THROWS_WITH(ControlServer({.bind_address = "0.0.0.0"}),
                      Catch::Contains("not a loopback address") && Catch::Contains("allow_remote"));
  REQUIRE_THROWS_WITH(ControlServer({.bind_address = "localhost"}),
                      Catch::Contains("is not an IP address"));
  REQUIRE_THROWS_WITH(ControlServer({.max_connections = 0}), Catch::Contains("must be positive"));
  ControlServer remote({.bind_address = "0.0.0.0", .allow_remote = true});
  REQUIRE(remote.port() != 0);
  ControlServer loopback({.bind_address = "127.0.0.2"});  // all of 127/8 is loopback
  REQUIRE(loopback.port() != 0);
  REQUIRE_THROWS_WITH(
      ControlServer({.port = remote.port(), .bind_address = "0.0.0.0", .allow_remote = true}),
      Catch::Contains("cannot bind to 0.0.0.0 port"));
}

TEST_CASE("control: a thousand connections of random bytes leave the server and a run intact",
          "[control]") {
  const int kConnections = taskmap_test::kSanitized ? 200 : 1000;
  ThreadPoolExecutor pool(2);
  // The idle clients below must outlast the flood, however long a loaded machine takes.
  ControlServer server({.max_connections = 64, .idle_timeout = 300s});
  server.add_executor("pool", pool);
  SleepyGraph work("steady", 300, 2ms);
  // Holds the run open until the connections are done, so that they meet a running graph.
  std::atomic<bool> flood_done{false};
  work.graph.add_task("gate", [&flood_done] {
    const auto until = std::chrono::steady_clock::now() + 120s;
    while (!flood_done.load() && std::chrono::steady_clock::now() < until) {
      std::this_thread::sleep_for(1ms);
    }
    return 1;
  });
  RunSummary summary;
  const std::stop_token token = server.stop_token();
  Runner runner(
      [&] {
        summary = pool.run(work.graph, {.stop_token = token, .observers = {server.observer()}});
      },
      [&] { flood_done = true; });

  // Some clients never send a thing and stay open to the end (half-open).
  std::vector<std::unique_ptr<Client>> idle;
  for (int i = 0; i < 4; ++i) idle.push_back(std::make_unique<Client>(server.port()));

  asio::io_context io;
  std::mt19937 random(12345);
  int started = 0;
  int finished = 0;
  std::size_t replies = 0;
  struct Garbage {
    tcp::socket socket;
    std::string bytes;
    std::string reply;
    explicit Garbage(asio::io_context& context) : socket(context) {}
  };
  const tcp::endpoint endpoint(asio::ip::make_address("127.0.0.1"), server.port());
  std::function<void()> launch = [&] {
    if (started == kConnections) return;
    ++started;
    auto g = std::make_shared<Garbage>(io);
    const std::size_t size = random() % 3000;
    for (std::size_t i = 0; i < size; ++i) {
      // Mostly random bytes, with newlines often enough to make many lines.
      const auto byte = static_cast<char>(random() % 20 == 0 ? '\n' : random() % 256);
      g->bytes.push_back(byte);
    }
    const bool half_close = random() % 2 == 0;
    g->socket.async_connect(endpoint, [&, g, half_close](const std::error_code& ec) {
      const auto done = [&, g] {
        ++finished;
        launch();
      };
      if (ec) return done();
      asio::async_write(g->socket, asio::buffer(g->bytes),
                        [&, g, half_close, done](const std::error_code&, std::size_t) {
                          std::error_code ignored;
                          if (!half_close) {
                            g->socket.close(ignored);
                            return done();
                          }
                          // Half-close: the server still answers what it read, then closes.
                          g->socket.shutdown(tcp::socket::shutdown_send, ignored);
                          asio::async_read(g->socket, asio::dynamic_buffer(g->reply),
                                           [&, g, done](const std::error_code&, std::size_t n) {
                                             replies += n;
                                             done();
                                           });
                        });
    });
  };
  for (int i = 0; i < 32; ++i) launch();
  const auto deadline = std::chrono::steady_clock::now() + 60s;
  while (finished < kConnections && io.run_one_until(deadline) > 0) {
  }
  REQUIRE(finished == kConnections);
  REQUIRE(replies > 0);

  runner.join();
  REQUIRE(summary.succeeded == 301);
  REQUIRE_FALSE(token.stop_requested());
  REQUIRE(pool.max_workers() == 2);
  Client after(server.port());
  REQUIRE(after.command("get_max_workers") == std::vector<std::string>{"max_workers pool 2", "ok"});
  const std::vector<std::string> status = after.command("status");
  REQUIRE(status.size() == 3);
  REQUIRE(status[1] ==
          "counts tasks=301 waiting=0 running=0 done=301 failed=0 skipped=0 cancelled=0 "
          "up_to_date=0");
  for (auto& client : idle) REQUIRE(client->command("help").back() == "ok");
}
