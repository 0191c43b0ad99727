#!/usr/bin/env python3
"""Turns taskmap_core_bench's JSON output into the markdown tables of docs/benchmarks.md.

    taskmap_core_bench --benchmark_repetitions=3 --benchmark_report_aggregates_only=true \
        --benchmark_out=core.json --benchmark_out_format=json
    python3 bench/report.py core.json

For each benchmark it takes the median over repetitions of the `ns_per_task` counter (or
the mean of the runs when there are no aggregates), then prints ns/task, the ratio to the
baseline measured in the same binary, and whether the issue's target is met.
"""

import argparse
import json
import statistics
import sys
from collections import defaultdict

SHAPES = ["independent", "chain", "binary_tree", "wavefront"]
CREATE_TARGET = 150.0  # ns/task
RUN_TARGET = 10.0  # ns/task


def load(path):
    with open(path, encoding="utf-8") as f:
        doc = json.load(f)
    medians = {}
    cvs = {}
    runs = defaultdict(list)
    tasks = {}
    for b in doc["benchmarks"]:
        name = b.get("run_name", b["name"]).replace("/manual_time", "")
        if "ns_per_task" not in b:
            continue
        if b.get("aggregate_name") not in ("cv", "stddev"):
            tasks[name] = int(round(b.get("tasks", 0)))
        if b.get("run_type") == "aggregate":
            if b.get("aggregate_name") == "median":
                medians[name] = b["ns_per_task"]
            elif b.get("aggregate_name") == "cv":
                cvs[name] = b["ns_per_task"]
        else:
            runs[name].append(b["ns_per_task"])
    for name, values in runs.items():
        medians.setdefault(name, statistics.median(values))
        if len(values) > 1 and name not in cvs:
            cvs[name] = statistics.stdev(values) / statistics.mean(values)
    return doc.get("context", {}), medians, cvs, tasks


def fmt_ns(value):
    if value is None:
        return "—"
    return f"{value:,.1f}" if value < 100 else f"{value:,.0f}"


def fmt_ratio(a, b):
    if a is None or b is None or b == 0:
        return "—"
    return f"{a / b:.2f}×"


def fmt_cv(cvs, name):
    cv = cvs.get(name)
    return "—" if cv is None else f"{100 * cv:.1f}%"


def verdict(value, target):
    if value is None:
        return "—"
    return "pass" if value <= target else "**FAIL**"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("json", help="output of --benchmark_out=... --benchmark_out_format=json")
    args = parser.parse_args()
    context, med, cvs, tasks = load(args.json)

    def get(family, shape):
        return med.get(f"BM_{family}/{shape}")

    def n_tasks(shape):
        for family in ("create_graph", "run_sequential", "handwritten_loop", "naive_build"):
            key = f"BM_{family}/{shape}"
            if key in tasks:
                return f"{tasks[key]:,}"
        return "—"

    print(f"Run: {context.get('date', '?')} on {context.get('host_name', '?')}, "
          f"{context.get('num_cpus', '?')} CPUs at {context.get('mhz_per_cpu', '?')} MHz, "
          f"load average {', '.join(f'{x:.2f}' for x in context.get('load_avg', []))}, "
          f"sizes: {context.get('taskmap_sizes', '?')}, taskmap {context.get('taskmap_version', '?')}")
    print()
    print("### create_graph (ns per task; median of repetitions)")
    print()
    print("| shape | tasks | create_graph | cv | naive_build (baseline) | create_graph / baseline "
          f"| target ≤ {CREATE_TARGET:.0f} |")
    print("|---|---:|---:|---:|---:|---:|---|")
    for shape in SHAPES:
        cg, nb = get("create_graph", shape), get("naive_build", shape)
        print(f"| {shape} | {n_tasks(shape)} | {fmt_ns(cg)} | {fmt_cv(cvs, f'BM_create_graph/{shape}')} "
              f"| {fmt_ns(nb)} | {fmt_ratio(cg, nb)} | {verdict(cg, CREATE_TARGET)} |")
    print()
    print("### Sequential run (ns per task; median of repetitions)")
    print()
    print("| shape | tasks | run, positional tasks | cv | run, span tasks | handwritten loop "
          "(baseline) | run / baseline | loop, create_graph's task order "
          f"| target ≤ {RUN_TARGET:.0f} |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---|")
    for shape in SHAPES:
        run = get("run_sequential", shape)
        span = get("run_sequential_span", shape)
        loop = get("handwritten_loop", shape)
        loop_map = get("handwritten_loop_maporder", shape)
        print(f"| {shape} | {n_tasks(shape)} | {fmt_ns(run)} "
              f"| {fmt_cv(cvs, f'BM_run_sequential/{shape}')} | {fmt_ns(span)} | {fmt_ns(loop)} "
              f"| {fmt_ratio(run, loop)} | {fmt_ns(loop_map)} | {verdict(run, RUN_TARGET)} |")
    missing = [s for s in SHAPES if get("create_graph", s) is None or get("run_sequential", s) is None]
    if missing:
        print(f"\n(no data for: {', '.join(missing)})", file=sys.stderr)


if __name__ == "__main__":
    main()
