"""Readers: a benchmark's upstream files -> records in source order, one reader per file format.

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
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from polyalign.io import iter_jsonl, iter_lines
from polyalign.data.readers import read_rows
from polyalign.errors import InputError
from polyalign.eval.benchmarks import split_direction

__all__ = ["READERS", "AGIEVAL_FILES", "read_records", "parse_number"]

log = logging.getLogger(__name__)

_LETTERS = "ABCDEFGHIJ"


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


def _json_objects(path: Path) -> list[tuple[str, dict[str, Any]]]:
    """A JSON list of objects or JSON Lines (the ``.json`` files of mSVAMP are JSON Lines)."""
    first = next((line for _, line in iter_lines(path) if line.strip()), "")
    if first.lstrip().startswith("["):
        return [(row.where, row.data) for row in read_rows(path=str(path), fmt="json")]
    return [(f"{path}:{number}", record) for number, record in iter_jsonl(path)]


def _field(record: dict[str, Any], name: str, where: str) -> Any:
    if name not in record:
        raise InputError(f"missing field {name!r} (fields: {', '.join(record)})", where=where)
    return record[name]


def _msvamp(paths: list[Path], key: str) -> list[dict[str, Any]]:
    (path,) = paths
    return [{"question": _field(rec, "m_query", where), "answer": parse_number(_field(rec, "response", where), where)}
            for where, rec in _json_objects(path)]


def _gsm8k(paths: list[Path], key: str) -> list[dict[str, Any]]:
    (path,) = paths
    out = []
    for number, rec in iter_jsonl(path):
        where = f"{path}:{number}"
        answer = str(_field(rec, "answer", where))
        if "####" not in answer:
            raise InputError("answer has no '#### N' final line", where=where)
        out.append({"question": _field(rec, "question", where), "answer": parse_number(answer.rsplit("####", 1)[1], where),
                    "solution": answer})
    return out


def _svamp(paths: list[Path], key: str) -> list[dict[str, Any]]:
    (path,) = paths
    out = []
    for where, rec in _json_objects(path):
        body, question = str(_field(rec, "Body", where)).strip(), str(_field(rec, "Question", where)).strip()
        # SVAMP's question is Body + " " + Question (arkilpatel/SVAMP and the MathOctopus conversion)
        out.append({"question": f"{body} {question}".strip(), "answer": parse_number(_field(rec, "Answer", where), where)})
    return out


def _xcsqa(paths: list[Path], key: str) -> list[dict[str, Any]]:
    (path,) = paths
    out = []
    for number, rec in iter_jsonl(path):
        where = f"{path}:{number}"
        question = _field(rec, "question", where)
        if not isinstance(question, dict) or "stem" not in question or "choices" not in question:
            raise InputError("expected question: {stem, choices: [{label, text}]}", where=where)
        labels = [str(c.get("label", "")).strip().upper() for c in question["choices"]]
        gold = str(_field(rec, "answerKey", where)).strip().upper()
        if gold not in labels:
            raise InputError(f"answerKey {gold!r} is not one of the labels {labels}", where=where)
        out.append({"question": question["stem"], "choices": [c.get("text", "") for c in question["choices"]],
                    "labels": labels, "gold": gold, "subject": ""})
    return out


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


def _flores(paths: list[Path], key: str) -> list[dict[str, Any]]:
    src_path, tgt_path = paths
    src, tgt = split_direction(key)
    return [{"source": row.data[src], "reference": row.data[tgt]}
            for row in read_rows(parallel={src: str(src_path), tgt: str(tgt_path)})]


def _mc_rows(path: Path, rows: list[tuple[str, dict[str, str]]], subject: str) -> list[dict[str, Any]]:
    out = []
    for where, row in rows:
        labels = [letter for letter in _LETTERS if letter in row and row[letter] is not None]
        gold = str(row.get("answer") or "").strip().upper()
        if not labels or gold not in labels:
            raise InputError(f"expected options A, B, ... and an answer letter among them, got answer {gold!r}",
                             where=where)
        out.append({"question": row["question"], "choices": [row[letter] for letter in labels], "labels": labels,
                    "gold": gold, "subject": subject})
    return out


def _mmlu(paths: list[Path], key: str) -> list[dict[str, Any]]:
    out = []
    for path in paths:
        subject = path.stem.rsplit("_", 1)[0]  # abstract_algebra_test -> abstract_algebra
        rows = [(row.where, row.data) for row in
                read_rows(path=str(path), fmt="csv", columns=["question", "A", "B", "C", "D", "answer"])]
        out.extend(_mc_rows(path, rows, subject))
    return out


def _ceval(paths: list[Path], key: str) -> list[dict[str, Any]]:
    out = []
    for path in paths:
        subject = path.stem.rsplit("_", 1)[0]
        with path.open(encoding="utf-8-sig", newline="") as handle:
            reader = csv.DictReader(handle)
            if not reader.fieldnames or not {"question", "A", "answer"} <= set(reader.fieldnames):
                raise InputError("expected a header with question, A, B, C, D, answer", where=f"{path}:1")
            rows = [(f"{path}:{reader.line_num}", row) for row in reader]
        out.extend(_mc_rows(path, rows, subject))
    return out


# AGIEval's objective multiple-choice files (ruixiangcui/AGIEval data/v1) by language; the cloze files
# (math, gaokao-mathcloze) have no options and are not read.
AGIEVAL_FILES = {
    "en": ("lsat-ar", "lsat-lr", "lsat-rc", "logiqa-en", "sat-math", "sat-en", "sat-en-without-passage", "aqua-rat",
           "gaokao-english"),
    "zh": ("logiqa-zh", "jec-qa-kd", "jec-qa-ca", "gaokao-chinese", "gaokao-geography", "gaokao-history",
           "gaokao-biology", "gaokao-chemistry", "gaokao-physics", "gaokao-mathqa"),
}


def _excluded(name: str, count: int, total: int) -> None:
    # Multi-answer items need set-valued scoring; they are left out of both benchmarks and counted
    # here so that the subset is never silent (the task READMEs say the same).
    if count:
        log.info("%s: %d of %d items have several correct answers and are not scored", name, count, total)


def _agieval(paths: list[Path], key: str) -> list[dict[str, Any]]:
    out, multi, total = [], 0, 0
    for path in paths:
        if path.stem not in AGIEVAL_FILES[key]:
            continue
        for number, rec in iter_jsonl(path):
            where = f"{path}:{number}"
            total += 1
            label = _field(rec, "label", where)
            if isinstance(label, list):
                if len(label) != 1:
                    multi += 1
                    continue
                label = label[0]
            options = _field(rec, "options", where)
            if not isinstance(options, list) or not options:
                raise InputError("expected a list of options such as [\"(A)...\", \"(B)...\"]", where=where)
            labels, choices = [], []
            for option in options:
                match = re.match(r"\s*\(?([A-J])[).．]\s*", str(option))
                if not match:
                    raise InputError(f"option {option!r} does not start with a letter such as (A)", where=where)
                labels.append(match.group(1))
                choices.append(str(option)[match.end():].strip())
            gold = str(label).strip().upper()
            if gold not in labels:
                raise InputError(f"label {gold!r} is not one of the options {labels}", where=where)
            passage = (rec.get("passage") or "").strip()
            question = str(_field(rec, "question", where)).strip()
            out.append({"question": f"{passage}\n{question}" if passage else question, "choices": choices,
                        "labels": labels, "gold": gold, "subject": path.stem})
    _excluded(f"agieval {key}", multi, total)
    return out


_GAOKAO_OPTION = re.compile(r"(?<![A-Za-z])([A-G])\s*[．.、]")


def _gaokao(paths: list[Path], key: str) -> list[dict[str, Any]]:
    out, multi, total = [], 0, 0
    for path in paths:
        data = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(data, dict) or not isinstance(data.get("example"), list):
            raise InputError('expected GAOKAO-Bench JSON: {"keywords": ..., "example": [{question, answer}]}',
                             where=str(path))
        subject = str(data.get("keywords") or path.stem).split("_", 1)[-1]  # 2010-2022_Biology_MCQs -> Biology_MCQs
        for item, rec in enumerate(data["example"]):
            where = f"{path}#{item}"
            total += 1
            answer = _field(rec, "answer", where)
            letters = [str(a).strip().upper() for a in (answer if isinstance(answer, list) else [answer])]
            if len(letters) != 1 or len(letters[0]) != 1:
                multi += 1
                continue
            question = str(_field(rec, "question", where)).strip()
            # The options are part of the question text ("A．...  B．..."); the letters offered are
            # those found there, at least A-D.
            found = {m.group(1) for m in _GAOKAO_OPTION.finditer(question)}
            last = max(found | {"D"})
            labels = [letter for letter in _LETTERS if letter <= last]
            if letters[0] not in labels:
                raise InputError(f"answer {letters[0]!r} is not an option letter", where=where)
            out.append({"question": question, "choices": [], "labels": labels, "gold": letters[0], "subject": subject})
    _excluded(f"gaokao {key}", multi, total)
    return out


READERS: dict[str, Callable[[list[Path], str], list[dict[str, Any]]]] = {
    "tsv_question_answer": _tsv_question_answer, "msvamp": _msvamp, "gsm8k": _gsm8k, "svamp": _svamp,
    "xcsqa": _xcsqa, "squad": _squad, "flores": _flores, "mmlu": _mmlu, "ceval": _ceval, "agieval": _agieval,
    "gaokao": _gaokao,
}
"""Reader name (`Benchmark.reader`) -> function(paths, language key) -> records."""


def read_records(reader: str, paths: list[Path], key: str) -> list[dict[str, Any]]:
    """Read records with the named reader; JSON errors surface as `InputError` with the file."""
    try:
        return READERS[reader](paths, key)
    except json.JSONDecodeError as err:  # whole-file JSON parsed outside read_rows
        raise InputError(f"malformed JSON ({err.msg})", where=f"{paths[0]}:{err.lineno}") from None
    except UnicodeDecodeError as err:
        raise InputError(f"not valid UTF-8 (byte offset {err.start})", where=str(paths[0])) from None
    except csv.Error as err:
        raise InputError(f"malformed CSV ({err})", where=str(paths[0])) from None
    except (KeyError, TypeError, AttributeError) as err:  # nested formats (SQuAD) with a part missing
        raise InputError(f"unexpected structure for the {reader} format ({type(err).__name__}: {err})",
                         where=str(paths[0])) from None
