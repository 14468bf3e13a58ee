"""Correct programs give the right values; the API reports bad inputs as statuses."""

from __future__ import annotations

import pytest

from polyalign.exec import STATUSES, ExecResult, isolation_mode, run_program, run_programs

MODES = ["basic"] + (["namespace"] if isolation_mode() == "namespace" else [])


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("code, expected", [
    ("print(6*7)", "42\n"),
    ("from fractions import Fraction\nprint(Fraction(1, 3) + Fraction(1, 6))", "1/2\n"),
    ("total = 0\nfor i in range(1, 101):\n    total += i\nprint(total)", "5050\n"),
    ("import math\nprint(math.comb(10, 3), math.isqrt(99), round(math.pi, 4))", "120 9 3.1416\n"),
    ("from decimal import Decimal\nprint(Decimal('0.1') + Decimal('0.2'))", "0.3\n"),
    ("import itertools\nprint(len(list(itertools.permutations(range(5)))))", "120\n"),
    ("import statistics\nprint(statistics.median([3, 1, 4, 1, 5]))", "3\n"),
    ("from functools import lru_cache\n@lru_cache(None)\ndef fib(n): return n if n < 2 else fib(n-1) + fib(n-2)\n"
     "print(fib(90))", "2880067194370816120\n"),
    ("print('π ≈', 3.14)\nprint('答案是', 42)", "π ≈ 3.14\n答案是 42\n"),
    ("from collections import namedtuple\nP = namedtuple('P', 'x y', defaults=[0])\nprint(P(1))", "P(x=1, y=0)\n"),
    ("open('note.txt', 'w').write('7')\nprint(int(open('note.txt').read()) * 6)", "42\n"),
    ("import tempfile\nwith tempfile.TemporaryDirectory() as d:\n    print('ok')", "ok\n"),
    ("import subprocess, re, json, random, heapq, bisect, string, typing, dataclasses\nprint('imports')", "imports\n"),
    ("", ""),
], ids=["mul", "fractions", "loop", "math", "decimal", "itertools", "statistics", "fib", "unicode",
        "namedtuple", "file_in_cwd", "tempfile", "imports", "empty"])
def test_golden_programs(mode, code, expected):
    r = run_program(code, timeout=10, isolation=mode)
    assert (r.status, r.stdout, r.detail) == ("ok", expected, ""), r.stderr
    assert r.returncode == 0 and not r.truncated and r.ok


def test_output_is_reproducible():
    code = "print({'apple', 'banana', 'cherry', 'date'})"
    assert run_program(code).stdout == run_program(code).stdout  # PYTHONHASHSEED=0


def test_syntax_error_is_a_status():
    r = run_program("def f(:\n    pass")
    assert r.status == "error" and r.detail.startswith("syntax: SyntaxError")


def test_null_bytes_are_a_syntax_error():
    r = run_program("print(1)\x00")
    assert r.status == "error" and r.detail.startswith("syntax:")


def test_runtime_error_keeps_output_and_traceback():
    r = run_program("print('before')\nx = 1 / 0")
    assert r.status == "error" and r.detail == "ZeroDivisionError: division by zero"
    assert r.stdout == "before\n"
    assert '"<program>", line 2' in r.stderr and "x = 1 / 0" in r.stderr and "_child" not in r.stderr


def test_stdin_is_empty():
    r = run_program("print(input())")
    assert r.status == "error" and "EOFError" in r.detail


def test_stdlib_only_by_default():
    r = run_program("import numpy")
    assert r.status == "error" and "No module named 'numpy'" in r.detail


def test_site_packages_when_asked():
    r = run_program("import numpy as np\nprint(int(np.arange(10).sum()))", site_packages=True, timeout=30)
    assert (r.status, r.stdout) == ("ok", "45\n"), r.stderr


def test_reading_the_python_library_is_allowed():
    # Decision (README): the stdlib is readable (imports need it); nothing else outside the sandbox.
    r = run_program("import os\nprint(len(open(os.__file__).read()) > 1000)")
    assert (r.status, r.stdout) == ("ok", "True\n")


def test_large_program_source():
    code = "x = 0\n" + "x += 1\n" * 40_000 + "print(x)\n"  # ~280 kB through the stdin pipe
    r = run_program(code, timeout=20)
    assert (r.status, r.stdout) == ("ok", "40000\n")


def test_output_bound_is_exact():
    at_limit = run_program("import sys\nsys.stdout.write('x' * 1000)", max_output=1000)
    assert at_limit.ok and not at_limit.truncated and len(at_limit.stdout) == 1000
    over = run_program("import sys\nsys.stdout.write('x' * 1001)", max_output=1000)
    assert over.status == "error" and over.truncated and len(over.stdout) == 1000


def test_cpu_limit_independent_of_wall_time():
    r = run_program("while True: pass", timeout=30, cpu_seconds=1)
    assert r.status == "timeout" and "CPU time" in r.detail


@pytest.mark.parametrize("kwargs", [{"timeout": 0}, {"memory_mb": -1}, {"max_output": 0},
                                    {"cpu_seconds": 0}, {"isolation": "docker"}])
def test_bad_arguments_raise(kwargs):
    with pytest.raises(ValueError):
        run_program("print(1)", **kwargs)


def test_result_shape():
    r = run_program("print(1)")
    assert isinstance(r, ExecResult) and r.status in STATUSES
    assert isinstance(r.seconds, float) and r.seconds > 0 and isinstance(r.pid, int)
    assert (r.uid is None) == (isolation_mode() == "basic")


def test_pool_preserves_order():
    codes = [f"import time\ntime.sleep({0.05 * (5 - i)})\nprint({i})" for i in range(6)]
    results = run_programs(codes, max_workers=3, progress=True)
    assert [r.stdout for r in results] == [f"{i}\n" for i in range(6)]
    assert run_programs([]) == []
