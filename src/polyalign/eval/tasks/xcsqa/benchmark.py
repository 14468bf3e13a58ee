"""X-CSQA: the benchmark's metadata row, reader and prompt quirks (one folder per benchmark)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from polyalign import langs
from polyalign.io import iter_jsonl
from polyalign.errors import InputError
from polyalign.eval.loaders import field
from polyalign.eval.taskspec import Benchmark, PaperRule



def read(paths: list[Path], key: str) -> list[dict[str, Any]]:
    """The xcsqa records of one language key, in source order."""
    (path,) = paths
    out = []
    for number, rec in iter_jsonl(path):
        where = f"{path}:{number}"
        question = field(rec, "question", where)
        if not isinstance(question, dict) or "stem" not in question or "choices" not in question:
            raise InputError("expected question: {stem, choices: [{label, text}]}", where=where)
        labels = [str(c.get("label", "")).strip().upper() for c in question["choices"]]
        gold = str(field(rec, "answerKey", where)).strip().upper()
        if gold not in labels:
            raise InputError(f"answerKey {gold!r} is not one of the labels {labels}", where=where)
        out.append({"question": question["stem"], "choices": [c.get("text", "") for c in question["choices"]],
                    "labels": labels, "gold": gold, "subject": ""})
    return out


BENCHMARK = Benchmark(
    "xcsqa", "choice", langs.XCSQA_LANGS, lambda lang: (f"xcsqa/{lang}/dev.jsonl",), read,
    "INK-USC X-CSR release, X-CSQA/<lang>/dev.jsonl (test labels are withheld; local files only)",
    mc_modes=("generate", "loglik"), variants=("direct", "rationale"),
    # NJUNLP/QAlign releases no X-CSQA script (evaluate/scripts holds mgsm_test.py and svamp_test.py):
    # the paper's text is followed (zero-shot Alpaca, accuracy, average over all 16 languages).
    paper=PaperRule("no released script (NJUNLP/QAlign evaluate/scripts has mgsm_test.py and svamp_test.py only); "
                    "the broadened QAlign paper's setting: zero-shot Alpaca, accuracy, 16-language average",
                    avg_langs=langs.XCSQA_LANGS),
)
