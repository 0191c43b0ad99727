// Big per-task arrays ask for transparent huge pages before they are first written
// (detail/huge_pages.hpp). The kernel shows the advice as the "hg" flag of the mapping in
// /proc/self/smaps; whether it then backs the memory with huge pages is its own business.

#include <cstdint>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <taskmap/detail/huge_pages.hpp>

#include "test_support.hpp"

namespace {

// The VmFlags of the mapping holding `address` in /proc/self/smaps ("" when not found).
std::string vm_flags_at(const void* address) {
  const auto where = reinterpret_cast<std::uintptr_t>(address);
  std::ifstream smaps("/proc/self/smaps");
  std::string line;
  bool inside = false;
  while (std::getline(smaps, line)) {
    std::uintptr_t begin = 0;
    std::uintptr_t end = 0;
    char dash = 0;
    std::istringstream head(line);
    if (head >> std::hex >> begin >> dash >> end && dash == '-') {
      inside = begin <= where && where < end;
    } else if (inside && line.rfind("VmFlags:", 0) == 0) {
      return line;
    }
  }
  return "";
}

bool kernel_has_transparent_huge_pages() {
  std::ifstream mode("/sys/kernel/mm/transparent_hugepage/enabled");
  std::string text;
  return std::getline(mode, text) && text.find("[never]") == std::string::npos;
}

}  // namespace

TEST_CASE("huge pages: a big array is advised, a small one is not, contents are kept",
          "[huge_pages]") {
  if (!kernel_has_transparent_huge_pages()) {
    SUCCEED("no transparent huge pages on this machine: nothing to observe");
    return;
  }
  constexpr std::size_t kMiB = std::size_t{1} << 20;
  std::vector<std::uint32_t> big;
  taskmap::detail::resize_huge(big, 16 * kMiB / sizeof(std::uint32_t));
  // The 2 MiB-aligned middle of the array is advised.
  const auto* middle = reinterpret_cast<const char*>(big.data()) + 8 * kMiB;
  CHECK(vm_flags_at(middle).find(" hg") != std::string::npos);

  std::vector<std::uint32_t> small;
  taskmap::detail::resize_huge(small, 1024);
  CHECK(vm_flags_at(small.data()).find(" hg") == std::string::npos);

  std::vector<int> kept{1, 2, 3};
  taskmap::detail::reserve_huge(kept, 8 * kMiB / sizeof(int));
  CHECK(kept == std::vector<int>{1, 2, 3});
  taskmap::detail::assign_huge(kept, 8 * kMiB / sizeof(int), 7);
  CHECK(kept.size() == 8 * kMiB / sizeof(int));
  CHECK(kept.front() == 7);
  CHECK(kept.back() == 7);
}

TEST_CASE("huge pages: a big graph's arrays are advised", "[huge_pages][graph]") {
  if (!kernel_has_transparent_huge_pages()) {
    SUCCEED("no transparent huge pages on this machine: nothing to observe");
    return;
  }
  std::vector<std::pair<std::string, taskmap::TaskFn<int>>> funcs;
  std::vector<std::pair<std::string, std::vector<std::string>>> deps;
  const std::size_t n = 600000;  // 4.8 MB of results: its middle lies in an aligned 2 MiB page
  funcs.reserve(n);
  deps.reserve(n);
  for (std::size_t i = 0; i < n; ++i) {
    funcs.emplace_back("t" + std::to_string(i), [] { return 1; });
    deps.emplace_back("t" + std::to_string(i), std::vector<std::string>{});
  }
  auto graph = taskmap::create_graph<int>(std::move(funcs), std::move(deps));
  // Ids follow the input's order here, so the middle task's result is the array's middle.
  taskmap::run(graph);
  const int* middle = &graph.result("t300000");
  CHECK(vm_flags_at(middle).find(" hg") != std::string::npos);
}
