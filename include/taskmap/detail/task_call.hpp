#pragma once
// How a TaskFn<T> calls a callable: the shape read off its signature (Shape), how each fed
// value reaches a parameter (Arg), and the static call and coroutine-drive functions
// (TaskCall, TaskDriver) that a TaskFn reaches through one table of function pointers.

#include <any>
#include <coroutine>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "taskmap/detail/callable_traits.hpp"
#include "taskmap/detail/continue_signal.hpp"
#include "taskmap/detail/event_loop.hpp"
#include "taskmap/detail/inlining.hpp"
#include "taskmap/detail/type_name.hpp"
#include "taskmap/errors.hpp"
#include "taskmap/run_options.hpp"
#include "taskmap/task.hpp"

namespace taskmap::detail {

/// The started-and-forgotten coroutine that runs one coroutine task; it frees itself when
/// done. Its body catches everything and reports through a CoroutineDone.
struct TaskDriver {
  struct promise_type : CachedFrame {
    TaskDriver get_return_object() noexcept {
      return TaskDriver{std::coroutine_handle<promise_type>::from_promise(*this)};
    }
    std::suspend_always initial_suspend() noexcept { return {}; }
    std::suspend_never final_suspend() noexcept { return {}; }
    void return_void() noexcept {}
    void unhandled_exception() noexcept { std::terminate(); }
  };
  std::coroutine_handle<promise_type> handle;
};

template <class X>
inline constexpr bool is_optional_v = false;
template <class U>
inline constexpr bool is_optional_v<std::optional<U>> = true;

template <class X>
inline constexpr bool is_std_function_v = false;
template <class S>
inline constexpr bool is_std_function_v<std::function<S>> = true;

template <class P>
inline constexpr bool is_context_param_v =
    std::is_same_v<std::remove_cvref_t<P>, Context>&& std::is_lvalue_reference_v<P>;

// A return type is valid if it is void (no value), T or convertible to T (a value),
// std::optional<U> with U convertible to T (nullopt = no value), or Continue<T> from a plain
// function (the task ends when its continuation does; not from a coroutine).
template <class R, class T>
constexpr bool valid_return() {
  using D = std::remove_cvref_t<R>;
  if constexpr (std::is_void_v<R> || std::is_same_v<D, T>) {
    return true;
  } else if constexpr (is_continue_v<D>) {
    return std::is_same_v<D, Continue<T>>;
  } else if constexpr (is_task_v<D>) {
    return !is_task_v<typename D::value_type> &&
           !is_continue_v<std::remove_cvref_t<typename D::value_type>> &&
           valid_return<typename D::value_type, T>();
  } else if constexpr (is_optional_v<D>) {
    return std::is_convertible_v<typename D::value_type, T>;
  } else {
    return std::is_convertible_v<R, T>;
  }
}

template <class T, class R>
void store_result(R&& result, std::optional<T>& out) {
  using D = std::remove_cvref_t<R>;
  if constexpr (is_continue_v<D>) {
    // Not a value: the run that called the task ends it when the continuation ends.
    throw_continuation(D(std::forward<R>(result)));
  } else if constexpr (std::is_same_v<D, T>) {
    out.emplace(std::forward<R>(result));
  } else if constexpr (is_optional_v<D>) {
    if (result.has_value()) {
      out.emplace(*std::forward<R>(result));
    } else {
      out.reset();
    }
  } else {
    out.emplace(std::forward<R>(result));
  }
}

// How one fed value reaches a parameter of type P.
enum class Feed {
  direct,    // P is T or const T&: pass the stored result itself
  any_cast,  // T is std::any and P asks for what it holds: pass a view of the held value
  convert,   // construct P's value type from const T&
  optional,  // P is std::optional<U>, T is no optional: U from the value, nullopt for none
};

template <class P, class T>
constexpr Feed feed_mode() {
  using D = std::remove_cvref_t<P>;
  if constexpr (std::is_same_v<D, T>) {
    return std::is_rvalue_reference_v<P> ? Feed::convert : Feed::direct;
  } else if constexpr (is_optional_v<D> && !is_optional_v<T>) {
    // (In a graph of optionals, an optional parameter converts from the value, as always.)
    return Feed::optional;
  } else if constexpr (std::is_same_v<T, std::any>) {
    return Feed::any_cast;
  } else {
    return Feed::convert;
  }
}

template <class P, class T>
constexpr bool feedable() {
  using D = std::remove_cvref_t<P>;
  // A non-const lvalue reference would let a task modify another task's result.
  if constexpr (std::is_lvalue_reference_v<P> && !std::is_const_v<std::remove_reference_t<P>>) {
    return false;
  } else if constexpr (!std::is_object_v<D> || std::is_array_v<D>) {
    return false;
  } else if constexpr (feed_mode<P, T>() == Feed::direct) {
    return true;
  } else if constexpr (feed_mode<P, T>() == Feed::any_cast) {
    return std::is_copy_constructible_v<D>;
  } else if constexpr (feed_mode<P, T>() == Feed::optional && std::is_same_v<T, std::any>) {
    return std::is_copy_constructible_v<typename D::value_type>;
  } else if constexpr (feed_mode<P, T>() == Feed::optional) {
    return std::is_constructible_v<typename D::value_type, const T&> &&
           std::is_move_constructible_v<D>;
  } else {
    return std::is_constructible_v<D, const T&> && std::is_move_constructible_v<D>;
  }
}

// A task with a trigger rule is fed a null value for a dependency that did not succeed;
// only a std::optional parameter can take that.
[[noreturn]] TASKMAP_DETAIL_NOINLINE inline void throw_no_value_error(const Context& ctx,
                                                                      std::size_t position,
                                                                      std::string expected) {
  std::string message = fmt::format(
      "task '{}': the dependency at position {} did not succeed, so it fed no value, but the "
      "parameter expects {} (take std::optional or std::span<const T> to run after failures)",
      ctx.name(), position, expected);
  throw TypeError(std::move(message), std::string(ctx.name()), position, std::move(expected),
                  "no value");
}

// The parameter's type is named only once the error happens: every task's argument check
// stays a compare and a branch.
template <class D>
[[noreturn]] TASKMAP_DETAIL_NOINLINE void throw_no_value_error(const Context& ctx,
                                                               std::size_t position) {
  throw_no_value_error(ctx, position, type_name<D>());
}

[[noreturn]] inline void throw_type_error(const Context& ctx, std::size_t position,
                                          std::string expected, const std::any& value) {
  std::string actual = value.has_value() ? type_name(value.type()) : "an empty std::any";
  std::string message =
      fmt::format("task '{}': the value fed at position {} holds {} but the parameter expects {}",
                  ctx.name(), position, actual, expected);
  throw TypeError(std::move(message), std::string(ctx.name()), position, std::move(expected),
                  std::move(actual));
}

// Holds one argument from the moment it is checked until the call.
template <class P, class T, Feed Mode = feed_mode<P, T>()>
class Arg;

// Each Arg takes the fed value, or null for a dependency that did not succeed (fed only to
// tasks with a trigger rule).
template <class P, class T>
class Arg<P, T, Feed::direct> {
 public:
  Arg(const T* value, const Context& ctx, std::size_t position) : value_(value) {
    if (value == nullptr) [[unlikely]]
      throw_no_value_error<T>(ctx, position);
  }
  const T& get() const noexcept { return *value_; }

 private:
  const T* value_;
};

template <class P, class T>
class Arg<P, T, Feed::any_cast> {
  using D = std::remove_cvref_t<P>;

 public:
  Arg(const T* value, const Context& ctx, std::size_t position)
      : value_(value != nullptr ? std::any_cast<D>(value) : nullptr) {
    if (value == nullptr) throw_no_value_error<D>(ctx, position);
    if (value_ == nullptr) throw_type_error(ctx, position, type_name<D>(), *value);
  }
  decltype(auto) get() const {
    if constexpr (std::is_rvalue_reference_v<P>) {
      return D(*value_);
    } else {
      return static_cast<const D&>(*value_);
    }
  }

 private:
  const D* value_;
};

// An argument the call gets its own copy of (converted, or an optional): passed as const D&
// or as D&&, whichever the parameter takes.
template <class P>
class OwnedArg {
 public:
  decltype(auto) get() {
    if constexpr (std::is_lvalue_reference_v<P>) {
      return static_cast<const D&>(value_);
    } else {
      return static_cast<D&&>(value_);
    }
  }

 protected:
  using D = std::remove_cvref_t<P>;
  OwnedArg() = default;
  template <class V>
  explicit OwnedArg(const V& value) : value_(value) {}

  D value_;
};

template <class P, class T>
class Arg<P, T, Feed::convert> : public OwnedArg<P> {
 public:
  Arg(const T* value, const Context& ctx, std::size_t position)
      : OwnedArg<P>(checked(value, ctx, position)) {}

 private:
  static const T& checked(const T* value, const Context& ctx, std::size_t position) {
    if (value == nullptr) [[unlikely]]
      throw_no_value_error<std::remove_cvref_t<P>>(ctx, position);
    return *value;
  }
};

template <class P, class T>
class Arg<P, T, Feed::optional> : public OwnedArg<P> {
  using D = std::remove_cvref_t<P>;

 public:
  Arg(const T* value, const Context& ctx, std::size_t position) {
    if (value == nullptr) return;  // a dependency that did not succeed: nullopt
    if constexpr (std::is_same_v<T, std::any>) {
      // What the value holds: the optional itself, or its value type.
      if (const D* whole = std::any_cast<D>(value)) {
        this->value_ = *whole;
      } else if (const auto* inner = std::any_cast<typename D::value_type>(value)) {
        this->value_.emplace(*inner);
      } else {
        throw_type_error(ctx, position, type_name<D>(), *value);
      }
    } else {
      static_cast<void>(ctx);
      static_cast<void>(position);
      this->value_.emplace(*value);
    }
  }
};

template <class Params>
struct SplitContext {
  static constexpr bool has_context = false;
  using rest = Params;
};
template <class First, class... Rest>
struct SplitContext<std::tuple<First, Rest...>> {
  static constexpr bool has_context = is_context_param_v<First>;
  using rest = std::conditional_t<has_context, std::tuple<Rest...>, std::tuple<First, Rest...>>;
};

template <class Params, class T>
inline constexpr bool is_span_params_v = false;
template <class P, class T>
inline constexpr bool is_span_params_v<std::tuple<P>, T> =
    std::is_same_v<std::remove_cvref_t<P>, std::span<const T>> &&
    !(std::is_lvalue_reference_v<P> && !std::is_const_v<std::remove_reference_t<P>>);

template <class Params, class T>
inline constexpr bool all_feedable_v = false;
template <class... P, class T>
inline constexpr bool all_feedable_v<std::tuple<P...>, T> = (feedable<P, T>() && ...);

template <std::size_t, class X>
using Repeat = X;

// Generic callables (auto parameters) have no readable signature: probe them with
// 0..kMaxGenericArity values of type const T&, without and then with a leading Context&.
inline constexpr std::size_t kMaxGenericArity = 8;

template <class F, class T, bool WithContext, std::size_t... I>
constexpr bool invocable_with(std::index_sequence<I...>) {
  if constexpr (WithContext) {
    return std::is_invocable_v<F&, Context&, Repeat<I, const T&>...>;
  } else {
    return std::is_invocable_v<F&, Repeat<I, const T&>...>;
  }
}

template <class F, class T, bool WithContext, std::size_t N = 0>
constexpr std::size_t generic_arity() {
  if constexpr (N > kMaxGenericArity) {
    return N;
  } else if constexpr (invocable_with<F, T, WithContext>(std::make_index_sequence<N>{})) {
    return N;
  } else {
    return generic_arity<F, T, WithContext, N + 1>();
  }
}

template <class F, class T, bool WithContext, class Seq>
struct GenericParams;
template <class F, class T, bool WithContext, std::size_t... I>
struct GenericParams<F, T, WithContext, std::index_sequence<I...>> {
  using params = std::tuple<Repeat<I, const T&>...>;
  using result =
      std::conditional_t<WithContext, std::invoke_result<F&, Context&, Repeat<I, const T&>...>,
                         std::invoke_result<F&, Repeat<I, const T&>...>>;
};

// Shape<F, T>: how an F is called as a task of a TaskGraph<T>.
template <class F, class T, bool Known = CallableTraits<F>::known>
struct Shape {
  using split = SplitContext<typename CallableTraits<F>::params>;
  static constexpr bool has_context = split::has_context;
  using params = typename split::rest;
  static constexpr bool is_span = is_span_params_v<params, T>;
  using result = typename CallableTraits<F>::result;
  static constexpr bool is_coroutine = is_task_v<std::remove_cvref_t<result>>;
  static constexpr bool valid = (is_span || all_feedable_v<params, T>)&&valid_return<result, T>() &&
                                std::is_move_constructible_v<F>;
};

template <class F, class T>
struct Shape<F, T, false> {
  static constexpr std::size_t plain_arity = generic_arity<F, T, false>();
  static constexpr bool has_context = plain_arity > kMaxGenericArity;
  // Probe with a leading Context& only when plain values fit nothing: the probe deduces
  // `auto` as Context, and a deduced return type would compile the body with it.
  static constexpr std::size_t arity = [] {
    if constexpr (has_context) {
      return generic_arity<F, T, true>();
    } else {
      return plain_arity;
    }
  }();
  static constexpr bool found = arity <= kMaxGenericArity;
  using generic = GenericParams<F, T, has_context, std::make_index_sequence<found ? arity : 0>>;
  using params = typename generic::params;
  static constexpr bool is_span = false;
  using result =
      typename std::conditional_t<found, typename generic::result, std::type_identity<void>>::type;
  static constexpr bool is_coroutine = is_task_v<std::remove_cvref_t<result>>;
  static constexpr bool valid =
      found && valid_return<result, T>() && std::is_move_constructible_v<F>;
};

/// How a TaskFn<T> calls an F: static functions on an F stored anywhere.
template <class F, class T>
struct TaskCall {
  using shape = Shape<F, T>;

  template <class Params>
  struct HeldArgs;
  template <class... P>
  struct HeldArgs<std::tuple<P...>> {
    using type = std::tuple<Arg<P, T>...>;
  };
  // The arguments of one positional call, from the moment they are checked until the call
  // (or, for a coroutine, until it is done).
  using Held = typename HeldArgs<typename shape::params>::type;

  // Checks the number of fed values and then each value, left to right (braced
  // initialisation), and holds them as arguments.
  template <std::size_t... I>
  static Held hold(const Context& ctx, std::span<const T* const> args, std::index_sequence<I...>) {
    constexpr std::size_t arity = sizeof...(I);
    if (args.size() != arity) throw_arity_error(ctx, arity, args.size());
    return Held{Arg<std::tuple_element_t<I, typename shape::params>, T>(args[I], ctx, I)...};
  }

  static void invoke(F& fn, Context& ctx, std::span<const T* const> args, std::optional<T>& out) {
    if constexpr (shape::is_coroutine) {
      drive_to_completion(fn, ctx, args, out);
    } else if constexpr (shape::is_span) {
      std::vector<T> values;
      values.reserve(args.size());
      for (const T* value : args) {
        if (value != nullptr) values.push_back(*value);  // null: a dependency that failed
      }
      call_and_store(fn, out, ctx, std::span<const T>(values));
    } else {
      invoke_positional(fn, ctx, args, out,
                        std::make_index_sequence<std::tuple_size_v<typename shape::params>>{});
    }
  }

  // A coroutine task whose arguments all outlive the call (copied into its frame, or
  // references to stored results) and that takes no Context starts directly: its own frame
  // is the only one, and its promise stores the value and reports at the end.
  template <class P>
  static constexpr bool outlives_call() {
    if constexpr (!std::is_reference_v<P>) {
      return true;
    } else {
      // A converted or optional value lives in the held arguments, which die after the call.
      return std::is_lvalue_reference_v<P> && feed_mode<P, T>() != Feed::convert &&
             feed_mode<P, T>() != Feed::optional;
    }
  }
  template <class... P>
  static constexpr bool all_outlive_call(std::tuple<P...>*) {
    return (outlives_call<P>() && ...);
  }
  static constexpr bool starts_directly = [] {
    if constexpr (shape::is_coroutine && !shape::has_context && !shape::is_span) {
      return all_outlive_call(static_cast<typename shape::params*>(nullptr));
    } else {
      return false;
    }
  }();

  static std::coroutine_handle<> start(F& fn, const Context& ctx, std::span<const T* const> args,
                                       std::optional<T>& out, const CoroutineDone& done) {
    if constexpr (starts_directly) {
      return start_directly(fn, ctx, args, out, done,
                            std::make_index_sequence<std::tuple_size_v<typename shape::params>>{});
    } else {
      return drive(fn, ctx, args, out, done).handle;
    }
  }

  template <std::size_t... I>
  static std::coroutine_handle<> start_directly(F& fn, const Context& ctx,
                                                std::span<const T* const> args,
                                                std::optional<T>& out, const CoroutineDone& done,
                                                std::index_sequence<I...>) {
    std::exception_ptr error;
    try {
      Held held = hold(ctx, args, std::index_sequence<I...>{});
      auto task = call_coroutine(fn, ctx, std::get<I>(held).get()...);
      static_cast<void>(held);
      const auto handle = TaskAccess::release(task);
      if (!handle) throw Error("taskmap::Task: awaited an empty task");
      auto& root = handle.promise().root_;
      root.finish = &finish_directly<typename decltype(task)::value_type>;
      root.out = &out;
      root.done = done;
      return handle;
    } catch (...) {
      error = std::current_exception();
    }
    return report_error(std::move(error), done).handle;
  }

  template <class R>
  static void finish_directly(TaskPromiseBase& base, std::coroutine_handle<> self) noexcept {
    auto& promise = static_cast<TaskPromise<R>&>(base);
    auto& out = *static_cast<std::optional<T>*>(promise.root_.out);
    const CoroutineDone done = promise.root_.done;
    std::exception_ptr error;
    try {
      if constexpr (std::is_void_v<R>) {
        promise.take();
        out.reset();
      } else {
        store_result<T>(promise.take(), out);
      }
    } catch (...) {
      error = std::current_exception();
    }
    self.destroy();
    done(error);
  }

  static TaskDriver report_error(std::exception_ptr error, CoroutineDone done) {
    done(error);
    co_return;
  }

  // One coroutine frame per task besides the task's own: it turns the fed values into
  // arguments (kept in the frame while the task's coroutine may refer to them), awaits the
  // task, stores its value and reports to `done`.
  static TaskDriver drive(F& fn, Context ctx, std::span<const T* const> args, std::optional<T>& out,
                          CoroutineDone done) {
    static_assert(shape::is_coroutine, "plain callables are driven by drive_plain<T>");
    if constexpr (shape::is_span) {
      return drive_span(fn, ctx, args, out, done);
    } else {
      return drive_positional(
          fn, ctx, args, out, done,
          std::make_index_sequence<std::tuple_size_v<typename shape::params>>{});
    }
  }

  static TaskDriver drive_span(F& fn, Context ctx, std::span<const T* const> args,
                               std::optional<T>& out, CoroutineDone done) {
    std::exception_ptr error;
    try {
      std::vector<T> values;
      values.reserve(args.size());
      for (const T* value : args) {
        if (value != nullptr) values.push_back(*value);  // null: a dependency that failed
      }
      auto task = call_coroutine(fn, ctx, std::span<const T>(values));
      if constexpr (std::is_void_v<typename decltype(task)::value_type>) {
        co_await std::move(task);
        out.reset();
      } else {
        store_result<T>(co_await std::move(task), out);
      }
    } catch (...) {
      error = std::current_exception();
    }
    done(error);
  }

  template <std::size_t... I>
  static TaskDriver drive_positional(F& fn, Context ctx, std::span<const T* const> args,
                                     std::optional<T>& out, CoroutineDone done,
                                     std::index_sequence<I...>) {
    std::exception_ptr error;
    try {
      Held held = hold(ctx, args, std::index_sequence<I...>{});
      // One full-expression per call: a temporary argument (an rvalue-reference parameter
      // fed from a std::any) lives until the awaited task is done.
      if constexpr (std::is_void_v<
                        typename std::remove_cvref_t<typename shape::result>::value_type>) {
        co_await call_coroutine(fn, ctx, std::get<I>(held).get()...);
        out.reset();
      } else {
        store_result<T>(co_await call_coroutine(fn, ctx, std::get<I>(held).get()...), out);
      }
      static_cast<void>(held);
    } catch (...) {
      error = std::current_exception();
    }
    done(error);
  }

  template <class C, class... A>
  static auto call_coroutine(F& fn, C& ctx, A&&... args) {
    if constexpr (shape::has_context) {
      return std::invoke(fn, ctx, std::forward<A>(args)...);
    } else {
      static_cast<void>(ctx);
      return std::invoke(fn, std::forward<A>(args)...);
    }
  }

  // The sequential and thread-pool executors drive a coroutine task on the calling thread,
  // with a private event loop for its timers and foreign resumptions.
  static void drive_to_completion(F& fn, Context& ctx, std::span<const T* const> args,
                                  std::optional<T>& out) {
    struct Outcome {
      bool finished = false;
      std::exception_ptr error;
      static void report(void* self, std::uint32_t, std::exception_ptr& error) noexcept {
        auto* outcome = static_cast<Outcome*>(self);
        outcome->error = std::move(error);
        outcome->finished = true;
      }
    } outcome;
    EventLoop loop;
    loop.post(start(fn, ctx, args, out, CoroutineDone{&Outcome::report, &outcome, 0}));
    while (!outcome.finished) loop.run_once(true);
    if (outcome.error) std::rethrow_exception(outcome.error);
  }

  [[noreturn]] static void throw_arity_error(const Context& ctx, std::size_t arity,
                                             std::size_t received) {
    throw ArityError(
        fmt::format("task '{}' takes {} value(s) but its dependencies fed {} (a dependency "
                    "that produced no value is not fed)",
                    ctx.name(), arity, received),
        std::string(ctx.name()), arity, received);
  }

  template <std::size_t... I>
  static void invoke_positional(F& fn, Context& ctx, std::span<const T* const> args,
                                std::optional<T>& out, std::index_sequence<I...>) {
    Held held = hold(ctx, args, std::index_sequence<I...>{});
    call_and_store(fn, out, ctx, std::get<I>(held).get()...);
    static_cast<void>(held);  // silences "set but unused" when arity is 0
  }

  template <class... A>
  static void call_and_store(F& fn, std::optional<T>& out, Context& ctx, A&&... args) {
    if constexpr (shape::has_context) {
      finish(out,
             [&]() -> decltype(auto) { return std::invoke(fn, ctx, std::forward<A>(args)...); });
    } else {
      static_cast<void>(ctx);
      finish(out, [&]() -> decltype(auto) { return std::invoke(fn, std::forward<A>(args)...); });
    }
  }

  template <class Call>
  static void finish(std::optional<T>& out, Call&& call) {
    if constexpr (std::is_void_v<decltype(call())>) {
      call();
      out.reset();
    } else {
      store_result<T>(call(), out);
    }
  }
};

/// The operations of one callable type, shared by every TaskFn holding one. `fn` is the
/// TaskFn's storage: the callable itself, or a shared_ptr to it when `shared` is true.
/// `start_coroutine` is null for plain callables: one driver per T serves them all
/// (start_plain), so a plain callable instantiates no coroutine of its own.
template <class T>
struct TaskFnOps {
  void (*invoke)(void* fn, Context& ctx, std::span<const T* const> args, std::optional<T>& out);
  std::coroutine_handle<> (*start_coroutine)(void* fn, const Context& ctx,
                                             std::span<const T* const> args, std::optional<T>& out,
                                             const CoroutineDone& done);
  bool is_coroutine;
  bool shared;
};

/// Bytes of a TaskFn's inline storage: a shared_ptr, or a small callable in its place.
inline constexpr std::size_t kTaskFnStorage = sizeof(std::shared_ptr<void>);

template <class F, class Params, bool WithContext>
inline constexpr bool const_invocable_v = false;
template <class F, class... P>
inline constexpr bool const_invocable_v<F, std::tuple<P...>, false> =
    std::is_invocable_v<const F&, P...>;
template <class F, class... P>
inline constexpr bool const_invocable_v<F, std::tuple<P...>, true> =
    std::is_invocable_v<const F&, Context&, P...>;

/// A small callable that is trivially copyable and callable as const is stored inside the
/// TaskFn: for it, sharing one object and copying it cannot be told apart, so calling it
/// touches no other memory. Anything else (a mutable lambda, a std::function, a big capture)
/// is shared on the heap, so copies of a TaskFn share its state like Python function objects.
template <class F, class T>
inline constexpr bool stored_inline_v =
    std::is_trivially_copyable_v<F> && sizeof(F) <= kTaskFnStorage &&
    alignof(F) <= alignof(std::shared_ptr<void>) &&
    const_invocable_v<F, typename Shape<F, T>::params, Shape<F, T>::has_context>;

template <class F, bool Shared>
F& stored_callable(void* storage) noexcept {
  if constexpr (Shared) {
    return *static_cast<F*>(static_cast<std::shared_ptr<void>*>(storage)->get());
  } else {
    return *static_cast<F*>(storage);
  }
}

template <class F, class T, bool Shared>
void invoke_stored(void* storage, Context& ctx, std::span<const T* const> args,
                   std::optional<T>& out) {
  TaskCall<F, T>::invoke(stored_callable<F, Shared>(storage), ctx, args, out);
}

template <class F, class T, bool Shared>
std::coroutine_handle<> start_stored(void* storage, const Context& ctx,
                                     std::span<const T* const> args, std::optional<T>& out,
                                     const CoroutineDone& done) {
  return TaskCall<F, T>::start(stored_callable<F, Shared>(storage), ctx, args, out, done);
}

template <class F, class T, bool Shared>
constexpr TaskFnOps<T> make_task_fn_ops() noexcept {
  if constexpr (Shape<F, T>::is_coroutine) {
    return {&invoke_stored<F, T, Shared>, &start_stored<F, T, Shared>, true, Shared};
  } else {
    return {&invoke_stored<F, T, Shared>, nullptr, false, Shared};
  }
}

template <class F, class T, bool Shared = !stored_inline_v<F, T>>
inline constexpr TaskFnOps<T> task_fn_ops = make_task_fn_ops<F, T, Shared>();

/// The coroutine that runs a plain (non-coroutine) task for a coroutine executor: calls it
/// through its table and reports to `done`. One per T, shared by every plain callable.
template <class T>
TaskDriver drive_plain(const TaskFnOps<T>* ops, void* storage, Context ctx,
                       std::span<const T* const> args, std::optional<T>& out, CoroutineDone done) {
  std::exception_ptr error;
  try {
    ops->invoke(storage, ctx, args, out);
  } catch (...) {
    error = std::current_exception();
  }
  done(error);
  co_return;
}

}  // namespace taskmap::detail
