#pragma once
/// @file subgraph.hpp
/// Graphs that grow while they run: Context::run (a child graph run from a task) and
/// Context::map (fan-out and gather). docs/dynamic.md explains them.

#include <cstddef>
#include <deque>
#include <functional>
#include <iterator>
#include <ranges>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "taskmap/detail/map_job.hpp"
#include "taskmap/detail/nested_jobs.hpp"
#include "taskmap/graph.hpp"
#include "taskmap/run_options.hpp"

namespace taskmap {

template <class U>
RunSummary Context::run(TaskGraph<U>& child) {
  RunOptions options;
  options.stop_token = stop_token();
  options.raise_errors = true;
  return detail::run_child(child, options);
}

template <class Items, class Fn>
std::vector<
    std::remove_cvref_t<std::invoke_result_t<Fn&, std::ranges::range_reference_t<const Items&>>>>
Context::map(const Items& items, Fn fn) {
  using Ref = std::ranges::range_reference_t<const Items&>;
  using R = std::remove_cvref_t<std::invoke_result_t<Fn&, Ref>>;
  static_assert(!std::is_void_v<R>, "ctx.map needs a function that returns a value");
  if constexpr (std::ranges::random_access_range<const Items&> &&
                std::ranges::sized_range<const Items&>) {
    // Indexed directly: also elements made on the fly, as std::vector<bool>'s.
    const auto first = std::ranges::begin(items);
    using Step = std::iter_difference_t<decltype(first)>;
    auto get = [&fn, &first](std::size_t i) -> decltype(auto) {
      return std::invoke(fn, first[static_cast<Step>(i)]);
    };
    return detail::map_results<R>(static_cast<std::size_t>(std::ranges::size(items)), name(),
                                  stop_token(), get);
  } else {
    using Item = std::remove_reference_t<Ref>;
    // Elements the range makes on the fly are kept here, so the items can refer to them.
    std::deque<std::remove_cv_t<Item>> made;
    std::vector<const Item*> elements;
    if constexpr (std::is_lvalue_reference_v<Ref>) {
      for (Ref item : items) elements.push_back(&item);
    } else {
      for (auto&& item : items) made.push_back(std::forward<decltype(item)>(item));
      for (const auto& item : made) elements.push_back(&item);
    }
    auto get = [&fn, &elements](std::size_t i) -> decltype(auto) {
      return std::invoke(fn, *elements[i]);
    };
    return detail::map_results<R>(elements.size(), name(), stop_token(), get);
  }
}

}  // namespace taskmap
