"""Figures of the analyses, one per question, readable without the command line.

Drawn with matplotlib's object API on an Agg canvas (no pyplot, no global backend switch), so
plotting works headless and never disturbs a caller's interactive matplotlib session. Every figure
has a title, axis labels and a legend; a language keeps its colour across the panels and figures of
one analysis (colours follow the order the languages were given in).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

__all__ = ["lang_colours", "plot_lines_by_layer", "plot_pca", "plot_stacked_shares", "plot_grouped_bars"]

_DPI = 120


def lang_colours(codes: Sequence[str]) -> dict[str, tuple]:
    """A stable colour per code (tab10, then tab20 for more than ten)."""
    from matplotlib import colormaps

    cmap = colormaps["tab10" if len(codes) <= 10 else "tab20"]
    return {code: cmap(i % cmap.N) for i, code in enumerate(codes)}


def _figure(panels: int, ncols: int | None = None, width: float = 6.0, height: float = 4.2, sharey: bool = True):
    """A figure with ``panels`` axes in rows of ``ncols`` (default: one row); returns (fig, flat axes)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    ncols = ncols or panels
    nrows = -(-panels // ncols)
    fig = Figure(figsize=(width * ncols, height * nrows), dpi=_DPI, layout="constrained")
    FigureCanvasAgg(fig)
    axes = fig.subplots(nrows, ncols, squeeze=False, sharey=sharey).ravel()
    for extra in axes[panels:]:
        extra.set_visible(False)
    return fig, axes[:panels]


def plot_lines_by_layer(panels: Sequence[tuple[str, Mapping[str, Sequence[float]]]], layers: Sequence[int],
                        path: str | Path, *, title: str, ylabel: str,
                        dashed: Sequence[tuple[str, Mapping[str, Sequence[float]]]] | None = None,
                        solid_label: str = "", dashed_label: str = "", hline: float | None = None,
                        hline_label: str = "", ylim: tuple[float, float] | None = None, ncols: int | None = None,
                        sharey: bool = True) -> Path:
    """Per-layer curves, one panel per model, one colour per language.

    Args:
        panels: ``(panel title, {lang: value per layer})`` per model; drawn solid.
        layers: the x values.
        path: PNG to write.
        title: figure title.
        ylabel: y-axis label.
        dashed: optional second series per panel (same layout), drawn dashed in the same colours
            (e.g. the mismatched-pair baseline).
        solid_label, dashed_label: legend entries explaining the two line styles.
        hline: optional horizontal reference (e.g. retrieval chance level), drawn dotted grey.
        hline_label: its legend entry.
        ylim: y-axis limits.
        ncols: panels per row (default all in one row).
        sharey: one y scale for all panels.
    """
    from matplotlib.lines import Line2D
    from matplotlib.ticker import MaxNLocator

    codes = list(dict.fromkeys(code for _, series in panels for code in series))
    colours = lang_colours(codes)
    fig, axes = _figure(len(panels), ncols, sharey=sharey)
    for index, (ax, (name, series)) in enumerate(zip(axes, panels)):
        for code, values in series.items():
            ax.plot(layers, values, color=colours[code], marker="o", markersize=3, linewidth=1.6, label=code)
            if dashed is not None:
                ax.plot(layers, dashed[index][1][code], color=colours[code], linestyle="--", linewidth=1.1)
        if hline is not None:
            ax.axhline(hline, color="grey", linestyle=":", linewidth=1.2)
        ax.set_title(name, fontsize=10)
        ax.set_xlabel("layer (0 = embeddings)")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        if not sharey or ax.get_subplotspec().is_first_col():
            ax.set_ylabel(ylabel)
        ax.grid(alpha=0.3)
        if ylim is not None:
            ax.set_ylim(*ylim)
    handles = [Line2D([], [], color=colours[c], marker="o", markersize=3, label=c) for c in codes]
    if dashed is not None:
        handles += [Line2D([], [], color="black", label=solid_label or "solid"),
                    Line2D([], [], color="black", linestyle="--", label=dashed_label or "dashed")]
    if hline is not None:
        handles.append(Line2D([], [], color="grey", linestyle=":", label=hline_label or f"{hline:.3g}"))
    # outside the panels: curves fill the whole plot area, a legend inside would hide some
    fig.legend(handles=handles, fontsize=8, loc="outside right center")
    fig.suptitle(title)
    return _save(fig, path)


def plot_pca(panels: Sequence[tuple[str, Mapping[str, np.ndarray]]], path: str | Path, *, title: str,
             xlabel: str = "PC 1", ylabel: str = "PC 2", pivot: str | None = None) -> Path:
    """2-D scatter per panel: ``{group: [n, 2] coordinates}``; the pivot group is drawn as black ×.

    The view is fitted to the 1st-99th percentile of the points (plus a margin) so that a few outliers
    do not squeeze the clouds into a corner; how many points lie outside is said in the panel title.
    """
    codes = list(dict.fromkeys(code for _, groups in panels for code in groups if code != pivot))
    colours = lang_colours(codes)
    fig, axes = _figure(len(panels), width=5.6, height=5.0, sharey=False)
    for ax, (name, groups) in zip(axes, panels):
        points = np.concatenate(list(groups.values()))
        low, high = np.percentile(points, 1, axis=0), np.percentile(points, 99, axis=0)
        margin = 0.15 * np.maximum(high - low, 1e-9)
        low, high = low - margin, high + margin
        outside = int((((points < low) | (points > high)).any(axis=1)).sum())
        ax.set_xlim(low[0], high[0])
        ax.set_ylim(low[1], high[1])
        if outside:
            name = f"{name}\n{outside} outlier point(s) outside the view"
        for code, coords in groups.items():
            if code == pivot:
                ax.scatter(coords[:, 0], coords[:, 1], marker="x", s=14, color="black", alpha=0.6,
                           label=f"{code} (pivot)")
            else:
                ax.scatter(coords[:, 0], coords[:, 1], s=10, color=colours[code], alpha=0.65, label=code)
        ax.set_title(name, fontsize=10)
        ax.set_xlabel(xlabel)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8, loc="best", framealpha=0.85, markerscale=1.5)
    axes[0].set_ylabel(ylabel)
    fig.suptitle(title)
    return _save(fig, path)


def plot_stacked_shares(categories: Sequence[str], shares: Mapping[str, Sequence[float]], path: str | Path, *,
                        title: str, xlabel: str, ylabel: str, legend_title: str) -> Path:
    """Stacked bars: one bar per category, one segment per series (shares summing to 1 per bar)."""
    series = list(shares)
    colours = lang_colours(series)
    fig, axes = _figure(1, width=max(5.0, 0.8 * len(categories) + 3.0), height=4.4)
    ax = axes[0]
    bottom = np.zeros(len(categories))
    for name in series:
        values = np.asarray(shares[name], dtype=float)
        colour = (0.75, 0.75, 0.75, 1.0) if name == "none" else colours[name]
        ax.bar(categories, values, bottom=bottom, color=colour, label=name, edgecolor="white", linewidth=0.5)
        bottom += values
    ax.set_ylim(0, 1.0)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.legend(title=legend_title, fontsize=8, loc="center left", bbox_to_anchor=(1.0, 0.5))
    ax.grid(axis="y", alpha=0.3)
    fig.suptitle(title)
    return _save(fig, path)


def plot_grouped_bars(categories: Sequence[str], values: Mapping[str, Sequence[float]], path: str | Path, *,
                      title: str, xlabel: str, ylabel: str) -> Path:
    """Grouped bars: one group per category, one bar per series, values written above the bars."""
    series = list(values)
    fig, axes = _figure(1, width=max(5.0, 0.9 * len(categories) + 2.5), height=4.4)
    ax = axes[0]
    width = 0.8 / max(1, len(series))
    x = np.arange(len(categories))
    for i, name in enumerate(series):
        bars = ax.bar(x + (i - (len(series) - 1) / 2) * width, values[name], width, label=name)
        ax.bar_label(bars, fmt="%.2f", fontsize=7, padding=1)
    ax.set_xticks(x, list(categories))
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.legend(fontsize=8)
    ax.grid(axis="y", alpha=0.3)
    fig.suptitle(title)
    return _save(fig, path)


def _save(fig, path: str | Path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    return path
