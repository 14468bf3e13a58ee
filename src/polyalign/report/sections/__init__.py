"""One renderer per run kind: ``render(folder) -> HTML fragment`` (headings from h3 down).

Each reads only the files its command writes (see `polyalign.report.discover`) and says in the page
what it could not read, rather than failing the whole report.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from polyalign.report.sections import analysis, comparison, evaluation, quickstart, scaling, training

__all__ = ["RENDERERS", "TITLES"]

RENDERERS: dict[str, Callable[[Path], str]] = {
    "quickstart": quickstart.render, "eval": evaluation.render, "train": training.render,
    "analysis": analysis.render, "scaling": scaling.render, "comparison": comparison.render,
}
TITLES = {"quickstart": "Quickstart: base vs MonoReason vs QAlign", "eval": "Evaluation", "train": "Training",
          "analysis": "Analysis", "scaling": "Scaling laws",
          "comparison": "Comparison against a baseline"}
