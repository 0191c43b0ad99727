#pragma once
// What Flow<T>::add checks at compile time (FlowAdd: the callable fits a task shape, the
// arguments after it are handles, their number fits its parameters, and, in a
// Flow<std::any>, each handle's value type fits the parameter it feeds) and the value type a
// task's handle carries (flow_value_t); plus the numbers that tell Flows apart at run time.

#include <any>
#include <atomic>
#include <cstdint>
#include <optional>
#include <ranges>
#include <tuple>
#include <type_traits>

#include "taskmap/detail/task_call.hpp"
#include "taskmap/task.hpp"
#include "taskmap/task_fn.hpp"

namespace taskmap {
template <class R>
class FlowNode;
}  // namespace taskmap

namespace taskmap::detail {

// Each Flow gets its own number, never 0 (an empty handle's): a handle from another Flow
// is told apart by a compare.
inline std::uint64_t next_flow_id() noexcept {
  static std::atomic<std::uint64_t> next{1};
  return next.fetch_add(1, std::memory_order_relaxed);
}

template <class X>
struct UnwrapTask {
  using type = X;
};
template <class X>
requires is_task_v<std::remove_cvref_t<X>>
struct UnwrapTask<X> {
  using type = typename std::remove_cvref_t<X>::value_type;
};

// What a task's stored value holds, read off its result type R in a graph of T: void for
// no value; in a TaskGraph<std::any>, the type the std::any holds (std::any itself when
// that is unknown); otherwise T, as every result is converted to it.
template <class R, class T>
struct FlowValue {
  using D = std::remove_cvref_t<typename UnwrapTask<R>::type>;
  static auto pick() {
    if constexpr (std::is_void_v<D>) {
      return std::type_identity<void>{};
    } else if constexpr (std::is_same_v<D, T> || !std::is_same_v<T, std::any>) {
      return std::type_identity<T>{};
    } else if constexpr (is_optional_v<D>) {
      return std::type_identity<std::remove_cvref_t<typename D::value_type>>{};
    } else {
      return std::type_identity<D>{};
    }
  }
  using type = typename decltype(pick())::type;
};

// A TaskFn<T> has erased its parameters and result: it takes any number of handles of any
// type, and ArityError or TypeError tell a mismatch when it runs, as in a named graph.
template <class F, class T>
inline constexpr bool is_task_fn_v = std::is_same_v<std::decay_t<F>, TaskFn<T>>;

template <class F, class T>
using flow_value_t =
    std::conditional_t<is_task_fn_v<F, T>, T,
                       typename FlowValue<typename Shape<std::decay_t<F>, T>::result, T>::type>;

template <class X>
inline constexpr bool is_flow_node_v = false;
template <class R>
inline constexpr bool is_flow_node_v<FlowNode<R>> = true;

template <class H>
concept FlowNodeRange = std::ranges::input_range<H> &&
    is_flow_node_v<std::remove_cvref_t<std::ranges::range_value_t<H>>>;

// The value type of a handle, or of the handles of a range.
template <class H>
struct HandleValue {
  using type = std::any;  // not a handle: checked and refused before this is used
};
template <class R>
struct HandleValue<FlowNode<R>> {
  using type = R;
};
template <class H>
requires FlowNodeRange<H>
struct HandleValue<H> {
  using type = typename std::remove_cvref_t<std::ranges::range_value_t<H>>::value_type;
};
template <class H>
using handle_value_t = typename HandleValue<std::remove_cvref_t<H>>::type;

// A handle of a TaskGraph<T> (T other than std::any) carries T, void (no value) or
// std::any (a handle whose type was erased); anything else comes from a Flow of another type.
template <class R, class T>
constexpr bool value_of_graph() {
  return std::is_same_v<T, std::any> || std::is_same_v<R, T> || std::is_void_v<R> ||
         std::is_same_v<R, std::any>;
}

// A task that never returns a value (void) feeds nothing: its dependents receive one value
// fewer, so it can feed no positional parameter, only a span.
template <class P, class R>
constexpr bool fits_no_value() {
  return !std::is_void_v<R>;
}

// In a TaskGraph<std::any> a parameter takes what the std::any holds, exactly: R itself,
// std::optional<R>, or the std::any. A handle of unknown type (std::any) fits all.
template <class P, class R, class T>
constexpr bool fits_held_type() {
  using D = std::remove_cvref_t<P>;
  if constexpr (!std::is_same_v<T, std::any> || std::is_same_v<R, std::any> || std::is_void_v<R> ||
                std::is_same_v<D, std::any>) {
    return true;
  } else if constexpr (is_optional_v<D>) {
    return std::is_same_v<std::remove_cvref_t<typename D::value_type>, R> || std::is_same_v<D, R>;
  } else {
    return std::is_same_v<D, R>;
  }
}

template <class Params, class T, class... R>
struct ParamsFit {
  static constexpr bool no_value = false;
  static constexpr bool held_type = false;
};
template <class... P, class T, class... R>
requires(sizeof...(P) == sizeof...(R)) struct ParamsFit<std::tuple<P...>, T, R...> {
  static constexpr bool no_value = (fits_no_value<P, R>() && ...);
  static constexpr bool held_type = (fits_held_type<P, R, T>() && ...);
};

/// Whether Flow<T>::add(fn, handles...) fits, one question at a time, so that add can name
/// the first that fails.
template <class F, class T, class... H>
struct FlowAdd {
  using shape = Shape<std::decay_t<F>, T>;
  static constexpr bool any_count = is_task_fn_v<F, T> || shape::is_span;
  static constexpr bool callable = is_task_fn_v<F, T> || shape::valid;
  static constexpr bool is_range = sizeof...(H) == 1 && (FlowNodeRange<H> && ...);
  static constexpr bool handles = is_range || (is_flow_node_v<std::remove_cvref_t<H>> && ...);
  static constexpr bool same_type = handles && (value_of_graph<handle_value_t<H>, T>() && ...);
  static constexpr bool range_to_span = !is_range || any_count;
  static constexpr bool count =
      any_count || std::tuple_size_v<typename shape::params> == sizeof...(H);
  using fit = std::conditional_t<any_count || is_range, ParamsFit<std::tuple<>, T>,
                                 ParamsFit<typename shape::params, T, handle_value_t<H>...>>;
  static constexpr bool no_value = any_count || fit::no_value;
  static constexpr bool held_type = any_count || fit::held_type;
  static constexpr bool ok =
      callable && handles && same_type && range_to_span && count && no_value && held_type;
};

/// One readable sentence for the first thing about an add that does not fit; true when it
/// all fits. Each check runs only when the ones before it passed, so a misuse gives one error.
template <class F, class T, class... H>
constexpr bool check_flow_add() {
  using A = FlowAdd<F, T, H...>;
  static_assert(A::callable,
                "taskmap::Flow<T>::add: this callable fits no task shape (see taskmap::TaskFn): "
                "it takes its dependencies' results as parameters constructible from const T& "
                "or all of them as std::span<const T>, optionally after a leading "
                "taskmap::Context&, and returns T, std::optional<T>, void or taskmap::Task<R>.");
  if constexpr (A::callable) {
    static_assert(A::handles,
                  "taskmap::Flow<T>::add: every argument after the callable must be a handle "
                  "(taskmap::FlowNode) that this Flow's add returned, or one range of them "
                  "for a std::span<const T> parameter.");
    if constexpr (A::handles) {
      static_assert(A::same_type,
                    "taskmap::Flow<T>::add: a handle comes from a Flow of another value type; "
                    "a handle feeds only tasks of the Flow whose add returned it.");
      static_assert(A::range_to_span,
                    "taskmap::Flow<T>::add: a range of handles feeds only a callable whose one "
                    "parameter (after a leading taskmap::Context&) is std::span<const T>; pass "
                    "handles one by one to feed separate parameters.");
      static_assert(A::count,
                    "taskmap::Flow<T>::add: the number of handles is not the number of the "
                    "callable's parameters (a leading taskmap::Context& not counted): each "
                    "handle feeds one parameter, in order; only a std::span<const T> "
                    "parameter takes any number of handles.");
      if constexpr (A::count) {
        static_assert(A::no_value,
                      "taskmap::Flow<T>::add: a handle of a task that returns no value (void) "
                      "feeds a parameter, but such a task feeds nothing (its dependents receive "
                      "one value fewer); pass its handle only to a std::span<const T> "
                      "parameter.");
        static_assert(A::held_type,
                      "taskmap::Flow<std::any>::add: a parameter's type is not the type of "
                      "the value its handle's task returns; the parameter must take that "
                      "type (by value or const&), std::optional of it, or std::any (or erase "
                      "the handle's type: taskmap::FlowNode<std::any>).");
      }
    }
  }
  return A::ok;
}

}  // namespace taskmap::detail
