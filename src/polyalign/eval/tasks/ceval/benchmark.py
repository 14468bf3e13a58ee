"""C-Eval: the benchmark's metadata row, reader and prompt quirks (one folder per benchmark)."""

from __future__ import annotations

import csv
import functools
from pathlib import Path
from typing import Any

from polyalign.errors import InputError
from polyalign.eval.loaders import mc_rows
from polyalign.eval.taskspec import Benchmark



def read(paths: list[Path], key: str) -> list[dict[str, Any]]:
    """The ceval records of one language key, in source order."""
    out = []
    for path in paths:
        subject = path.stem.rsplit("_", 1)[0]
        with path.open(encoding="utf-8-sig", newline="") as handle:
            reader = csv.DictReader(handle)
            if not reader.fieldnames or not {"question", "A", "answer"} <= set(reader.fieldnames):
                raise InputError("expected a header with question, A, B, C, D, answer", where=f"{path}:1")
            rows = [(f"{path}:{reader.line_num}", row) for row in reader]
        out.extend(mc_rows(rows, subject))
    return out


@functools.lru_cache(maxsize=1)
def _names() -> dict[str, str]:
    # subjects.tsv is the reference code's subject_mapping.json (hkust-nlp/ceval): slug -> Chinese name
    with (Path(__file__).parent / "subjects.tsv").open(encoding="utf-8", newline="") as handle:
        return {row["slug"]: row["name_zh"] for row in csv.DictReader(handle, delimiter="\t", quoting=csv.QUOTE_NONE)}


def subject_name(slug: str) -> str:
    """The Chinese name of a subject ("高中物理"), so the Chinese header does not carry an English slug."""
    return _names().get(slug) or slug.replace("_", " ")


BENCHMARK = Benchmark(
    "ceval", "choice", ("zh",), lambda lang: ("ceval/val/*_val.csv",), read,
    "ceval/ceval-exam ceval-exam.zip: val/*_val.csv and dev/*_dev.csv (CSV with header)",
    fewshot_files=lambda lang: ("ceval/dev/*_dev.csv",), mc_modes=("loglik", "generate"), default_prompt="fewshot",
    # the reference prompt (code/evaluator_series/evaluators/llama.py: generate_few_shot_prompt and
    # format_example, '\n答案：' + answer with no space)
    fewshot_header=("以下是中国关于{subject}考试的单项选择题，请选出其中的正确答案。\n\n", "答案："),
    subject_names=subject_name,
)
