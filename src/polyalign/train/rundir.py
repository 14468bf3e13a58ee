"""The run directory: what a folder holds (nothing, a finished run, an unfinished one) and what may be done with it.

Layout::

    OUT/config.yaml            the resolved recipe (written first)
    OUT/<stage>/checkpoints/   resumable checkpoints of the stage in progress
    OUT/<stage>/metrics.jsonl  one line per logged step
    OUT/<stage>/model/         Hugging Face model (full, or LoRA merged); adapter/ for LoRA
    OUT/<stage>/stage.json     written when the stage's outputs are complete
    OUT/run.json               written last: the run is finished

A finished run is never replaced without ``--overwrite``; an unfinished one is continued with
``--resume`` (same recipe, apart from logging and checkpoint-frequency fields) or replaced with
``--overwrite``.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import yaml

from polyalign.errors import InputError

__all__ = ["RUN_MARKER", "STAGE_MARKER", "CONFIG", "prepare_run_dir", "read_stage", "RESUMABLE_FIELDS"]

RUN_MARKER, STAGE_MARKER, CONFIG = "run.json", "stage.json", "config.yaml"
RESUMABLE_FIELDS = frozenset({"report_to", "logging_steps", "save_steps", "save_total_limit", "keep_checkpoints"})
"""Recipe fields that may change between an interrupted run and its resumption (they do not change the result)."""


def prepare_run_dir(out: str | Path, config: dict[str, Any], *, resume: bool, overwrite: bool,
                    dry_run: bool = False) -> str:
    """Check ``out`` against the flags, clear it for ``--overwrite``; return "fresh", "resume" or "finished".

    Every process calls it, so that all of them fail alike on bad flags; only the main process
    deletes (the others pass ``dry_run=True``).

    Raises:
        InputError: a finished or unfinished run (or foreign files) would be replaced without
            ``--overwrite``, or ``--resume`` is given with a different recipe.
    """
    out = Path(out)
    if overwrite and resume:
        raise InputError("--resume and --overwrite contradict each other: continue the run, or start it over")
    if out.is_file():
        raise InputError("is a file; `out` must be a folder", where=str(out))
    if not out.exists() or not any(out.iterdir()):
        return "fresh"
    if overwrite:
        if not dry_run:
            shutil.rmtree(out)
        return "fresh"
    if not (out / CONFIG).is_file():
        raise InputError("exists, is not empty and holds no polyalign run; choose another `out` or pass --overwrite",
                         where=str(out))
    if (out / RUN_MARKER).is_file():
        if resume:
            _check_same_recipe(out, config)
            return "finished"
        raise InputError("holds a finished run; pass --overwrite to replace it", where=str(out))
    if not resume:
        raise InputError("holds an unfinished run; pass --resume to continue it or --overwrite to start over",
                         where=str(out))
    _check_same_recipe(out, config)
    return "resume"


def _check_same_recipe(out: Path, config: dict[str, Any]) -> None:
    saved = yaml.safe_load((out / CONFIG).read_text(encoding="utf-8")) or {}
    differ = sorted(_differences(saved, config, ""))
    differ = [d for d in differ if d.split(".")[0] not in RESUMABLE_FIELDS]
    if differ:
        raise InputError(f"--resume with a different recipe: {', '.join(differ[:5])} differ from the interrupted "
                         f"run's {CONFIG} (resume with the same settings, or pass --overwrite to start over)",
                         where=str(out))


def _differences(a: Any, b: Any, path: str) -> list[str]:
    if isinstance(a, dict) and isinstance(b, dict):
        found = []
        for key in sorted(set(a) | set(b), key=str):
            found += _differences(a.get(key), b.get(key), f"{path}.{key}" if path else str(key))
        return found
    if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        return [d for i, (x, y) in enumerate(zip(a, b)) for d in _differences(x, y, f"{path}.{i}")]
    return [] if a == b else [path or "(top level)"]


def read_stage(stage_dir: str | Path) -> dict[str, Any] | None:
    """A finished stage's record (its outputs), or None when the stage has not finished."""
    marker = Path(stage_dir) / STAGE_MARKER
    return json.loads(marker.read_text(encoding="utf-8")) if marker.is_file() else None
