#!/usr/bin/env python3
"""Turns taskmap_executors_bench's JSON output into the "Executors" tables of docs/benchmarks.md.

    taskmap_executors_bench --benchmark_repetitions=3 --benchmark_report_aggregates_only=true \
        --benchmark_out=executors.json --benchmark_out_format=json
    python3 bench/report_executors.py executors.json

For each benchmark and counter it takes the median over repetitions (or the median of the
runs when there are no aggregates), then prints the tables with ratios and whether the
issue's targets are met.
"""

import argparse
import json
import statistics
from collections import defaultdict

SHAPES = ["independent", "chain", "binary_tree", "wavefront"]
# pool / oneTBB, per shape (ns per task; lower is better)
POOL_VS_TBB_TARGET = {"independent": 0.35, "chain": 0.8, "binary_tree": 0.55, "wavefront": 0.6}
COROUTINE_TARGET = 2.0  # coroutine executor / plain-function figure
SLEEP_MS = 200.0
SLEEP_TARGET_MS = SLEEP_MS * 1.10 + 5.0  # within 10 % + a few (5) ms
COUNTERS = ("ns_per_task", "us_per_run", "ms_per_run", "ms_over_target", "start_spread_ms",
            "task_us", "tasks")


def load(path):
    """Returns (context, {benchmark: {counter: median}}, {benchmark: {counter: cv}})."""
    with open(path, encoding="utf-8") as f:
        doc = json.load(f)
    medians = defaultdict(dict)
    cvs = defaultdict(dict)
    runs = defaultdict(lambda: defaultdict(list))
    for b in doc["benchmarks"]:
        name = b.get("run_name", b["name"])
        for suffix in ("/manual_time",):
            name = name.replace(suffix, "")
        # "BM_x/shape/iterations:5" -> "BM_x/shape"
        name = "/".join(p for p in name.split("/") if not p.startswith("iterations:"))
        if b.get("error_occurred"):
            continue
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
                cvs[name].setdefault(counter, statistics.stdev(values) / statistics.mean(values))
    return doc.get("context", {}), medians, cvs


def fmt(value, digits=None):
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


def verdict(value, target):
    if value is None:
        return "—"
    return "pass" if value <= target else "**FAIL**"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("json", help="output of --benchmark_out=... --benchmark_out_format=json")
    args = parser.parse_args()
    context, med, cvs = load(args.json)

    def get(name, counter="ns_per_task"):
        return med.get(name, {}).get(counter)

    def cv(name, counter="ns_per_task"):
        value = cvs.get(name, {}).get(counter)
        return "—" if value is None else f"{100 * value:.0f}%"

    def tasks(shape):
        for family in ("BM_seq_plain", "BM_pool_plain", "BM_tbb_flow"):
            n = get(f"{family}/{shape}", "tasks")
            if n is not None:
                return f"{int(round(n)):,}"
        return "—"

    load_avg = ", ".join(f"{x:.2f}" for x in context.get("load_avg", []))
    print(f"Run: {context.get('date', '?')} on {context.get('host_name', '?')}, "
          f"{context.get('num_cpus', '?')} CPUs at {context.get('mhz_per_cpu', '?')} MHz, "
          f"load average {load_avg} (at the start), sizes: {context.get('taskmap_sizes', '?')}, "
          f"taskmap {context.get('taskmap_version', '?')}, oneTBB {context.get('tbb_version', '?')}, "
          f"{context.get('workers', '?')} workers")
    print()
    print("#### ThreadPoolExecutor vs oneTBB flow graph (ns per task; median of repetitions)")
    print()
    print("| shape | tasks | `run` (sequential) | `ThreadPoolExecutor{2}` | cv | oneTBB flow graph | cv "
          "| pool / oneTBB | target | verdict | pool / sequential |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|")
    for shape in SHAPES:
        seq = get(f"BM_seq_plain/{shape}")
        pool = get(f"BM_pool_plain/{shape}")
        tbb = get(f"BM_tbb_flow/{shape}")
        r = ratio(pool, tbb)
        target = POOL_VS_TBB_TARGET[shape]
        print(f"| {shape} | {tasks(shape)} | {fmt(seq)} | {fmt(pool)} | {cv(f'BM_pool_plain/{shape}')} "
              f"| {fmt(tbb)} | {cv(f'BM_tbb_flow/{shape}')} | {fmt_ratio(r)} | ≤ {target:.2f}× "
              f"| {verdict(r, target)} | {fmt_ratio(ratio(pool, seq))} |")
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
    print("#### Latency of a tiny run: a 1-task graph (µs per run; median of repetitions)")
    print()
    print("| runner | back to back (hot) | after a 2 ms pause (workers parked) |")
    print("|---|---:|---:|")
    print(f"| `taskmap::run` (sequential) | {fmt(get('BM_tiny_seq', 'us_per_run'))} | — |")
    print(f"| reused `ThreadPoolExecutor{{2}}` | {fmt(get('BM_tiny_pool/hot', 'us_per_run'))} "
          f"| {fmt(get('BM_tiny_pool/parked', 'us_per_run'))} |")
    print(f"| oneTBB flow graph, 1 `continue_node`, `task_arena(2)` | {fmt(get('BM_tiny_tbb/hot', 'us_per_run'))} "
          f"| {fmt(get('BM_tiny_tbb/parked', 'us_per_run'))} |")
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


if __name__ == "__main__":
    main()
