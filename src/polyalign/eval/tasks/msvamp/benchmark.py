"""mSVAMP: the benchmark's metadata row, reader and prompt quirks (one folder per benchmark)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from polyalign import langs
from polyalign.eval.loaders import field, json_objects, parse_number
from polyalign.eval.taskspec import Benchmark, PaperRule

# QAlign's evaluate/scripts/svamp_test.py, `main`: the languages it averages.
QALIGN_AVERAGE = ("sw", "en", "zh", "bn", "de", "es", "fr", "ja", "ru", "th")



def read(paths: list[Path], key: str) -> list[dict[str, Any]]:
    """The msvamp records of one language key, in source order."""
    (path,) = paths
    return [{"question": field(rec, "m_query", where), "answer": parse_number(field(rec, "response", where), where)}
            for where, rec in json_objects(path)]


BENCHMARK = Benchmark(
    # mSVAMP covers the QAlign languages plus English: MGSM's set without Telugu.
    "msvamp", "numeric", tuple(code for code in langs.MGSM_LANGS if code != "te"),
    lambda lang: (f"msvamp/test_{langs.get(lang).name}.json",), read,
    "MathOctopus mSVAMP as used by NJUNLP/QAlign data/msvamp (JSON Lines with m_query, response)",
    variants=("pot",),
    paper=PaperRule("NJUNLP/QAlign evaluate/scripts/svamp_test.py: get_batch_llama (max_new_tokens=300, no stop), "
                    "extract_last_num on output and gold, main (10-language average)",
                    until=(), max_new_tokens=300, avg_langs=QALIGN_AVERAGE),
)
