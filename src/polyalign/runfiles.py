"""The files of a run folder, written by one command and read by others (report, analysis, judge).

An evaluation run (``polyalign eval``, docs/architecture.md "How data flows through a run") holds:

- ``results.json``: scores per task and language, averages and provenance;
- ``samples/<task>_<lang>.jsonl``: one line per example, appended as examples finish and read to
  resume. A line is written only when its example is fully scored and the file is flushed and synced
  after each chunk, so an interrupted run loses at most the chunk in flight. A torn last line (the
  process died mid-write) is dropped and cut off on the next run; a bad line anywhere else means the
  file was edited or belongs to something else, which is an `InputError`;
- ``tables/<task>.md|csv`` and ``tables.md``: per-language tables, rows = languages + averages.
  Averages are unweighted means over languages (the papers' averages), once with and once without
  English (non-English transfer is what the methods target); for translation tasks, over all
  directions and separately over en→X and X→en. Shares in [0, 1] are shown as percentages in
  Markdown; the CSV keeps the raw values.

The ``load_*`` readers are for display (``polyalign report``): they never raise and never repair, so a
page can be drawn from a run that is still being written; a missing or unreadable file is ``None``
or a problem string the page shows.
"""

from __future__ import annotations

import csv
import io
import json
import logging
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import yaml

from polyalign.errors import InputError
from polyalign.io import dump_json_line

__all__ = ["RESULTS_FILE", "SAMPLES_DIR", "TABLES_DIR", "TABLES_MD", "PERCENT_SCALE",
           "samples_path", "read_samples", "append_samples", "head_samples",
           "task_rows", "to_markdown", "to_csv", "write_tables",
           "load_json", "load_jsonl", "load_text", "load_yaml", "load_csv", "csv_header", "load_bytes"]

log = logging.getLogger(__name__)

RESULTS_FILE = "results.json"
"""Scores, averages and provenance of an evaluation run."""
SAMPLES_DIR = "samples"
"""Folder of the per-example files ``<task>_<lang>.jsonl``."""
TABLES_DIR = "tables"
"""Folder of the per-task tables ``<task>.md`` and ``<task>.csv``."""
TABLES_MD = "tables.md"
"""All tables of a run in one Markdown file."""
_MAX_TEXT = 200_000  # characters of a text file shown in full; beyond that the reader says it was cut


# --- samples ---------------------------------------------------------------------------------------

def samples_path(out: Path, task: str, key: str) -> Path:
    """Where the samples of one task language of run folder ``out`` are."""
    return out / SAMPLES_DIR / f"{task}_{key}.jsonl"


def read_samples(path: Path) -> dict[str, dict[str, Any]]:
    """Finished samples by id; repairs a torn last line in place."""
    if not path.exists():
        return {}
    data = path.read_bytes()
    if data and not data.endswith(b"\n"):  # every line is written with its newline: the tail is torn
        cut = data.rfind(b"\n") + 1
        log.warning("%s: dropping a torn last line (interrupted run)", path)
        with path.open("r+b") as handle:
            handle.truncate(cut)
        data = data[:cut]
    done: dict[str, dict[str, Any]] = {}
    for number, raw in enumerate(data.split(b"\n"), 1):
        if not raw.strip():
            continue
        try:
            record = json.loads(raw.decode("utf-8"))
        except (ValueError, UnicodeDecodeError):
            record = None
        if not isinstance(record, dict) or "id" not in record:
            raise InputError("not a samples line (edited, or from another tool?); delete the file to redo it",
                             where=f"{path}:{number}")
        done[record["id"]] = record
    return done


def append_samples(path: Path, records: Iterable[dict[str, Any]]) -> None:
    """Append records and make them durable before returning."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", encoding="utf-8") as handle:
        for record in records:
            handle.write(dump_json_line(record))
        handle.flush()
        os.fsync(handle.fileno())


def head_samples(path: Path, count: int) -> list[dict[str, Any]]:
    """The first ``count`` readable records of a samples file (for display: a torn line is skipped)."""
    return load_jsonl(path, limit=count)


# --- tolerant readers for display ------------------------------------------------------------------

def load_json(path: Path) -> tuple[Any, str | None]:
    """``(data, None)``, or ``(None, problem)`` for a missing or unreadable file."""
    try:
        return json.loads(path.read_text(encoding="utf-8")), None
    except FileNotFoundError:
        return None, f"{path.name} not found"
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        return None, f"{path.name} is not readable JSON ({err})"


def load_jsonl(path: Path, limit: int | None = None) -> list[dict[str, Any]]:
    """The readable object lines of a JSON Lines file (at most ``limit``); other lines are skipped.

    A run that is still going, or was interrupted, may end in a torn line: display skips it.
    """
    records: list[dict[str, Any]] = []
    try:
        with path.open(encoding="utf-8") as handle:
            for line in handle:
                if limit is not None and len(records) >= limit:
                    break
                try:
                    record = json.loads(line)
                except json.JSONDecodeError:
                    continue
                if isinstance(record, dict):
                    records.append(record)
    except (OSError, UnicodeDecodeError):
        return []
    return records


def load_text(path: Path) -> str | None:
    """A text file's content (None when absent); very long files are cut with a note."""
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None
    if len(text) > _MAX_TEXT:
        text = text[:_MAX_TEXT] + f"\n… ({len(text) - _MAX_TEXT} more characters in {path.name})"
    return text


def load_yaml(path: Path) -> Any:
    """A YAML file's data, or None when it is absent or not YAML."""
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return None


def load_csv(path: Path) -> tuple[list[dict[str, str]], str | None]:
    """``(rows, None)`` of a CSV file with a header, or ``([], problem)`` when it cannot be read."""
    try:
        with path.open(encoding="utf-8", newline="") as handle:
            return list(csv.DictReader(handle)), None
    except (OSError, UnicodeDecodeError, csv.Error) as err:
        return [], f"{path.name}: not readable ({err})"


def csv_header(path: Path) -> list[str]:
    """The column names of a CSV file ([] when it cannot be read)."""
    try:
        with path.open(encoding="utf-8", newline="") as handle:
            return next(csv.reader(handle), [])
    except (OSError, UnicodeDecodeError, csv.Error):
        return []


def load_bytes(path: Path) -> bytes | None:
    """A binary file (a figure), or None when it cannot be read."""
    try:
        return path.read_bytes()
    except OSError:
        return None


# --- tables ----------------------------------------------------------------------------------------

PERCENT_SCALE = frozenset({"bleu", "chrf++", "spbleu"})
"""Metrics already on a 0-100 scale (sacrebleu's)."""


def _mean(rows: list[dict[str, Any]], metric: str) -> float | None:
    vals = [r[metric] for r in rows if isinstance(r.get(metric), (int, float))]
    return sum(vals) / len(vals) if vals else None


def task_rows(per_lang: dict[str, dict[str, Any]]) -> tuple[list[str], list[tuple[str, dict[str, Any]]]]:
    """(columns, rows) of one task's table, averages last."""
    columns: list[str] = []
    for values in per_lang.values():
        columns.extend(k for k in values if k not in columns and k not in ("n", "skipped"))
    rows = list(per_lang.items())
    if len(per_lang) < 2:
        return columns + ["n"], rows
    groups = [("avg", list(per_lang))]
    if all("-" in key for key in per_lang):  # translation directions
        en_x, x_en = [k for k in per_lang if k.startswith("en-")], [k for k in per_lang if k.endswith("-en")]
        if en_x and x_en:
            groups += [("avg en→X", en_x), ("avg X→en", x_en)]
    elif "en" in per_lang:
        groups.append(("avg (no en)", [k for k in per_lang if k != "en"]))
    for label, keys in groups:
        members = [per_lang[k] for k in keys]
        avg: dict[str, Any] = {m: _mean(members, m) for m in columns}
        avg["n"] = sum(v.get("n", 0) for v in members)
        rows.append((label, avg))
    return columns + ["n"], rows


def _cell(metric: str, value: Any) -> str:
    if value is None:
        return "–"
    if metric in ("n", "skipped"):
        return str(int(value))
    return f"{value:.1f}" if metric in PERCENT_SCALE else f"{100 * value:.1f}"


def to_markdown(task: str, per_lang: dict[str, dict[str, Any]]) -> str:
    """One task's table as Markdown (shares as percentages)."""
    columns, rows = task_rows(per_lang)
    head = ["lang"] + [c if c in PERCENT_SCALE or c == "n" else f"{c} %" for c in columns]
    lines = [f"### {task}", "", "| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for label, values in rows:
        lines.append("| " + " | ".join([label] + [_cell(c, values.get(c)) for c in columns]) + " |")
    return "\n".join(lines) + "\n"


def to_csv(per_lang: dict[str, dict[str, Any]]) -> str:
    """One task's table as CSV (raw values)."""
    columns, rows = task_rows(per_lang)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["lang"] + columns)
    for label, values in rows:
        writer.writerow([label] + ["" if values.get(c) is None else values.get(c) for c in columns])
    return buffer.getvalue()


def write_tables(results: dict[str, dict[str, dict[str, Any]]], out: Path) -> str:
    """Write ``tables/<task>.md`` and ``.csv`` (and ``tables.md`` with all of them); returns the Markdown."""
    folder = out / TABLES_DIR
    folder.mkdir(parents=True, exist_ok=True)
    parts = []
    for task, per_lang in results.items():
        md = to_markdown(task, per_lang)
        (folder / f"{task}.md").write_text(md, encoding="utf-8")
        (folder / f"{task}.csv").write_text(to_csv(per_lang), encoding="utf-8")
        parts.append(md)
    text = "\n".join(parts)
    (out / TABLES_MD).write_text(text, encoding="utf-8")
    return text
