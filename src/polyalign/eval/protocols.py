"""Evaluation protocols: ``polyalign`` (the corrected scoring, default) and ``paper`` (the papers' code).

``--protocol paper`` reproduces, per benchmark, the released evaluation code of the paper that defines
the benchmark's published numbers: decoding limits and stops, answer extraction, scoring and the set
of languages averaged. Each `PaperRule` names the file and function it follows; the full table, with
the deviations we keep on purpose, is in ``docs/methods.md`` ("Protocol table").

Settings that are the same in both protocols (the Alpaca prompt, zero shots, greedy decoding) are not
repeated here. Benchmarks without a `PaperRule` score identically under both protocols; their paper
averaging set is every language the benchmark has.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from polyalign import langs
from polyalign.errors import InputError

__all__ = ["PROTOCOLS", "DEFAULT_PROTOCOL", "PaperRule", "PAPER_RULES", "check_protocol", "paper_rule",
           "generation", "paper_langs", "qalign_order"]

PROTOCOLS = ("polyalign", "paper")
DEFAULT_PROTOCOL = "polyalign"

# QAlign's evaluate/scripts/mgsm_test.py and svamp_test.py, `main`: the language list averaged
# (Telugu is not in it, although MGSM has it).
_QALIGN_LANGS = ("sw", "en", "zh", "bn", "de", "es", "fr", "ja", "ru", "th")


def qalign_order() -> tuple[str, ...]:
    """The ten languages QAlign averages on mGSM and mSVAMP, in its scripts' order."""
    return _QALIGN_LANGS


@dataclass(frozen=True)
class PaperRule:
    """How the paper's released code evaluates one benchmark, where it differs from polyalign's."""

    source: str
    """Released file and function this rule follows."""
    until: tuple[str, ...] | None = None
    """Stop strings (``()`` = none: decode to the limit or EOS); None = the task's own."""
    max_new_tokens: int | None = None
    """Generation limit; None = the task's own."""
    avg_langs: tuple[str, ...] | None = None
    """Language keys of the paper's average; None = every language of the benchmark."""
    name_mode: str | None = None
    """Language names in translation prompts (``paper`` = the iso639 names the code uses)."""


_XLLAMA_INFERENCE = "NJUNLP/x-LLM inference.py: GeneratingArguments.max_new_tokens=512, evaluate_by_generate"
_XLLAMA_DIRECTIONS = tuple(f"en-{x}" for x in langs.XLLAMA_LANGS) + tuple(f"{x}-en" for x in langs.XLLAMA_LANGS)

PAPER_RULES: dict[str, PaperRule] = {
    "mgsm": PaperRule("NJUNLP/QAlign evaluate/scripts/mgsm_test.py: get_batch_llama (max_new_tokens=600, "
                      "no stop), extract_last_num on output and gold, main (10-language average)",
                      until=(), max_new_tokens=600, avg_langs=_QALIGN_LANGS),
    "msvamp": PaperRule("NJUNLP/QAlign evaluate/scripts/svamp_test.py: get_batch_llama (max_new_tokens=300, "
                        "no stop), extract_last_num on output and gold, main (10-language average)",
                        until=(), max_new_tokens=300, avg_langs=_QALIGN_LANGS),
    "xquad": PaperRule(f"{_XLLAMA_INFERENCE} (no stop, prediction stripped); eval/xquad.match.py: eval_file "
                       "(answers[0] from data/xquad/xquad.py, lower-cased substring)",
                       until=(), max_new_tokens=512, avg_langs=tuple(langs.XLLAMA_LANGS)),
    "mlqa": PaperRule(f"{_XLLAMA_INFERENCE} (no stop, prediction stripped); eval/mlqa.match.py (= xquad.match.py):"
                      " eval_file (answers[0] from data/mlqa/mlqa.py, lower-cased substring)",
                      until=(), max_new_tokens=512,
                      avg_langs=tuple(c for c in langs.XLLAMA_LANGS if c in langs.MLQA_LANGS)),
    "flores": PaperRule(f"{_XLLAMA_INFERENCE} (no stop, whole prediction stripped, every line kept); "
                        "eval/translation.bleu.py: eval_file (BLEU(tokenize='flores101', effective_order=True)"
                        ".corpus_score); data/translation/translation.py: _INSTRUCTIONS[0] with iso639 names",
                        until=(), max_new_tokens=512, avg_langs=_XLLAMA_DIRECTIONS, name_mode="paper"),
}
"""Benchmark -> the paper's evaluation where it differs from polyalign's (docs/methods.md)."""


def check_protocol(name: str) -> str:
    """Return ``name`` if it is a protocol, else raise `InputError` listing them."""
    if name not in PROTOCOLS:
        raise InputError(f"unknown --protocol {name!r}; expected one of {', '.join(PROTOCOLS)}")
    return name


def paper_rule(task: str, protocol: str) -> PaperRule | None:
    """The rule that applies to ``task`` under ``protocol`` (None: polyalign's settings)."""
    return PAPER_RULES.get(task) if protocol == "paper" else None


def generation(task: str, protocol: str, until: tuple[str, ...], max_new_tokens: int) -> tuple[tuple[str, ...], int]:
    """(stop strings, token limit) of ``task`` under ``protocol``, given the task's own settings."""
    rule = paper_rule(task, protocol)
    if rule is None:
        return until, max_new_tokens
    return (until if rule.until is None else rule.until,
            max_new_tokens if rule.max_new_tokens is None else rule.max_new_tokens)


def paper_langs(task: str, keys: Any) -> tuple[str, ...]:
    """The paper's averaging languages of ``task`` among ``keys`` (its evaluated language keys)."""
    rule = PAPER_RULES.get(task)
    wanted = tuple(keys) if rule is None or rule.avg_langs is None else rule.avg_langs
    have = set(keys)
    return tuple(k for k in wanted if k in have)
