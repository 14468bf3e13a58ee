"""The samples files (``OUT/samples/<task>_<lang>.jsonl``): appended as examples finish, read to resume.

A line is written only when its example is fully scored and the file is flushed and synced after
each chunk, so an interrupted run loses at most the chunk in flight. A torn last line (the process
died mid-write) is dropped and cut off on the next run; a bad line anywhere else means the file was
edited or belongs to something else, which is an `InputError`.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from polyalign.io import dump_json_line
from polyalign.errors import InputError

__all__ = ["samples_path", "read_samples", "append_samples"]

log = logging.getLogger(__name__)


def samples_path(out: Path, task: str, key: str) -> Path:
    return out / "samples" / f"{task}_{key}.jsonl"


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
