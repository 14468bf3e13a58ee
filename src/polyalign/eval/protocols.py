"""Evaluation protocols: ``polyalign`` (the corrected scoring, default) and ``paper`` (the papers' code).

``--protocol paper`` reproduces, per benchmark, the released evaluation code of the paper that defines
the benchmark's published numbers: decoding limits and stops, answer extraction, scoring and the set
of languages averaged. Each benchmark folder's `PaperRule` (``tasks/<name>/benchmark.py``) names the
released file and function it follows; the scoring quirks live with the scorers by kind
(`polyalign.eval.metrics`). The full table, with the deviations we keep on purpose, is in
``docs/methods.md`` ("Protocol table").

Settings that are the same in both protocols (the Alpaca prompt, zero shots, greedy decoding) are not
repeated here. Benchmarks without a `PaperRule` score identically under both protocols; their paper
averaging set is every language the benchmark has.
"""

from __future__ import annotations

from typing import Any

from polyalign.errors import InputError
from polyalign.eval.benchmarks import get_benchmark
from polyalign.eval.taskspec import PaperRule

__all__ = ["PROTOCOLS", "DEFAULT_PROTOCOL", "PaperRule", "check_protocol", "paper_rule", "generation",
           "paper_langs"]

PROTOCOLS = ("polyalign", "paper")
DEFAULT_PROTOCOL = "polyalign"


def check_protocol(name: str) -> str:
    """Return ``name`` if it is a protocol, else raise `InputError` listing them."""
    if name not in PROTOCOLS:
        raise InputError(f"unknown --protocol {name!r}; expected one of {', '.join(PROTOCOLS)}")
    return name


def paper_rule(task: str, protocol: str) -> PaperRule | None:
    """The rule that applies to ``task`` under ``protocol`` (None: polyalign's settings)."""
    return get_benchmark(task).paper if protocol == "paper" else None


def generation(task: str, protocol: str, until: tuple[str, ...], max_new_tokens: int) -> tuple[tuple[str, ...], int]:
    """(stop strings, token limit) of ``task`` under ``protocol``, given the task's own settings."""
    rule = paper_rule(task, protocol)
    if rule is None:
        return until, max_new_tokens
    return (until if rule.until is None else rule.until,
            max_new_tokens if rule.max_new_tokens is None else rule.max_new_tokens)


def paper_langs(task: str, keys: Any) -> tuple[str, ...]:
    """The paper's averaging languages of ``task`` among ``keys`` (its evaluated language keys)."""
    rule = get_benchmark(task).paper
    wanted = tuple(keys) if rule is None or rule.avg_langs is None else rule.avg_langs
    have = set(keys)
    return tuple(k for k in wanted if k in have)
