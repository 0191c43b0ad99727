// Property: create_graph (from maps and from vectors of pairs) and add_task given any input
// — cycles, missing names, duplicate and hostile names, empty functions, options naming
// strangers, huge fan-in and fan-out, long rings — either builds a valid graph or throws the
// documented GraphError that a model computed independently predicts, carrying exactly the
// offending tasks. A valid graph has every task with the input's dependencies in order, the input's
// options, and runs sequentially with each task once, after its dependencies, fed their values.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <map>
#include <set>
#include <span>
#include <string>
#include <tuple>
#include <unordered_map>
#include <utility>
#include <vector>

#include <taskmap/executors/sequential.hpp>
#include <taskmap/graph.hpp>

#include "fuzz_support.hpp"

using namespace taskmap;
using taskmap_fuzz::Bytes;
using taskmap_fuzz::check;
using taskmap_fuzz::fail;

namespace {

struct Input {
  std::vector<std::string> pool;
  DependencyMap deps;
  std::set<std::string> without_function;    // keys of deps with no or an empty function
  std::vector<std::string> extra_functions;  // functions for names that are not tasks
  GraphOptions<int> options;
  // add_task calls in order: name, has function, dependencies.
  std::vector<std::tuple<std::string, bool, std::vector<std::string>>> added;
};

std::string name_from(Bytes& in, const std::vector<std::string>& pool) {
  return pool[in.below(pool.size())];
}

Input decode(Bytes& in) {
  Input input;
  const std::size_t pool_size = 1 + in.byte() % 12;
  for (std::size_t i = 0; i < pool_size; ++i) input.pool.push_back(taskmap_fuzz::pick_name(in));

  const std::size_t tasks = in.byte() % 24;
  for (std::size_t t = 0; t < tasks; ++t) {
    std::string task = name_from(in, input.pool);
    const std::uint8_t shape = in.byte();
    std::vector<std::string> deps(static_cast<std::size_t>(shape % 6));
    for (std::string& dep : deps) dep = name_from(in, input.pool);
    const bool has_function = (shape & 0xE0) != 0xE0;
    input.added.emplace_back(task, has_function, deps);
    input.deps[task] = std::move(deps);  // a duplicate key: the later list wins
    if (has_function) {
      input.without_function.erase(task);
    } else {
      input.without_function.insert(task);
    }
  }

  // Bulk shapes: fan-in (one task needing thousands), fan-out, and long rings.
  const std::uint8_t bulk = in.byte();
  const std::size_t count = 1 + static_cast<std::size_t>(in.byte()) * 4;  // up to 1021
  const std::string prefix = name_from(in, input.pool);
  auto bulk_name = [&](std::size_t i) { return prefix + "#" + std::to_string(i); };
  switch (bulk % 8) {
    case 1: {  // fan-in
      std::vector<std::string> all;
      for (std::size_t i = 0; i < count; ++i) {
        input.deps[bulk_name(i)] = {};
        all.push_back(bulk_name(i));
      }
      input.deps[prefix] = std::move(all);
      for (std::size_t i = 0; i < count; ++i) input.without_function.erase(bulk_name(i));
      input.without_function.erase(prefix);
      break;
    }
    case 2: {  // fan-out
      input.deps[prefix] = {};
      input.without_function.erase(prefix);
      for (std::size_t i = 0; i < count; ++i) {
        input.deps[bulk_name(i)] = {prefix};
        input.without_function.erase(bulk_name(i));
      }
      break;
    }
    case 3: {  // a ring, closed or (when bulk's high bit is set) left open as a chain
      for (std::size_t i = 0; i < count; ++i) {
        std::vector<std::string> next;
        if (i + 1 < count || (bulk & 0x80) == 0) next.push_back(bulk_name((i + 1) % count));
        input.deps[bulk_name(i)] = std::move(next);
        input.without_function.erase(bulk_name(i));
      }
      break;
    }
    default:
      break;
  }

  const std::size_t extras = in.byte() % 3;
  for (std::size_t i = 0; i < extras; ++i)
    input.extra_functions.push_back(name_from(in, input.pool));

  const std::size_t option_entries = in.byte() % 8;
  for (std::size_t i = 0; i < option_entries; ++i) {
    const std::uint8_t kind = in.byte();
    std::string task = name_from(in, input.pool);
    switch (kind % 6) {
      case 0:
        input.options.io_bound.push_back(task);
        break;
      case 1:
        input.options.done.push_back(task);
        break;
      case 2:
        input.options.results[task] = kind;
        break;
      case 3:
        input.options.priority[task] = kind - 128;
        break;
      default: {
        ConcurrencyGroup& group = input.options.groups[name_from(in, input.pool)];
        group.max_concurrency = kind % 3;
        group.tasks.push_back(task);
        break;
      }
    }
  }
  input.options.name = name_from(in, input.pool);
  return input;
}

// --- The model: what create_graph must throw, computed without taskmap. ---

std::vector<std::string> expected_missing_functions(const Input& input) {
  std::vector<std::string> out;
  for (const auto& [task, deps] : input.deps) {
    if (input.without_function.count(task) != 0) out.push_back(task);
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::vector<MissingDependencyError::Edge> expected_missing_edges(const Input& input) {
  std::vector<MissingDependencyError::Edge> out;
  for (const auto& [task, deps] : input.deps) {
    for (const std::string& dep : deps) {
      if (input.deps.count(dep) == 0) out.push_back({task, dep});
    }
  }
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) {
    return std::tie(a.missing, a.dependent) < std::tie(b.missing, b.dependent);
  });
  return out;
}

std::vector<std::string> expected_unknown(const Input& input) {
  std::set<std::string> out;
  auto note = [&](const std::string& task) {
    if (input.deps.count(task) == 0) out.insert(task);
  };
  for (const auto& task : input.options.io_bound) note(task);
  for (const auto& task : input.options.done) note(task);
  for (const auto& entry : input.options.results) note(entry.first);
  for (const auto& entry : input.options.priority) note(entry.first);
  for (const auto& entry : input.options.groups) {
    for (const auto& task : entry.second.tasks) note(task);
  }
  return {out.begin(), out.end()};
}

bool expected_group_error(const Input& input) {
  std::map<std::string, std::string> group_of;
  for (const auto& [group, spec] : input.options.groups) {
    if (spec.max_concurrency == 0) return true;
    for (const std::string& task : spec.tasks) {
      const auto [at, fresh] = group_of.emplace(task, group);
      if (!fresh && at->second != group) return true;
    }
  }
  return false;
}

// Kahn's algorithm over the maps: true when every task can be ordered.
bool acyclic(const DependencyMap& deps) {
  std::map<std::string, std::size_t> waiting;
  std::map<std::string, std::vector<std::string>> dependents;
  for (const auto& [task, list] : deps) {
    waiting[task] = list.size();
    for (const std::string& dep : list) dependents[dep].push_back(task);
  }
  std::vector<std::string> ready;
  for (const auto& [task, count] : waiting) {
    if (count == 0) ready.push_back(task);
  }
  std::size_t ordered = 0;
  while (!ready.empty()) {
    const std::string task = std::move(ready.back());
    ready.pop_back();
    ++ordered;
    for (const std::string& child : dependents[task]) {
      if (--waiting[child] == 0) ready.push_back(child);
    }
  }
  return ordered == deps.size();
}

// True when what() holds `text` (up to any NUL in it). what() is a C string, so a NUL in a
// name printed before `text` (`before`, e.g. the graph's) ends the message early: then only
// the exception's data can name the task, and it does.
bool mentions(const std::exception& e, const std::string& text, const std::string& before) {
  if (before.find('\0') != std::string::npos) return true;
  return std::string_view(e.what()).find(text.c_str()) != std::string_view::npos;
}

void check_cycle(const CycleError& e, const DependencyMap& deps, const std::string& graph) {
  const std::vector<std::string>& cycle = e.cycle();
  check(cycle.size() >= 2 && cycle.front() == cycle.back(), "a cycle is a closed path");
  std::set<std::string> seen;
  for (std::size_t i = 0; i + 1 < cycle.size(); ++i) {
    check(seen.insert(cycle[i]).second, "a cycle passes each task once");
    const auto task = deps.find(cycle[i]);
    check(task != deps.end(), "every task of a cycle is a task");
    check(std::find(task->second.begin(), task->second.end(), cycle[i + 1]) != task->second.end(),
          "each task of a cycle depends on the next");
  }
  check(*std::min_element(cycle.begin(), cycle.end()) == cycle.front(),
        "a cycle starts at its smallest name");
  check(mentions(e, graph, ""), "CycleError names the graph");
  check(mentions(e, cycle.front(), graph), "CycleError names the cycle's first task");
  check(
      std::string_view(e.what()).size() < 2000 + 12 * graph.size() +
                                              20 *
                                                  [&] {
                                                    std::size_t longest = 0;
                                                    for (const auto& task : cycle)
                                                      longest = std::max(longest, task.size());
                                                    return longest;
                                                  }(),
      "CycleError's message stays short however long the cycle");
}

// --- Checks of a graph that was built. ---

void check_graph(TaskGraph<int>& graph, const Input& input) {
  const DependencyMap& deps = input.deps;
  check(graph.size() == deps.size(), "the graph has every task");
  check(graph.name() == input.options.name, "the graph keeps its name");
  for (const auto& [task, list] : deps) {
    check(graph.contains(task), "every key is a task");
    const NameList got = graph.dependencies(task);
    check(std::vector<std::string>(got.begin(), got.end()) == list,
          "dependencies match the input, in order");
  }
  check(acyclic(deps), "a graph that was built has a topological order");

  std::set<std::string> done(input.options.done.begin(), input.options.done.end());
  for (const auto& [task, list] : deps) {
    check(graph.status(task) == (done.count(task) != 0 ? TaskStatus::done : TaskStatus::pending),
          "statuses follow the done option");
    check(graph.has_result(task) == (input.options.results.count(task) != 0),
          "seeded results are kept");
  }

  // Run it: each task records its name and how many values it was fed.
  std::vector<std::string> visits;
  std::map<std::string, std::size_t> fed;
  for (const auto& [task, list] : deps) {
    graph.set_func(task, [&visits, &fed](Context& ctx, std::span<const int> values) {
      visits.emplace_back(ctx.name());
      fed[std::string(ctx.name())] = values.size();
      return 1;
    });
  }
  const RunSummary summary = run(graph);
  check(summary.failed == 0 && summary.skipped == 0, "trivial tasks never fail");
  std::map<std::string, std::size_t> position;
  for (std::size_t i = 0; i < visits.size(); ++i) {
    check(position.emplace(visits[i], i).second, "each task runs at most once");
  }
  for (const auto& [task, list] : deps) {
    check(graph.status(task) == TaskStatus::done, "after a run every task is done");
    const bool was_done = done.count(task) != 0;
    check((position.count(task) != 0) != was_done, "exactly the tasks not done run");
    if (was_done) continue;
    std::size_t values = 0;
    for (const std::string& dep : list) {
      if (done.count(dep) == 0) {
        check(position.count(dep) != 0 && position[dep] < position[task],
              "a task runs after its dependencies");
        ++values;
      } else if (input.options.results.count(dep) != 0) {
        ++values;
      }
    }
    check(fed[task] == values, "a task is fed the value of every dependency that has one");
  }
}

// What create_graph must do with the input, by the model: build it, or throw for the first
// of these that is not empty, in this order.
struct Expected {
  std::vector<std::string> repeated_tasks;      // pairs only: a dependency list given twice
  std::vector<std::string> repeated_functions;  // pairs only: a name given two functions
  std::vector<std::string> missing_functions;
  std::vector<MissingDependencyError::Edge> missing_edges;
  std::vector<std::string> unknown;
  bool group_error = false;
  bool cycle = false;
};

Expected expect(const Input& input) {
  Expected x;
  x.missing_functions = expected_missing_functions(input);
  x.missing_edges = expected_missing_edges(input);
  x.unknown = expected_unknown(input);
  x.group_error = expected_group_error(input);
  x.cycle = !acyclic(input.deps);
  return x;
}

// Runs `build` (a create_graph call) and checks that it did what `x` predicts.
template <class Build>
void check_build(const Input& input, const Expected& x, Build build) {
  const bool repeats = !x.repeated_tasks.empty() || !x.repeated_functions.empty();
  const bool names_bad =
      repeats || !x.missing_functions.empty() || !x.missing_edges.empty() || !x.unknown.empty();
  const std::string& name = input.options.name;
  try {
    TaskGraph<int> graph = build();
    check(!names_bad && !x.group_error && !x.cycle, "create_graph accepted what the model rejects");
    check_graph(graph, input);
  } catch (const DuplicateTaskError& e) {
    check(repeats, "DuplicateTaskError without a repeated name");
    check(e.tasks() == (!x.repeated_tasks.empty() ? x.repeated_tasks : x.repeated_functions),
          "DuplicateTaskError lists exactly the repeated names, dependency lists first");
    check(mentions(e, name, "") && mentions(e, e.tasks().front(), name),
          "DuplicateTaskError names the graph and the first repeated task");
  } catch (const MissingFunctionError& e) {
    check(!repeats, "repeats are checked before functions");
    check(!x.missing_functions.empty(), "MissingFunctionError without a missing function");
    check(e.tasks() == x.missing_functions, "MissingFunctionError lists exactly those tasks");
    check(mentions(e, name, "") && mentions(e, x.missing_functions.front(), name),
          "MissingFunctionError names the graph and the first task");
  } catch (const MissingDependencyError& e) {
    check(!repeats && x.missing_functions.empty(), "functions are checked before dependencies");
    check(e.edges() == x.missing_edges, "MissingDependencyError lists exactly the missing edges");
    check(
        mentions(e, x.missing_edges.front().missing, name) &&
            mentions(e, x.missing_edges.front().dependent, name + x.missing_edges.front().missing),
        "MissingDependencyError names the first missing task and who needs it");
  } catch (const UnknownTaskError& e) {
    check(!repeats && x.missing_functions.empty() && x.missing_edges.empty(),
          "options are checked after deps");
    check(e.tasks() == x.unknown, "UnknownTaskError lists exactly the unknown names");
    // Names are listed per option, so any unknown name or group may come first.
    std::string before = name;
    for (const std::string& task : x.unknown) before += task;
    for (const auto& entry : input.options.groups) before += entry.first;
    check(mentions(e, x.unknown.front(), before), "UnknownTaskError names the first unknown task");
  } catch (const CycleError& e) {
    check(!names_bad && !x.group_error, "cycles are checked last");
    check(x.cycle, "CycleError for an input with a topological order");
    check_cycle(e, input.deps, name);
  } catch (const TaskListError&) {
    fail("create_graph threw an undocumented TaskListError");
  } catch (const GraphError& e) {
    check(!names_bad, "groups are checked after the names");
    check(x.group_error, "GraphError about groups that are fine");
    // "task 'x' is in two groups" puts a member's name before the word, and a name holding a
    // NUL byte cuts what() short there.
    std::string before = name;
    for (const auto& entry : input.options.groups) {
      for (const std::string& task : entry.second.tasks) before += task;
    }
    check(mentions(e, "group", before), "a group error says which group");
  }
}

void fuzz_create_graph(const Input& input) {
  FuncMap<int> funcs;
  for (const auto& [task, list] : input.deps) {
    if (input.without_function.count(task) == 0) {
      funcs[task] = [] { return 0; };
    } else if (task.size() % 2 == 0) {
      funcs[task] = TaskFn<int>();  // present but empty
    }
  }
  for (const std::string& extra : input.extra_functions) {
    if (input.deps.count(extra) == 0) funcs[extra] = [] { return 0; };
  }
  check_build(input, expect(input),
              [&] { return create_graph<int>(std::move(funcs), input.deps, input.options); });
}

// The same graph from vectors of pairs, the input a user with a big graph writes. Pairs may
// repeat a name, which maps cannot: the dependency vector repeats every task that add_task
// saw more than once (when `repeat` is set), and the function vector holds the extra
// functions as given (repeats included) and lists the tasks' functions back to front every
// other input, so both the in-order match and the lookups are exercised.
void fuzz_create_graph_from_pairs(const Input& input, bool repeat) {
  Expected x = expect(input);
  std::vector<std::pair<std::string, std::vector<std::string>>> deps(input.deps.begin(),
                                                                     input.deps.end());
  std::map<std::string, std::size_t> seen;
  for (const auto& entry : input.added) ++seen[std::get<0>(entry)];
  if (repeat) {
    for (const auto& [task, times] : seen) {
      if (times < 2 || input.deps.count(task) == 0) continue;
      deps.emplace_back(task, input.deps.at(task));
      x.repeated_tasks.push_back(task);
    }
  }
  std::vector<std::pair<std::string, TaskFn<int>>> funcs;
  for (const auto& [task, list] : input.deps) {
    if (input.without_function.count(task) == 0) {
      funcs.emplace_back(task, [] { return 0; });
    } else if (task.size() % 2 == 0) {
      funcs.emplace_back(task, TaskFn<int>());  // present but empty
    }
  }
  if (input.options.name.size() % 2 == 1) std::reverse(funcs.begin(), funcs.end());
  std::map<std::string, std::size_t> extra_count;
  for (const std::string& extra : input.extra_functions) {
    if (input.deps.count(extra) != 0) continue;  // a second function for a task: never given
    funcs.emplace_back(extra, [] { return 0; });
    ++extra_count[extra];
  }
  for (const auto& [extra, times] : extra_count) {
    if (times > 1) x.repeated_functions.push_back(extra);
  }
  check_build(input, x, [&] { return create_graph<int>(std::move(funcs), deps, input.options); });
}

// The same tasks added one at a time: each call either adds the task or throws the error
// its own checks promise, leaving the graph as it was.
void fuzz_add_task(const Input& input) {
  TaskGraph<int> graph(input.options.name);
  DependencyMap added;
  for (const auto& [task, has_function, deps] : input.added) {
    std::vector<std::string> missing;
    bool self = false;
    for (const std::string& dep : deps) {
      if (dep == task) {
        self = true;
        break;
      }
      if (added.count(dep) == 0) missing.push_back(dep);
    }
    try {
      TaskFn<int> fn;
      if (has_function) fn = [] { return 0; };
      graph.add_task(task, std::move(fn), deps);
      check(added.count(task) == 0 && has_function && !self && missing.empty(),
            "add_task accepted a task it should refuse");
      added[task] = deps;
    } catch (const DuplicateTaskError& e) {
      check(added.count(task) != 0, "DuplicateTaskError for a new name");
      check(e.tasks() == std::vector<std::string>{task}, "DuplicateTaskError names the task");
    } catch (const MissingFunctionError& e) {
      check(added.count(task) == 0 && !has_function, "MissingFunctionError with a function");
      check(e.tasks() == std::vector<std::string>{task}, "MissingFunctionError names the task");
    } catch (const CycleError& e) {
      check(added.count(task) == 0 && has_function && self, "CycleError without a self-loop");
      check(e.cycle() == std::vector<std::string>{task, task}, "a self-loop is the cycle");
    } catch (const MissingDependencyError& e) {
      check(added.count(task) == 0 && has_function && !self && !missing.empty(),
            "MissingDependencyError with every dependency present");
      std::vector<MissingDependencyError::Edge> edges;
      for (const std::string& dep : missing) edges.push_back({task, dep});
      check(e.edges() == edges, "MissingDependencyError lists the missing dependencies");
    }
    check(graph.size() == added.size(), "a refused add_task leaves the graph as it was");
  }
  Input as_built;
  as_built.deps = std::move(added);
  as_built.options.name = input.options.name;
  check_graph(graph, as_built);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  Bytes in(data, size);
  const Input input = decode(in);
  fuzz_create_graph(input);
  fuzz_create_graph_from_pairs(input, input.pool.size() % 2 == 0);
  fuzz_add_task(input);
  return 0;
}
