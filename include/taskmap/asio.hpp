#pragma once
/// @file asio.hpp
/// Real asynchronous I/O for coroutine tasks with standalone Asio 1.19 or newer (`<asio.hpp>`,
/// not Boost.Asio): the completion token `taskmap::use_task`, and `taskmap::IoThread`, an
/// io_context on its own thread. Not part of the umbrella header; include it only where Asio
/// is available (taskmap itself does not depend on Asio). It includes only the Asio headers
/// it needs: include those of the sockets and timers you use.
///
/// @code
/// taskmap::IoThread io;
/// auto g = taskmap::create_graph<int>(
///     {{"wait", [&io](taskmap::Context& ctx) -> taskmap::Task<int> {
///        asio::steady_timer timer(io.context(), std::chrono::milliseconds(50));
///        co_await timer.async_wait(taskmap::use_task(ctx));  // cancelled if the run stops
///        co_return 1;
///      }}},
///     {{"wait", {}}});
/// taskmap::run_async(g);
/// @endcode
///
/// Lifetime rules. The I/O objects (sockets, timers) and the io_context they use must outlive
/// every operation started on them; in practice: create the IoThread before the graph runs
/// and destroy it after (a task's own sockets may live in its frame). An operation started
/// with use_task completes before the awaiting task goes on, and the run waits for its tasks,
/// so no completion can arrive after the run ended. Destroying the io_context (or the
/// IoThread) while a task waits is a misuse: the task is then resumed with
/// std::system_error(operation_aborted) rather than left hanging, but the I/O objects it
/// still holds belong to a dead io_context.

#include <asio/async_result.hpp>
#include <asio/cancellation_signal.hpp>
#include <asio/cancellation_type.hpp>
#include <asio/error.hpp>
#include <asio/executor_work_guard.hpp>
#include <asio/io_context.hpp>
#include <asio/post.hpp>
#include <asio/version.hpp>

#if ASIO_VERSION < 101900
#error "taskmap/asio.hpp needs Asio 1.19 or newer (per-operation cancellation)"
#endif

#include <atomic>
#include <coroutine>
#include <cstddef>
#include <cstdio>
#include <exception>
#include <memory>
#include <optional>
#include <stop_token>
#include <system_error>
#include <thread>
#include <tuple>
#include <type_traits>
#include <utility>

#include "taskmap/detail/scheduler.hpp"
#include "taskmap/errors.hpp"
#include "taskmap/run_options.hpp"
#include "taskmap/task.hpp"

namespace taskmap {

/// The completion token that makes an Asio asynchronous operation awaitable in a coroutine
/// task: `co_await timer.async_wait(taskmap::use_task)`,
/// `std::size_t n = co_await asio::async_read(socket, buffer, taskmap::use_task)`,
/// `tcp::socket s = co_await acceptor.async_accept(taskmap::use_task)`.
///
/// The operation starts when it is awaited (on the task's thread) and the task continues on
/// its executor's thread(s), never on the io_context's: on run_async the thread that called
/// it, on run_parallel_async a pool worker, on run and run_parallel the thread that runs the
/// task. (On run and run_parallel a waiting task holds its thread, so tasks that wait for
/// each other, such as a server and its client, need the coroutine executors.) One I/O object
/// should be used by one task at a time. The completion's values become the result of `co_await`: a
/// leading error_code is thrown as std::system_error when set (a leading std::exception_ptr is
/// rethrown), the rest is returned as nothing, one value, or a std::tuple. Wrap the token in
/// `asio::redirect_error(taskmap::use_task, ec)` to get the error code instead of an
/// exception. Operations with one completion signature are supported.
///
/// `use_task(ctx)` also cancels the operation (Asio per-operation cancellation, type `all`)
/// when the task's run is asked to stop through RunOptions::stop_token; an operation awaited
/// after the stop request does not start. Either way the await throws
/// std::system_error(asio::error::operation_aborted). The cancellation is posted to the I/O
/// object's executor, which must not run the object's handlers concurrently: an io_context
/// run by one thread (IoThread) or a strand.
///
/// Throws (when awaited): Error outside a coroutine task run by a taskmap executor.
class use_task_t {
 public:
  constexpr use_task_t() noexcept = default;

  /// The token whose operation is cancelled when the run of the task `ctx` belongs to is
  /// asked to stop.
  [[nodiscard]] use_task_t operator()(const Context& ctx) const noexcept {
    return use_task_t(&ctx.stop_token());
  }

  /// The token whose operation is cancelled when `token` is asked to stop. The token is read
  /// when the operation starts, so it must outlive the awaited expression (a temporary in
  /// the `co_await` expression is fine).
  [[nodiscard]] constexpr use_task_t operator()(const std::stop_token& token) const noexcept {
    return use_task_t(&token);
  }

  /// The stop token the operation observes, or null.
  [[nodiscard]] constexpr const std::stop_token* stop_token() const noexcept { return stop_; }

 private:
  constexpr explicit use_task_t(const std::stop_token* stop) noexcept : stop_(stop) {}

  const std::stop_token* stop_ = nullptr;
};

/// Pass as the completion token of an Asio operation to `co_await` it in a coroutine task.
inline constexpr use_task_t use_task{};

/// An asio::io_context run by a background thread: the usual home of the I/O a graph's tasks
/// await. Create it before running the graph, hand `context()` to the tasks' sockets and
/// timers, destroy it after the run.
/// The destructor stops the io_context and joins the thread; operations still pending are
/// abandoned (their handlers are destroyed, not called). A handler that throws ends the
/// program, as on any std::thread (use_task's handlers never throw).
/// Thread safety: context() and get_executor() may be used from any thread.
class IoThread {
 public:
  IoThread() : work_(io_.get_executor()), thread_([this] { io_.run(); }) {}
  IoThread(const IoThread&) = delete;
  IoThread& operator=(const IoThread&) = delete;
  ~IoThread() {
    work_.reset();
    io_.stop();
    thread_.join();
  }

  /// The io_context the thread runs.
  [[nodiscard]] asio::io_context& context() noexcept { return io_; }
  /// Its executor.
  [[nodiscard]] asio::io_context::executor_type get_executor() noexcept {
    return io_.get_executor();
  }
  /// The id of the thread that runs the handlers.
  [[nodiscard]] std::thread::id thread_id() const noexcept { return thread_.get_id(); }

 private:
  asio::io_context io_;
  asio::executor_work_guard<asio::io_context::executor_type> work_;
  std::thread thread_;
};

namespace detail {

static_assert(std::is_same_v<asio::error_code, std::error_code>,
              "taskmap/asio.hpp needs standalone Asio built on std::error_code");

/// Where an operation's completion meets the awaiting coroutine. It lives in the awaiter, in
/// the coroutine frame; the handler reaches it through a pointer.
template <class... Values>
struct AsioArrival {
  static constexpr unsigned char kSuspended = 1;  // await_suspend is done with the start
  static constexpr unsigned char kHandled = 2;    // the handler is done with the completion

  /// Whoever of await_suspend and the handler comes second resumes the coroutine: the
  /// handler may run on the I/O thread before the operation's start has even returned.
  std::atomic<unsigned char> progress{0};
  Scheduler* home = nullptr;
  std::coroutine_handle<> coroutine;
  std::optional<std::tuple<Values...>> values;
  std::exception_ptr abandoned;  // the handler could not deliver the values

  void handler_done() noexcept {
    if ((progress.fetch_or(kHandled, std::memory_order_acq_rel) & kSuspended) != 0) {
      home->schedule_remote(coroutine);  // the last access: the coroutine may now go on
    }
  }
  /// True when the coroutine stays suspended (the handler has not run yet).
  bool suspend_done() noexcept {
    return (progress.fetch_or(kSuspended, std::memory_order_acq_rel) & kHandled) == 0;
  }
  /// True when the operation started and its handler has not run: the frame must live on.
  [[nodiscard]] bool pending() const noexcept {
    return progress.load(std::memory_order_acquire) == kSuspended;
  }
};

/// The per-operation cancellation signal, shared by the handler and the stop callback.
/// Emitted only on the I/O object's executor, where the handler also runs.
struct AsioCancel {
  asio::cancellation_signal signal;
  bool completed = false;  // the handler ran: the operation's slot may point to dead objects
};

/// The completion handler of a use_task operation.
template <class... Values>
class AsioHandler {
 public:
  using cancellation_slot_type = asio::cancellation_slot;

  AsioHandler(AsioArrival<Values...>* arrival, std::shared_ptr<AsioCancel> cancel) noexcept
      : arrival_(arrival), cancel_(std::move(cancel)) {}
  AsioHandler(AsioHandler&& other) noexcept
      : arrival_(std::exchange(other.arrival_, nullptr)), cancel_(std::move(other.cancel_)) {}
  AsioHandler(const AsioHandler&) = delete;
  AsioHandler& operator=(const AsioHandler&) = delete;
  AsioHandler& operator=(AsioHandler&&) = delete;

  /// A handler destroyed without being called (its io_context stopped and destroyed, its
  /// executor refused it) still resumes the task, with an error instead of a hang.
  ~AsioHandler() {
    if (arrival_ == nullptr) return;
    try {
      throw std::system_error(asio::error::operation_aborted,
                              "taskmap::use_task: the operation was abandoned (its handler was "
                              "destroyed without being called; was its io_context destroyed "
                              "while a task awaited it?)");
    } catch (...) {
      arrival_->abandoned = std::current_exception();
    }
    std::exchange(arrival_, nullptr)->handler_done();
  }

  template <class... A>
  void operator()(A&&... values) noexcept {
    if (cancel_) cancel_->completed = true;
    AsioArrival<Values...>* arrival = std::exchange(arrival_, nullptr);
    try {
      arrival->values.emplace(std::forward<A>(values)...);
    } catch (...) {
      arrival->abandoned = std::current_exception();
    }
    arrival->handler_done();
  }

  /// Asio's per-operation cancellation: connected only for `use_task(ctx)`.
  [[nodiscard]] cancellation_slot_type get_cancellation_slot() const noexcept {
    return cancel_ ? cancel_->signal.slot() : cancellation_slot_type();
  }

 private:
  AsioArrival<Values...>* arrival_;
  std::shared_ptr<AsioCancel> cancel_;
};

/// How an operation's cancellation reaches the executor of its I/O object: through the
/// initiation's get_executor(), looking through the initiation wrappers of Asio's token
/// adapters (redirect_error, as_tuple), which keep the wrapped one in `initiation_`.
template <class Initiation>
struct AsioExecutorFinder {
  static constexpr bool found = false;
};
template <class Initiation>
requires requires(const Initiation& initiation) { initiation.get_executor(); }
struct AsioExecutorFinder<Initiation> {
  static constexpr bool found = true;
  static auto get(const Initiation& initiation) { return initiation.get_executor(); }
};
template <class Initiation>
requires(
    !requires(const Initiation& initiation) { initiation.get_executor(); } &&
    requires(const Initiation& initiation) {
      initiation.initiation_;
    }) struct AsioExecutorFinder<Initiation> {
  using Inner = std::remove_cvref_t<decltype(std::declval<const Initiation&>().initiation_)>;
  static constexpr bool found = AsioExecutorFinder<Inner>::found;
  static auto get(const Initiation& initiation) {
    return AsioExecutorFinder<Inner>::get(initiation.initiation_);
  }
};

/// An operation not started yet: its initiation and arguments, type-erased so that the
/// awaitable's type depends on the completion signature only (Asio's token adapters need
/// that: they name async_result<use_task_t, Signature>::return_type).
template <class... Values>
class AsioStart {
 public:
  AsioStart() = default;
  AsioStart(const AsioStart&) = delete;
  AsioStart& operator=(const AsioStart&) = delete;
  virtual ~AsioStart() = default;
  /// Starts the operation. Called once.
  virtual void start(AsioHandler<Values...> handler) = 0;
  /// True when the operation's executor is known, so that it can be cancelled.
  [[nodiscard]] virtual bool cancellable() const noexcept = 0;
  /// Emits `cancel`'s signal on the operation's executor. Precondition: cancellable().
  virtual void post_cancel(const std::shared_ptr<AsioCancel>& cancel) const noexcept = 0;
};

template <class Initiation, class InitArgs, class... Values>
class AsioStartOf;

template <class Initiation, class... InitArgs, class... Values>
class AsioStartOf<Initiation, std::tuple<InitArgs...>, Values...> final
    : public AsioStart<Values...> {
  using Finder = AsioExecutorFinder<Initiation>;

 public:
  template <class I, class... A>
  explicit AsioStartOf(I&& initiation, A&&... args)
      : initiation_(std::forward<I>(initiation)), args_(std::forward<A>(args)...) {}

  void start(AsioHandler<Values...> handler) override {
    std::apply(
        [&](InitArgs&... args) { std::move(initiation_)(std::move(handler), std::move(args)...); },
        args_);
  }

  [[nodiscard]] bool cancellable() const noexcept override { return Finder::found; }

  void post_cancel(const std::shared_ptr<AsioCancel>& cancel) const noexcept override {
    if constexpr (Finder::found) {
      // noexcept: a failure to post (out of memory) in a stop callback ends the program.
      asio::post(Finder::get(initiation_), [c = cancel] {
        if (!c->completed) c->signal.emit(asio::cancellation_type::all);
      });
    } else {
      static_cast<void>(cancel);
    }
  }

 private:
  Initiation initiation_;
  std::tuple<InitArgs...> args_;
};

/// The stop callback of a cancellable operation.
template <class... Values>
struct AsioCanceller {
  const AsioStart<Values...>* start;
  std::shared_ptr<AsioCancel> cancel;
  void operator()() const noexcept { start->post_cancel(cancel); }
};

/// What `co_await` yields for a completion `void(Values...)`: without a leading error_code
/// or exception_ptr, nothing, the value, or a tuple of them.
template <class... Values>
struct AsioValueOf {
  using type = std::tuple<Values...>;
};
template <>
struct AsioValueOf<> {
  using type = void;
};
template <class V>
struct AsioValueOf<V> {
  using type = V;
};

template <class... Values>
struct AsioOutcome {
  static constexpr std::size_t skip = 0;
  using type = typename AsioValueOf<Values...>::type;
};
template <class... Rest>
struct AsioOutcome<asio::error_code, Rest...> {
  static constexpr std::size_t skip = 1;
  using type = typename AsioValueOf<Rest...>::type;
};
template <class... Rest>
struct AsioOutcome<std::exception_ptr, Rest...> {
  static constexpr std::size_t skip = 1;
  using type = typename AsioValueOf<Rest...>::type;
};

/// The awaitable a use_task operation returns. It starts the operation in await_suspend and
/// yields its completion's values in await_resume.
template <class... Values>
class [[nodiscard]] AsioAwaitable : public SchedulerAware {
  using Outcome = AsioOutcome<Values...>;
  using Canceller = AsioCanceller<Values...>;

 public:
  using value_type = typename Outcome::type;

  AsioAwaitable(std::unique_ptr<AsioStart<Values...>> start, const std::stop_token* stop) noexcept
      : start_(std::move(start)), stop_(stop) {}

  // Movable until awaited: Asio's initiating functions return it by value.
  AsioAwaitable(AsioAwaitable&& other) noexcept
      : start_(std::move(other.start_)), stop_(other.stop_) {}
  AsioAwaitable(const AsioAwaitable&) = delete;
  AsioAwaitable& operator=(const AsioAwaitable&) = delete;
  AsioAwaitable& operator=(AsioAwaitable&&) = delete;

  ~AsioAwaitable() {
    // Destroying a suspended coroutine whose operation is pending would leave the handler
    // pointing into the freed frame. taskmap's executors never do it; a hand-driven Task
    // that does is stopped here rather than corrupting memory later.
    if (arrival_.pending()) {
      std::fputs(
          "taskmap::use_task: a coroutine frame was destroyed while its Asio operation "
          "was pending\n",
          stderr);
      std::terminate();
    }
  }

  bool await_ready() const noexcept { return false; }

  bool await_suspend(std::coroutine_handle<> coroutine) {
    arrival_.home = &require_scheduler("taskmap::use_task");
    arrival_.coroutine = coroutine;
    if (!start_) throw Error("taskmap::use_task: an operation was awaited twice");
    if (stop_ != nullptr && stop_->stop_requested()) {
      start_error_ = std::make_exception_ptr(
          std::system_error(asio::error::make_error_code(asio::error::operation_aborted)));
      return false;
    }
    std::shared_ptr<AsioCancel> cancel;
    if (stop_ != nullptr && stop_->stop_possible() && start_->cancellable()) {
      cancel = std::make_shared<AsioCancel>();
    }
    try {
      start_->start(AsioHandler<Values...>(&arrival_, cancel));
      // Registered after the start, so that a stop already requested cancels the operation
      // now installed in the slot (the emission is posted behind the start).
      if (cancel) on_stop_.emplace(*stop_, Canceller{start_.get(), std::move(cancel)});
    } catch (...) {
      // The handler, destroyed unused, has reported; the start's own error wins.
      start_error_ = std::current_exception();
    }
    return arrival_.suspend_done();
  }

  value_type await_resume() {
    on_stop_.reset();
    start_.reset();
    if (start_error_) std::rethrow_exception(start_error_);
    if (arrival_.abandoned) std::rethrow_exception(arrival_.abandoned);
    std::tuple<Values...>& values = *arrival_.values;
    if constexpr (Outcome::skip == 1) {
      auto& first = std::get<0>(values);
      if constexpr (std::is_same_v<std::remove_cvref_t<decltype(first)>, asio::error_code>) {
        if (first) throw std::system_error(first);
      } else {
        if (first) std::rethrow_exception(first);
      }
    }
    return take(values, std::make_index_sequence<sizeof...(Values) - Outcome::skip>{});
  }

 private:
  template <std::size_t... I>
  value_type take(std::tuple<Values...>& values, std::index_sequence<I...>) {
    if constexpr (sizeof...(I) == 0) {
      static_cast<void>(values);
    } else if constexpr (sizeof...(I) == 1) {
      return std::move(std::get<Outcome::skip>(values));
    } else {
      return value_type(std::move(std::get<Outcome::skip + I>(values))...);
    }
  }

  std::unique_ptr<AsioStart<Values...>> start_;
  const std::stop_token* stop_;
  AsioArrival<Values...> arrival_;
  std::exception_ptr start_error_;
  std::optional<std::stop_callback<Canceller>> on_stop_;
};

}  // namespace detail
}  // namespace taskmap

// \cond hides this specialization of Asio's own trait from Doxygen, which does not read Asio
// and so cannot place it; use_task's documentation says what it does.
/// \cond
/// Makes taskmap::use_task a completion token: the initiating function returns an awaitable
/// that starts the operation when a coroutine task awaits it.
template <class R, class... Args>
class asio::async_result<taskmap::use_task_t, R(Args...)> {
 public:
  /// What the initiating function returns: an awaitable that yields the completion's values,
  /// an error among them thrown instead.
  using return_type = taskmap::detail::AsioAwaitable<std::decay_t<Args>...>;

  /// Packages the operation so that it starts when the awaitable is awaited, and cancels it
  /// when the token's stop_token is triggered.
  template <class Initiation, class... InitArgs>
  static return_type initiate(Initiation&& initiation, taskmap::use_task_t token,
                              InitArgs&&... args) {
    using Start =
        taskmap::detail::AsioStartOf<std::decay_t<Initiation>,
                                     std::tuple<std::decay_t<InitArgs>...>, std::decay_t<Args>...>;
    return return_type(std::make_unique<Start>(std::forward<Initiation>(initiation),
                                               std::forward<InitArgs>(args)...),
                       token.stop_token());
  }
};
/// \endcond
