"""Program-of-thought scoring (docs/methods.md): run the program in a model's output, read the number it prints.

A ``--prompt pot`` output is scored in three steps: `polyalign.exec.extract_program` takes the
program out of the text (the last ```python block, an untagged block that parses, or a bare
``def solution()``), the sandbox runs it (`polyalign.exec`, its README says what is guaranteed), and
the corrected numeric rule reads the last non-empty line it printed
(`polyalign.eval.scorers.extract_number`). The printed line is read with English conventions
(``lang=None``) whatever the question's language: Python prints ``3.5`` and ``1234`` (``1,234``
with a ``,`` format), never a decimal comma, and "1.500" from ``f"{x:.3f}"`` must stay 1.5.

Every example gets exactly one status, counted as ``pot_<status>`` metrics (shares summing to 1):
``ok`` (ran and printed a number, right or wrong), ``no_code`` (no program in the output),
``no_number`` (ran, but the last printed line holds no number, or nothing was printed), and the
sandbox's failures ``error`` (exception, syntax error, non-zero exit, output over the limit),
``timeout``, ``memory``, ``blocked`` (a forbidden operation such as opening a file outside its
directory or a socket).

Runs are cached in-process by (program, limits): the runner scores an example twice (metrics, then
the extracted answer for the samples file) and `prefetch` runs a whole chunk's programs in parallel
before scoring reads them one by one. Finished examples are never rescored on resume (the runner
skips ids already in ``samples/``), so nothing here needs to persist.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

from polyalign.eval.scorers.numeric import correct_paper, extract_number, extract_number_paper
from polyalign.exec import extract_program, last_line, run_programs

__all__ = ["STATUSES", "STATUS_METRICS", "ExecSettings", "SETTINGS", "ProgramRun", "run_outputs", "prefetch",
           "score_program", "clear_cache"]

STATUSES = ("ok", "no_code", "no_number", "error", "timeout", "memory", "blocked")
"""Every example has exactly one of these (module docstring)."""
STATUS_METRICS = tuple(f"pot_{status}" for status in STATUSES)
"""Metric names of the status shares, as they appear in results.json and the tables."""


@dataclass(frozen=True)
class ExecSettings:
    """Limits of one program run (`polyalign.exec.run_program`); part of the task version."""

    timeout: float = 5.0
    """Wall-clock seconds, interpreter start-up included (a grade-school program needs milliseconds)."""
    memory_mb: int = 512
    """Address-space limit."""
    max_output: int = 16_000
    """Bytes of stdout/stderr kept; a program printing more is stopped (``error``)."""
    max_workers: int | None = None
    """Programs run at once by `prefetch`; None = one per CPU."""


SETTINGS = ExecSettings()
"""The settings ``--prompt pot`` scores with."""


@dataclass(frozen=True)
class ProgramRun:
    """What running the program of one output gave (no verdict: the gold answer is not needed here)."""

    status: str
    """``no_code``, ``no_number`` or ``ok`` when it printed a number, else the sandbox's status."""
    printed: str | None
    """Last non-empty line of stdout of a successful run (at most 200 characters), else None."""
    number: float | None
    """The number read from ``printed`` (corrected rule), None when there is none."""
    detail: str
    """Why there is no number, in one line; empty when there is one."""

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


_CACHE_SIZE = 4096
_cache: OrderedDict[tuple[str, ExecSettings], ProgramRun] = OrderedDict()
_lock = threading.Lock()


def clear_cache() -> None:
    """Forget every cached run (tests; a long-lived process that wants fresh runs)."""
    with _lock:
        _cache.clear()


_NO_CODE = ProgramRun("no_code", None, None, "no code block or solution() in the output")


def _from_result(status: str, stdout: str, detail: str) -> ProgramRun:
    if status != "ok":
        return ProgramRun(status, None, None, detail or status)
    printed = last_line(stdout)
    if printed is None:
        return ProgramRun("no_number", None, None, "the program printed nothing")
    printed = printed[:200]
    number = extract_number(printed, None)
    if number is None:
        return ProgramRun("no_number", printed, None, "the last printed line holds no number")
    return ProgramRun("ok", printed, number, "")


def run_outputs(outputs: Sequence[str], settings: ExecSettings = SETTINGS) -> list[ProgramRun]:
    """Extract and run the program of every output (uncached ones in parallel); order is preserved."""
    programs = [extract_program(text) for text in outputs]
    wanted = [p for p in dict.fromkeys(programs) if p is not None]
    with _lock:
        known = {p: _cache[(p, settings)] for p in wanted if (p, settings) in _cache}
    todo = [p for p in wanted if p not in known]
    results = run_programs(todo, max_workers=settings.max_workers, timeout=settings.timeout,
                           memory_mb=settings.memory_mb, max_output=settings.max_output) if todo else []
    known.update((p, _from_result(r.status, r.stdout, r.detail)) for p, r in zip(todo, results))
    with _lock:
        for program, run in known.items():
            _cache[(program, settings)] = run
            _cache.move_to_end((program, settings))
        while len(_cache) > _CACHE_SIZE:
            _cache.popitem(last=False)
    return [_NO_CODE if p is None else known[p] for p in programs]


def prefetch(outputs: Sequence[str], settings: ExecSettings = SETTINGS) -> None:
    """Run the programs of many outputs in parallel so that scoring them one by one hits the cache."""
    if outputs:
        run_outputs(outputs, settings)


def score_program(output: str, gold: float, settings: ExecSettings = SETTINGS) -> tuple[ProgramRun, dict[str, float]]:
    """(run, metrics) of one program-of-thought output.

    Metrics: ``acc`` (a number was printed and ``|number - gold| < 1e-3``), ``acc_paper`` (the papers'
    last-number rule on the printed line; "" when the program printed nothing or failed, which that
    rule reads as 0.0), and one ``pot_<status>`` per status, 1.0 for this run's status.
    """
    run = run_outputs([output], settings)[0]
    acc = run.number is not None and abs(run.number - float(gold)) < 1e-3
    # the gold goes through the papers' reader too, as QAlign's extract_last_num(gold) does
    gold_text = str(int(gold)) if float(gold).is_integer() else str(gold)
    metrics = {"acc": float(acc),
               "acc_paper": float(correct_paper(run.printed or "", extract_number_paper(gold_text)))}
    metrics.update({f"pot_{status}": float(run.status == status) for status in STATUSES})
    return run, metrics
