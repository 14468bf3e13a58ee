"""Helpers shared by the section renderers: number formatting and the blocks every run has (its config)."""

from __future__ import annotations

import math
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from polyalign.report.html import details, pre
from polyalign.runfiles import load_text

__all__ = ["number", "digits_for", "config_block", "clip", "seconds"]


def number(value: Any, digits: int = 3, sign: bool = False) -> str:
    """A table cell: fixed ``digits``; an en dash for missing or non-finite values."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        return "–" if value is None or isinstance(value, (int, float)) else str(value)
    return f"{value:{'+' if sign else ''}.{digits}f}"


def digits_for(values: Iterable[Any]) -> int:
    """Decimals that suit a column: 1 for values in the tens or more, 2 from 1, else 3."""
    finite = [abs(v) for v in values if isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)]
    top = max(finite, default=0.0)
    return 1 if top >= 10 else 2 if top >= 1 else 3


def clip(text: Any, limit: int = 1500) -> str:
    """``text`` as a string, cut to ``limit`` characters with a note of what was left out."""
    text = text if isinstance(text, str) else str(text)
    return text if len(text) <= limit else text[:limit] + f" … [{len(text) - limit} more characters]"


def seconds(value: Any) -> str:
    """A duration as ``1 h 02 min``, ``3 min 05 s`` or ``12.3 s``."""
    if not isinstance(value, (int, float)) or isinstance(value, bool) or not math.isfinite(value):
        return "–"
    if value >= 3600:
        return f"{int(value // 3600)} h {int(value % 3600 // 60):02d} min"
    if value >= 60:
        return f"{int(value // 60)} min {int(value % 60):02d} s"
    return f"{value:.1f} s"


def config_block(folder: Path, names: Iterable[str] = ("config.yaml",)) -> str:
    """The resolved config file(s) of a run, collapsed."""
    parts = []
    for name in names:
        text = load_text(folder / name)
        if text is not None:
            parts.append(details(f"Resolved config ({name})", pre(text)))
    return "".join(parts)
