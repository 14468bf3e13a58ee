"""GAOKAO-Bench: the benchmark's metadata row, reader and prompt quirks (one folder per benchmark)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from polyalign.errors import InputError
from polyalign.eval.loaders import LETTERS, excluded, field
from polyalign.eval.taskspec import Benchmark

_GAOKAO_OPTION = re.compile(r"(?<![A-Za-z])([A-G])\s*[．.、]")



def read(paths: list[Path], key: str) -> list[dict[str, Any]]:
    """The gaokao records of one language key, in source order."""
    out, multi, total = [], 0, 0
    for path in paths:
        data = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(data, dict) or not isinstance(data.get("example"), list):
            raise InputError('expected GAOKAO-Bench JSON: {"keywords": ..., "example": [{question, answer}]}',
                             where=str(path))
        subject = str(data.get("keywords") or path.stem).split("_", 1)[-1]  # 2010-2022_Biology_MCQs -> Biology_MCQs
        for item, rec in enumerate(data["example"]):
            where = f"{path}#{item}"
            total += 1
            answer = field(rec, "answer", where)
            letters = [str(a).strip().upper() for a in (answer if isinstance(answer, list) else [answer])]
            if len(letters) != 1 or len(letters[0]) != 1:
                multi += 1
                continue
            question = str(field(rec, "question", where)).strip()
            # The options are part of the question text ("A．...  B．..."); the letters offered are
            # those found there, at least A-D.
            found = {m.group(1) for m in _GAOKAO_OPTION.finditer(question)}
            last = max(found | {"D"})
            labels = [letter for letter in LETTERS if letter <= last]
            if letters[0] not in labels:
                raise InputError(f"answer {letters[0]!r} is not an option letter", where=where)
            out.append({"question": question, "choices": [], "labels": labels, "gold": letters[0], "subject": subject})
    excluded(f"gaokao {key}", multi, total)
    return out


BENCHMARK = Benchmark(
    "gaokao", "choice", ("zh",), lambda lang: ("gaokao/Objective_Questions/20*.json",), read,
    "OpenLMLab/GAOKAO-Bench Data/Objective_Questions/*.json (single-answer questions are scored)",
    mc_modes=("loglik", "generate"),
)
