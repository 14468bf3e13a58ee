"""Readers: every supported input format, streamed as `Row`s in source order.

Formats: JSON Lines, JSON (a list of objects, or SQuAD-style ``data[].paragraphs[].qas[]``), CSV/TSV
(with a header, or with ``columns`` given), line-aligned parallel text (``train.de`` + ``train.en``,
one row per line with a field per language), plain text (one document per line) and Hugging Face
datasets (a hub id as ``hf:org/name`` or a local folder), which honour ``HF_HUB_OFFLINE`` /
``HF_DATASETS_OFFLINE``. Everything except whole-file JSON streams in constant memory.
"""

from __future__ import annotations

import csv
import itertools
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator, Literal

from polyalign.io import iter_jsonl, iter_lines
from polyalign.errors import InputError

__all__ = ["Row", "Format", "FORMATS", "read_rows", "detect_format", "get_field"]

Format = Literal["auto", "jsonl", "json", "csv", "tsv", "parallel", "text", "hf"]
FORMATS: tuple[str, ...] = ("auto", "jsonl", "json", "csv", "tsv", "parallel", "text", "hf")
_SUFFIXES = {".jsonl": "jsonl", ".ndjson": "jsonl", ".json": "json", ".csv": "csv", ".tsv": "tsv", ".txt": "text"}
HF_PREFIX = "hf:"


@dataclass(frozen=True)
class Row:
    """One input record with where it came from."""

    data: dict[str, Any]
    """The record's fields (for parallel text: one field per language code)."""
    where: str
    """``file:line`` (or ``file#index``) for error messages."""
    index: int
    """0-based position in source order; the stable part of example ids."""


def detect_format(path: str | None, parallel: dict[str, str] | None) -> str:
    """The format implied by a path's suffix, ``hf:`` prefix, folder, or the presence of parallel files."""
    if parallel:
        return "parallel"
    if path is None:
        raise InputError("a source needs `path` or `parallel`")
    if path.startswith(HF_PREFIX) or Path(path).is_dir():
        return "hf"
    fmt = _SUFFIXES.get(Path(path).suffix.lower())
    if fmt is None:
        raise InputError(f"cannot tell the format from the name; set `format` to one of {', '.join(FORMATS[1:])}",
                         where=path)
    return fmt


def read_rows(*, path: str | None = None, parallel: dict[str, str] | None = None, fmt: str = "auto",
              columns: list[str] | None = None, subset: str | None = None, split: str = "train") -> Iterator[Row]:
    """Stream the rows of one source.

    Args:
        path: a file, a local dataset folder, or ``hf:org/name``.
        parallel: for parallel text, language code → file; files must have equal line counts.
        fmt: one of `FORMATS`; ``auto`` decides from the path.
        columns: for CSV/TSV without a header row, the column names in order.
        subset: Hugging Face dataset configuration name.
        split: Hugging Face dataset split.
    """
    fmt = detect_format(path, parallel) if fmt == "auto" else fmt
    if fmt == "parallel":
        if not parallel or len(parallel) < 2:
            raise InputError("parallel text needs `parallel` with a file for each of at least two languages")
        return _read_parallel(parallel)
    if path is None:
        raise InputError(f"format {fmt!r} needs `path`")
    readers = {"jsonl": _read_jsonl, "json": _read_json, "text": _read_text}
    if fmt in readers:
        return readers[fmt](path)
    if fmt in ("csv", "tsv"):
        return _read_table(path, delimiter="\t" if fmt == "tsv" else ",", columns=columns)
    if fmt == "hf":
        return _read_hf(path, subset=subset, split=split)
    raise InputError(f"unknown format {fmt!r}; expected one of {', '.join(FORMATS)}")


def get_field(data: dict[str, Any], name: str) -> Any:
    """Look up ``name`` in a record; dotted names reach into nested objects (``translation.de``)."""
    if name in data:
        return data[name]
    node: Any = data
    for part in name.split("."):
        if not isinstance(node, dict) or part not in node:
            raise KeyError(name)
        node = node[part]
    return node


def _read_jsonl(path: str) -> Iterator[Row]:
    for index, (number, record) in enumerate(iter_jsonl(path)):
        yield Row(record, f"{path}:{number}", index)


def _read_text(path: str) -> Iterator[Row]:
    index = 0
    for number, line in iter_lines(path):
        if line.strip():
            yield Row({"text": line}, f"{path}:{number}", index)
            index += 1


def _read_json(path: str) -> Iterator[Row]:
    # Whole-file JSON cannot stream; for large corpora use JSON Lines.
    text = "\n".join(line for _, line in iter_lines(path))
    try:
        data = json.loads(text)
    except json.JSONDecodeError as err:
        raise InputError(f"malformed JSON ({err.msg})", where=f"{path}:{err.lineno}") from None
    if isinstance(data, dict) and isinstance(data.get("data"), list):
        yield from _squad_rows(data["data"], path)
        return
    if not isinstance(data, list):
        raise InputError("expected a JSON list of objects or a SQuAD-style {\"data\": [...]}", where=path)
    for index, record in enumerate(data):
        if not isinstance(record, dict):
            raise InputError(f"expected an object, got {type(record).__name__}", where=f"{path}#{index}")
        yield Row(record, f"{path}#{index}", index)


def _squad_rows(articles: list[Any], path: str) -> Iterator[Row]:
    """Flatten SQuAD v1.1 JSON into one row per question, in document order (docs/architecture.md id rule)."""
    index = 0
    for article in articles:
        for paragraph in article.get("paragraphs", []):
            for qa in paragraph.get("qas", []):
                answers = qa.get("answers", [])
                yield Row({"id": qa.get("id"), "title": article.get("title", ""), "context": paragraph["context"],
                           "question": qa["question"], "answers": [a["text"] for a in answers],
                           "answer_starts": [a.get("answer_start") for a in answers]}, f"{path}#{index}", index)
                index += 1


def _read_table(path: str, *, delimiter: str, columns: list[str] | None) -> Iterator[Row]:
    lines = (line + "\n" for _, line in iter_lines(path))
    # TSV files (MGSM and friends) are not quoted: a question may start with a quotation mark.
    quoting = csv.QUOTE_NONE if delimiter == "\t" else csv.QUOTE_MINIMAL
    reader = csv.reader(lines, delimiter=delimiter, quoting=quoting)
    header = columns
    index = 0
    for cells in reader:
        if not any(cell.strip() for cell in cells):
            continue
        if header is None:
            header = [cell.strip() for cell in cells]
            continue
        where = f"{path}:{reader.line_num}"
        if len(cells) != len(header):
            raise InputError(f"expected {len(header)} columns ({', '.join(header)}), found {len(cells)}", where=where)
        yield Row(dict(zip(header, cells)), where, index)
        index += 1


def _read_parallel(files: dict[str, str]) -> Iterator[Row]:
    langs = list(files)
    streams = [iter_lines(files[lang]) for lang in langs]
    for index, lines in enumerate(itertools.zip_longest(*streams)):
        if any(item is None for item in lines):
            short = [files[lang] for lang, item in zip(langs, lines) if item is None]
            long_ = [files[lang] for lang, item in zip(langs, lines) if item is not None]
            raise InputError(f"parallel files differ in length: {', '.join(short)} has {index:,} "
                             f"line{'' if index == 1 else 's'}, "
                             f"{', '.join(long_)} has more (line {index + 1} has no partner)", where=long_[0])
        yield Row({lang: text for lang, (_, text) in zip(langs, lines)}, f"{files[langs[0]]}:{index + 1}", index)


def _read_hf(path: str, *, subset: str | None, split: str) -> Iterator[Row]:
    import datasets  # heavy import, only for this format

    local = not path.startswith(HF_PREFIX)
    name = path if local else path[len(HF_PREFIX):]
    try:
        saved = ("dataset_dict.json", "state.json")  # written by Dataset.save_to_disk
        if local and any((Path(name) / marker).exists() for marker in saved):
            loaded = datasets.load_from_disk(name)
            dataset = loaded[split] if isinstance(loaded, datasets.DatasetDict) else loaded
        else:
            dataset = datasets.load_dataset(name, subset, split=split, streaming=True)
    except Exception as err:  # datasets raises many types; all mean "cannot read this source"
        offline = os.environ.get("HF_HUB_OFFLINE") == "1" or os.environ.get("HF_DATASETS_OFFLINE") == "1"
        hint = (" (offline mode: download it elsewhere and point `path` at the local copy)" if offline or not local
                else "")
        raise InputError(f"cannot load dataset {name!r} split {split!r}: {type(err).__name__}: "
                         f"{str(err).splitlines()[0] if str(err) else ''}{hint}", where=path) from None
    for index, record in enumerate(dataset):
        yield Row(dict(record), f"{path}#{index}", index)
