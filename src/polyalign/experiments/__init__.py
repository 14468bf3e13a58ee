"""Experiments: arms × an eval suite → one run folder per arm → comparisons and a report.

`polyalign.experiments.spec` reads experiment files, `graph` orders the arms, `fingerprint` tells a
finished arm from a changed one, `cost` prices the plan (``--dry-run``), `runner` calls the train /
eval / vocab / judge packages with resumable state, and `compare.compare_runs` pairs evaluation runs
item by item and says, with bootstrap intervals and paired tests, whether a system's difference from a
baseline is real (docs/compare.md). This package sits above ``eval`` and ``report``: it reads their
run folders.
"""

from __future__ import annotations

from typing import Any

__all__ = ["compare_runs"]


def __getattr__(name: str) -> Any:  # lazy: importing the package must not import numpy/scipy/sacrebleu
    if name == "compare_runs":
        from polyalign.experiments.compare import compare_runs

        return compare_runs
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
