#pragma once
// append_format: fmt::format appended to a buffer or a string. fmt 9 instantiates its whole
// formatting engine in every file that calls fmt::format_to, but keeps fmt::vformat compiled in
// the library; appending vformat's string keeps every file that includes taskmap quick to build.

#include <string>
#include <utility>

#include <fmt/format.h>

namespace taskmap::detail {

template <class... A>
void append_format(fmt::memory_buffer& out, fmt::format_string<A...> format, A&&... args) {
  const std::string text = fmt::vformat(format, fmt::make_format_args(args...));
  out.append(text.data(), text.data() + text.size());
}

template <class... A>
void append_format(std::string& out, fmt::format_string<A...> format, A&&... args) {
  out += fmt::vformat(format, fmt::make_format_args(args...));
}

}  // namespace taskmap::detail
