// taskmap/asio.hpp: Asio operations awaited in coroutine tasks with taskmap::use_task, on
// every executor; where the task continues; errors, results, cancellation by the run's stop
// token, and the races between an operation's start and its completion.

#include <taskmap/asio.hpp>

#include <any>
#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <system_error>
#include <thread>
#include <tuple>
#include <vector>

#include <asio.hpp>
#include <asio/experimental/as_tuple.hpp>

#include "executors.hpp"
#include "test_support.hpp"

using namespace taskmap;
using namespace taskmap_test;
using namespace std::chrono_literals;
using asio::ip::tcp;

namespace {

/// Asks to stop after `limit` (from the I/O thread), so that a broken test fails instead of
/// hanging: every operation awaited with use_task(ctx) is then cancelled.
class Watchdog {
 public:
  Watchdog(IoThread& io, std::chrono::milliseconds limit) : timer_(io.context(), limit) {
    timer_.async_wait([stop = stop_](const asio::error_code& ec) mutable {
      if (!ec) stop.request_stop();
    });
  }
  [[nodiscard]] std::stop_token token() const { return stop_.get_token(); }
  [[nodiscard]] bool fired() const { return stop_.stop_requested(); }

 private:
  std::stop_source stop_;
  asio::steady_timer timer_;
};

/// The code of the std::system_error in `error`, or a default code when it holds another type.
std::error_code code_of(const std::exception_ptr& error) {
  try {
    std::rethrow_exception(error);
  } catch (const std::system_error& e) {
    return e.code();
  } catch (...) {
    return {};
  }
}

/// A deliberately misbehaving asynchronous operation, written with async_initiate like any
/// user-defined Asio operation: its initiation gets the handler and does `act` with it.
template <class Act>
auto odd_operation(Act act) {
  return asio::async_initiate<const use_task_t&, void(asio::error_code, int)>(
      [act](auto handler) mutable { act(std::move(handler)); }, use_task);
}

}  // namespace

TEMPLATE_TEST_CASE("use_task: an Asio timer is awaited on every executor", "[asio]",
                   TASKMAP_TEST_EXECUTORS) {
  auto executor = make_executor<TestType>();
  IoThread io;
  auto wait_then = [&io](int value) {
    return [&io, value](int x) -> Task<int> {
      asio::steady_timer timer(io.context(), 10ms);
      co_await timer.async_wait(use_task);
      co_return x + value;
    };
  };
  auto g =
      create_graph<int>({{"start",
                          [&io]() -> Task<int> {
                            asio::steady_timer timer(io.context(), 10ms);
                            co_await timer.async_wait(use_task);
                            co_return 1;
                          }},
                         {"b", wait_then(10)},
                         {"c", wait_then(100)},
                         {"sum", [](int b, int c) { return b + c; }}},
                        {{"start", {}}, {"b", {"start"}}, {"c", {"start"}}, {"sum", {"b", "c"}}});
  const RunSummary summary = executor.run(g, {});
  CHECK(summary.succeeded == 4);
  CHECK(g.result("sum") == 112);
}

TEMPLATE_TEST_CASE("use_task: the task continues on its executor's thread, not the I/O thread",
                   "[asio][foreign]", TASKMAP_TEST_EXECUTORS) {
  auto executor = make_executor<TestType>(2);
  IoThread io;
  const std::thread::id caller = std::this_thread::get_id();
  std::mutex mutex;
  std::vector<std::string> problems;
  auto task = [&](Context& ctx) -> Task<int> {
    const std::thread::id before = std::this_thread::get_id();
    asio::steady_timer timer(io.context(), 5ms);
    co_await timer.async_wait(use_task);
    const std::thread::id after = std::this_thread::get_id();
    static_cast<void>(before);
    std::lock_guard lock(mutex);
    auto problem = [&](const char* what) {
      problems.push_back(std::string(ctx.name()) + ": " + what);
    };
    if (after == io.thread_id()) problem("continued on the I/O thread");
    if constexpr (std::is_same_v<TestType, SequentialExecutor> ||
                  std::is_same_v<TestType, CoroutineExecutor>) {
      if (after != caller) problem("left the calling thread");
    } else if constexpr (std::is_same_v<TestType, ThreadPoolExecutor>) {
      if (after != before) problem("left the worker that drives it");
    } else {
      if (after == caller) problem("continued on the caller, not a pool worker");
    }
    co_return 1;
  };
  FuncMap<int> funcs;
  DependencyMap deps;
  for (int i = 0; i < 8; ++i) {
    funcs.emplace("t" + std::to_string(i), task);
    deps["t" + std::to_string(i)] = {};
  }
  auto g = create_graph<int>(funcs, deps);
  CHECK(executor.run(g, {}).succeeded == 8);
  CHECK(problems == std::vector<std::string>{});
}

TEST_CASE("use_task: 500 timers overlap on run_async", "[asio][timing]") {
  IoThread io;
  FuncMap<int> funcs;
  DependencyMap deps;
  for (int i = 0; i < 500; ++i) {
    const std::string name = "w" + std::to_string(i);
    funcs.emplace(name, [&io, i]() -> Task<int> {
      asio::steady_timer timer(io.context(), std::chrono::milliseconds(200 + i % 20));
      co_await timer.async_wait(use_task);
      co_return i;
    });
    deps[name] = {};
  }
  auto g = create_graph<int>(funcs, deps);
  const auto start = Clock::now();
  const RunSummary summary = run_async(g);
  CHECK(seconds_since(start) < 2.0);  // one after the other: over 100 s
  CHECK(summary.succeeded == 500);
  CHECK(g.result("w499") == 499);
}

TEMPLATE_TEST_CASE("use_task: an error code fails the task with std::system_error",
                   "[asio][errors]", TASKMAP_TEST_EXECUTORS) {
  auto executor = make_executor<TestType>();
  IoThread io;
  auto g = create_graph<int>({{"read",
                               [&io]() -> Task<int> {
                                 tcp::socket closed(io.context());
                                 char byte = 0;
                                 const std::size_t n = co_await closed.async_read_some(
                                     asio::buffer(&byte, 1), use_task);
                                 co_return static_cast<int>(n);
                               }},
                              {"child", [](int x) { return x; }},
                              {"control", [] { return 5; }}},
                             {{"read", {}}, {"child", {"read"}}, {"control", {}}});
  const RunSummary summary = executor.run(g, {});
  CHECK(summary.failed == 1);
  CHECK(summary.skipped == 1);
  CHECK(g.status("read") == TaskStatus::failed);
  REQUIRE(holds<std::system_error>(g.error("read")));
  CHECK(code_of(g.error("read")) == asio::error::bad_descriptor);
  CHECK(g.status("child") == TaskStatus::skipped);
  CHECK(holds<AncestorFailed>(g.error("child")));
  CHECK(g.result("control") == 5);
}

TEMPLATE_TEST_CASE("use_task: loopback echo between two tasks", "[asio][net]", CoroutineExecutor,
                   CoroutinePoolExecutor) {
  auto executor = make_executor<TestType>(2);
  IoThread io;
  Watchdog watchdog(io, 10s);
  tcp::acceptor acceptor(io.context());
  auto g = create_graph<std::any>(
      {{"listen",
        [&] {
          const tcp::endpoint local(asio::ip::address_v4::loopback(), 0);
          acceptor.open(local.protocol());
          acceptor.bind(local);
          acceptor.listen();
          return acceptor.local_endpoint().port();
        }},
       {"server",
        [&](Context& ctx, asio::ip::port_type) -> Task<std::string> {
          tcp::socket peer = co_await acceptor.async_accept(use_task(ctx));
          std::string line;
          const std::size_t n = co_await asio::async_read_until(peer, asio::dynamic_buffer(line),
                                                                '\n', use_task(ctx));
          line.resize(n);
          co_await asio::async_write(peer, asio::buffer(line), use_task(ctx));
          co_return line;
        }},
       {"client",
        [&](Context& ctx, asio::ip::port_type port) -> Task<std::string> {
          tcp::socket socket(io.context());
          co_await socket.async_connect({asio::ip::address_v4::loopback(), port}, use_task(ctx));
          const std::string request = "ping " + std::string(ctx.name()) + "\n";
          const std::size_t sent =
              co_await asio::async_write(socket, asio::buffer(request), use_task(ctx));
          if (sent != request.size()) throw std::runtime_error("short write");
          std::string reply;
          const std::size_t n = co_await asio::async_read_until(socket, asio::dynamic_buffer(reply),
                                                                '\n', use_task(ctx));
          reply.resize(n);
          co_return reply;
        }}},
      {{"listen", {}}, {"server", {"listen"}}, {"client", {"listen"}}});
  const RunSummary summary = executor.run(g, {.stop_token = watchdog.token()});
  std::string failures;
  for (const std::string& name : g.failed())
    failures += name + ": " + what_of(g.error(name)) + "\n";
  INFO(failures);
  CHECK_FALSE(watchdog.fired());
  CHECK(summary.succeeded == 3);
  REQUIRE(g.has_result("client"));
  CHECK(std::any_cast<std::string>(g.result("client")) == "ping client\n");
  CHECK(std::any_cast<std::string>(g.result("server")) == "ping client\n");
}

TEMPLATE_TEST_CASE("use_task(ctx): a stop request cancels a pending wait", "[asio][stop]",
                   TASKMAP_TEST_EXECUTORS) {
  auto executor = make_executor<TestType>();
  IoThread io;
  Watchdog stopper(io, 50ms);
  auto g = create_graph<int>({{"wait",
                               [&io](Context& ctx) -> Task<int> {
                                 asio::steady_timer timer(io.context(), 1h);
                                 co_await timer.async_wait(use_task(ctx));
                                 co_return 1;
                               }},
                              {"after", [](int x) { return x; }}},
                             {{"wait", {}}, {"after", {"wait"}}});
  const auto start = Clock::now();
  const RunSummary summary = executor.run(g, {.stop_token = stopper.token()});
  CHECK(seconds_since(start) < 5.0);
  CHECK(stopper.fired());
  CHECK(summary.failed == 1);
  CHECK(g.status("wait") == TaskStatus::failed);
  CHECK(code_of(g.error("wait")) == asio::error::operation_aborted);
  CHECK(g.status("after") == TaskStatus::skipped);
}

TEMPLATE_TEST_CASE("use_task(ctx): a stop request cancels pending socket operations",
                   "[asio][stop][net]", CoroutineExecutor, CoroutinePoolExecutor) {
  auto executor = make_executor<TestType>(2);
  IoThread io;
  const tcp::endpoint any_port(asio::ip::address_v4::loopback(), 0);
  tcp::acceptor nobody_connects(io.context(), any_port);
  tcp::acceptor never_accepts(io.context(), any_port);  // connections wait in its backlog
  Watchdog stopper(io, 100ms);
  auto g = create_graph<int>(
      {{"accept",
        [&](Context& ctx) -> Task<int> {
          tcp::socket peer = co_await nobody_connects.async_accept(use_task(ctx));
          co_return 1;
        }},
       {"read",
        [&](Context& ctx) -> Task<int> {
          tcp::socket socket(io.context());
          co_await socket.async_connect(never_accepts.local_endpoint(), use_task(ctx));
          std::string line;  // a composed operation: async_read_some until a '\n'
          co_await asio::async_read_until(socket, asio::dynamic_buffer(line), '\n', use_task(ctx));
          co_return 2;
        }}},
      {{"accept", {}}, {"read", {}}});
  const auto start = Clock::now();
  const RunSummary summary = executor.run(g, {.stop_token = stopper.token()});
  CHECK(seconds_since(start) < 5.0);
  CHECK(summary.failed == 2);
  CHECK(code_of(g.error("accept")) == asio::error::operation_aborted);
  CHECK(code_of(g.error("read")) == asio::error::operation_aborted);
}

TEST_CASE("use_task(ctx): after a stop request an operation does not start", "[asio][stop]") {
  IoThread io;
  std::stop_source stop;
  std::error_code code;
  auto g = create_graph<int>({{"late",
                               [&](Context& ctx) -> Task<int> {
                                 stop.request_stop();
                                 asio::steady_timer timer(io.context(), 1h);
                                 try {
                                   co_await timer.async_wait(use_task(ctx));
                                 } catch (const std::system_error& e) {
                                   code = e.code();
                                 }
                                 co_return 2;
                               }}},
                             {{"late", {}}});
  const auto start = Clock::now();
  run_async(g, {.stop_token = stop.get_token()});
  CHECK(seconds_since(start) < 5.0);
  CHECK(code == asio::error::operation_aborted);
  CHECK(g.result("late") == 2);
}

TEST_CASE("use_task with a stop token of one's own cancels only its operation", "[asio][stop]") {
  IoThread io;
  std::stop_source mine;
  asio::steady_timer trigger(io.context(), 20ms);
  trigger.async_wait([stop = mine](const asio::error_code& ec) mutable {
    if (!ec) stop.request_stop();
  });
  std::error_code code;
  auto g = create_graph<int>({{"wait",
                               [&]() -> Task<int> {
                                 asio::steady_timer timer(io.context(), 1h);
                                 try {
                                   co_await timer.async_wait(use_task(mine.get_token()));
                                 } catch (const std::system_error& e) {
                                   code = e.code();
                                 }
                                 co_return 3;
                               }}},
                             {{"wait", {}}});
  const RunSummary summary = run_parallel_async(g, {.ncores = 2});
  CHECK(summary.succeeded == 1);
  CHECK(code == asio::error::operation_aborted);
}

TEST_CASE("use_task: completion values become the result of co_await", "[asio]") {
  IoThread io;
  auto g =
      create_graph<int>({{"values",
                          [&io]() -> Task<int> {
                            // void(): nothing.
                            co_await asio::post(io.context(), use_task);
                            // void(error_code) redirected: the code instead of an exception.
                            tcp::socket closed(io.context());
                            char byte = 0;
                            asio::error_code ec;
                            const std::size_t n = co_await closed.async_read_some(
                                asio::buffer(&byte, 1), asio::redirect_error(use_task, ec));
                            CHECK(n == 0);
                            CHECK(ec == asio::error::bad_descriptor);
                            // void(std::tuple<error_code, size_t>): the tuple.
                            auto [tuple_ec, tuple_n] = co_await closed.async_read_some(
                                asio::buffer(&byte, 1), asio::experimental::as_tuple(use_task));
                            CHECK(tuple_ec == asio::error::bad_descriptor);
                            CHECK(tuple_n == 0);
                            co_return 7;
                          }}},
                        {{"values", {}}});
  run_async(g);
  CHECK(g.status("values") == TaskStatus::done);
  CHECK(g.result("values") == 7);
}

// Asio 1.22 enables its own coroutines (asio::awaitable) for g++ only, not for clang 14 with
// libstdc++.
#if defined(ASIO_HAS_CO_AWAIT)
TEST_CASE("use_task: awaiting Asio's own coroutines through co_spawn", "[asio]") {
  // Holds the exception until the I/O thread has joined. co_spawn's completion keeps its own
  // copy while our handler runs; if the I/O thread dropped the last reference, ThreadSanitizer
  // would report the free as a race: the reference count lives in uninstrumented libstdc++.
  std::exception_ptr thrown;
  IoThread io;
  auto g = create_graph<int>({{"spawn",
                               [&]() -> Task<int> {
                                 // void(exception_ptr, int): the int, or the exception rethrown.
                                 const int seven = co_await asio::co_spawn(
                                     io.context(), []() -> asio::awaitable<int> { co_return 7; },
                                     use_task);
                                 CHECK(seven == 7);
                                 try {
                                   co_await asio::co_spawn(
                                       io.context(),
                                       []() -> asio::awaitable<int> {
                                         throw std::runtime_error("inside asio");
                                         co_return 0;
                                       },
                                       use_task);
                                   FAIL("no exception");
                                 } catch (const std::runtime_error& e) {
                                   thrown = std::current_exception();
                                   CHECK(std::string(e.what()) == "inside asio");
                                 }
                                 co_return seven;
                               }}},
                             {{"spawn", {}}});
  run_async(g);
  CHECK(g.status("spawn") == TaskStatus::done);
  CHECK(g.result("spawn") == 7);
}
#endif

TEMPLATE_TEST_CASE("use_task: completions that race the start resume the task exactly once",
                   "[asio][race]", CoroutineExecutor, CoroutinePoolExecutor, SequentialExecutor) {
  auto executor = make_executor<TestType>(2);
  auto g = create_graph<int>(
      {{"inline",
        []() -> Task<int> {
          // The handler is called before the start returns, on the same thread.
          co_return co_await odd_operation([](auto handler) { handler(asio::error_code{}, 1); });
        }},
       {"foreign_before_return",
        []() -> Task<int> {
          // ...on another thread, before the start returns.
          co_return co_await odd_operation([](auto handler) {
            std::thread t([h = std::move(handler)]() mutable { h(asio::error_code{}, 2); });
            t.join();
          });
        }},
       {"foreign_later",
        []() -> Task<int> {
          // ...on another thread, whenever.
          co_return co_await odd_operation([](auto handler) {
            std::thread([h = std::move(handler)]() mutable { h(asio::error_code{}, 3); }).detach();
          });
        }},
       {"abandoned",
        []() -> Task<int> {
          // Destroyed without being called, on another thread: an error, not a hang.
          co_return co_await odd_operation(
              [](auto handler) { std::thread([h = std::move(handler)] {}).detach(); });
        }},
       {"start_throws",
        []() -> Task<int> {
          co_return co_await odd_operation(
              [](auto) { throw std::runtime_error("could not start"); });
        }}},
      {{"inline", {}},
       {"foreign_before_return", {}},
       {"foreign_later", {}},
       {"abandoned", {}},
       {"start_throws", {}}});
  for (int round = 0; round < 20; ++round) {
    reset_tasks(g, g.tasks());
    const RunSummary summary = executor.run(g, {});
    REQUIRE(summary.succeeded == 3);
    CHECK(g.result("inline") == 1);
    CHECK(g.result("foreign_before_return") == 2);
    CHECK(g.result("foreign_later") == 3);
    CHECK(code_of(g.error("abandoned")) == asio::error::operation_aborted);
    CHECK(what_of(g.error("abandoned")).find("abandoned") != std::string::npos);
    CHECK(what_of(g.error("start_throws")) == "could not start");
  }
}

TEST_CASE("use_task outside a taskmap executor throws", "[asio][errors]") {
  IoThread io;
  std::optional<std::string> message;
  auto inner = [&]() -> Task<void> {
    asio::steady_timer timer(io.context(), 1ms);
    co_await timer.async_wait(use_task);
  };
  auto driver = [&]() -> Task<void> {
    try {
      co_await inner();
    } catch (const Error& e) {
      message = e.what();
    }
  };
  Task<void> t = driver();
  start_outside_executor(t);
  REQUIRE(message.has_value());
  CHECK(message->find("taskmap::use_task") != std::string::npos);
}
