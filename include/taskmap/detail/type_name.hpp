#pragma once
// Readable type names for error messages.

#include <cstdlib>
#include <memory>
#include <string>
#include <typeinfo>

#if defined(__GNUG__) || defined(__clang__)
#include <cxxabi.h>
#endif

namespace taskmap::detail {

/// Demangled name of a std::type_info, or its raw name where demangling is unavailable.
inline std::string type_name(const std::type_info& info) {
#if defined(__GNUG__) || defined(__clang__)
  int status = 0;
  std::unique_ptr<char, void (*)(void*)> demangled(
      abi::__cxa_demangle(info.name(), nullptr, nullptr, &status), std::free);
  if (status == 0 && demangled) return demangled.get();
#endif
  return info.name();
}

template <class T>
std::string type_name() {
  return type_name(typeid(T));
}

}  // namespace taskmap::detail
