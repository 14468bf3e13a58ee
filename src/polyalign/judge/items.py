"""What the judge reads: open-ended instruction sets (LLM-Eval style) and ``polyalign eval`` samples.

An open-ended set is JSON Lines, one instruction per line, with a reference answer, a category and
a language: ``{"instruction", "reference", "category", "lang"}``. Other spellings found in public
sets are accepted (``question``/``prompt``/``query``; ``reference_answer``/``answer``/``output``;
``type``; ``language``), an Alpaca ``input`` is appended to the instruction after a blank line, and a
file named after a language (``zh.jsonl``) supplies ``lang`` for lines without one. A path may be a
file, a folder of ``*.jsonl`` files, or ``builtin:samples/open-ended`` (the sample shipped with
polyalign). Ids are ``<task>/<lang>/<index>`` (index: position among that language's lines in file
order) unless a line has its own ``id``.

Samples are the ``OUT/samples/<task>_<lang>.jsonl`` files of ``polyalign eval`` (or of ``polyalign
judge --model``, which writes the same format plus ``instruction`` and ``category``).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from polyalign import langs as langtable
from polyalign.io import iter_jsonl
from polyalign.data.recipe import resolve_path
from polyalign.errors import InputError
from polyalign.runfiles import read_samples

__all__ = ["OpenEndedItem", "JudgeItem", "load_instructions", "read_sample_items", "apply_references",
           "response_language", "TASK"]

TASK = "open-ended"
"""Task name of open-ended sets in ids, samples file names and results.json."""

_ALIASES = {
    "instruction": ("instruction", "question", "prompt", "query"),
    "reference": ("reference", "reference_answer", "answer", "output"),
    "category": ("category", "type"),
    "lang": ("lang", "language"),
}


@dataclass(frozen=True)
class OpenEndedItem:
    """One instruction of an open-ended set."""

    id: str
    lang: str
    index: int
    instruction: str
    reference: str | None
    category: str | None


@dataclass(frozen=True)
class JudgeItem:
    """One response to judge."""

    id: str
    task: str
    lang: str
    index: int
    instruction: str
    response: str
    reference: str | None
    category: str | None


def _pick(record: dict[str, Any], field: str) -> Any:
    for name in _ALIASES[field]:
        if record.get(name) not in (None, ""):
            return record[name]
    return None


def _files(path: str) -> list[Path]:
    root = Path(resolve_path(path))
    if root.is_dir():
        files = sorted(root.glob("*.jsonl"))
        if not files:
            raise InputError("no *.jsonl files in this folder", where=str(root))
        return files
    if not root.is_file():
        raise InputError("no such file or folder", where=str(root))
    return [root]


def load_instructions(path: str, *, task: str = TASK) -> list[OpenEndedItem]:
    """Every instruction of an open-ended set, in file order."""
    items: list[OpenEndedItem] = []
    per_lang: dict[str, int] = {}
    for file in _files(path):
        stem_lang = file.stem if file.stem.lower() in langtable.LANGUAGES else None
        for number, record in iter_jsonl(file):
            where = f"{file}:{number}"
            instruction, lang = _pick(record, "instruction"), _pick(record, "lang") or stem_lang
            if not isinstance(instruction, str) or not instruction.strip():
                raise InputError(f"no instruction (one of: {', '.join(_ALIASES['instruction'])})", where=where)
            if not isinstance(lang, str):
                raise InputError("no language: add a `lang` field or name the file <lang>.jsonl", where=where)
            try:
                lang = langtable.get(lang).code
            except InputError as err:
                raise InputError(str(err), where=where) from None
            if isinstance(record.get("input"), str) and record["input"].strip():
                instruction = f"{instruction}\n\n{record['input']}"
            index = per_lang.get(lang, 0)
            per_lang[lang] = index + 1
            reference, category = _pick(record, "reference"), _pick(record, "category")
            items.append(OpenEndedItem(id=str(record.get("id") or f"{task}/{lang}/{index}"), lang=lang, index=index,
                                       instruction=instruction, reference=None if reference is None else str(reference),
                                       category=None if category is None else str(category)))
    ids = [item.id for item in items]
    if len(set(ids)) != len(ids):
        repeated = sorted({i for i in ids if ids.count(i) > 1})[:3]
        raise InputError(f"ids must be unique; repeated: {', '.join(repeated)}", where=path)
    return items


def response_language(key: str) -> str:
    """The English name of the language a response should be in: the key's, or a direction's target."""
    code = key.split("-")[-1]
    try:
        return langtable.get(code).name
    except InputError:
        return code


def _reference_text(record: dict[str, Any]) -> str | None:
    if isinstance(record.get("reference"), str):
        return record["reference"]
    target = record.get("target")
    if isinstance(target, list):
        return " / ".join(str(t) for t in target) or None
    return None if target in (None, "") else str(target)


def read_sample_items(path: str) -> tuple[list[JudgeItem], dict[str, Path], int]:
    """Responses from samples files: (items, the files read by name, samples without a text output)."""
    files = _files(path)
    items: list[JudgeItem] = []
    without_output = 0
    for file in files:
        for sample_id, record in read_samples(file).items():
            output = record.get("output")
            if not isinstance(output, str):
                without_output += 1  # multiple-choice samples hold log-likelihoods, not text
                continue
            instruction = record.get("instruction") or record.get("prompt") or ""
            items.append(JudgeItem(id=sample_id, task=str(record.get("task") or TASK),
                                   lang=str(record.get("lang") or "en"),
                                   index=int(record.get("index", len(items))), instruction=str(instruction),
                                   response=output, reference=_reference_text(record),
                                   category=record.get("category")))
    items.sort(key=lambda it: (it.task, it.lang, it.index, it.id))
    return items, {f.name: f for f in files}, without_output


def apply_references(items: list[JudgeItem], references: list[OpenEndedItem]) -> tuple[list[JudgeItem], int]:
    """Take instruction, reference and category from a reference set, joined on id; returns (items, matched)."""
    by_id = {r.id: r for r in references}
    out, matched = [], 0
    for item in items:
        ref = by_id.get(item.id)
        if ref is None:
            out.append(item)
            continue
        matched += 1
        out.append(replace(item, instruction=ref.instruction, reference=ref.reference,
                           category=ref.category or item.category))
    return out, matched
