"""Output files shared by the analyses: JSON results, Markdown tables and the figures manifest.

``figures.json`` is the hook for ``polyalign report``: every analysis that writes a PNG lists it
there with a title and a caption, so the report can include figures without knowing which analysis
made them. Several analyses may write into one folder; each update replaces the entries of its own
files and keeps the others::

    {"version": 1,
     "figures": [{"file": "alignment_cosine.png", "analysis": "alignment",
                  "title": "...", "caption": "..."}, ...]}
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

__all__ = ["Figure", "MANIFEST", "update_manifest", "write_json", "markdown_table", "fmt"]

MANIFEST = "figures.json"
"""File name of the figures manifest in an analysis output folder."""


@dataclass(frozen=True)
class Figure:
    """One PNG of an analysis, described for a reader who has not seen the command line."""

    file: str
    """File name, relative to the manifest's folder."""
    analysis: str
    """Which analysis made it: alignment, language or perplexity."""
    title: str
    """One line, as it would head the figure in a report."""
    caption: str
    """What is plotted and how to read it (a few sentences)."""


def update_manifest(out_dir: str | Path, figures: Iterable[Figure]) -> Path:
    """Add or replace ``figures`` in ``out_dir/figures.json``; entries for other files are kept."""
    path = Path(out_dir) / MANIFEST
    new = [asdict(f) for f in figures]
    names = {f["file"] for f in new}
    old: list[dict[str, Any]] = []
    if path.is_file():
        try:
            old = list(json.loads(path.read_text(encoding="utf-8")).get("figures", []))
        except (ValueError, AttributeError):
            old = []  # a broken manifest is ours to rewrite: it only indexes files in this folder
    kept = [f for f in old if isinstance(f, dict) and f.get("file") not in names
            and (Path(out_dir) / str(f.get("file"))).is_file()]
    write_json(path, {"version": 1, "figures": kept + new})
    return path


def write_json(path: str | Path, data: Any) -> Path:
    """Write pretty JSON (UTF-8, non-ASCII kept readable); returns the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return path


def fmt(value: float | None, digits: int = 3) -> str:
    """A table cell: fixed digits, or an en dash for a missing value."""
    return "–" if value is None else f"{value:.{digits}f}"


def markdown_table(headers: Sequence[str], rows: Iterable[Sequence[Any]], *, left: Sequence[int] = (0,)) -> str:
    """A GitHub-flavoured Markdown table; columns in ``left`` (default the first) are left-aligned,
    the others (numbers) right-aligned."""
    lines = ["| " + " | ".join(str(h) for h in headers) + " |",
             "|" + "|".join(":---" if i in left else "---:" for i in range(len(headers))) + "|"]
    lines += ["| " + " | ".join(str(cell).replace("|", "\\|") for cell in row) + " |" for row in rows]
    return "\n".join(lines) + "\n"
