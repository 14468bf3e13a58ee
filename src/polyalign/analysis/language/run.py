"""`polyalign analyze language`: which language do the responses of an evaluation run come in?

Reads ``RUN/samples/<task>_<lang>.jsonl`` (docs/architecture.md contract: one line per example with ``id``,
``prompt``, ``output``, …), analyses every ``output`` (`response`) and reports per task
and prompt language: the response-language distribution, the share answered in the prompt's
language, the share with no language, the share of code-switched responses, and for chain-of-thought
outputs the language of the reasoning and of the final answer.

The prompt language is the sample's ``lang`` field when present, else the part of the file name
after the last underscore. For translation directions (``flores_en-zh.jsonl``) the expected
response language is the *target* (``zh``), so "in prompt language" reads "in the requested
language" there. Shares are over all responses of the group (no-language responses count as not
matching, as ``lang_match`` counts them); CoT shares are over the CoT responses.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from polyalign import langs as langtable
from polyalign.analysis.language.response import DEFAULT_THRESHOLD, ResponseLanguage, analyze_response
from polyalign.io import iter_jsonl
from polyalign.errors import InputError

__all__ = ["Sample", "find_sample_files", "read_samples", "expected_lang", "summarize", "analyze_samples",
           "NONE"]

NONE = "none"
"""The response-language label for outputs without a language."""
_MAX_IDS = 20  # code-switched sample ids kept per group for a reader to inspect


@dataclass(frozen=True)
class Sample:
    """One evaluated example as far as this analysis needs it."""

    task: str
    key: str
    """The language key of the file: a language (``de``) or a direction (``en-zh``)."""
    lang: str
    """The language the response is expected in."""
    id: str
    output: str


def find_sample_files(paths: Iterable[str | Path]) -> list[Path]:
    """``*.jsonl`` files from files, samples folders, or run folders holding ``samples/``."""
    files: list[Path] = []
    for item in map(Path, paths):
        if item.is_file():
            files.append(item)
        elif item.is_dir():
            folder = item / "samples" if (item / "samples").is_dir() else item
            found = sorted(folder.glob("*.jsonl"))
            if not found:
                raise InputError("no <task>_<lang>.jsonl files", where=str(folder))
            files += found
        else:
            raise InputError("no such file or folder", where=str(item))
    return files


def expected_lang(key: str) -> str:
    """The response language a file key asks for: the language itself, or a direction's target."""
    try:
        return langtable.get(key).code
    except InputError:
        if "-" not in key:
            raise
        return langtable.get(key.rsplit("-", 1)[1]).code


def read_samples(path: Path) -> tuple[list[Sample], int]:
    """The samples of one ``<task>_<lang>.jsonl`` file, and how many lines had no generated output.

    Log-likelihood tasks (multiple choice scored by option likelihood) store ``output: null``: they
    generate no text, so they have no response language and are skipped, not errors.
    """
    if "_" not in path.stem:
        raise InputError("expected a file named <task>_<lang>.jsonl", where=str(path))
    task, key = path.stem.rsplit("_", 1)
    try:
        file_lang = expected_lang(key)
    except InputError as err:
        raise InputError(f"file name: {err} (expected <task>_<lang>.jsonl)", where=str(path)) from None
    samples, skipped = [], 0
    for number, record in iter_jsonl(path):
        if record.get("output") is None:
            skipped += 1
            continue
        if not isinstance(record["output"], str):
            raise InputError("expected an `output` string (samples contract: id, prompt, output, target)",
                             where=f"{path}:{number}")
        try:
            lang = expected_lang(str(record["lang"])) if record.get("lang") else file_lang
        except InputError as err:
            raise InputError(f"field `lang`: {err}", where=f"{path}:{number}") from None
        samples.append(Sample(task, key, lang, str(record.get("id", f"{task}/{key}/{number - 1}")),
                              record["output"]))
    return samples, skipped


def _shares(counter: Counter, n: int) -> dict[str, float]:
    return {label: count / n for label, count in counter.most_common()} if n else {}


def summarize(samples: list[Sample], results: list[ResponseLanguage], *, pivot: str = "en") -> dict[str, Any]:
    """Aggregate one group (one task and prompt language) of analysed responses.

    Args:
        samples: the group's samples.
        results: their analyses, in the same order.
        pivot: the language "reasoning in English" refers to (Paper C).
    """
    n, m = len(samples), sum(1 for r in results if r.cot)
    langs = Counter(r.lang or NONE for r in results)
    switched = [(s, r) for s, r in zip(samples, results) if r.code_switched]
    cot = [(s, r) for s, r in zip(samples, results) if r.cot]
    reasoning = Counter(r.reasoning_lang or NONE for _, r in cot)
    final = Counter(r.final_lang or NONE for _, r in cot)

    def share(count: int, total: int) -> float | None:
        return count / total if total else None

    # each sample is compared with its own expected language (a `lang` field may differ per line)
    return {
        "n": n, "expected_lang": "+".join(dict.fromkeys(s.lang for s in samples)),
        "response_langs": dict(langs.most_common()), "response_lang_shares": _shares(langs, n),
        "in_prompt_lang": share(sum(1 for s, r in zip(samples, results) if r.lang == s.lang), n),
        "no_language": share(langs.get(NONE, 0), n),
        "code_switched": share(len(switched), n),
        "code_switched_n": len(switched),
        "code_switch_sets": dict(Counter("+".join(sorted(r.languages)) for _, r in switched).most_common()),
        "code_switched_ids": [s.id for s, _ in switched[:_MAX_IDS]],
        "cot": {
            "n": m, "reasoning_langs": dict(reasoning.most_common()), "final_langs": dict(final.most_common()),
            "reasoning_in_prompt_lang": share(sum(1 for s, r in cot if r.reasoning_lang == s.lang), m),
            "reasoning_in_pivot": share(reasoning.get(pivot, 0), m),
            "final_in_prompt_lang": share(sum(1 for s, r in cot if r.final_lang == s.lang), m),
            "reasoning_equals_final": share(
                sum(1 for _, r in cot if r.reasoning_lang and r.reasoning_lang == r.final_lang), m),
        },
    }


def analyze_samples(paths: Iterable[str | Path], *, threshold: float = DEFAULT_THRESHOLD,
                    pivot: str = "en") -> dict[str, Any]:
    """Analyse every samples file.

    Returns:
        ``{"settings", "results": {task: {key: summary}}, "skipped_without_output": {file: count},
        "samples": [...]}``; ``samples`` lists, per response, its id and language facts (for
        drill-down and for the report).
    """
    if not 0.0 <= threshold <= 1.0:
        raise InputError(f"--threshold must be in [0, 1], got {threshold}")
    results: dict[str, dict[str, Any]] = {}
    details, skipped = [], {}
    files = find_sample_files(paths)
    for path in files:
        samples, without_output = read_samples(path)
        if without_output:
            skipped[path.name] = without_output
        if not samples:
            continue
        analysed = [analyze_response(s.output, threshold=threshold) for s in samples]
        task, key = samples[0].task, samples[0].key
        results.setdefault(task, {})[key] = summarize(samples, analysed, pivot=pivot)
        details += [{"task": s.task, "key": s.key, "id": s.id, **asdict(r)} for s, r in zip(samples, analysed)]
    if not results:
        why = " (only log-likelihood tasks)" if skipped else ""
        raise InputError(f"the samples files hold no generated outputs{why}")
    settings = {"samples": [str(f) for f in files], "threshold": threshold, "pivot": pivot}
    return {"analysis": "language", "version": 1, "settings": settings,
            "results": results, "skipped_without_output": skipped, "samples": details}
