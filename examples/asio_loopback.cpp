// Real network I/O inside a graph, with Asio: "listen" opens a listener on an ephemeral port
// of 127.0.0.1 and passes the port on; "serve" accepts one connection and answers one
// request; "fetch" connects, sends a request and reads the reply; "check" compares them.
// The graph runs once with run_async (one thread) and once with run_parallel_async (two).
// A watchdog stops a run that takes too long, which cancels every pending operation, so a
// failure ends the program with status 1 instead of hanging.
#include <any>
#include <chrono>
#include <cstdio>
#include <memory>
#include <stdexcept>
#include <stop_token>
#include <string>

#include <asio.hpp>

#include <taskmap/asio.hpp>
#include <taskmap/taskmap.hpp>

namespace {

using asio::ip::tcp;
using taskmap::Context;
using taskmap::Task;
using taskmap::use_task;

// What "listen" feeds its dependents. The acceptor is shared because a std::any graph copies
// results; it lives until the graph is reset or destroyed.
struct Listener {
  std::shared_ptr<tcp::acceptor> acceptor;
  asio::ip::port_type port;
};

taskmap::TaskGraph<std::any> make_graph(taskmap::IoThread& io) {
  const auto loopback = asio::ip::address_v4::loopback();
  return taskmap::create_graph<std::any>(
      {{"listen",
        [&io, loopback] {
          auto acceptor = std::make_shared<tcp::acceptor>(io.context(), tcp::endpoint(loopback, 0));
          return Listener{acceptor, acceptor->local_endpoint().port()};
        }},
       {"serve",
        [](Context& ctx, const Listener& listener) -> Task<std::string> {
          tcp::socket peer = co_await listener.acceptor->async_accept(use_task(ctx));
          std::string request;
          const std::size_t n = co_await asio::async_read_until(peer, asio::dynamic_buffer(request),
                                                                '\n', use_task(ctx));
          request.resize(n - 1);  // without the '\n'
          const std::string reply = "hello, " + request + "\n";
          co_await asio::async_write(peer, asio::buffer(reply), use_task(ctx));
          co_return request;
        }},
       {"fetch",
        [&io, loopback](Context& ctx, const Listener& listener) -> Task<std::string> {
          tcp::socket socket(io.context());
          co_await socket.async_connect({loopback, listener.port}, use_task(ctx));
          const std::string request = "taskmap\n";
          co_await asio::async_write(socket, asio::buffer(request), use_task(ctx));
          std::string reply;
          const std::size_t n = co_await asio::async_read_until(socket, asio::dynamic_buffer(reply),
                                                                '\n', use_task(ctx));
          reply.resize(n - 1);
          co_return reply;
        }},
       {"check",
        [](const std::string& served, const std::string& reply) {
          if (reply != "hello, " + served) {
            throw std::runtime_error("served '" + served + "' but fetched '" + reply + "'");
          }
          return reply;
        }}},
      {{"listen", {}}, {"serve", {"listen"}}, {"fetch", {"listen"}}, {"check", {"serve", "fetch"}}},
      {.name = "loopback"});
}

// Runs the graph with `executor`; true when every task succeeded.
template <class Executor>
bool run_once(const char* label, Executor executor, taskmap::IoThread& io) {
  auto graph = make_graph(io);
#if defined(__GNUC__) && !defined(__clang__)
  // g++ 12 false positive: when it does not inline libstdc++'s _Stop_state_ref(const
  // stop_source&), it warns that `stop` is read uninitialized, but that parameter is an unnamed
  // tag the constructor never reads (a five-line function reproduces it at -Og).
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
  std::stop_source stop;
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif
  // The watchdog asks the run to stop after 10 s; use_task(ctx) then cancels what is pending.
  asio::steady_timer watchdog(io.context(), std::chrono::seconds(10));
  watchdog.async_wait([stop](const asio::error_code& ec) mutable {
    if (!ec) stop.request_stop();
  });
  const taskmap::RunSummary summary = executor.run(graph, {.stop_token = stop.get_token()});

  const double ms = std::chrono::duration<double, std::milli>(summary.elapsed).count();
  std::printf("%-18s %zu of %zu tasks succeeded in %.1f ms\n", label, summary.succeeded,
              graph.size(), ms);
  for (const std::string& name : graph.failed()) {
    try {
      std::rethrow_exception(graph.error(name));
    } catch (const std::exception& e) {
      std::printf("  task '%s' failed: %s\n", name.c_str(), e.what());
    }
  }
  if (stop.stop_requested()) std::printf("  the watchdog stopped the run\n");
  if (summary.succeeded != graph.size()) return false;
  std::printf("  fetched \"%s\" from port %u\n",
              std::any_cast<const std::string&>(graph.result("check")).c_str(),
              static_cast<unsigned>(std::any_cast<const Listener&>(graph.result("listen")).port));
  return true;
}

}  // namespace

int main() {
  taskmap::IoThread io;  // outlives the graphs and their sockets
  const bool one_thread = run_once("run_async", taskmap::CoroutineExecutor{}, io);
  const bool two_threads = run_once("run_parallel_async", taskmap::CoroutinePoolExecutor{2}, io);
  return one_thread && two_threads ? 0 : 1;
}
