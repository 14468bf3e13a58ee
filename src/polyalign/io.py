"""Low-level file handling shared by readers and builds: checked UTF-8 lines, JSONL, atomic outputs.

Every read error becomes an `InputError` naming ``file:line`` (non-UTF-8 bytes, bad JSON), so the
CLI can print one line and exit 2. Outputs are written into a hidden sibling folder and renamed into
place at the end, so a failed or interrupted build never leaves a half-written result behind.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
from pathlib import Path
from typing import Any, Iterator

from polyalign.errors import InputError

__all__ = ["iter_lines", "iter_jsonl", "read_json", "file_sha256", "staged_output_dir", "dump_json_line"]


def iter_lines(path: str | Path) -> Iterator[tuple[int, str]]:
    """Yield ``(line_number, text)`` for every line, without its line ending (1-based numbers).

    Streams the file (constant memory). A UTF-8 byte-order mark on the first line is dropped.

    Raises:
        InputError: the file is missing, is a folder, or holds bytes that are not UTF-8.
    """
    path = Path(path)
    if path.is_dir():
        raise InputError("expected a file, found a folder", where=str(path))
    try:
        handle = path.open("rb")
    except FileNotFoundError:
        raise InputError("file not found", where=str(path)) from None
    with handle:
        for number, raw in enumerate(handle, 1):
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError as err:
                raise InputError(f"not valid UTF-8: byte 0x{raw[err.start]:02x} at column {err.start + 1}",
                                 where=f"{path}:{number}") from None
            if number == 1 and text.startswith("\ufeff"):
                text = text[1:]
            yield number, text.rstrip("\r\n")


def iter_jsonl(path: str | Path) -> Iterator[tuple[int, dict[str, Any]]]:
    """Yield ``(line_number, object)`` for each non-blank line of a JSON Lines file.

    Raises:
        InputError: a line is not JSON, or is JSON but not an object.
    """
    for number, line in iter_lines(path):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as err:
            raise InputError(f"malformed JSON ({err.msg} at column {err.colno})", where=f"{path}:{number}") from None
        if not isinstance(record, dict):
            raise InputError(f"expected a JSON object per line, got {type(record).__name__}",
                             where=f"{path}:{number}")
        yield number, record


def read_json(path: str | Path, what: str) -> Any:
    """A whole JSON file, with "``what`` not found" / "not a JSON ``what``" as `InputError`s."""
    path = Path(path)
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError(f"{what} not found", where=str(path)) from None
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise InputError(f"not a JSON {what} ({err})", where=str(path)) from None


def dump_json_line(record: dict[str, Any]) -> str:
    """One compact JSON line, keeping non-ASCII text readable."""
    return json.dumps(record, ensure_ascii=False, separators=(",", ":")) + "\n"


def file_sha256(path: str | Path, chunk: int = 1 << 20) -> str:
    """SHA-256 of a file, streamed."""
    digest = hashlib.sha256()
    with Path(path).open("rb") as handle:
        while block := handle.read(chunk):
            digest.update(block)
    return digest.hexdigest()


@contextlib.contextmanager
def staged_output_dir(out: str | Path, *, overwrite: bool, marker: str) -> Iterator[Path]:
    """Give a fresh staging folder that replaces ``out`` only if the block finishes without error.

    Args:
        out: the final output folder.
        overwrite: replace an existing finished output; otherwise refuse.
        marker: a file whose presence in ``out`` means "a finished output lives here".

    Raises:
        InputError: ``out`` already holds a finished output (or is a non-empty folder of something
            else) and ``overwrite`` is False.
    """
    out = Path(out)
    if out.exists() and not overwrite:
        if (out / marker).exists():
            raise InputError("holds a finished build; pass --overwrite to replace it", where=str(out))
        if out.is_file() or any(out.iterdir()):
            raise InputError("exists and is not empty; choose another output or pass --overwrite", where=str(out))
    out.parent.mkdir(parents=True, exist_ok=True)
    stage = out.parent / f".{out.name}.partial-{os.getpid()}"
    shutil.rmtree(stage, ignore_errors=True)
    stage.mkdir()
    try:
        yield stage
    except BaseException:
        shutil.rmtree(stage, ignore_errors=True)
        raise
    if out.exists():
        shutil.rmtree(out) if out.is_dir() else out.unlink()
    stage.rename(out)
