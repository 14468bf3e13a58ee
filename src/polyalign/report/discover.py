"""Which runs a directory holds, told by the files each command writes (never by folder names).

- quickstart: ``quickstart.json`` with ``"kind": "polyalign-quickstart/…"``;
- eval: ``results.json`` (``polyalign eval``);
- train: ``run.json`` listing ``stages`` (``polyalign train``; an eval folder's ``run.json`` is its
  resume marker and has none), or an unfinished run: ``config.yaml`` and a stage folder with
  ``metrics.jsonl``;
- analysis: ``figures.json`` or ``alignment|language|perplexity.json`` (``polyalign analyze``);
- comparison: ``comparison.json`` (``polyalign compare``);
- scaling: ``results.csv`` with the sweep's columns, ``fits.json``, or an allocation plan
  (``"format": "polyalign-allocation/…"``) (``polyalign scaling``).

A directory may hold several kinds, and runs nest (a quickstart folder holds eval, train and analysis
folders; a sweep holds one folder per size): `find_runs` walks down a few levels, skipping the
folders runs keep their bulk in (models, checkpoints, samples).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from polyalign.runfiles import RESULTS_FILE, csv_header, load_json

__all__ = ["Run", "KINDS", "detect_kinds", "find_runs", "plan_files", "MARKERS", "SKIP_DIRS"]

KINDS = ("quickstart", "comparison", "train", "eval", "analysis", "scaling")
"""Kinds in pipeline order (docs/architecture.md's flow): the order of the parts of a directory holding several,
and of sibling run folders (a run folder's ``train/`` before its ``eval/``)."""

MARKERS = (RESULTS_FILE, "run.json", "figures.json", "quickstart.json", "results.csv")
"""What the error message says was looked for."""

SKIP_DIRS = frozenset({"samples", "tables", "model", "adapter", "checkpoints", "tensorboard", "wandb",
                       "__pycache__", "node_modules"})
"""Folders that hold a run's bulk, never another run."""

_ANALYSIS_JSON = ("alignment.json", "language.json", "perplexity.json")
_SCALING_COLUMNS = {"lang", "n_examples", "metric", "value"}
_MAX_JSON_SNIFF = 1 << 20  # bytes: allocation plans are small; do not parse big JSON to find one


@dataclass(frozen=True)
class Run:
    """A directory holding one or more kinds of run output."""

    path: Path
    kinds: tuple[str, ...]
    depth: int
    """Levels below the report's root (0 = the root)."""


def _json_field(path: Path, field: str) -> Any:
    if not path.is_file() or path.stat().st_size > _MAX_JSON_SNIFF:
        return None
    data, _ = load_json(path)
    return data.get(field) if isinstance(data, dict) else None


def plan_files(folder: Path) -> list[Path]:
    """Allocation plans in ``folder`` (any ``*.json`` with the plan's format tag)."""
    known = {RESULTS_FILE, "run.json", "figures.json", "quickstart.json", "fits.json", *_ANALYSIS_JSON}
    return [p for p in sorted(folder.glob("*.json")) if p.name not in known
            and str(_json_field(p, "format") or "").startswith("polyalign-allocation/")]


def _is_scaling_csv(path: Path) -> bool:
    return _SCALING_COLUMNS <= {h.strip() for h in csv_header(path)}


def _is_train(folder: Path) -> bool:
    stages = _json_field(folder / "run.json", "stages")
    if isinstance(stages, list):
        return True
    if not (folder / "config.yaml").is_file() or (folder / RESULTS_FILE).is_file():
        return False
    return any((child / "metrics.jsonl").is_file() for child in folder.iterdir() if child.is_dir())


def detect_kinds(folder: Path) -> tuple[str, ...]:
    """The kinds of run output directly in ``folder`` (in `KINDS` order; empty when none)."""
    found = []
    kind = _json_field(folder / "quickstart.json", "kind")
    if isinstance(kind, str) and kind.startswith("polyalign-quickstart/"):
        found.append("quickstart")
    if (folder / "comparison.json").is_file():
        found.append("comparison")
    if _is_train(folder):
        found.append("train")
    if (folder / RESULTS_FILE).is_file():
        found.append("eval")
    if (folder / "figures.json").is_file() or any((folder / name).is_file() for name in _ANALYSIS_JSON):
        found.append("analysis")
    if ((folder / "results.csv").is_file() and _is_scaling_csv(folder / "results.csv")) \
            or (folder / "fits.json").is_file() or plan_files(folder):
        found.append("scaling")
    return tuple(found)


def find_runs(root: Path, *, max_depth: int = 4, limit: int = 60) -> tuple[list[Run], int]:
    """Runs in ``root`` and below, depth first (a folder before what it holds); siblings in pipeline
    order (`KINDS`), then by name, folders without a run of their own last.

    Returns:
        ``(runs, not_shown)``: at most ``limit`` runs, and how many more were found.
    """
    runs: list[Run] = []
    extra = 0

    def walk(folder: Path, kinds: tuple[str, ...], depth: int) -> None:
        nonlocal extra
        if kinds:
            if len(runs) < limit:
                runs.append(Run(folder, kinds, depth))
            else:
                extra += 1
        if depth >= max_depth:
            return
        try:
            children = [(p, detect_kinds(p)) for p in folder.iterdir() if p.is_dir() and not p.is_symlink()
                        and p.name not in SKIP_DIRS and not p.name.startswith(".")]
        except OSError:
            return
        for child, child_kinds in sorted(children, key=lambda c: (KINDS.index(c[1][0]) if c[1] else len(KINDS),
                                                                  c[0].name)):
            walk(child, child_kinds, depth + 1)

    walk(root, detect_kinds(root), 0)
    return runs, extra
