"""AGIEval: the benchmark's metadata row, reader and prompt quirks (one folder per benchmark)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from polyalign.io import iter_jsonl
from polyalign.errors import InputError
from polyalign.eval.loaders import excluded, field
from polyalign.eval.taskspec import Benchmark

# AGIEval's objective multiple-choice files (ruixiangcui/AGIEval data/v1) by language; the cloze files
# (math, gaokao-mathcloze) have no options and are not read.
AGIEVAL_FILES = {
    "en": ("lsat-ar", "lsat-lr", "lsat-rc", "logiqa-en", "sat-math", "sat-en", "sat-en-without-passage", "aqua-rat",
           "gaokao-english"),
    "zh": ("logiqa-zh", "jec-qa-kd", "jec-qa-ca", "gaokao-chinese", "gaokao-geography", "gaokao-history",
           "gaokao-biology", "gaokao-chemistry", "gaokao-physics", "gaokao-mathqa"),
}


def read(paths: list[Path], key: str) -> list[dict[str, Any]]:
    """The agieval records of one language key, in source order."""
    out, multi, total = [], 0, 0
    for path in paths:
        if path.stem not in AGIEVAL_FILES[key]:
            continue
        for number, rec in iter_jsonl(path):
            where = f"{path}:{number}"
            total += 1
            label = field(rec, "label", where)
            if isinstance(label, list):
                if len(label) != 1:
                    multi += 1
                    continue
                label = label[0]
            options = field(rec, "options", where)
            if not isinstance(options, list) or not options:
                raise InputError("expected a list of options such as [\"(A)...\", \"(B)...\"]", where=where)
            labels, choices = [], []
            for option in options:
                match = re.match(r"\s*\(?([A-J])[).．]\s*", str(option))
                if not match:
                    raise InputError(f"option {option!r} does not start with a letter such as (A)", where=where)
                labels.append(match.group(1))
                choices.append(str(option)[match.end():].strip())
            gold = str(label).strip().upper()
            if gold not in labels:
                raise InputError(f"label {gold!r} is not one of the options {labels}", where=where)
            passage = (rec.get("passage") or "").strip()
            question = str(field(rec, "question", where)).strip()
            out.append({"question": f"{passage}\n{question}" if passage else question, "choices": choices,
                        "labels": labels, "gold": gold, "subject": path.stem})
    excluded(f"agieval {key}", multi, total)
    return out


_GAOKAO_OPTION = re.compile(r"(?<![A-Za-z])([A-G])\s*[．.、]")


BENCHMARK = Benchmark(
    "agieval", "choice", ("en", "zh"), lambda lang: ("agieval/*.jsonl",), read,
    "ruixiangcui/AGIEval data/v1/*.jsonl (the English or Chinese multiple-choice files are read)",
    mc_modes=("loglik", "generate"),
)
