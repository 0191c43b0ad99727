// A 50-task graph written as users write one: 50 distinct lambdas, most capturing a
// pointer or a value, fed their dependencies' results. bench/compile_time.py times its
// compilation; it also runs (exit status 0 when the result is right).
#include <cstdio>
#include <string>

#include <taskmap/taskmap.hpp>

int main() {
  int calls = 0;
  int* counter = &calls;
  const int step = 3;
  taskmap::FuncMap<long> funcs;
  taskmap::DependencyMap deps;
  funcs.emplace("t0", [counter]() {
    ++*counter;
    return 0L;
  });
  deps.emplace("t0", std::vector<std::string>{});
  funcs.emplace("t1", [step]() { return step * 1L; });
  deps.emplace("t1", std::vector<std::string>{});
  funcs.emplace("t2", [counter, step]() {
    ++*counter;
    return step * 2L;
  });
  deps.emplace("t2", std::vector<std::string>{});
  funcs.emplace("t3", [counter]() {
    ++*counter;
    return 3L;
  });
  deps.emplace("t3", std::vector<std::string>{});
  funcs.emplace("t4", [step]() { return step * 4L; });
  deps.emplace("t4", std::vector<std::string>{});
  funcs.emplace("t5", [counter, step](long x0, long x1) {
    ++*counter;
    return x0 + x1 + step * 5L;
  });
  deps.emplace("t5", std::vector<std::string>{"t1", "t3"});
  funcs.emplace("t6", [counter](long x0) {
    ++*counter;
    return x0 + 6L;
  });
  deps.emplace("t6", std::vector<std::string>{"t0"});
  funcs.emplace("t7", [step](long x0, long x1, long x2) { return x0 + x1 + x2 + step * 7L; });
  deps.emplace("t7", std::vector<std::string>{"t0", "t2", "t4"});
  funcs.emplace("t8", [counter, step](long x0) {
    ++*counter;
    return x0 + step * 8L;
  });
  deps.emplace("t8", std::vector<std::string>{"t3"});
  funcs.emplace("t9", [counter](long x0) {
    ++*counter;
    return x0 + 9L;
  });
  deps.emplace("t9", std::vector<std::string>{"t1"});
  funcs.emplace("t10", [step](long x0, long x1) { return x0 + x1 + step * 10L; });
  deps.emplace("t10", std::vector<std::string>{"t1", "t6"});
  funcs.emplace("t11", [counter, step](long x0) {
    ++*counter;
    return x0 + step * 11L;
  });
  deps.emplace("t11", std::vector<std::string>{"t1"});
  funcs.emplace("t12", [counter](long x0, long x1, long x2) {
    ++*counter;
    return x0 + x1 + x2 + 12L;
  });
  deps.emplace("t12", std::vector<std::string>{"t0", "t6", "t9"});
  funcs.emplace("t13", [step](long x0) { return x0 + step * 13L; });
  deps.emplace("t13", std::vector<std::string>{"t3"});
  funcs.emplace("t14", [counter, step](long x0, long x1, long x2) {
    ++*counter;
    return x0 + x1 + x2 + step * 14L;
  });
  deps.emplace("t14", std::vector<std::string>{"t0", "t9", "t12"});
  funcs.emplace("t15", [counter](long x0, long x1) {
    ++*counter;
    return x0 + x1 + 15L;
  });
  deps.emplace("t15", std::vector<std::string>{"t0", "t3"});
  funcs.emplace("t16", [step](long x0) { return x0 + step * 16L; });
  deps.emplace("t16", std::vector<std::string>{"t4"});
  funcs.emplace("t17", [counter, step](long x0, long x1) {
    ++*counter;
    return x0 + x1 + step * 17L;
  });
  deps.emplace("t17", std::vector<std::string>{"t4", "t13"});
  funcs.emplace("t18", [counter](long x0, long x1, long x2) {
    ++*counter;
    return x0 + x1 + x2 + 18L;
  });
  deps.emplace("t18", std::vector<std::string>{"t3", "t5", "t9"});
  funcs.emplace("t19", [step](long x0) { return x0 + step * 19L; });
  deps.emplace("t19", std::vector<std::string>{"t18"});
  funcs.emplace("t20", [counter, step](long x0, long x1, long x2) {
    ++*counter;
    return x0 + x1 + x2 + step * 20L;
  });
  deps.emplace("t20", std::vector<std::string>{"t3", "t6", "t11"});
  funcs.emplace("t21", [counter](long x0, long x1, long x2) {
    ++*counter;
    return x0 + x1 + x2 + 21L;
  });
  deps.emplace("t21", std::vector<std::string>{"t1", "t2", "t18"});
  funcs.emplace("t22", [step](long x0, long x1, long x2) { return x0 + x1 + x2 + step * 22L; });
  deps.emplace("t22", std::vector<std::string>{"t6", "t15", "t21"});
  funcs.emplace("t23", [counter, step](long x0, long x1, long x2) {
    ++*counter;
    return x0 + x1 + x2 + step * 23L;
  });
  deps.emplace("t23", std::vector<std::string>{"t10", "t13", "t14"});
  funcs.emplace("t24", [counter](long x0, long x1, long x2) {
    ++*counter;
    return x0 + x1 + x2 + 24L;
  });
  deps.emplace("t24", std::vector<std::string>{"t9", "t11", "t14"});
  funcs.emplace("t25", [step](long x0) { return x0 + step * 25L; });
  deps.emplace("t25", std::vector<std::string>{"t5"});
  funcs.emplace("t26", [counter, step](long x0) {
    ++*counter;
    return x0 + step * 26L;
  });
  deps.emplace("t26", std::vector<std::string>{"t2"});
  funcs.emplace("t27", [counter](long x0, long x1, long x2) {
    ++*counter;
    return x0 + x1 + x2 + 27L;
  });
  deps.emplace("t27", std::vector<std::string>{"t9", "t15", "t16"});
  funcs.emplace("t28", [step](long x0, long x1) { return x0 + x1 + step * 28L; });
  deps.emplace("t28", std::vector<std::string>{"t14", "t23"});
  funcs.emplace("t29", [counter, step](long x0, long x1) {
    ++*counter;
    return x0 + x1 + step * 29L;
  });
  deps.emplace("t29", std::vector<std::string>{"t2", "t19"});
  funcs.emplace("t30", [counter](long x0) {
    ++*counter;
    return x0 + 30L;
  });
  deps.emplace("t30", std::vector<std::string>{"t16"});
  funcs.emplace("t31", [step](long x0, long x1) { return x0 + x1 + step * 31L; });
  deps.emplace("t31", std::vector<std::string>{"t5", "t24"});
  funcs.emplace("t32", [counter, step](long x0, long x1) {
    ++*counter;
    return x0 + x1 + step * 32L;
  });
  deps.emplace("t32", std::vector<std::string>{"t9", "t31"});
  funcs.emplace("t33", [counter](long x0, long x1) {
    ++*counter;
    return x0 + x1 + 33L;
  });
  deps.emplace("t33", std::vector<std::string>{"t2", "t4"});
  funcs.emplace("t34", [step](long x0, long x1, long x2) { return x0 + x1 + x2 + step * 34L; });
  deps.emplace("t34", std::vector<std::string>{"t20", "t21", "t22"});
  funcs.emplace("t35", [counter, step](long x0, long x1, long x2) {
    ++*counter;
    return x0 + x1 + x2 + step * 35L;
  });
  deps.emplace("t35", std::vector<std::string>{"t4", "t29", "t31"});
  funcs.emplace("t36", [counter](long x0) {
    ++*counter;
    return x0 + 36L;
  });
  deps.emplace("t36", std::vector<std::string>{"t17"});
  funcs.emplace("t37", [step](long x0, long x1) { return x0 + x1 + step * 37L; });
  deps.emplace("t37", std::vector<std::string>{"t3", "t4"});
  funcs.emplace("t38", [counter, step](long x0, long x1) {
    ++*counter;
    return x0 + x1 + step * 38L;
  });
  deps.emplace("t38", std::vector<std::string>{"t28", "t36"});
  funcs.emplace("t39", [counter](long x0, long x1) {
    ++*counter;
    return x0 + x1 + 39L;
  });
  deps.emplace("t39", std::vector<std::string>{"t22", "t24"});
  funcs.emplace("t40", [step](long x0) { return x0 + step * 40L; });
  deps.emplace("t40", std::vector<std::string>{"t29"});
  funcs.emplace("t41", [counter, step](long x0, long x1) {
    ++*counter;
    return x0 + x1 + step * 41L;
  });
  deps.emplace("t41", std::vector<std::string>{"t10", "t39"});
  funcs.emplace("t42", [counter](long x0) {
    ++*counter;
    return x0 + 42L;
  });
  deps.emplace("t42", std::vector<std::string>{"t31"});
  funcs.emplace("t43", [step](long x0) { return x0 + step * 43L; });
  deps.emplace("t43", std::vector<std::string>{"t13"});
  funcs.emplace("t44", [counter, step](long x0, long x1) {
    ++*counter;
    return x0 + x1 + step * 44L;
  });
  deps.emplace("t44", std::vector<std::string>{"t8", "t15"});
  funcs.emplace("t45", [counter](long x0, long x1) {
    ++*counter;
    return x0 + x1 + 45L;
  });
  deps.emplace("t45", std::vector<std::string>{"t25", "t31"});
  funcs.emplace("t46", [step](long x0) { return x0 + step * 46L; });
  deps.emplace("t46", std::vector<std::string>{"t10"});
  funcs.emplace("t47", [counter, step](long x0, long x1) {
    ++*counter;
    return x0 + x1 + step * 47L;
  });
  deps.emplace("t47", std::vector<std::string>{"t25", "t35"});
  funcs.emplace("t48", [counter](long x0, long x1) {
    ++*counter;
    return x0 + x1 + 48L;
  });
  deps.emplace("t48", std::vector<std::string>{"t8", "t27"});
  funcs.emplace("t49", [step](long x0, long x1, long x2) { return x0 + x1 + x2 + step * 49L; });
  deps.emplace("t49", std::vector<std::string>{"t17", "t26", "t45"});
  auto graph = taskmap::create_graph<long>(std::move(funcs), std::move(deps));
  const taskmap::RunSummary summary = taskmap::run(graph);
  std::printf("t49 = %ld after %d counted calls\n", graph.result("t49"), calls);
  return summary.succeeded == 50 && graph.result("t49") == 747L ? 0 : 1;
}
