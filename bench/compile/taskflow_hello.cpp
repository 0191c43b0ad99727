// Taskflow's two-task hello world, the reference bench/compile_time.py times next to
// taskmap's quickstart. Built only when a Taskflow checkout is given.
#include <taskflow/taskflow.hpp>

int main() {
  tf::Executor executor;
  tf::Taskflow taskflow;
  auto [A, B] =
      taskflow.emplace([]() { std::cout << "TaskA\n"; }, []() { std::cout << "TaskB\n"; });
  A.precede(B);
  executor.run(taskflow).wait();
  return 0;
}
