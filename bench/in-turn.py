#!/usr/bin/env python3
"""Times two or more commands run in turn (a, b, b, a, a, b, ...), so that drift on a shared machine
hits each alike, and prints the median wall time and the median CPU time (user+system of the
command's processes) of each. The way the README's per-change figures were measured: two builds'
tarballs unpacked side by side, each with its own XDG_CACHE_HOME, one warm-up run each first.

in-turn.py RUNS NAME 'COMMAND' NAME 'COMMAND' [...]

Example:
  bench/in-turn.py 15 before "XDG_CACHE_HOME=/tmp/a/cache /tmp/a/piimage-0.1.0/bin/piimage bake -q /tmp/a/makina.yaml -o /tmp/a/out" \\
                      after  "XDG_CACHE_HOME=/tmp/b/cache /tmp/b/piimage-0.1.0/bin/piimage bake -q /tmp/b/makina.yaml -o /tmp/b/out"
"""
import resource
import statistics
import subprocess
import sys
import time

if len(sys.argv) < 4 or len(sys.argv) % 2 != 0:
    sys.exit(__doc__)
runs = int(sys.argv[1])
commands = list(zip(sys.argv[2::2], sys.argv[3::2]))
wall = {name: [] for name, _ in commands}
cpu = {name: [] for name, _ in commands}


def run(command):
    subprocess.run(command, shell=True, check=True, stdout=subprocess.DEVNULL)


for _, command in commands:  # warm-up: page cache, class-data archive
    run(command)
for i in range(runs):
    for name, command in commands if i % 2 == 0 else commands[::-1]:
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        started = time.perf_counter()
        run(command)
        wall[name].append(time.perf_counter() - started)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu[name].append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
for name, _ in commands:
    times = sorted(wall[name])
    print(f"{name}: median {statistics.median(times):.3f} s (quartiles {times[len(times) // 4]:.3f}-"
          f"{times[3 * len(times) // 4]:.3f} s), CPU median {statistics.median(cpu[name]):.3f} s, {runs} runs")
