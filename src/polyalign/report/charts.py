"""Figures the report draws itself (the runs' own PNGs are embedded as they are): loss curves and
before/after bars, returned as PNG bytes so nothing is written next to the run.

Same conventions as `polyalign.analysis.plots`: matplotlib's object API on an Agg canvas (no pyplot,
no global backend switch), a title, axis labels and a legend on every figure.
"""

from __future__ import annotations

import io
import math
from collections.abc import Mapping, Sequence
from typing import Any

__all__ = ["loss_curve_png", "before_after_png", "new_figure", "png_bytes"]

_DPI = 110


def new_figure(width: float, height: float) -> Any:
    """A matplotlib figure on the Agg canvas at the report's resolution (no pyplot state)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), dpi=_DPI, layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def png_bytes(fig: Any) -> bytes:
    """The figure as PNG bytes (embedded in the page)."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    return buffer.getvalue()


def _colours(names: Sequence[str]) -> dict[str, tuple]:
    """A stable colour per name, in the order given (tab10, then tab20 for more than ten).

    The same rule as the analysis figures, so a language keeps its colour from one page to the next;
    kept here because the report reads run folders and imports no analysis code.
    """
    from matplotlib import colormaps

    cmap = colormaps["tab10" if len(names) <= 10 else "tab20"]
    return {name: cmap(i % cmap.N) for i, name in enumerate(names)}


def _finite(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def loss_curve_png(stages: Sequence[tuple[str, Sequence[Mapping[str, Any]]]], title: str) -> bytes | None:
    """Training loss against the optimizer step, stages one after another; evaluation loss as markers.

    Args:
        stages: ``(stage name, metrics.jsonl records)`` in training order; each stage's steps start
            where the previous stage's ended, with a dotted line at the boundary.
        title: figure title.

    Returns:
        PNG bytes, or None when no record has a finite loss.
    """
    colours = _colours([name for name, _ in stages])
    fig = new_figure(8.0, 3.8)
    ax = fig.add_subplot()
    offset, drawn = 0, False
    for index, (name, records) in enumerate(stages):
        train = [(r["step"] + offset, r["loss"]) for r in records if _finite(r.get("loss")) and _finite(r.get("step"))]
        evals = [(r["step"] + offset, r["eval_loss"]) for r in records
                 if _finite(r.get("eval_loss")) and _finite(r.get("step"))]
        if train:
            ax.plot(*zip(*train), color=colours[name], linewidth=1.5, marker="o" if len(train) < 30 else None,
                    markersize=3, label=f"{name}: train loss")
        if evals:
            ax.plot(*zip(*evals), color=colours[name], linestyle="none", marker="D", markersize=6,
                    markeredgecolor="black", label=f"{name}: eval loss")
        drawn = drawn or bool(train or evals)
        steps = [r["step"] for r in records if _finite(r.get("step"))]
        if index and steps:
            ax.axvline(offset, color="grey", linestyle=":", linewidth=1)
        offset += int(max(steps, default=0))
    if not drawn:
        return None
    ax.set_xlabel("optimizer step" + (" (stages one after another)" if len(stages) > 1 else ""))
    ax.set_ylabel("loss (mean per target token)")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="upper right")
    fig.suptitle(title)
    return png_bytes(fig)


def before_after_png(langs: Sequence[str], before: Sequence[float | None], after: Sequence[float | None], *,
                     title: str, ylabel: str) -> bytes | None:
    """Grouped bars per language, before (grey) and after (blue), values written above the bars.

    Returns:
        PNG bytes, or None when no language has a value.
    """
    import numpy as np

    if not any(_finite(v) for v in [*before, *after]):
        return None
    fig = new_figure(max(5.2, 0.75 * len(langs) + 2.4), 3.6)
    ax = fig.add_subplot()
    x = np.arange(len(langs))
    width = 0.38
    for shift, values, label, colour in ((-width / 2, before, "before", "#9aa4ae"),
                                         (width / 2, after, "after", "#0969da")):
        heights = [v if _finite(v) else 0.0 for v in values]
        bars = ax.bar(x + shift, heights, width, label=label, color=colour)
        digits = 1 if max((abs(v) for v in values if _finite(v)), default=0) >= 10 else 2
        ax.bar_label(bars, labels=[f"{v:.{digits}f}" if _finite(v) else "n/a" for v in values], fontsize=7,
                     padding=1)
    ax.axhline(0, color="black", linewidth=0.6)
    finite = [v for v in [*before, *after] if _finite(v)]
    if min(finite) >= 0:  # shares, chrF: bars grow from 0 (and a row of zeros still gets a sensible axis)
        ax.set_ylim(0, max(max(finite) * 1.15, 1e-9) if max(finite) > 0 else 1.0)
    ax.set_xticks(x, list(langs))
    ax.set_xlabel("language")
    ax.set_ylabel(ylabel)
    if min(finite) < 0:
        ax.margins(y=0.12)
    ax.legend(fontsize=8)
    ax.grid(axis="y", alpha=0.3)
    fig.suptitle(title, fontsize=11)
    return png_bytes(fig)
