"""SVAMP: the benchmark's metadata row, reader and prompt quirks (one folder per benchmark)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from polyalign.eval.loaders import field, json_objects, parse_number
from polyalign.eval.taskspec import Benchmark



def read(paths: list[Path], key: str) -> list[dict[str, Any]]:
    """The svamp records of one language key, in source order."""
    (path,) = paths
    out = []
    for where, rec in json_objects(path):
        body, question = str(field(rec, "Body", where)).strip(), str(field(rec, "Question", where)).strip()
        # SVAMP's question is Body + " " + Question (arkilpatel/SVAMP and the MathOctopus conversion)
        out.append({"question": f"{body} {question}".strip(), "answer": parse_number(field(rec, "Answer", where), where)})
    return out


BENCHMARK = Benchmark(
    "svamp", "numeric", ("en",), lambda lang: ("svamp/SVAMP.json",), read,
    "arkilpatel/SVAMP, SVAMP.json (a JSON list with Body, Question, Answer)", variants=("pot",),
)
