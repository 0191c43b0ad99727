#pragma once
// ControlServer's machinery: ControlState, what the commands act on (the executors, the run
// tracker, the stop source), and ControlListener, the Asio side: an io_context on its own
// thread that accepts connections and feeds each one's bytes to its ControlSession.

#include <asio/bind_executor.hpp>
#include <asio/buffer.hpp>
#include <asio/error.hpp>
#include <asio/io_context.hpp>
#include <asio/ip/address.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/post.hpp>
#include <asio/socket_base.hpp>
#include <asio/steady_timer.hpp>
#include <asio/write.hpp>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <stop_token>
#include <string>
#include <string_view>
#include <system_error>
#include <thread>
#include <utility>
#include <vector>

#include "taskmap/detail/control_protocol.hpp"
#include "taskmap/detail/control_status.hpp"
#include "taskmap/errors.hpp"

namespace taskmap::detail {

/// The executors, the run tracker and the stop source the commands act on.
/// Thread safety: every member may be called from any thread.
class ControlState final : public ControlTarget {
 public:
  struct Executor {
    std::string name;
    std::function<std::size_t()> get;
    std::function<void(std::size_t)> set;
  };

  ControlState() : tracker_(std::make_shared<ControlRunTracker>()) {}

  void add(Executor executor) {
    const std::string_view name = executor.name;
    const bool valid =
        !name.empty() && name.size() <= 64 && std::all_of(name.begin(), name.end(), [](char c) {
          return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                 c == '_' || c == '-' || c == '.';
        });
    if (!valid) {
      std::string shown;
      append_escaped(shown, name.substr(0, 80));
      throw Error("taskmap::ControlServer::add_executor: the name '" + shown +
                  "' is not 1 to 64 letters, digits, '_', '-' or '.'");
    }
    std::lock_guard lock(mutex_);
    if (find(name) != executors_.end()) {
      throw Error("taskmap::ControlServer::add_executor: an executor named '" + std::string(name) +
                  "' is already served");
    }
    executors_.push_back(std::move(executor));
  }

  bool remove(std::string_view name) {
    std::lock_guard lock(mutex_);
    const auto it = find(name);
    if (it == executors_.end()) return false;
    executors_.erase(it);
    return true;
  }

  [[nodiscard]] std::vector<std::string> executor_names() const override {
    std::lock_guard lock(mutex_);
    std::vector<std::string> names;
    for (const Executor& e : executors_) names.push_back(e.name);
    return names;
  }

  // The executor's own calls are made under the lock, so that once remove() returns the
  // executor is no longer touched.
  [[nodiscard]] std::size_t max_workers(std::string_view name) const override {
    std::lock_guard lock(mutex_);
    return at(name).get();
  }

  std::size_t set_max_workers(std::string_view name, std::size_t count) override {
    std::lock_guard lock(mutex_);
    const Executor& e = at(name);
    e.set(count);
    return e.get();
  }

  void append_status(std::string& out) const override { tracker_->append_status(out); }

  std::string cancel() override {
    const std::vector<std::string> graphs = tracker_->running_graphs();
    {
      std::lock_guard lock(mutex_);
      source_.request_stop();
      source_ = std::stop_source();  // the next run gets a token that is not stopped
    }
    if (graphs.empty()) {
      return "stop requested; no run is going (a run given the earlier stop_token() stops at "
             "once)";
    }
    std::string text = "stop requested for the run of graph ";
    text.append(graphs.front());
    return text;
  }

  [[nodiscard]] std::stop_token stop_token() const {
    std::lock_guard lock(mutex_);
    return source_.get_token();
  }

  [[nodiscard]] const std::shared_ptr<ControlRunTracker>& tracker() const noexcept {
    return tracker_;
  }

 private:
  std::vector<Executor>::const_iterator find(std::string_view name) const {
    return std::find_if(executors_.begin(), executors_.end(),
                        [&](const Executor& e) { return e.name == name; });
  }
  const Executor& at(std::string_view name) const {
    const auto it = find(name);
    if (it == executors_.end()) {
      throw Error("the executor '" + std::string(name) + "' was removed");
    }
    return *it;
  }

  mutable std::mutex mutex_;
  std::vector<Executor> executors_;
  std::shared_ptr<ControlRunTracker> tracker_;
  std::stop_source source_;
};

/// What ControlListener needs of ControlOptions.
struct ControlListenerSettings {
  std::string bind_address;
  std::uint16_t port = 0;
  bool allow_remote = false;
  std::size_t max_connections = 16;
  std::string token;
  std::size_t max_line = 1024;
  std::chrono::milliseconds idle_timeout{60'000};
};

class ControlListener;

/// One client. Lives as long as an operation of its own holds it (every handler keeps a
/// shared_ptr); the listener keeps only a weak one, to close it on shutdown.
/// Reads and writes alternate: the next read starts when the last reply is written, so a
/// client that does not read its replies stops being read, and never grows our memory.
class ControlConnection : public std::enable_shared_from_this<ControlConnection> {
 public:
  ControlConnection(asio::ip::tcp::socket socket, ControlListener& owner, ControlTarget& target,
                    const ControlListenerSettings& settings)
      : socket_(std::move(socket)),
        timer_(socket_.get_executor()),
        owner_(&owner),
        idle_timeout_(settings.idle_timeout),
        session_(target, settings.token, settings.max_line) {}

  void start() {
    arm_timer();
    read();
  }

  /// Closes the socket: the pending operations end with operation_aborted.
  void close();

 private:
  void read() {
    socket_.async_read_some(asio::buffer(buffer_),
                            [self = shared_from_this()](const std::error_code& ec, std::size_t n) {
                              self->on_read(ec, n);
                            });
  }

  void on_read(const std::error_code& ec, std::size_t n) {
    if (ec || closed_) return close();
    arm_timer();
    reply_.clear();
    try {
      session_.feed(std::string_view(buffer_.data(), n), reply_);
    } catch (...) {  // out of memory: this client goes, the server stays
      return close();
    }
    if (reply_.empty()) {
      if (session_.closed()) return close();
      return read();
    }
    asio::async_write(socket_, asio::buffer(reply_),
                      [self = shared_from_this()](const std::error_code& write_ec, std::size_t) {
                        if (write_ec || self->closed_ || self->session_.closed()) {
                          return self->close();
                        }
                        self->read();
                      });
  }

  // The idle timeout: restarted by every read; a client that sends nothing, or does not
  // read what we write, for that long is closed.
  void arm_timer() {
    timer_.expires_after(idle_timeout_);
    timer_.async_wait([weak = weak_from_this()](const std::error_code& ec) {
      if (ec) return;  // restarted or cancelled
      if (auto self = weak.lock()) self->close();
    });
  }

  asio::ip::tcp::socket socket_;
  asio::steady_timer timer_;
  ControlListener* owner_;
  std::chrono::milliseconds idle_timeout_;
  ControlSession session_;
  std::array<char, 4096> buffer_{};
  std::string reply_;
  bool closed_ = false;
};

/// Accepts connections on its own io_context and thread. Constructing it binds and listens
/// (or throws Error); destroying it closes the acceptor and every connection and joins.
class ControlListener {
 public:
  ControlListener(ControlListenerSettings settings, ControlTarget& target)
      : settings_(std::move(settings)), target_(&target), acceptor_(io_), retry_(io_) {
    std::error_code ec;
    const asio::ip::address address = asio::ip::make_address(settings_.bind_address, ec);
    if (ec) {
      throw Error("taskmap::ControlServer: '" + settings_.bind_address +
                  "' is not an IP address (bind_address takes a numeric address such as "
                  "127.0.0.1 or ::1)");
    }
    if (!address.is_loopback() && !settings_.allow_remote) {
      throw Error("taskmap::ControlServer: refusing to bind to " + settings_.bind_address +
                  ", which is not a loopback address: anyone who can reach it could change "
                  "the pool and cancel runs; set ControlOptions::allow_remote (and a token) "
                  "to allow it");
    }
    if (settings_.max_connections == 0 || settings_.max_line == 0 ||
        settings_.idle_timeout.count() <= 0) {
      throw Error(
          "taskmap::ControlServer: max_connections, max_line and idle_timeout must be positive");
    }
    const asio::ip::tcp::endpoint endpoint(address, settings_.port);
    const auto fail = [&](const char* what) {
      throw Error("taskmap::ControlServer: cannot " + std::string(what) + " " +
                  settings_.bind_address + " port " + std::to_string(settings_.port) + ": " +
                  ec.message());
    };
    acceptor_.open(endpoint.protocol(), ec);
    if (ec) fail("open a socket for");
    acceptor_.set_option(asio::socket_base::reuse_address(true), ec);
    if (ec) fail("configure");
    acceptor_.bind(endpoint, ec);
    if (ec) fail("bind to");
    acceptor_.listen(asio::socket_base::max_listen_connections, ec);
    if (ec) fail("listen on");
    port_ = acceptor_.local_endpoint().port();
    accept();
    thread_ = std::thread([this] { io_.run(); });
  }

  ControlListener(const ControlListener&) = delete;
  ControlListener& operator=(const ControlListener&) = delete;

  ~ControlListener() {
    asio::post(io_, [this] {
      stopping_ = true;
      std::error_code ignored;
      acceptor_.close(ignored);
      retry_.cancel();
      // close() erases from connections_: walk a copy.
      const auto open = connections_;
      for (const auto& [raw, weak] : open) {
        if (auto c = weak.lock()) c->close();
      }
    });
    // Every operation now ends with operation_aborted and starts no other: run() returns.
    thread_.join();
  }

  [[nodiscard]] std::uint16_t port() const noexcept { return port_; }

  /// Connections open now. Thread safety: any thread.
  [[nodiscard]] std::size_t connections() const {
    std::lock_guard lock(count_mutex_);
    return open_count_;
  }

  void forget(ControlConnection* connection) {
    connections_.erase(connection);
    std::lock_guard lock(count_mutex_);
    open_count_ = connections_.size();
  }

 private:
  void accept() {
    acceptor_.async_accept([this](const std::error_code& ec, asio::ip::tcp::socket socket) {
      if (stopping_ || ec == asio::error::operation_aborted) return;
      if (ec) {
        // Out of descriptors, most likely: try again a little later rather than spin.
        retry_.expires_after(std::chrono::milliseconds(100));
        retry_.async_wait([this](const std::error_code& wait_ec) {
          if (!wait_ec && !stopping_) accept();
        });
        return;
      }
      if (connections_.size() >= settings_.max_connections) {
        reject(std::move(socket));
      } else {
        open(std::move(socket));
      }
      accept();
    });
  }

  void open(asio::ip::tcp::socket socket) {
    std::shared_ptr<ControlConnection> connection;
    try {
      connection =
          std::make_shared<ControlConnection>(std::move(socket), *this, *target_, settings_);
    } catch (...) {
      return;  // out of memory: the socket closes with the failed construction
    }
    connections_.emplace(connection.get(), connection);
    {
      std::lock_guard lock(count_mutex_);
      open_count_ = connections_.size();
    }
    connection->start();
  }

  static void reject(asio::ip::tcp::socket socket) {
    static constexpr std::string_view kTooMany = "error: too many connections\n";
    auto held = std::make_shared<asio::ip::tcp::socket>(std::move(socket));
    asio::async_write(*held, asio::buffer(kTooMany.data(), kTooMany.size()),
                      [held](const std::error_code&, std::size_t) {
                        std::error_code ignored;
                        held->shutdown(asio::socket_base::shutdown_both, ignored);
                        held->close(ignored);
                      });
  }

  ControlListenerSettings settings_;
  ControlTarget* target_;
  asio::io_context io_;
  asio::ip::tcp::acceptor acceptor_;
  asio::steady_timer retry_;
  std::uint16_t port_ = 0;
  bool stopping_ = false;  // touched on the I/O thread only
  std::map<ControlConnection*, std::weak_ptr<ControlConnection>> connections_;  // I/O thread
  mutable std::mutex count_mutex_;
  std::size_t open_count_ = 0;
  std::thread thread_;
};

inline void ControlConnection::close() {
  if (closed_) return;
  closed_ = true;
  std::error_code ignored;
  timer_.cancel();
  socket_.shutdown(asio::socket_base::shutdown_both, ignored);
  socket_.close(ignored);
  owner_->forget(this);
}

}  // namespace taskmap::detail
