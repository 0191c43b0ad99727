#pragma once
// How a task that returned a Continue<T> reaches the run that ends it. The task's call
// throws a ContinueSignal<T> (after the function returned), so the signal travels the error
// channel every executor already passes from invoke() to end(): a task that returns a value
// pays nothing for continuations, and RunCore's end() looks for a signal only on its failure
// path. The signal carries the ContinuationChain that runs the continuation; its code lives
// in continuation_run.hpp, instantiated only where a task returns a Continue<T>.

#include <cstdint>
#include <exception>
#include <memory>
#include <optional>
#include <stop_token>
#include <string>

namespace taskmap {

template <class T>
class Continue;

}  // namespace taskmap

namespace taskmap::detail {

template <class X>
inline constexpr bool is_continue_v = false;
template <class T>
inline constexpr bool is_continue_v<Continue<T>> = true;

/// How a continued task ends once its continuation is over.
enum class ContinuationEnd : std::uint8_t {
  succeeded,  ///< with the named task's value (or none)
  failed,     ///< with an error
  cancelled,  ///< a stop request cancelled the named task: the task goes back to pending
};

/// A continuation waiting to run: RunCore's end() runs it on the calling thread, to its end.
template <class T>
class ContinuationChain {
 public:
  ContinuationChain() = default;
  ContinuationChain(const ContinuationChain&) = delete;
  ContinuationChain& operator=(const ContinuationChain&) = delete;
  virtual ~ContinuationChain() = default;

  /// Runs the continuation of task `task` of graph `graph` (and every continuation its
  /// tasks return, iteratively) with the run's stop token. Stores the value in `out` when it
  /// succeeded, the error in `error` when it failed.
  virtual ContinuationEnd run(const std::string& graph, const std::string& task,
                              const std::stop_token& stop, std::optional<T>& out,
                              std::exception_ptr& error) noexcept = 0;
};

/// Thrown by a task's call when its function returned a Continue<T>: not an error, the
/// request to continue. Shared, as exceptions must be copyable.
template <class T>
struct ContinueSignal {
  std::shared_ptr<ContinuationChain<T>> chain;
};

/// Throws the ContinueSignal of `next` (defined in continuation_run.hpp).
template <class T>
[[noreturn]] void throw_continuation(Continue<T>&& next);

/// Handed to RunCore's end() for a task whose continuation ran somewhere else (a worker
/// process, another MPI rank) and was cancelled there by a stop request: the task ends
/// cancelled, as when its continuation is cancelled on the executor's own thread.
struct ContinuationCancelled {};

/// The chain of the signal `error` holds, or null when `error` is a real failure.
template <class T>
std::shared_ptr<ContinuationChain<T>> continuation_of(const std::exception_ptr& error) noexcept {
  try {
    std::rethrow_exception(error);
  } catch (const ContinueSignal<T>& signal) {
    return signal.chain;
  } catch (...) {
    return nullptr;
  }
}

/// continuation_of(), also telling whether `error` is a ContinuationCancelled, in one rethrow.
template <class T>
std::shared_ptr<ContinuationChain<T>> continuation_of(const std::exception_ptr& error,
                                                      bool& cancelled_elsewhere) noexcept {
  cancelled_elsewhere = false;
  try {
    std::rethrow_exception(error);
  } catch (const ContinueSignal<T>& signal) {
    return signal.chain;
  } catch (const ContinuationCancelled&) {
    cancelled_elsewhere = true;
    return nullptr;
  } catch (...) {
    return nullptr;
  }
}

}  // namespace taskmap::detail
