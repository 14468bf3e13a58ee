"""Shared readers: upstream files -> records in source order, for formats several benchmarks use.

A benchmark's own format is read by the reader in its folder (``tasks/<name>/benchmark.py``); the
formats here are shared (MGSM-style TSV, SQuAD JSON, line-aligned parallel text), with the helpers
folder readers build on. 
Each reader returns plain dicts whose fields depend on the answer type (`Benchmark.kind`):

* numeric: ``question``, ``answer`` (float)
* qa: ``context``, ``question``, ``answers`` (list of str), ``qid``
* choice: ``question``, ``choices`` (option texts), ``labels`` (letters), ``gold`` (letter), ``subject``
* translation: ``source``, ``reference``

The position of a record in the returned list is its index in example ids (docs/architecture.md). A malformed
row is an `InputError` naming ``file:line`` (or ``file#item``) and what was expected; nothing is
skipped silently.
"""

from __future__ import annotations

import csv
import json
import logging
from pathlib import Path
from typing import Any

from polyalign.io import iter_jsonl, iter_lines
from polyalign.data.readers import read_rows
from polyalign.errors import InputError
from polyalign.eval.taskspec import Reader, split_direction

__all__ = ["READERS", "read_records", "parse_number", "field", "json_objects", "mc_rows", "excluded", "LETTERS"]

log = logging.getLogger(__name__)

LETTERS = "ABCDEFGHIJ"


def parse_number(text: Any, where: str) -> float:
    """A gold answer as a float: ``"1,234"`` and ``"1 234"`` are accepted; anything else fails."""
    if isinstance(text, (int, float)) and not isinstance(text, bool):
        return float(text)
    cleaned = str(text).strip().replace(",", "").replace(" ", "").replace("\u00a0", "")
    try:
        return float(cleaned)
    except ValueError:
        raise InputError(f"expected a number as the answer, got {text!r}", where=where) from None


def _tsv_question_answer(paths: list[Path], key: str) -> list[dict[str, Any]]:
    (path,) = paths
    return [{"question": row.data["question"], "answer": parse_number(row.data["answer"], row.where)}
            for row in read_rows(path=str(path), fmt="tsv", columns=["question", "answer"])]


def json_objects(path: Path) -> list[tuple[str, dict[str, Any]]]:
    """A JSON list of objects or JSON Lines (the ``.json`` files of mSVAMP are JSON Lines)."""
    first = next((line for _, line in iter_lines(path) if line.strip()), "")
    if first.lstrip().startswith("["):
        return [(row.where, row.data) for row in read_rows(path=str(path), fmt="json")]
    return [(f"{path}:{number}", record) for number, record in iter_jsonl(path)]


def field(record: dict[str, Any], name: str, where: str) -> Any:
    """``record[name]``, or an `InputError` at ``where`` naming the fields there are."""
    if name not in record:
        raise InputError(f"missing field {name!r} (fields: {', '.join(record)})", where=where)
    return record[name]


def _squad(paths: list[Path], key: str) -> list[dict[str, Any]]:
    (path,) = paths
    out = []
    for row in read_rows(path=str(path), fmt="json"):
        if "context" not in row.data:
            raise InputError("expected SQuAD v1.1 JSON: {\"data\": [{\"paragraphs\": [{\"context\", \"qas\"}]}]}",
                             where=row.where)
        answers = [a.strip() for a in row.data["answers"] if a and a.strip()]
        if not answers:
            raise InputError("question has no gold answer", where=row.where)
        # Stripped as x-LLaMA's loader does (NJUNLP/x-LLM data/xquad/xquad.py).
        out.append({"context": row.data["context"].strip(), "question": row.data["question"].strip(),
                    "answers": answers, "qid": str(row.data.get("id") or "")})
    return out


def _parallel(paths: list[Path], key: str) -> list[dict[str, Any]]:
    src_path, tgt_path = paths
    src, tgt = split_direction(key)
    return [{"source": row.data[src], "reference": row.data[tgt]}
            for row in read_rows(parallel={src: str(src_path), tgt: str(tgt_path)})]


def mc_rows(rows: list[tuple[str, dict[str, str]]], subject: str) -> list[dict[str, Any]]:
    """Multiple-choice records from CSV rows with ``question``, option columns ``A``.. and ``answer``."""
    out = []
    for where, row in rows:
        labels = [letter for letter in LETTERS if letter in row and row[letter] is not None]
        gold = str(row.get("answer") or "").strip().upper()
        if not labels or gold not in labels:
            raise InputError(f"expected options A, B, ... and an answer letter among them, got answer {gold!r}",
                             where=where)
        out.append({"question": row["question"], "choices": [row[letter] for letter in labels], "labels": labels,
                    "gold": gold, "subject": subject})
    return out


def excluded(name: str, count: int, total: int) -> None:
    """Log how many multi-answer items a reader left out, so that the subset is never silent."""
    # Multi-answer items need set-valued scoring; they are left out and counted (task READMEs say so).
    if count:
        log.info("%s: %d of %d items have several correct answers and are not scored", name, count, total)


READERS: dict[str, Reader] = {
    "tsv_question_answer": _tsv_question_answer, "squad": _squad, "parallel": _parallel,
}
"""Shared formats by name (`Benchmark.reader` may name one): function(paths, language key) -> records."""


def read_records(reader: Reader | str, paths: list[Path], key: str) -> list[dict[str, Any]]:
    """Read records with a benchmark's reader (a function or a shared format's name); JSON, UTF-8, CSV
    and structure errors surface as `InputError` naming the file."""
    name = reader if isinstance(reader, str) else getattr(reader, "__name__", "benchmark")
    try:
        return (READERS[reader] if isinstance(reader, str) else reader)(paths, key)
    except json.JSONDecodeError as err:  # whole-file JSON parsed outside read_rows
        raise InputError(f"malformed JSON ({err.msg})", where=f"{paths[0]}:{err.lineno}") from None
    except UnicodeDecodeError as err:
        raise InputError(f"not valid UTF-8 (byte offset {err.start})", where=str(paths[0])) from None
    except csv.Error as err:
        raise InputError(f"malformed CSV ({err})", where=str(paths[0])) from None
    except (KeyError, TypeError, AttributeError) as err:  # nested formats (SQuAD) with a part missing
        raise InputError(f"unexpected structure for the {name} format ({type(err).__name__}: {err})",
                         where=str(paths[0])) from None
