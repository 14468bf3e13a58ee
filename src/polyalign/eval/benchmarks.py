"""The benchmark table: which languages each benchmark has and which upstream files hold them.

Languages are data (docs/architecture.md, style rule 6): every language list comes from `polyalign.langs`, and
the per-language lm-eval YAMLs are generated from this table (`polyalign.eval.taskgen`). File paths
are relative to a data root and keep each benchmark's upstream names inside a folder named after the
task (docs/architecture.md, "Data layout"), so users can drop the official files in unchanged.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from polyalign import langs
from polyalign.errors import InputError
from polyalign.registry import unknown_name

__all__ = ["Benchmark", "BENCHMARKS", "STARTER_LANGS", "Kind", "get_benchmark", "flores_directions", "split_direction"]

Kind = Literal["numeric", "qa", "choice", "translation"]


@dataclass(frozen=True)
class Benchmark:
    """One benchmark: its languages, answer type and upstream files."""

    name: str
    """polyalign task name (``--tasks``); lm-eval tasks are ``pa_<name>_<lang>``."""
    kind: Kind
    """Answer type; decides the scorers (`polyalign.eval.metrics`)."""
    langs: tuple[str, ...]
    """Language keys in the papers' order; translation directions (``en-zh``) for translation tasks."""
    files: Callable[[str], tuple[str, ...]]
    """Language key -> the files it needs, relative to the data root (glob patterns allowed)."""
    reader: str
    """Name of the reader in `polyalign.eval.loaders` that turns those files into records."""
    source: str
    """Where the official files come from (shown when they are missing)."""
    fewshot_files: Callable[[str], tuple[str, ...]] | None = None
    """Files holding few-shot exemplars (``--prompt fewshot``), when the benchmark defines them."""
    hub: str | None = None
    """A Hugging Face dataset repository mirroring the upstream file names (fetched when allowed)."""
    mc_modes: tuple[str, ...] = ()
    """Multiple choice only: scoring modes, default first (``loglik`` = option likelihood,
    ``generate`` = letter read from generated text)."""
    default_prompt: str = "paper"
    """Prompt variant a plain run uses."""
    builtin: bool = False
    """The files ship with polyalign (``polyalign/assets``), searched after every other root."""


def flores_directions() -> tuple[str, ...]:
    """en→X then X→en for every table language with a Flores-101 code."""
    others = [row.code for row in langs.LANGUAGES.values() if row.flores and row.code != "en"]
    return tuple(f"en-{x}" for x in others) + tuple(f"{x}-en" for x in others)


def split_direction(key: str) -> tuple[str, str]:
    """``"en-zh"`` -> ``("en", "zh")``; raises `InputError` for anything else."""
    parts = key.split("-")
    if len(parts) != 2 or not all(parts):
        raise InputError(f"translation direction {key!r}: expected SRC-TGT such as en-zh")
    return langs.get(parts[0]).code, langs.get(parts[1]).code


def _flores_files(key: str) -> tuple[str, ...]:
    src, tgt = split_direction(key)
    return tuple(f"flores/devtest/{langs.get(code).flores}.devtest" for code in (src, tgt))


STARTER_LANGS = ("en", "de", "fr", "es", "ru", "zh", "ja", "sw", "th")
"""Languages of the starter data (`polyalign.assets` starter/): English and eight others in five scripts."""

# mSVAMP covers the QAlign languages plus English: MGSM's set without Telugu (docs/methods.md, QAlign).
_MSVAMP_LANGS = tuple(code for code in langs.MGSM_LANGS if code != "te")

BENCHMARKS: dict[str, Benchmark] = {b.name: b for b in [
    Benchmark("mgsm", "numeric", langs.MGSM_LANGS, lambda lang: (f"mgsm/mgsm_{lang}.tsv",), "tsv_question_answer",
              "google-research/url-nlp, folder mgsm (TSV without header: question<TAB>answer)",
              hub="juletxara/mgsm"),
    Benchmark("msvamp", "numeric", _MSVAMP_LANGS,
              lambda lang: (f"msvamp/test_{langs.get(lang).name}.json",), "msvamp",
              "MathOctopus mSVAMP as used by NJUNLP/QAlign data/msvamp (JSON Lines with m_query, response)"),
    Benchmark("gsm8k", "numeric", ("en",), lambda lang: ("gsm8k/test.jsonl",), "gsm8k",
              "openai/grade-school-math, grade_school_math/data (JSONL with question, answer ending '#### N')",
              fewshot_files=lambda lang: ("gsm8k/train.jsonl",)),
    Benchmark("svamp", "numeric", ("en",), lambda lang: ("svamp/SVAMP.json",), "svamp",
              "arkilpatel/SVAMP, SVAMP.json (a JSON list with Body, Question, Answer)"),
    Benchmark("xcsqa", "choice", langs.XCSQA_LANGS, lambda lang: (f"xcsqa/{lang}/dev.jsonl",), "xcsqa",
              "INK-USC X-CSR release, X-CSQA/<lang>/dev.jsonl (test labels are withheld; local files only)",
              mc_modes=("generate", "loglik")),
    Benchmark("xquad", "qa", langs.XQUAD_LANGS, lambda lang: (f"xquad/xquad.{lang}.json",), "squad",
              "google-deepmind/xquad (SQuAD v1.1 JSON)"),
    Benchmark("mlqa", "qa", langs.MLQA_LANGS,
              lambda lang: (f"mlqa/test/test-context-{lang}-question-{lang}.json",), "squad",
              "facebookresearch/MLQA, MLQA_V1/test (SQuAD v1.1 JSON)"),
    Benchmark("flores", "translation", flores_directions(), _flores_files, "flores",
              "Flores-101 release (flores101_dataset/devtest/<code>.devtest, one sentence per line)"),
    Benchmark("mmlu", "choice", ("en",), lambda lang: ("mmlu/test/*_test.csv",), "mmlu",
              "hendrycks/test data.tar: data/test/*_test.csv and data/dev/*_dev.csv (CSV without header)",
              fewshot_files=lambda lang: ("mmlu/dev/*_dev.csv",), mc_modes=("loglik", "generate"),
              default_prompt="fewshot"),
    Benchmark("ceval", "choice", ("zh",), lambda lang: ("ceval/val/*_val.csv",), "ceval",
              "ceval/ceval-exam ceval-exam.zip: val/*_val.csv and dev/*_dev.csv (CSV with header)",
              fewshot_files=lambda lang: ("ceval/dev/*_dev.csv",), mc_modes=("loglik", "generate"),
              default_prompt="fewshot"),
    Benchmark("agieval", "choice", ("en", "zh"), lambda lang: ("agieval/*.jsonl",), "agieval",
              "ruixiangcui/AGIEval data/v1/*.jsonl (the English or Chinese multiple-choice files are read)",
              mc_modes=("loglik", "generate")),
    Benchmark("gaokao", "choice", ("zh",), lambda lang: ("gaokao/Objective_Questions/20*.json",), "gaokao",
              "OpenLMLab/GAOKAO-Bench Data/Objective_Questions/*.json (single-answer questions are scored)",
              mc_modes=("loglik", "generate")),
    Benchmark("starter", "numeric", STARTER_LANGS, lambda lang: (f"starter/test.{lang}.tsv",), "tsv_question_answer",
              "the starter data shipped with polyalign (polyalign/assets/starter; see its README)", builtin=True),
    Benchmark("qtrans", "translation", tuple(f"{code}-en" for code in langs.MGSM_LANGS if code != "en"),
              lambda key: (f"qtrans/{key}/test.{split_direction(key)[0]}", f"qtrans/{key}/test.en"), "flores",
              "any line-aligned question pairs, laid out like the QAlign pairs: qtrans/<x>-en/test.<x> and test.en"),
]}
"""All benchmarks by task name."""


def get_benchmark(name: str) -> Benchmark:
    """Look a benchmark up by task name; unknown names raise `InputError` listing the known ones."""
    if name not in BENCHMARKS:
        raise unknown_name("task", name, list(BENCHMARKS))
    return BENCHMARKS[name]
