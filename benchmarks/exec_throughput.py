"""Programs per second through the sandbox vs plain in-process exec().

Runs the same batch of small PoT-style programs (fractions, loops, math, a solution() function)
several ways and reports the median over repeats and the ratio to the baseline, in-process
``exec()`` with stdout captured (no isolation at all, same process):

* ``exec() in-process``        baseline
* ``sandbox basic, 1 worker``   process + limits + audit hook, caller's uid
* ``sandbox namespace, 1 worker`` + namespaces, read-only chroot, fresh uid (root only)
* ``pool, N workers``           ``run_programs`` with the default isolation, N = os.cpu_count()

    python benchmarks/exec_throughput.py                  # 40 programs, 3 repeats
    python benchmarks/exec_throughput.py --programs 100 --repeats 5
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import statistics
import time

from polyalign.exec import isolation_mode, run_program, run_programs

PROGRAMS = [
    "print(6 * 7)",
    "from fractions import Fraction\nprint(Fraction(3, 4) * 56)",
    "total = 0\nfor i in range(1, 1001):\n    total += i * i\nprint(total)",
    "import math\nprint(math.comb(20, 10) // math.factorial(5))",
    "def solution():\n    apples = 23\n    eaten = 20\n    bought = 6\n    return apples - eaten + bought\nprint(solution())",
]


def in_process(codes: list[str]) -> None:
    for code in codes:
        with contextlib.redirect_stdout(io.StringIO()):
            exec(compile(code, "<program>", "exec"), {"__name__": "__main__"})


def sequential(isolation: str):
    def run(codes: list[str]) -> None:
        for code in codes:
            assert run_program(code, isolation=isolation).ok
    return run


def pooled(codes: list[str]) -> None:
    assert all(r.ok for r in run_programs(codes))


def throughput(fn, codes: list[str], repeats: int) -> float:
    """Median programs per second over ``repeats`` runs of the batch."""
    rates = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn(codes)
        rates.append(len(codes) / (time.perf_counter() - start))
    return statistics.median(rates)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--programs", type=int, default=40)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    codes = [PROGRAMS[i % len(PROGRAMS)] for i in range(args.programs)]
    mode = isolation_mode()  # probe outside the timings
    cases = [("exec() in-process", in_process), ("sandbox basic, 1 worker", sequential("basic"))]
    if mode == "namespace":
        cases.append(("sandbox namespace, 1 worker", sequential("namespace")))
    cases.append((f"pool ({mode}), {os.cpu_count()} workers", pooled))
    rows = [(name, throughput(fn, codes, args.repeats)) for name, fn in cases]
    base = rows[0][1]
    print(f"{args.programs} programs, median of {args.repeats} repeats, default isolation: {mode}")
    print(f"{'configuration':34s} {'programs/s':>12s} {'ms/program':>11s} {'vs exec()':>10s}")
    for name, rate in rows:
        print(f"{name:34s} {rate:12.1f} {1000 / rate:11.2f} {rate / base:10.5f}")


if __name__ == "__main__":
    main()
