"""Showing fits to people: one PNG per language and a Markdown table of all languages.

The figure puts the data points and every fitted law on a log-scaled size axis (the sizes of a
scaling sweep are log-spaced), with the chosen law drawn solid and bold and named in the legend, so a
reader can see at a glance whether the selection was a clear call or a near tie.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from polyalign import langs
from polyalign.scaling.fit import FitReport, LanguageFit
from polyalign.scaling.laws import LAWS

__all__ = ["plot_fit", "figure_for", "fits_table"]


def figure_for(fit: LanguageFit, metric: str) -> Any:
    """A matplotlib ``Figure`` (Agg canvas, no pyplot state) of one language's points and fits."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(6.4, 4.2), dpi=120)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    x, y = np.array(fit.x), np.array(fit.y)
    positive = x[x > 0]
    lo = float(positive.min()) if positive.size else 1.0
    grid = np.geomspace(lo / 2, max(float(x.max()), lo) * 2, 300)
    if (x == 0).any():  # a zero-shot point (no translation data) cannot sit on a log axis: symlog
        grid = np.concatenate([np.linspace(0, lo / 2, 20, endpoint=False), grid])
        ax.set_xscale("symlog", linthresh=lo)
        scale = f"log scale, linear below {lo:g}"
    else:
        ax.set_xscale("log")
        scale = "log scale"
    for name, law_fit in fit.fits.items():
        law = LAWS[name]
        params = [law_fit.params[p] for p in law.params]
        loo = f"{law_fit.loo_rmse:.3g}" if law_fit.loo_rmse is not None else "n/a"
        chosen = name == fit.chosen
        ax.plot(grid, law.predict(grid, params), linestyle="-" if chosen else "--",
                linewidth=2.6 if chosen else 1.2, alpha=1.0 if chosen else 0.75, zorder=3 if chosen else 2,
                label=f"{name}: {law.formula}{' (chosen)' if chosen else ''}, LOO RMSE {loo}")
    ax.scatter(x, y, color="black", s=22, zorder=4, label="data")
    name = langs.get(fit.lang).name if fit.lang in langs.LANGUAGES else fit.lang
    status = "" if fit.chosen else " (not fitted: too few sizes)"
    ax.set_title(f"{name} ({fit.lang}): {metric} vs. translation pairs{status}")
    ax.set_xlabel(f"translation pairs (examples, {scale})")
    ax.set_ylabel(metric)
    ax.grid(True, which="both", alpha=0.25)
    ax.legend(fontsize=7, loc="best")  # "best" avoids the data points; a fixed corner hid one
    fig.tight_layout()
    return fig


def plot_fit(fit: LanguageFit, metric: str, path: str | Path) -> Path:
    """Write one language's figure as PNG to ``path`` and return the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    figure_for(fit, metric).savefig(path, format="png")
    return path


def _num(value: float | None, fmt: str = ".3g") -> str:
    return "–" if value is None else format(value, fmt)


def fits_table(report: FitReport) -> str:
    """A Markdown table: per language the chosen law, parameters [bootstrap 95% interval], R², RMSE, LOO RMSE.

    Percentile intervals, not standard deviations: with few sizes a handful of resamples drive a
    saturating law's scale to its bound, and one such draw makes the std meaningless.
    """
    head = ["lang", "sizes", "chosen", "parameters [bootstrap 95% interval]", "R²", "RMSE",
            *[f"LOO {name}" for name in report.laws], "warnings"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for lang, fit in report.languages.items():
        chosen = fit.fits.get(fit.chosen) if fit.chosen else None
        params = "–"
        if chosen:
            params = ", ".join(f"{p}={v:.4g}" + (" [{:.3g}, {:.3g}]".format(*fit.interval95[p])
                                                    if p in fit.interval95 else "")
                               for p, v in chosen.params.items())
        loo = [_num(fit.fits[n].loo_rmse) if n in fit.fits else "–" for n in report.laws]
        row = [lang, str(len(set(fit.x))), fit.chosen or "–", params, _num(chosen.r2 if chosen else None, ".4f"),
               _num(chosen.rmse if chosen else None), *loo, "; ".join(fit.warnings).replace("|", "/") or ""]
        lines.append("| " + " | ".join(row) + " |")
    title = f"Scaling-law fits for {report.metric} (chosen by leave-one-size-out RMSE"
    boot = (f"; intervals: 2.5–97.5th percentiles over {report.bootstrap} bootstrap resamples, seed {report.seed})"
            if report.bootstrap else ")")
    return f"{title}{boot}\n\n" + "\n".join(lines) + "\n"
