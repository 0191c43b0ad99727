#pragma once
// Says what an exception is, for messages and logs: its what() or its type.

#include <exception>
#include <string>
#include <typeinfo>

#if defined(__GNUG__) || defined(__clang__)
#include <cxxabi.h>
#endif

#include "taskmap/detail/type_name.hpp"

namespace taskmap::detail {

/// What the exception in flight says, for messages: its what() or its type.
inline std::string describe_current_exception() {
  try {
    throw;
  } catch (const std::exception& e) {
    return e.what();
  } catch (...) {
#if defined(__GNUG__) || defined(__clang__)
    if (const std::type_info* type = abi::__cxa_current_exception_type()) {
      return "an exception of type " + type_name(*type);
    }
#endif
    return "an exception of unknown type";
  }
}

/// What `error` says (see describe_current_exception); "no exception" when it is empty.
inline std::string describe_exception(const std::exception_ptr& error) {
  if (!error) return "no exception";
  try {
    std::rethrow_exception(error);
  } catch (...) {
    return describe_current_exception();
  }
}

}  // namespace taskmap::detail
