// A task that calls abort() on MPI rank 2 (the last rank when there are fewer), or with the
// argument "kill" sends itself SIGKILL there: the job must end, not hang, with a non-zero
// status and lines on stderr naming the task (checked by mpi_expect_crash.cmake, which ctest
// runs): the dying rank's own for abort(), rank 0's list of tasks in flight for SIGKILL.

#include <taskmap/mpi.hpp>
#include <taskmap/taskmap.hpp>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <string>
#include <string_view>
#include <thread>

#include <unistd.h>

using namespace taskmap;

int main(int argc, char** argv) {
  MpiSession session(argc, argv);
  MpiExecutor mpi;
  const int doomed = std::min(2, mpi.ranks() - 1);
  const bool kill = argc > 1 && std::string_view(argv[1]) == "kill";
  FuncMap<int> funcs;
  DependencyMap deps;
  // One task per rank starts at once (each holds its rank's one task thread for a while), so
  // the rank that aborts is running one of them; every task aborts only there.
  for (int i = 0; i < mpi.ranks() * 2; ++i) {
    funcs.emplace("crash" + std::to_string(i), [doomed, kill](Context& ctx) {
      if (static_cast<int>(ctx.worker_id()) == doomed) {
        if (kill) ::kill(::getpid(), SIGKILL);
        std::abort();
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(500));
      return 1;
    });
    deps.emplace("crash" + std::to_string(i), std::vector<std::string>{});
  }
  auto g = create_graph<int>(std::move(funcs), std::move(deps));
  mpi.run(g);
  return 0;  // not reached on any rank: the job ends when rank 2 dies
}
