// Differential tests: random DAGs of a few thousand tasks run through every executor, checked
// task by task against an independent reference evaluator written here (a plain memoised
// evaluation in topological order over the test's own adjacency lists).

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <memory>
#include <numeric>
#include <optional>
#include <random>
#include <span>
#include <stdexcept>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "executors.hpp"
#include "test_support.hpp"

using namespace taskmap;
using namespace taskmap_test;

namespace {

using Value = std::uint64_t;

// What a task's function does.
enum class Kind : std::uint8_t {
  value,    // returns a hash of its id, salt and inputs
  nothing,  // returns std::nullopt: no value, not fed
  throws,   // throws Boom
};

/// The exception the throwing tasks throw, carrying the task's id.
class Boom : public std::runtime_error {
 public:
  explicit Boom(std::uint32_t task)
      : std::runtime_error("boom " + std::to_string(task)), id(task) {}
  std::uint32_t id;
};

// SplitMix64's finaliser.
constexpr Value finalise(Value x) noexcept {
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ULL;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebULL;
  x ^= x >> 31;
  return x;
}

constexpr Value mix(Value h, Value v) noexcept {
  return finalise(h ^ (v + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2)));
}

/// The value a `Kind::value` task computes from the values fed to it, in order. Order matters.
Value task_value(std::uint32_t id, Value salt, std::span<const Value> inputs) noexcept {
  Value h = mix(finalise(id), salt);
  for (const Value input : inputs) h = mix(h, input);
  return mix(h, inputs.size());
}

/// A random DAG: task i depends only on tasks with smaller indices (so it is acyclic), but
/// names come from a random permutation, so neither names nor hash order follow dependencies.
struct RandomDag {
  std::vector<std::string> names;  // index -> name
  std::unordered_map<std::string, std::uint32_t> id_of;
  std::vector<std::vector<std::uint32_t>> deps;  // in feeding order
  std::vector<std::vector<std::uint32_t>> children;
  std::vector<Kind> kind;
  std::vector<Value> salt;

  [[nodiscard]] std::size_t size() const noexcept { return names.size(); }
};

RandomDag make_dag(std::mt19937& rng, std::size_t n, int throw_permille) {
  RandomDag dag;
  std::vector<std::uint32_t> perm(n);
  std::iota(perm.begin(), perm.end(), 0u);
  std::shuffle(perm.begin(), perm.end(), rng);
  dag.names.reserve(n);
  for (std::size_t i = 0; i < n; ++i) {
    dag.names.push_back("n" + std::to_string(perm[i]));
    dag.id_of.emplace(dag.names.back(), static_cast<std::uint32_t>(i));
  }
  dag.deps.resize(n);
  dag.children.resize(n);
  dag.kind.resize(n);
  dag.salt.resize(n);
  std::uniform_int_distribution<int> edge_count(0, 6);
  std::uniform_int_distribution<int> percent(0, 99);
  std::uniform_int_distribution<int> permille(0, 999);
  std::uniform_int_distribution<Value> any_value;
  for (std::uint32_t i = 0; i < n; ++i) {
    const auto wanted = std::min<std::size_t>(static_cast<std::size_t>(edge_count(rng)), i);
    // Half the edges reach back only a little, which makes long paths; the rest go anywhere.
    const bool local = percent(rng) < 50;
    const std::uint32_t low = local && i > 20 ? i - 20 : 0;
    std::uniform_int_distribution<std::uint32_t> pick(low, i == 0 ? 0 : i - 1);
    std::vector<std::uint32_t>& task_deps = dag.deps[i];
    while (task_deps.size() < wanted && task_deps.size() < i - low) {
      const std::uint32_t dep = pick(rng);
      if (std::find(task_deps.begin(), task_deps.end(), dep) == task_deps.end()) {
        task_deps.push_back(dep);
      }
    }
    for (const std::uint32_t dep : task_deps) dag.children[dep].push_back(i);
    const int roll = permille(rng);
    dag.kind[i] = roll < throw_permille         ? Kind::throws
                  : roll < throw_permille + 100 ? Kind::nothing
                                                : Kind::value;
    dag.salt[i] = any_value(rng);
  }
  return dag;
}

/// What the reference evaluator says about one task.
struct Expected {
  TaskStatus status = TaskStatus::pending;
  std::optional<Value> value;
};

/// The reference: a memoised evaluation in topological (index) order. A task with a failed or
/// skipped dependency is skipped; a task that produced no value is not fed.
std::vector<Expected> evaluate(const RandomDag& dag) {
  std::vector<Expected> out(dag.size());
  std::vector<Value> fed;
  for (std::uint32_t i = 0; i < dag.size(); ++i) {
    bool doomed = false;
    fed.clear();
    for (const std::uint32_t dep : dag.deps[i]) {
      const Expected& d = out[dep];
      if (d.status == TaskStatus::failed || d.status == TaskStatus::skipped) doomed = true;
      if (d.value) fed.push_back(*d.value);
    }
    if (doomed) {
      out[i].status = TaskStatus::skipped;
    } else if (dag.kind[i] == Kind::throws) {
      out[i].status = TaskStatus::failed;
    } else {
      out[i].status = TaskStatus::done;
      if (dag.kind[i] == Kind::value) out[i].value = task_value(i, dag.salt[i], fed);
    }
  }
  return out;
}

/// Every transitive dependent of `roots` plus the roots themselves, as a 0/1 mask.
std::vector<std::uint8_t> closure_of(const RandomDag& dag,
                                     const std::vector<std::uint32_t>& roots) {
  std::vector<std::uint8_t> in(dag.size(), 0);
  std::vector<std::uint32_t> stack;
  for (const std::uint32_t root : roots) {
    if (in[root] == 0) {
      in[root] = 1;
      stack.push_back(root);
    }
  }
  while (!stack.empty()) {
    const std::uint32_t task = stack.back();
    stack.pop_back();
    for (const std::uint32_t child : dag.children[task]) {
      if (in[child] == 0) {
        in[child] = 1;
        stack.push_back(child);
      }
    }
  }
  return in;
}

/// Shared by every task function of one graph: how often each task ran, and whether the
/// Context named the right task. Atomic, so parallel executors may run the test too.
struct Probe {
  explicit Probe(const RandomDag& dag) : names(dag.names), calls(dag.size()) {}
  std::vector<std::string> names;
  std::vector<std::atomic<int>> calls;
  std::atomic<int> wrong_context{0};

  void clear_calls() {
    for (auto& c : calls) c.store(0);
  }
};

TaskFn<Value> make_fn(const std::shared_ptr<Probe>& probe, std::uint32_t id, Kind kind,
                      Value salt) {
  return
      [probe, id, kind, salt](Context& ctx, std::span<const Value> inputs) -> std::optional<Value> {
        probe->calls[id].fetch_add(1);
        if (ctx.name() != probe->names[id]) probe->wrong_context.fetch_add(1);
        switch (kind) {
          case Kind::throws:
            throw Boom(id);
          case Kind::nothing:
            return std::nullopt;
          case Kind::value:
            break;
        }
        return task_value(id, salt, inputs);
      };
}

TaskGraph<Value> make_graph(const RandomDag& dag, const std::shared_ptr<Probe>& probe) {
  FuncMap<Value> funcs;
  DependencyMap deps;
  funcs.reserve(dag.size());
  deps.reserve(dag.size());
  for (std::uint32_t i = 0; i < dag.size(); ++i) {
    funcs.emplace(dag.names[i], make_fn(probe, i, dag.kind[i], dag.salt[i]));
    std::vector<std::string> names;
    names.reserve(dag.deps[i].size());
    for (const std::uint32_t dep : dag.deps[i]) names.push_back(dag.names[dep]);
    deps.emplace(dag.names[i], std::move(names));
  }
  return create_graph<Value>(std::move(funcs), std::move(deps), {.name = "random"});
}

/// Compares a run graph with the reference, task by task. `ran` (if given) marks the tasks
/// the last run was allowed to start; each of those must have run exactly once if the
/// reference says it was not skipped, every other task not at all.
std::vector<std::string> compare(const TaskGraph<Value>& g, const RandomDag& dag,
                                 const std::vector<Expected>& expected, const Probe& probe,
                                 const std::vector<std::uint8_t>* ran) {
  std::vector<std::string> problems;
  auto problem = [&](std::uint32_t i, const std::string& what) {
    if (problems.size() < 25) problems.push_back(dag.names[i] + ": " + what);
  };
  // Descendant masks of failed tasks, built on demand, to check AncestorFailed::ancestor().
  std::unordered_map<std::uint32_t, std::vector<std::uint8_t>> below;
  std::size_t n_done = 0;
  std::size_t n_failed = 0;
  std::size_t n_skipped = 0;
  std::size_t n_values = 0;

  for (std::uint32_t i = 0; i < dag.size(); ++i) {
    const std::string& name = dag.names[i];
    const Expected& want = expected[i];
    const TaskStatus status = g.status(name);
    if (status != want.status) {
      problem(i, "status " + std::string(to_string(status)) + ", expected " +
                     std::string(to_string(want.status)));
      continue;
    }
    if (g.has_result(name) != want.value.has_value()) {
      problem(i, g.has_result(name) ? "has a value, expected none" : "has no value, expected one");
    } else if (want.value && g.result(name) != *want.value) {
      problem(i, "value " + std::to_string(g.result(name)) + ", expected " +
                     std::to_string(*want.value));
    }
    const std::exception_ptr error = g.error(name);
    switch (want.status) {
      case TaskStatus::done:
        ++n_done;
        if (want.value) ++n_values;
        if (error) problem(i, "done but has an error");
        break;
      case TaskStatus::failed: {
        ++n_failed;
        try {
          if (error) std::rethrow_exception(error);
          problem(i, "failed without an error");
        } catch (const Boom& boom) {
          if (boom.id != i) problem(i, "holds the exception of task " + std::to_string(boom.id));
        } catch (...) {
          problem(i, "failed with an exception that is not the one thrown");
        }
        break;
      }
      case TaskStatus::skipped: {
        ++n_skipped;
        try {
          if (error) std::rethrow_exception(error);
          problem(i, "skipped without an error");
        } catch (const AncestorFailed& e) {
          const auto it = dag.id_of.find(e.ancestor());
          if (it == dag.id_of.end()) {
            problem(i, "AncestorFailed names '" + e.ancestor() + "', not a task");
            break;
          }
          const std::uint32_t a = it->second;
          if (expected[a].status != TaskStatus::failed) {
            problem(i, "AncestorFailed names " + e.ancestor() + ", which did not fail");
          }
          auto [mask, fresh] = below.try_emplace(a);
          if (fresh) mask->second = closure_of(dag, {a});
          if (a == i || mask->second[i] == 0) {
            problem(i, "AncestorFailed names " + e.ancestor() + ", not an ancestor");
          }
          if (std::string(e.what()) != "Ancestor task " + e.ancestor() + " failed; task not run") {
            problem(i, std::string("AncestorFailed message: ") + e.what());
          }
        } catch (...) {
          problem(i, "skipped with an error that is not AncestorFailed");
        }
        break;
      }
      default:
        problem(i, "the reference produced an unexpected status");
        break;
    }
    const int calls = probe.calls[i].load();
    const bool may_run = ran == nullptr || (*ran)[i] != 0;
    const int want_calls = may_run && want.status != TaskStatus::skipped ? 1 : 0;
    if (calls != want_calls) {
      problem(i,
              "ran " + std::to_string(calls) + " time(s), expected " + std::to_string(want_calls));
    }
  }
  if (g.done().size() != n_done) problems.push_back("done() has the wrong size");
  if (g.failed().size() != n_failed) problems.push_back("failed() has the wrong size");
  if (g.skipped().size() != n_skipped) problems.push_back("skipped() has the wrong size");
  if (g.results().size() != n_values) problems.push_back("results() has the wrong size");
  if (probe.wrong_context.load() != 0) problems.push_back("a Context named the wrong task");
  return problems;
}

std::string join(const std::vector<std::string>& lines) {
  std::string out;
  for (const std::string& line : lines) out += line + "\n";
  return out;
}

/// Counts of a reference, restricted to a mask (nullptr: every task).
RunSummary expected_summary(const std::vector<Expected>& expected,
                            const std::vector<std::uint8_t>* only = nullptr) {
  RunSummary s;
  for (std::size_t i = 0; i < expected.size(); ++i) {
    if (only != nullptr && (*only)[i] == 0) continue;
    switch (expected[i].status) {
      case TaskStatus::done:
        ++s.succeeded;
        break;
      case TaskStatus::failed:
        ++s.failed;
        break;
      case TaskStatus::skipped:
        ++s.skipped;
        break;
      default:
        break;
    }
  }
  return s;
}

struct Case {
  std::uint32_t seed;
  std::size_t tasks;
  int throw_permille;  // 10% of the others return no value
};

// Every task has a few random earlier dependencies, so almost every task has most earlier
// tasks as ancestors, and one early failure skips nearly everything after it. Lower failure
// rates keep long stretches of computed values; 2% exercises skipping.
constexpr Case kCases[] = {
    {1, 2000, 20}, {42, 3000, 5}, {2024, 4000, 1}, {0xC0FFEE, 5000, 2}, {7, 5000, 20}};

}  // namespace

TEMPLATE_TEST_CASE("random DAGs match the reference evaluator", "[differential]",
                   TASKMAP_TEST_EXECUTORS) {
  for (const Case& c : kCases) {
    CAPTURE(c.seed, c.tasks);
    std::mt19937 rng(c.seed);
    const RandomDag dag = make_dag(rng, c.tasks, c.throw_permille);
    const std::vector<Expected> expected = evaluate(dag);
    const RunSummary want = expected_summary(expected);
    // The generator must produce every outcome, or the comparison proves little.
    REQUIRE(want.failed > 0);
    REQUIRE(want.skipped > 0);
    REQUIRE(want.succeeded >= c.tasks / 10);

    auto probe = std::make_shared<Probe>(dag);
    TaskGraph<Value> g = make_graph(dag, probe);
    REQUIRE(g.size() == c.tasks);
    auto executor = make_executor<TestType>();
    const RunSummary got = executor.run(g, {});

    const std::vector<std::string> problems = compare(g, dag, expected, *probe, nullptr);
    INFO(join(problems));
    CHECK(problems.empty());
    CHECK(got.succeeded == want.succeeded);
    CHECK(got.failed == want.failed);
    CHECK(got.skipped == want.skipped);
    CHECK(got.cancelled == 0);

    // A second run has nothing left to do and changes nothing.
    probe->clear_calls();
    const RunSummary again = executor.run(g, {});
    CHECK(again.succeeded == 0);
    CHECK(again.failed == 0);
    CHECK(again.skipped == 0);
    std::vector<std::uint8_t> none(dag.size(), 0);
    const std::vector<std::string> after = compare(g, dag, expected, *probe, &none);
    INFO(join(after));
    CHECK(after.empty());
  }
}

TEMPLATE_TEST_CASE("set_func and reset_tasks on a random subset rerun exactly what changed",
                   "[differential]", TASKMAP_TEST_EXECUTORS) {
  for (const Case& c : kCases) {
    CAPTURE(c.seed, c.tasks);
    std::mt19937 rng(c.seed ^ 0x5eedU);
    RandomDag dag = make_dag(rng, c.tasks, c.throw_permille);
    auto probe = std::make_shared<Probe>(dag);
    TaskGraph<Value> g = make_graph(dag, probe);
    auto executor = make_executor<TestType>();
    executor.run(g, {});
    {
      const std::vector<std::string> first = compare(g, dag, evaluate(dag), *probe, nullptr);
      INFO(join(first));
      REQUIRE(first.empty());
    }

    // Change the function of ~3% of the tasks: a new salt, and often a new kind too (so
    // failures appear and disappear, values become no-values and back).
    std::vector<std::uint32_t> changed;
    std::vector<std::string> changed_names;
    std::uniform_int_distribution<int> percent(0, 99);
    std::uniform_int_distribution<Value> any_value;
    for (std::uint32_t i = 0; i < dag.size(); ++i) {
      if (percent(rng) >= 3) continue;
      const int roll = percent(rng);
      dag.kind[i] = roll < 5 ? Kind::throws : roll < 25 ? Kind::nothing : Kind::value;
      dag.salt[i] = any_value(rng);
      g.set_func(dag.names[i], make_fn(probe, i, dag.kind[i], dag.salt[i]));
      changed.push_back(i);
      changed_names.push_back(dag.names[i]);
    }
    REQUIRE(!changed.empty());
    // Also reset a few tasks without changing them: they must come out the same.
    for (int k = 0; k < 10; ++k) {
      const auto i = std::uniform_int_distribution<std::uint32_t>(
          0, static_cast<std::uint32_t>(dag.size() - 1))(rng);
      changed.push_back(i);
      changed_names.push_back(dag.names[i]);
    }
    std::shuffle(changed_names.begin(), changed_names.end(), rng);

    const std::vector<std::uint8_t> reset = closure_of(dag, changed);
    reset_tasks(g, changed_names);

    // Reset tasks are pending with no value and no error; the others are untouched.
    std::size_t wrong_reset = 0;
    for (std::uint32_t i = 0; i < dag.size(); ++i) {
      if (reset[i] == 0) continue;
      const std::string& name = dag.names[i];
      if (g.status(name) != TaskStatus::pending || g.has_result(name) || g.error(name)) {
        ++wrong_reset;
      }
    }
    CHECK(wrong_reset == 0);

    probe->clear_calls();
    const RunSummary got = executor.run(g, {});
    const std::vector<Expected> expected = evaluate(dag);
    const std::vector<std::string> problems = compare(g, dag, expected, *probe, &reset);
    INFO(join(problems));
    CHECK(problems.empty());
    const RunSummary want = expected_summary(expected, &reset);
    CHECK(got.succeeded == want.succeeded);
    CHECK(got.failed == want.failed);
    CHECK(got.skipped == want.skipped);
  }
}

TEMPLATE_TEST_CASE("reset_failed_tasks after fixing the throwing functions completes the graph",
                   "[differential]", TASKMAP_TEST_EXECUTORS) {
  for (const Case& c : kCases) {
    CAPTURE(c.seed, c.tasks);
    std::mt19937 rng(c.seed ^ 0xfa11U);
    RandomDag dag = make_dag(rng, c.tasks, c.throw_permille);
    auto probe = std::make_shared<Probe>(dag);
    TaskGraph<Value> g = make_graph(dag, probe);
    auto executor = make_executor<TestType>();
    executor.run(g, {});
    const std::vector<Expected> first = evaluate(dag);
    {
      const std::vector<std::string> problems = compare(g, dag, first, *probe, nullptr);
      INFO(join(problems));
      REQUIRE(problems.empty());
    }

    // Every failed task and its dependents will be reset; the rest keeps its state.
    std::vector<std::uint32_t> failed;
    for (std::uint32_t i = 0; i < dag.size(); ++i) {
      if (first[i].status == TaskStatus::failed) failed.push_back(i);
    }
    REQUIRE(!failed.empty());
    const std::vector<std::uint8_t> reset = closure_of(dag, failed);

    // Fix every throwing function (a throwing task under a failed one was skipped, not failed,
    // and is fixed too): half now return a value, half return nothing.
    for (std::uint32_t i = 0; i < dag.size(); ++i) {
      if (dag.kind[i] != Kind::throws) continue;
      dag.kind[i] = (i % 2 == 0) ? Kind::value : Kind::nothing;
      g.set_func(dag.names[i], make_fn(probe, i, dag.kind[i], dag.salt[i]));
    }
    reset_failed_tasks(g);
    std::size_t wrong_reset = 0;
    for (std::uint32_t i = 0; i < dag.size(); ++i) {
      const std::string& name = dag.names[i];
      const bool pending = g.status(name) == TaskStatus::pending;
      if ((reset[i] != 0) != pending) ++wrong_reset;
      if (reset[i] != 0 && (g.has_result(name) || g.error(name))) ++wrong_reset;
    }
    CHECK(wrong_reset == 0);

    probe->clear_calls();
    const RunSummary got = executor.run(g, {});
    const std::vector<Expected> expected = evaluate(dag);
    const std::vector<std::string> problems = compare(g, dag, expected, *probe, &reset);
    INFO(join(problems));
    CHECK(problems.empty());
    CHECK(g.failed().empty());
    CHECK(g.skipped().empty());
    CHECK(g.done().size() == dag.size());
    std::size_t in_reset = 0;
    for (const std::uint8_t r : reset) in_reset += r;
    CHECK(got.succeeded == in_reset);
    CHECK(got.failed == 0);
    CHECK(got.skipped == 0);
  }
}
