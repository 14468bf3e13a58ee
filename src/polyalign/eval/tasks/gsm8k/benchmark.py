"""GSM8K: the benchmark's metadata row, reader and prompt quirks (one folder per benchmark)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from polyalign.io import iter_jsonl
from polyalign.errors import InputError
from polyalign.eval.loaders import field, parse_number
from polyalign.eval.taskspec import Benchmark



def read(paths: list[Path], key: str) -> list[dict[str, Any]]:
    """The gsm8k records of one language key, in source order."""
    (path,) = paths
    out = []
    for number, rec in iter_jsonl(path):
        where = f"{path}:{number}"
        answer = str(field(rec, "answer", where))
        if "####" not in answer:
            raise InputError("answer has no '#### N' final line", where=where)
        out.append({"question": field(rec, "question", where), "answer": parse_number(answer.rsplit("####", 1)[1], where),
                    "solution": answer})
    return out


BENCHMARK = Benchmark(
    "gsm8k", "numeric", ("en",), lambda lang: ("gsm8k/test.jsonl",), read,
    "openai/grade-school-math, grade_school_math/data (JSONL with question, answer ending '#### N')",
    fewshot_files=lambda lang: ("gsm8k/train.jsonl",), variants=("pot",),
)
