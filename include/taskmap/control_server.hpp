#pragma once
/// @file control_server.hpp
/// ControlServer: a live control endpoint, a line protocol over TCP that changes running
/// pools' worker counts, reports the current run and cancels it (docs/control.md). Needs
/// standalone Asio, like taskmap/asio.hpp; not part of the umbrella header.
///
/// @code
/// taskmap::ThreadPoolExecutor pool(8);
/// taskmap::ControlServer server({.port = 8888});
/// server.add_executor("pool", pool);
/// pool.run(graph, {.stop_token = server.stop_token(), .observers = {server.observer()}});
/// // meanwhile: printf 'set_max_workers 4\nstatus\n' | nc 127.0.0.1 8888
/// @endcode

#include <chrono>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <stop_token>
#include <string>
#include <string_view>

#include "taskmap/detail/control_listener.hpp"
#include "taskmap/observer.hpp"

namespace taskmap {

/// How a ControlServer listens. An aggregate: `ControlServer server({.port = 8888})`.
struct ControlOptions {
  /// The TCP port; 0 takes any free one (ControlServer::port() tells which).
  std::uint16_t port = 0;
  /// The numeric address to listen on: loopback (127.0.0.1, ::1) unless allow_remote.
  std::string bind_address = "127.0.0.1";
  /// Allows a bind_address that is not loopback: anyone who reaches it may change the pools
  /// and cancel runs, so set a token too.
  bool allow_remote = false;
  /// Connections served at once; one more is told `error: too many connections` and closed.
  std::size_t max_connections = 16;
  /// When not empty, a connection must send `auth TOKEN` before any other command.
  std::string token = {};
  /// The longest command line accepted, in bytes; a longer one gets one error and is skipped.
  std::size_t max_line = 1024;
  /// A connection that sends nothing (or reads none of its replies) for this long is closed.
  std::chrono::milliseconds idle_timeout = std::chrono::seconds(60);
};

/// An executor whose worker count the control endpoint can read and change: ThreadPoolExecutor,
/// CoroutinePoolExecutor, or a type of your own.
template <class E>
concept ResizableExecutor = requires(E& executor, std::size_t count) {
  { executor.max_workers() } -> std::convertible_to<std::size_t>;
  executor.set_max_workers(count);
};

/// Serves the control protocol on its own thread from construction to destruction.
/// Commands: help, auth, get_max_workers, set_max_workers, status, cancel, quit.
/// Lifetimes: the executors added must outlive the server or be removed first; observer()
/// may outlive it. The destructor closes every connection and joins the server's thread.
/// Thread safety: every member function may be called from any thread.
class ControlServer {
 public:
  /// Binds and starts serving.
  /// Throws: Error when bind_address is not a numeric address, is not loopback without
  /// allow_remote, or cannot be bound (the port is taken), or when max_connections,
  /// max_line or idle_timeout is not positive.
  explicit ControlServer(ControlOptions options = {})
      : state_(std::make_unique<detail::ControlState>()),
        listener_(std::make_unique<detail::ControlListener>(
            detail::ControlListenerSettings{std::move(options.bind_address), options.port,
                                            options.allow_remote, options.max_connections,
                                            std::move(options.token), options.max_line,
                                            options.idle_timeout},
            *state_)) {}

  ControlServer(const ControlServer&) = delete;
  ControlServer& operator=(const ControlServer&) = delete;
  ~ControlServer() = default;

  /// The port the server listens on (the one chosen when ControlOptions::port was 0).
  [[nodiscard]] std::uint16_t port() const noexcept { return listener_->port(); }

  /// Serves `executor` under `name` (1 to 64 letters, digits, '_', '-', '.'); commands name
  /// it when the server has more than one. The executor is held by reference.
  /// Throws: Error when the name is invalid or already served.
  template <ResizableExecutor E>
  void add_executor(std::string name, E& executor) {
    state_->add({std::move(name),
                 [&executor] { return static_cast<std::size_t>(executor.max_workers()); },
                 [&executor](std::size_t count) { executor.set_max_workers(count); }});
  }

  /// Stops serving the executor `name`; once this returns, the server no longer touches it.
  /// Returns false when no executor has that name.
  bool remove_executor(std::string_view name) { return state_->remove(name); }

  /// The observer that lets `status` report runs: add it to RunOptions::observers.
  [[nodiscard]] std::shared_ptr<Observer> observer() const { return state_->tracker(); }

  /// The token `cancel` stops: pass it as RunOptions::stop_token. A `cancel` stops it and
  /// replaces it with a fresh one, so take stop_token() anew for every run.
  [[nodiscard]] std::stop_token stop_token() const { return state_->stop_token(); }

  /// Connections open now (not counting refused ones).
  [[nodiscard]] std::size_t connections() const { return listener_->connections(); }

 private:
  std::unique_ptr<detail::ControlState> state_;
  std::unique_ptr<detail::ControlListener> listener_;  // destroyed first: it uses state_
};

}  // namespace taskmap
