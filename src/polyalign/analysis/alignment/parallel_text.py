"""Parallel sentences for the alignment analysis, and the prompt they are wrapped in.

Two input layouts (``--parallel``):

- ``lang=path`` items: line-aligned files, one per language, all parallel to each other
  (multi-way, e.g. Flores ``deu.devtest`` + ``eng.devtest``); the pivot is one of them.
- a folder in the QAlign layout: sub-folders ``<x>-<pivot>/`` each holding ``train.<x>`` and
  ``train.<pivot>`` (any ``*.<x>`` file if there is no ``train.*``); every language brings its own
  pivot side, as in ``qalign-question-pairs``. A folder that itself holds ``train.<x>`` and
  ``train.<pivot>`` is one such pair.

Lines are stripped (the QAlign files carry stray whitespace); a pair with an empty side is skipped;
``limit`` keeps the first N usable pairs in source order.

Templates (``--template``): ``raw`` feeds the sentence alone; ``alpaca`` feeds the papers' Alpaca
prompt with the sentence as the instruction (as QAlign evaluates questions) and pools over the whole
prompt; ``question`` feeds the same Alpaca prompt but pools over the sentence's own tokens only, so
the English template words every input shares do not count as "alignment".
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from polyalign import langs as langtable
from polyalign.analysis.alignment.capture import Span
from polyalign.data.readers import read_rows
from polyalign.data.templates import ALPACA_PROMPT_NO_INPUT, render_alpaca
from polyalign.errors import InputError

__all__ = ["ParallelSet", "Template", "TEMPLATES", "load_parallel", "render_input"]

Template = Literal["raw", "alpaca", "question"]
TEMPLATES: tuple[str, ...] = ("raw", "alpaca", "question")
_QUESTION_START = len(ALPACA_PROMPT_NO_INPUT.split("{instruction}")[0])


@dataclass(frozen=True)
class ParallelSet:
    """Sentences of one language and their pivot-language translations, row by row."""

    lang: str
    pivot: str
    texts: list[str]
    pivot_texts: list[str]
    source: str
    """The files read, for the report."""


def render_input(text: str, template: Template) -> tuple[str, Span | None]:
    """The model input for one sentence, and the character span to pool over (None = all)."""
    if template == "raw":
        return text, None
    prompt = render_alpaca(text)
    if template == "alpaca":
        return prompt, None
    if template == "question":
        return prompt, (_QUESTION_START, _QUESTION_START + len(text))
    raise InputError(f"unknown template {template!r}; expected one of {', '.join(TEMPLATES)}")


def load_parallel(specs: list[str], *, pivot: str, langs: list[str] | None = None,
                  limit: int | None = None) -> list[ParallelSet]:
    """Read the parallel sets named by ``--parallel`` items.

    Args:
        specs: ``lang=path`` items and/or folders (QAlign layout), see the module docstring.
        pivot: the pivot language code (e.g. "en").
        langs: languages to keep (default: every non-pivot language found); a language equal to
            the pivot pairs the pivot file with itself (a sanity check: cosine 1, retrieval 1).
        limit: first N usable pairs per language.

    Returns:
        One `ParallelSet` per language, in the order of ``langs`` (or as found).
    """
    pivot = langtable.get(pivot).code
    files: dict[str, str] = {}
    pairs: dict[str, tuple[str, str]] = {}
    for spec in specs:
        if "=" in spec and not Path(spec).exists():
            code, path = spec.split("=", 1)
            code = langtable.get(code).code
            if not Path(path).is_file():
                raise InputError("no such file", where=path)
            files[code] = path
        elif Path(spec).is_dir():
            pairs.update(_qalign_pairs(Path(spec), pivot))
        else:
            raise InputError("expected lang=path or a folder in the QAlign layout (<x>-<pivot>/train.<x>)",
                             where=spec)
    if files and pivot not in files:
        raise InputError(f"lang=path items need the pivot language too ({pivot}=path)")
    found = list(dict.fromkeys([*(c for c in files if c != pivot), *pairs]))
    wanted = found if langs is None else [langtable.get(code).code for code in langs]
    sets = []
    for code in wanted:
        if code in pairs:
            x_path, p_path = pairs[code]
        elif code in files:
            x_path, p_path = files[code], files[pivot]
        else:
            raise InputError(f"no parallel text for language {code!r} (found: {', '.join(found) or 'none'})")
        sets.append(_read_pairs(code, pivot, x_path, p_path, limit))
    if not sets:
        raise InputError("no parallel text found in --parallel")
    return sets


def _qalign_pairs(folder: Path, pivot: str) -> dict[str, tuple[str, str]]:
    """``{x: (x file, pivot file)}`` from ``folder/<x>-<pivot>/`` (or ``folder`` itself being one)."""
    candidates = [folder] + sorted(p for p in folder.iterdir() if p.is_dir() and p.name.endswith(f"-{pivot}"))
    pairs: dict[str, tuple[str, str]] = {}
    for sub in candidates:
        code = sub.name[: -len(pivot) - 1] if sub.name.endswith(f"-{pivot}") else None
        if code is None:  # the folder itself: look for train.<x> beside train.<pivot>
            others = [p.suffix[1:] for p in sub.glob("*.*") if p.is_file() and p.suffix[1:] != pivot]
            code = next((c for c in others if c in langtable.LANGUAGES), None)
            if code is None or _side(sub, pivot) is None:
                continue
        x_file, p_file = _side(sub, code), _side(sub, pivot)
        if x_file is None or p_file is None:
            raise InputError(f"expected train.{code} and train.{pivot}", where=str(sub))
        pairs[langtable.get(code).code] = (str(x_file), str(p_file))
    if not pairs:
        raise InputError(f"no <x>-{pivot}/ sub-folders with train.<x> and train.{pivot}", where=str(folder))
    return pairs


def _side(folder: Path, code: str) -> Path | None:
    preferred = folder / f"train.{code}"
    if preferred.is_file():
        return preferred
    matches = sorted(folder.glob(f"*.{code}"))
    return matches[0] if len(matches) == 1 else None


def _read_pairs(code: str, pivot: str, x_path: str, p_path: str, limit: int | None) -> ParallelSet:
    texts, pivot_texts = [], []
    source = {"x": x_path, "p": p_path} if x_path != p_path else {"x": x_path}
    for row in read_rows(parallel=source) if len(source) == 2 else read_rows(path=x_path, fmt="text"):
        x = str(row.data.get("x", row.data.get("text", ""))).strip()
        p = str(row.data.get("p", x)).strip()
        if not x or not p:
            continue
        texts.append(x)
        pivot_texts.append(p)
        if limit is not None and len(texts) >= limit:
            break
    if len(texts) < 2:
        raise InputError(f"{code}-{pivot}: fewer than two usable parallel lines (need ≥ 2 for the baseline)",
                         where=x_path)
    return ParallelSet(code, pivot, texts, pivot_texts, f"{x_path} + {p_path}" if x_path != p_path else x_path)
