#!/usr/bin/env python3
"""Compile time as users pay it: seconds to compile one file at -O2 with the compiler a user
would use, best of N (the least disturbed run), next to Taskflow's hello world when a
Taskflow checkout is given.

Usage: bench/compile_time.py [--cxx g++-12] [--repeat 5] [--taskflow-include DIR]
                             [--out FILE.json]

Files timed (each compiled alone with -std=c++20 -O2 -c against this checkout's include/):
  quickstart         examples/quickstart.cpp: three tasks, the README's first program
  fifty_tasks        bench/compile/fifty_tasks.cpp: 50 distinct capturing lambdas
  include_only       a file that includes <taskmap/taskmap.hpp> and does nothing else
  taskflow_hello     bench/compile/taskflow_hello.cpp (only with --taskflow-include)
Prints one row per file: best wall seconds, and user CPU seconds of that run.
"""

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def compile_once(cxx, source, includes):
    """Compiles `source` once; returns (wall seconds, user+sys CPU seconds of the compiler)."""
    with tempfile.TemporaryDirectory() as scratch:
        cmd = [cxx, "-std=c++20", "-O2", "-c", source, "-o", os.path.join(scratch, "out.o")]
        for inc in includes:
            cmd += ["-I", inc]
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        subprocess.run(cmd, check=True)
        wall = time.perf_counter() - start
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
        return wall, cpu


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cxx", default=os.environ.get("CXX", "g++"))
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--taskflow-include", default="")
    parser.add_argument("--out", default="")
    args = parser.parse_args()

    include = os.path.join(ROOT, "include")
    with tempfile.TemporaryDirectory() as scratch:
        include_only = os.path.join(scratch, "include_only.cpp")
        with open(include_only, "w", encoding="utf-8") as f:
            f.write("#include <taskmap/taskmap.hpp>\nint main() { return 0; }\n")
        cases = [
            ("quickstart", os.path.join(ROOT, "examples", "quickstart.cpp"), [include]),
            ("fifty_tasks", os.path.join(ROOT, "bench", "compile", "fifty_tasks.cpp"), [include]),
            ("include_only", include_only, [include]),
        ]
        if args.taskflow_include:
            cases.append(("taskflow_hello",
                          os.path.join(ROOT, "bench", "compile", "taskflow_hello.cpp"),
                          [args.taskflow_include]))
        version = subprocess.run([args.cxx, "--version"], capture_output=True, text=True,
                                 check=True).stdout.splitlines()[0]
        print(f"{version}, -std=c++20 -O2 -c, best of {args.repeat}")
        rows = []
        # Interleaved rounds: a burst of load on the machine hits every file alike.
        samples = {name: [] for name, _, _ in cases}
        for _ in range(args.repeat):
            for name, source, includes in cases:
                samples[name].append(compile_once(args.cxx, source, includes))
        for name, _, _ in cases:
            wall, cpu = min(samples[name])
            rows.append({"name": name, "wall_s": round(wall, 2), "cpu_s": round(cpu, 2)})
            print(f"  {name:<14} {wall:6.2f} s wall  {cpu:6.2f} s cpu")
    if args.out:
        with open(args.out, "w", encoding="utf-8") as f:
            json.dump({"compiler": version, "repeat": args.repeat, "rows": rows}, f, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
