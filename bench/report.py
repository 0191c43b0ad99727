#!/usr/bin/env python3
"""Reads the benchmarks' output and prints the tables of docs/benchmarks.md.

    python3 bench/report.py tables core.json [executors.json ...] [memory.json]
        The markdown tables of every benchmark found in the files: the core benchmark's
        (build, sequential run and rerun, against the baselines), the executors benchmark's
        (capturing tasks against Taskflow and oneTBB, stateless tasks, coroutines, tiny runs,
        CPU-bound scaling, sleepers, observers) and the memory benchmark's (bytes per task
        against Taskflow; the file written by `taskmap_memory_bench --out=`) and the compile
        times of bench/compile_time.py --out= (against Taskflow's hello world).
        `tables` may be left out: `report.py core.json` does the same.

    python3 bench/report.py compare before.json after.json
        Every benchmark of two runs side by side (median ns per task, or the benchmark's own
        unit) with the ratio after / before: to check that a change did not move the figures.

    python3 bench/report.py instructions BEFORE [AFTER] [--scale 10] [--save counts.json]
        Instruction counts (valgrind --tool=callgrind, deterministic unlike wall-clock time)
        of create_graph, run and run_span (taskmap_profile_core) and run_async with plain and
        coroutine tasks (taskmap_profile_async) on each shape, counted inside the measured
        call only. BEFORE and AFTER are build directories (holding
        bench/taskmap_profile_core) or files written by --save; with both, prints the ratio.

Figures are medians over repetitions (the aggregates when the run was made with
--benchmark_report_aggregates_only=true, else the median of the runs).
"""

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
from collections import defaultdict

SHAPES = ["independent", "chain", "binary_tree", "wavefront"]
COUNTERS = ("ns_per_task", "maps_ns_per_task", "create_ns_per_task", "us_per_run", "ms_per_run", "ms_over_target", "start_spread_ms",
            "task_us", "tasks")

# Targets from the issues.
CREATE_TARGET = 150.0  # ns/task
# issue 10: create_graph from user-built maps / the plain one-pass build of the same maps
ONE_PASS_TARGET = 1.0
POOL_VS_TASKFLOW_TARGET = 0.67  # ThreadPoolExecutor{2} / Taskflow Executor(2), capturing tasks
SEQ_VS_LOOP_TARGET = 2.0  # sequential run / hand-written std::function loop
PAIRS_TARGET = 120.0  # ns/task, create_graph from vectors of pairs, 1M tasks
TINY_POOL_TARGET_US = 1.0  # 1-task run on a reused pool
WAVE16_TARGET_US = 3.0  # 16-task wavefront run
MEMORY_TARGET = 232.0  # bytes per task, 1M-task named chain (and at or below Taskflow's)
COMPILE_TARGET_S = 5.0  # quickstart at -O2 with g++ 12
RUN_TARGET = 10.0  # ns/task
# pool / oneTBB, per shape (ns per task; lower is better)
POOL_VS_TBB_TARGET = {"independent": 0.35, "chain": 0.8, "binary_tree": 0.55, "wavefront": 0.6}
COROUTINE_TARGET = 2.0  # coroutine executor / plain-function figure
SLEEP_MS = 200.0
SLEEP_TARGET_MS = SLEEP_MS * 1.10 + 5.0  # within 10 % + a few (5) ms


# ---------------------------------------------------------------------------------------
# Reading Google Benchmark's JSON

class Results:
    """The medians and coefficients of variation of every counter of every benchmark."""

    def __init__(self):
        self.context = {}
        self.medians = defaultdict(dict)
        self.cvs = defaultdict(dict)

    def get(self, name, counter="ns_per_task"):
        return self.medians.get(name, {}).get(counter)

    def cv(self, name, counter="ns_per_task"):
        return self.cvs.get(name, {}).get(counter)

    def has(self, prefix):
        return any(name.startswith(prefix) for name in self.medians)


def benchmark_name(b):
    """"BM_x/shape/iterations:5/manual_time" -> "BM_x/shape"."""
    name = b.get("run_name", b["name"])
    return "/".join(p for p in name.split("/")
                    if p != "manual_time" and not p.startswith("iterations:"))


def load(paths):
    """Reads one or more JSON files into one Results (later files win on a clash)."""
    results = Results()
    for path in paths:
        with open(path, encoding="utf-8") as f:
            doc = json.load(f)
        context = doc.get("context", {})
        if not results.context:
            results.context = context
        medians = defaultdict(dict)
        cvs = defaultdict(dict)
        runs = defaultdict(lambda: defaultdict(list))
        for b in doc["benchmarks"]:
            if b.get("error_occurred"):
                continue
            name = benchmark_name(b)
            for counter in COUNTERS:
                if counter not in b:
                    continue
                if b.get("run_type") == "aggregate":
                    if b.get("aggregate_name") == "median":
                        medians[name][counter] = b[counter]
                    elif b.get("aggregate_name") == "cv":
                        cvs[name][counter] = b[counter]
                else:
                    runs[name][counter].append(b[counter])
        for name, counters in runs.items():
            for counter, values in counters.items():
                medians[name].setdefault(counter, statistics.median(values))
                if len(values) > 1 and statistics.mean(values) != 0:
                    cvs[name].setdefault(counter,
                                         statistics.stdev(values) / statistics.mean(values))
        for name in medians:
            results.medians[name] = medians[name]
            results.cvs[name] = cvs.get(name, {})
    return results


# ---------------------------------------------------------------------------------------
# Formatting

def fmt_ns(value):
    """Core tables: one decimal below 100, none above."""
    if value is None:
        return "—"
    return f"{value:,.1f}" if value < 100 else f"{value:,.0f}"


def fmt(value, digits=None):
    """Executors tables: two decimals below 10, one below 100, none above."""
    if value is None:
        return "—"
    if digits is not None:
        return f"{value:,.{digits}f}"
    if value < 10:
        return f"{value:,.2f}"
    return f"{value:,.1f}" if value < 100 else f"{value:,.0f}"


def ratio(a, b):
    if a is None or b is None or b == 0:
        return None
    return a / b


def fmt_ratio(r):
    return "—" if r is None else f"{r:.2f}×"


def fmt_cv(value, decimals):
    return "—" if value is None else f"{100 * value:.{decimals}f}%"


def verdict(value, target):
    if value is None:
        return "—"
    return "pass" if value <= target else "**FAIL**"


def describe_run(context, load_note="", tail=""):
    load_avg = ", ".join(f"{x:.2f}" for x in context.get("load_avg", []))
    return (f"Run: {context.get('date', '?')} on {context.get('host_name', '?')}, "
            f"{context.get('num_cpus', '?')} CPUs at {context.get('mhz_per_cpu', '?')} MHz, "
            f"load average {load_avg}{load_note}, sizes: {context.get('taskmap_sizes', '?')}, "
            f"taskmap {context.get('taskmap_version', '?')}{tail}")


# ---------------------------------------------------------------------------------------
# Tables of the core benchmark (taskmap_core_bench)

def core_tables(r, context):
    def get(family, shape, counter="ns_per_task"):
        return r.get(f"BM_{family}/{shape}", counter)

    def n_tasks(shape):
        for family in ("build", "run_sequential", "handwritten_loop", "naive_build"):
            n = r.get(f"BM_{family}/{shape}", "tasks")
            if n is not None:
                return f"{int(round(n)):,}"
        return "—"

    print(describe_run(context))
    print()
    print("### Build from user-built maps, capturing tasks (ns per task; median of repetitions)")
    print()
    print("Maps: fresh `FuncMap` / `DependencyMap` filled with `emplace` in one loop; build: "
          "`create_graph` (or the baseline) from them, destroying them.")
    print()
    print("| shape | tasks | maps + create_graph | cv | maps | create_graph | one-pass baseline "
          "(its build part) | create_graph / one-pass "
          f"| target ≤ {ONE_PASS_TARGET:.1f}× | naive_build, maps + build | stateless tasks, "
          "maps + create_graph |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---|---:|---:|")
    build_shapes = SHAPES + ["independent_10k"]
    for shape in build_shapes:
        total = get("build", shape)
        if total is None:
            continue
        maps = get("build", shape, "maps_ns_per_task")
        create = get("build", shape, "create_ns_per_task")
        one_pass = get("one_pass", shape, "create_ns_per_task")
        rt = ratio(create, one_pass)
        print(f"| {shape} | {n_tasks(shape)} | {fmt_ns(total)} "
              f"| {fmt_cv(r.cv(f'BM_build/{shape}'), 1)} | {fmt_ns(maps)} | {fmt_ns(create)} "
              f"| {fmt_ns(one_pass)} | {fmt_ratio(rt)} | {verdict(rt, ONE_PASS_TARGET)} "
              f"| {fmt_ns(get('naive_build', shape))} | {fmt_ns(get('build_stateless', shape))} |")
    if any(get("build_pairs", shape) is not None for shape in build_shapes):
        print()
        print("### Build from vectors of pairs, capturing tasks (ns per task; median of "
              "repetitions)")
        print()
        print("Vectors: `std::vector` of (name, function) and (name, dependency names) pairs, "
              "reserved and filled with `emplace_back` in one loop; build: `create_graph` from "
              "them, destroying them.")
        print()
        print(f"| shape | tasks | vectors + create_graph | cv | vectors | create_graph "
              f"| target ≤ {PAIRS_TARGET:.0f} | create_graph from maps (above) |")
        print("|---|---:|---:|---:|---:|---:|---|---:|")
        for shape in build_shapes:
            total = get("build_pairs", shape)
            if total is None:
                continue
            create = get("build_pairs", shape, "create_ns_per_task")
            print(f"| {shape} | {n_tasks(shape)} | {fmt_ns(total)} "
                  f"| {fmt_cv(r.cv(f'BM_build_pairs/{shape}'), 1)} "
                  f"| {fmt_ns(get('build_pairs', shape, 'maps_ns_per_task'))} | {fmt_ns(create)} "
                  f"| {verdict(create, PAIRS_TARGET)} "
                  f"| {fmt_ns(get('build', shape, 'create_ns_per_task'))} |")
    print()
    print("### Sequential run, capturing tasks (ns per task; median of repetitions)")
    print()
    print("| shape | tasks | run | cv | reset + run | handwritten loop (baseline) | run / baseline "
          f"| target ≤ {SEQ_VS_LOOP_TARGET:.0f}× | loop, create_graph's task order "
          "| stateless: run | stateless: run, span tasks | stateless: loop |")
    print("|---|---:|---:|---:|---:|---:|---:|---|---:|---:|---:|---:|")
    for shape in SHAPES:
        run = get("run_sequential", shape)
        loop = get("handwritten_loop", shape)
        print(f"| {shape} | {n_tasks(shape)} | {fmt_ns(run)} "
              f"| {fmt_cv(r.cv(f'BM_run_sequential/{shape}'), 1)} "
              f"| {fmt_ns(get('rerun_sequential', shape))} | {fmt_ns(loop)} "
              f"| {fmt_ratio(ratio(run, loop))} | {verdict(ratio(run, loop), SEQ_VS_LOOP_TARGET)} "
              f"| {fmt_ns(get('handwritten_loop_maporder', shape))} "
              f"| {fmt_ns(get('run_sequential_stateless', shape))} "
              f"| {fmt_ns(get('run_sequential_span', shape))} "
              f"| {fmt_ns(get('handwritten_loop_stateless', shape))} |")
    missing = [s for s in SHAPES if get("build", s) is None or get("run_sequential", s) is None]
    if missing:
        print(f"\n(no data for: {', '.join(missing)})", file=sys.stderr)


# ---------------------------------------------------------------------------------------
# Tables of the executors benchmark (taskmap_executors_bench)

def executors_tables(r, context):
    get = r.get

    def cv(name, counter="ns_per_task"):
        return fmt_cv(r.cv(name, counter), 0)

    def tasks(shape):
        for family in ("BM_seq_capture", "BM_seq_plain", "BM_pool_plain", "BM_tbb_flow",
                       "BM_taskflow"):
            n = get(f"{family}/{shape}", "tasks")
            if n is not None:
                return f"{int(round(n)):,}"
        return "—"

    taskflow = r.has("BM_taskflow")
    tail = (f", oneTBB {context.get('tbb_version', '?')}"
            + (f", Taskflow {context.get('taskflow_version', '?')}" if taskflow else "")
            + f", {context.get('workers', '?')} workers")
    print(describe_run(context, " (at the start)", tail))
    print()
    print("#### Capturing tasks: taskmap against Taskflow and oneTBB (ns per task; median of "
          "repetitions)")
    print()
    print("Build: fresh maps filled with `emplace` + `create_graph` (taskmap); a fresh "
          "`tf::Taskflow`, `emplace` + `precede` (Taskflow). Run: a fresh copy of the graph; "
          "rerun: `reset_tasks` + run of the same graph (Taskflow and oneTBB rerun their graph "
          "as is).")
    print()
    head = ("| shape | tasks | build | `run` | `run` rerun | pool{2} | pool{2} rerun "
            "| oneTBB flow graph | pool / oneTBB |")
    rule = "|---|---:|---:|---:|---:|---:|---:|---:|---:|"
    if taskflow:
        head += (" Taskflow build | build / Taskflow | Taskflow `Executor(2)` run "
                 f"| pool / Taskflow | target ≤ {POOL_VS_TASKFLOW_TARGET}× "
                 "| pool rerun / Taskflow | `run` / Taskflow |")
        rule += "---:|---:|---:|---:|---|---:|---:|"
    print(head)
    print(rule)
    for shape in SHAPES:
        build = get(f"BM_build_capture/{shape}")
        seq = get(f"BM_seq_capture/{shape}")
        pool = get(f"BM_pool_capture/{shape}")
        pool_rerun = get(f"BM_pool_rerun_capture/{shape}")
        tbb = get(f"BM_tbb_flow/{shape}")
        row = (f"| {shape} | {tasks(shape)} | {fmt(build)} | {fmt(seq)} "
               f"| {fmt(get(f'BM_seq_rerun_capture/{shape}'))} | {fmt(pool)} | {fmt(pool_rerun)} "
               f"| {fmt(tbb)} | {fmt_ratio(ratio(pool, tbb))} |")
        if taskflow:
            tf_build = get(f"BM_taskflow_build/{shape}")
            tf = get(f"BM_taskflow/{shape}")
            row += (f" {fmt(tf_build)} | {fmt_ratio(ratio(build, tf_build))} | {fmt(tf)} "
                    f"| {fmt_ratio(ratio(pool, tf))} "
                    f"| {verdict(ratio(pool, tf), POOL_VS_TASKFLOW_TARGET)} "
                    f"| {fmt_ratio(ratio(pool_rerun, tf))} | {fmt_ratio(ratio(seq, tf))} |")
        print(row)
    print()
    title = ("Stateless taskmap tasks: ThreadPoolExecutor vs oneTBB flow graph"
             + (" and Taskflow" if taskflow else "")
             + " (whose tasks are the capturing ones above)")
    print(f"#### {title} (ns per task; median of repetitions)")
    print()
    head = ("| shape | tasks | `run` (sequential) | `ThreadPoolExecutor{2}` | cv | oneTBB flow graph | cv "
            "| pool / oneTBB | target | verdict | pool / sequential |")
    rule = "|---|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|"
    if taskflow:
        head += " Taskflow `Executor(2)` | cv | pool / Taskflow |"
        rule += "---:|---:|---:|"
    print(head)
    print(rule)
    for shape in SHAPES:
        seq = get(f"BM_seq_plain/{shape}")
        pool = get(f"BM_pool_plain/{shape}")
        tbb = get(f"BM_tbb_flow/{shape}")
        rt = ratio(pool, tbb)
        target = POOL_VS_TBB_TARGET[shape]
        row = (f"| {shape} | {tasks(shape)} | {fmt(seq)} | {fmt(pool)} | {cv(f'BM_pool_plain/{shape}')} "
               f"| {fmt(tbb)} | {cv(f'BM_tbb_flow/{shape}')} | {fmt_ratio(rt)} | ≤ {target:.2f}× "
               f"| {verdict(rt, target)} | {fmt_ratio(ratio(pool, seq))} |")
        if taskflow:
            tf = get(f"BM_taskflow/{shape}")
            row += f" {fmt(tf)} | {cv(f'BM_taskflow/{shape}')} | {fmt_ratio(ratio(pool, tf))} |"
        print(row)
    print()
    print("#### Coroutine tasks vs plain-function tasks (ns per task; median of repetitions)")
    print()
    print("| shape | `run` plain | `run_async` plain | `run_async` coroutines | async coro / `run` plain "
          f"| verdict (≤ {COROUTINE_TARGET:.0f}×) | `ThreadPoolExecutor{{2}}` plain "
          "| `CoroutinePoolExecutor{2}` coroutines | coro pool / thread pool plain "
          f"| verdict (≤ {COROUTINE_TARGET:.0f}×) |")
    print("|---|---:|---:|---:|---:|---|---:|---:|---:|---|")
    for shape in SHAPES:
        seq = get(f"BM_seq_plain/{shape}")
        async_plain = get(f"BM_async_plain/{shape}")
        async_coro = get(f"BM_async_coro/{shape}")
        pool = get(f"BM_pool_plain/{shape}")
        coropool = get(f"BM_coropool_coro/{shape}")
        r1, r2 = ratio(async_coro, seq), ratio(coropool, pool)
        print(f"| {shape} | {fmt(seq)} | {fmt(async_plain)} | {fmt(async_coro)} | {fmt_ratio(r1)} "
              f"| {verdict(r1, COROUTINE_TARGET)} | {fmt(pool)} | {fmt(coropool)} | {fmt_ratio(r2)} "
              f"| {verdict(r2, COROUTINE_TARGET)} |")
    print()
    print("#### Latency of tiny runs: a 1-task graph and a 16-task (4 × 4) wavefront, capturing "
          "tasks (µs per run; median of repetitions)")
    print()
    print("| runner | 1 task, back to back (hot) | 1 task, after a 2 ms pause (workers parked) "
          "| 16-task wavefront, hot | 16-task wavefront, parked |")
    print("|---|---:|---:|---:|---:|")

    def us(name):
        return get(name, "us_per_run")

    print(f"| `taskmap::run` (sequential) | {fmt(us('BM_tiny_seq'))} | — "
          f"| {fmt(us('BM_wave16_seq'))} | — |")
    print(f"| reused `ThreadPoolExecutor{{2}}` | {fmt(us('BM_tiny_pool/hot'))} "
          f"| {fmt(us('BM_tiny_pool/parked'))} | {fmt(us('BM_wave16_pool/hot'))} "
          f"| {fmt(us('BM_wave16_pool/parked'))} |")
    print(f"| oneTBB flow graph, `continue_node`s, `task_arena(2)` | {fmt(us('BM_tiny_tbb/hot'))} "
          f"| {fmt(us('BM_tiny_tbb/parked'))} | {fmt(us('BM_wave16_tbb/hot'))} "
          f"| {fmt(us('BM_wave16_tbb/parked'))} |")
    if taskflow:
        print(f"| Taskflow, `Executor(2)` | {fmt(us('BM_tiny_taskflow/hot'))} "
              f"| {fmt(us('BM_tiny_taskflow/parked'))} | {fmt(us('BM_wave16_taskflow/hot'))} | — |")
        print(f"| pool / Taskflow | {fmt_ratio(ratio(us('BM_tiny_pool/hot'), us('BM_tiny_taskflow/hot')))} "
              f"| {fmt_ratio(ratio(us('BM_tiny_pool/parked'), us('BM_tiny_taskflow/parked')))} "
              f"| {fmt_ratio(ratio(us('BM_wave16_pool/hot'), us('BM_wave16_taskflow/hot')))} | — |")
    print(f"| target (pool) | ≤ {TINY_POOL_TARGET_US:.0f} µs: "
          f"{verdict(us('BM_tiny_pool/hot'), TINY_POOL_TARGET_US)} | — "
          f"| ≤ {WAVE16_TARGET_US:.0f} µs: {verdict(us('BM_wave16_pool/hot'), WAVE16_TARGET_US)} |")
    print()
    task_us = get("BM_cpu_seq/1", "task_us")
    print(f"#### CPU-bound scaling: 64 independent tasks of ~{fmt(task_us, 0)} µs of arithmetic "
          "(ms per run; median of repetitions)")
    print()
    print("| runner | ms per run | speed-up vs `run` |")
    print("|---|---:|---:|")
    seq = get("BM_cpu_seq/1", "ms_per_run")
    for label, name in (("`run` (sequential)", "BM_cpu_seq/1"),
                        ("`run_parallel(g, {.ncores = 1})`", "BM_cpu_run_parallel/1"),
                        ("`run_parallel(g, {.ncores = 2})`", "BM_cpu_run_parallel/2"),
                        ("reused `ThreadPoolExecutor{2}`", "BM_cpu_pool/2")):
        ms = get(name, "ms_per_run")
        print(f"| {label} | {fmt(ms, 2)} | {fmt_ratio(ratio(seq, ms))} |")
    print()
    print(f"#### Timer scalability: 100,000 coroutine tasks, each `co_await sleep_for({SLEEP_MS:.0f}ms)` "
          "(median of repetitions)")
    print()
    print(f"| executor | wall time (ms) | over {SLEEP_MS:.0f} ms | time to start all tasks (ms) "
          f"| target ≤ {SLEEP_TARGET_MS:.0f} ms | verdict |")
    print("|---|---:|---:|---:|---:|---|")
    for label, name, has_target in (("`run_async`", "BM_sleepers_async", True),
                                    ("`CoroutinePoolExecutor{2}` (no target)", "BM_sleepers_coropool", False)):
        ms = get(name, "ms_per_run")
        print(f"| {label} | {fmt(ms, 1)} | {fmt(get(name, 'ms_over_target'), 1)} "
              f"| {fmt(get(name, 'start_spread_ms'), 1)} | {'≤ ' + format(SLEEP_TARGET_MS, '.0f') if has_target else '—'} "
              f"| {verdict(ms, SLEEP_TARGET_MS) if has_target else '—'} |")
    print()
    print("#### Observer overhead: sequential run of `independent` (ns per task; median of repetitions)")
    print()
    base_name = "BM_observers_default" if get("BM_observers_default") else "BM_seq_plain/independent"
    base = get(base_name)
    print("| options | ns per task | vs `run(g)` |")
    print("|---|---:|---:|")
    for label, name in (("`run(g)` (BM_seq_plain, just before)", "BM_seq_plain/independent"),
                        ("`run(g, RunOptions{.observers = {}})`", "BM_observers_empty"),
                        ("`run(g, {.observers = {no-op observer}})`", "BM_observers_noop"),
                        ("`run(g)` again, just after (reference)", "BM_observers_default")):
        if get(name) is None:
            continue
        value = get(name)
        print(f"| {label} | {fmt(value)} | {fmt_ratio(ratio(value, base))} |")


def memory_tables(doc):
    """The table of taskmap_memory_bench --out=FILE."""
    context = doc.get("context", {})
    rows = {row["library"]: row for row in doc["memory"]}
    print(f"### Memory: bytes per task, {context.get('shape', '?')} of "
          f"{context.get('tasks', 0):,} tasks (taskmap {context.get('taskmap_version', '?')})")
    print()
    print("Growth over the process before building, after `malloc_trim`: resident set "
          "(`/proc/self/statm`) and bytes malloc has handed out (`mallinfo2`).")
    print()
    print("| library | RSS, built | heap, built | RSS, after one run | heap, after one run |")
    print("|---|---:|---:|---:|---:|")
    for name, row in rows.items():
        flag = "" if row.get("ok", True) else " (WRONG RESULT)"
        print(f"| {name}{flag} | {fmt(row['rss_built'], 0)} | {fmt(row['heap_built'], 0)} "
              f"| {fmt(row['rss_run'], 0)} | {fmt(row['heap_run'], 0)} |")
    tm, tf = rows.get("taskmap"), rows.get("taskflow")
    if tm and tf:
        print(f"| taskmap / Taskflow | {fmt_ratio(ratio(tm['rss_built'], tf['rss_built']))} "
              f"| {fmt_ratio(ratio(tm['heap_built'], tf['heap_built']))} "
              f"| {fmt_ratio(ratio(tm['rss_run'], tf['rss_run']))} "
              f"| {fmt_ratio(ratio(tm['heap_run'], tf['heap_run']))} |")
    if tm:
        print(f"| target (taskmap) | ≤ {MEMORY_TARGET:.0f}: {verdict(tm['rss_built'], MEMORY_TARGET)} "
              f"| ≤ {MEMORY_TARGET:.0f}: {verdict(tm['heap_built'], MEMORY_TARGET)} | — | — |")


def compile_tables(doc):
    """The table of bench/compile_time.py --out=FILE."""
    rows = {row["name"]: row for row in doc["rows"]}
    print(f"### Compile time: one file at -O2, best of {doc.get('repeat', '?')} "
          f"({doc.get('compiler', '?')})")
    print()
    print("| file | wall (s) | CPU (s) | / Taskflow's hello world |")
    print("|---|---:|---:|---:|")
    reference = rows.get("taskflow_hello")
    for name, row in rows.items():
        versus = fmt_ratio(ratio(row["wall_s"], reference["wall_s"])) if reference else "—"
        print(f"| {name} | {row['wall_s']:.2f} | {row['cpu_s']:.2f} | {versus} |")
    if "quickstart" in rows:
        print(f"| target (quickstart) | ≤ {COMPILE_TARGET_S:.0f}: "
              f"{verdict(rows['quickstart']['wall_s'], COMPILE_TARGET_S)} | | |")


def cmd_tables(args):
    printed = False
    for path in args.json:
        with open(path, encoding="utf-8") as f:
            doc = json.load(f)
        if "rows" in doc and "compiler" in doc:
            if printed:
                print()
            compile_tables(doc)
            printed = True
            continue
        if "memory" in doc:
            if printed:
                print()
            memory_tables(doc)
            printed = True
            continue
        r = load([path])
        if r.has("BM_build/") or r.has("BM_run_sequential/"):
            if printed:
                print()
            core_tables(r, r.context)
            printed = True
        if any(r.has(p) for p in ("BM_seq_capture/", "BM_seq_plain/", "BM_tbb_flow/", "BM_taskflow/", "BM_tiny_",
                                  "BM_cpu_", "BM_sleepers_")):
            if printed:
                print()
            executors_tables(r, r.context)
            printed = True
    if not printed:
        sys.exit("report.py: no taskmap benchmark found in " + ", ".join(args.json))


# ---------------------------------------------------------------------------------------
# Two runs side by side

def main_counter(counters):
    for counter in ("ns_per_task", "us_per_run", "ms_per_run"):
        if counter in counters:
            return counter
    return None


def cmd_compare(args):
    before, after = load([args.before]), load([args.after])
    print(f"Before: {describe_run(before.context)}")
    print(f"After:  {describe_run(after.context)}")
    print()
    print("| benchmark | unit | before | after | after / before |")
    print("|---|---|---:|---:|---:|")
    names = list(before.medians) + [n for n in after.medians if n not in before.medians]
    ratios = []
    for name in names:
        counter = main_counter(before.medians.get(name, {})) or main_counter(after.medians.get(name, {}))
        if counter is None:
            continue
        b, a = before.get(name, counter), after.get(name, counter)
        r = ratio(a, b)
        if r is not None:
            ratios.append(r)
        print(f"| {name} | {counter} | {fmt(b)} | {fmt(a)} | {fmt_ratio(r)} |")
    if ratios:
        print()
        print(f"after / before over {len(ratios)} benchmarks: median {statistics.median(ratios):.3f}, "
              f"range {min(ratios):.2f}–{max(ratios):.2f}")


# ---------------------------------------------------------------------------------------
# Instruction counts under callgrind

# operation -> the profiling driver that measures it
DRIVERS = {"create_graph": "taskmap_profile_core", "run": "taskmap_profile_core",
           "run_span": "taskmap_profile_core", "run_async": "taskmap_profile_async",
           "run_async_coro": "taskmap_profile_async"}
OPERATIONS = list(DRIVERS)
TASKS_LINE = re.compile(r"^(\S+) (\S+): (\d+) tasks, checksum (-?\d+)$", re.M)


def profile_binary(build_dir, driver):
    """The driver in a build directory, or None when that build has none (an older commit)."""
    for candidate in (os.path.join(build_dir, "bench", driver), os.path.join(build_dir, driver)):
        if os.path.isfile(candidate) and os.access(candidate, os.X_OK):
            return candidate
    return None


def count_instructions(binary, shape, operation, scale, repeat):
    """Instructions executed inside bench::measured_* (per call) and the task count, or None
    when the driver does not know the operation."""
    with tempfile.TemporaryDirectory(prefix="taskmap-callgrind-") as tmp:
        out = os.path.join(tmp, "callgrind.out")
        proc = subprocess.run(
            ["valgrind", "--tool=callgrind", "--toggle-collect=bench::measured*",
             f"--callgrind-out-file={out}", binary, shape, operation, str(scale), str(repeat)],
            capture_output=True, text=True, check=False)
        if proc.returncode == 2 and "unknown operation" in proc.stderr:
            return None  # an older driver: the operation is reported as missing
        if proc.returncode != 0:
            sys.exit(f"report.py: {binary} {shape} {operation} {scale} {repeat} failed "
                     f"(exit {proc.returncode}):\n{proc.stdout}{proc.stderr}")
        match = TASKS_LINE.search(proc.stdout)
        if match is None:
            sys.exit(f"report.py: unexpected output from {binary}: {proc.stdout!r}")
        with open(out, encoding="utf-8") as f:
            summary = re.search(r"^summary: (\d+)", f.read(), re.M)
        if summary is None:
            sys.exit(f"report.py: no summary line in callgrind's output for {shape} {operation}")
        return int(summary.group(1)) // repeat, int(match.group(3))


def measure(source, scale, repeat, operations):
    """Counts of a build directory, or the counts saved in a JSON file by --save."""
    if os.path.isfile(source) and source.endswith(".json"):
        with open(source, encoding="utf-8") as f:
            saved = json.load(f)
        if saved["scale"] != scale:
            sys.exit(f"report.py: {source} was measured at scale {saved['scale']}, not {scale}")
        saved["counts"] = {k: v for k, v in saved["counts"].items()
                           if k.split(" ")[1] in operations}
        return saved
    if shutil.which("valgrind") is None:
        sys.exit("report.py: valgrind is not installed")
    if not os.path.isdir(source):
        sys.exit(f"report.py: {source} is neither a build directory nor a file written by --save")
    counts = {}
    binaries = {}
    for operation in operations:
        if operation not in DRIVERS:
            sys.exit(f"report.py: unknown operation {operation} (known: {', '.join(OPERATIONS)})")
        driver = DRIVERS[operation]
        binary = binaries.setdefault(driver, profile_binary(source, driver))
        if binary is None:
            print(f"  {source}: no {driver} (build that target): no {operation} counts",
                  file=sys.stderr)
            continue
        for shape in SHAPES:
            counted = count_instructions(binary, shape, operation, scale, repeat)
            if counted is None:
                print(f"  {binary}: no operation {operation}", file=sys.stderr)
                break
            ir, tasks = counted
            counts[f"{shape} {operation}"] = {"instructions": ir, "tasks": tasks}
            print(f"  {os.path.basename(os.path.normpath(source))}: {shape} {operation}: "
                  f"{ir:,} instructions, {tasks:,} tasks", file=sys.stderr)
    if not counts:
        sys.exit(f"report.py: no profiling driver in {source} (build the targets "
                 "taskmap_profile_core and taskmap_profile_async of a Release benchmark build)")
    return {"source": os.path.abspath(source), "scale": scale,
            "counts": dict(sorted(counts.items(), key=lambda kv: order_key(kv[0])))}


def order_key(key):
    shape, operation = key.split(" ")
    return SHAPES.index(shape), OPERATIONS.index(operation)


def cmd_instructions(args):
    operations = args.operations.split(",")
    before = measure(args.before, args.scale, args.repeat, operations)
    after = measure(args.after, args.scale, args.repeat, operations) if args.after else None
    if args.save:
        with open(args.save, "w", encoding="utf-8") as f:
            json.dump(after or before, f, indent=1)
            f.write("\n")
    print(f"Instructions inside the measured call (callgrind, --toggle-collect='bench::measured*'), "
          f"taskmap_profile_core / taskmap_profile_async at scale {args.scale}")
    print(f"before: {before['source']}")
    if after:
        print(f"after:  {after['source']}")
    print()
    if after is None:
        print("| shape | operation | tasks | instructions | per task |")
        print("|---|---|---:|---:|---:|")
    else:
        print("| shape | operation | tasks | before | after | before per task | after per task "
              "| after / before |")
        print("|---|---|---:|---:|---:|---:|---:|---:|")
    moved = []
    keys = set(before["counts"])
    if after is not None:
        keys |= set(after["counts"])
    keys = sorted(keys, key=order_key)
    for key in keys:
        shape, operation = key.split(" ")
        b = before["counts"].get(key)
        if after is None:
            per_b = b["instructions"] / b["tasks"]
            print(f"| {shape} | {operation} | {b['tasks']:,} | {b['instructions']:,} | {per_b:,.1f} |")
            continue
        a = after["counts"].get(key)
        if a is None or b is None:
            one = a or b
            per = f"{one['instructions'] / one['tasks']:,.1f}"
            print(f"| {shape} | {operation} | {one['tasks']:,} "
                  f"| {'—' if b is None else format(b['instructions'], ',')} "
                  f"| {'—' if a is None else format(a['instructions'], ',')} "
                  f"| {'—' if b is None else per} | {'—' if a is None else per} | — |")
            continue
        if a["tasks"] != b["tasks"]:
            sys.exit(f"report.py: {key}: {b['tasks']} tasks before, {a['tasks']} after: "
                     "the shapes differ, the counts are not comparable")
        per_b = b["instructions"] / b["tasks"]
        per_a = a["instructions"] / a["tasks"]
        r = a["instructions"] / b["instructions"]
        if abs(r - 1) > args.tolerance:
            moved.append(key)
        print(f"| {shape} | {operation} | {b['tasks']:,} | {b['instructions']:,} "
              f"| {a['instructions']:,} | {per_b:,.1f} | {per_a:,.1f} | {r:.3f}× |")
    if after is not None:
        print()
        if moved:
            print(f"Moved by more than {100 * args.tolerance:.1f} %: {', '.join(moved)}")
        else:
            print(f"No count moved by more than {100 * args.tolerance:.1f} %.")


# ---------------------------------------------------------------------------------------

def main():
    argv = sys.argv[1:]
    if argv and argv[0].endswith(".json"):
        argv = ["tables"] + argv
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter,
                                     epilog="\n".join(__doc__.splitlines()[1:]))
    sub = parser.add_subparsers(dest="command", required=True)
    tables = sub.add_parser("tables", help="markdown tables of one or more benchmark runs")
    tables.add_argument("json", nargs="+",
                        help="output of --benchmark_out=... --benchmark_out_format=json")
    tables.set_defaults(func=cmd_tables)
    compare = sub.add_parser("compare", help="two runs side by side, with ratios")
    compare.add_argument("before")
    compare.add_argument("after")
    compare.set_defaults(func=cmd_compare)
    instr = sub.add_parser("instructions", help="callgrind instruction counts, with ratios")
    instr.add_argument("before", help="build directory, or a file written by --save")
    instr.add_argument("after", nargs="?", help="build directory, or a file written by --save")
    instr.add_argument("--scale", type=int, default=10,
                       help="divides the shapes' sizes (taskmap_profile_core's scale; default 10)")
    instr.add_argument("--repeat", type=int, default=1,
                       help="measured calls per valgrind run (the counts are per call)")
    instr.add_argument("--operations", default=",".join(OPERATIONS),
                       help="operations, comma-separated (default: "
                            + ",".join(OPERATIONS) + ")")
    instr.add_argument("--tolerance", type=float, default=0.005,
                       help="relative change reported as moved (default 0.005)")
    instr.add_argument("--save", help="write the counts of AFTER (or of BEFORE alone) to this file")
    instr.set_defaults(func=cmd_instructions)
    args = parser.parse_args(argv)
    args.func(args)


if __name__ == "__main__":
    main()
