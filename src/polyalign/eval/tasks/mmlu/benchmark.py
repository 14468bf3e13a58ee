"""MMLU: the benchmark's metadata row, reader and prompt quirks (one folder per benchmark)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from polyalign.data.readers import read_rows
from polyalign.eval.loaders import mc_rows
from polyalign.eval.taskspec import Benchmark



def read(paths: list[Path], key: str) -> list[dict[str, Any]]:
    """The mmlu records of one language key, in source order."""
    out = []
    for path in paths:
        subject = path.stem.rsplit("_", 1)[0]  # abstract_algebra_test -> abstract_algebra
        rows = [(row.where, row.data) for row in
                read_rows(path=str(path), fmt="csv", columns=["question", "A", "B", "C", "D", "answer"])]
        out.extend(mc_rows(rows, subject))
    return out


BENCHMARK = Benchmark(
    "mmlu", "choice", ("en",), lambda lang: ("mmlu/test/*_test.csv",), read,
    "hendrycks/test data.tar: data/test/*_test.csv and data/dev/*_dev.csv (CSV without header)",
    fewshot_files=lambda lang: ("mmlu/dev/*_dev.csv",), mc_modes=("loglik", "generate"), default_prompt="fewshot",
    # Hendrycks' evaluate.py wording
    fewshot_header=("The following are multiple choice questions (with answers) about {subject}.\n\n", "Answer: "),
)
