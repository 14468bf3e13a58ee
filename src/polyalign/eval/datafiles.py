"""Find a benchmark's files on disk (or fetch them), or fail naming exactly what to put where.

Search order for every file (first hit wins): ``--data-dir``, ``$POLYALIGN_DATA_DIR``, then the data
cache (``$POLYALIGN_DATA_CACHE``, default ``~/.cache/polyalign/data``). When a benchmark has a hub
mirror with the upstream file names and the machine is not offline (``HF_HUB_OFFLINE``,
``HF_DATASETS_OFFLINE`` or ``POLYALIGN_OFFLINE`` set to 1), missing files are fetched into the cache.
Benchmarks whose files ship with polyalign (``builtin``) also look in ``polyalign/assets`` last.
Otherwise a missing file is an `InputError` listing every missing file with the path it should have.
"""

from __future__ import annotations

import glob
import logging
import os
from pathlib import Path

from polyalign.errors import InputError
from polyalign.eval.taskspec import Benchmark

__all__ = ["data_roots", "cache_dir", "resolve_files", "is_offline", "DATA_DIR_ENV", "DATA_CACHE_ENV"]

log = logging.getLogger(__name__)

DATA_DIR_ENV = "POLYALIGN_DATA_DIR"
DATA_CACHE_ENV = "POLYALIGN_DATA_CACHE"
ASSETS_DIR = Path(__file__).resolve().parents[1] / "assets"
"""Data shipped in the package (the starter set), searched last for `Benchmark.builtin` tasks."""
_OFFLINE_FLAGS = ("HF_HUB_OFFLINE", "HF_DATASETS_OFFLINE", "POLYALIGN_OFFLINE")


def cache_dir() -> Path:
    """The data cache: ``$POLYALIGN_DATA_CACHE`` or ``~/.cache/polyalign/data``."""
    return Path(os.environ.get(DATA_CACHE_ENV) or Path.home() / ".cache" / "polyalign" / "data").expanduser()


def data_roots(data_dir: str | os.PathLike[str] | None) -> list[Path]:
    """The folders searched, in order."""
    roots = [Path(data_dir).expanduser()] if data_dir else []
    if os.environ.get(DATA_DIR_ENV):
        roots.append(Path(os.environ[DATA_DIR_ENV]).expanduser())
    roots.append(cache_dir())
    return roots


def is_offline() -> bool:
    return any(os.environ.get(flag, "").strip().lower() in {"1", "true", "yes", "on"} for flag in _OFFLINE_FLAGS)


def resolve_files(bench: Benchmark, key: str, data_dir: str | os.PathLike[str] | None = None, *,
                  fewshot: bool = False) -> list[Path]:
    """The local files of one benchmark language (or its few-shot exemplars), in reading order.

    A glob pattern (MMLU's ``mmlu/test/*_test.csv``) resolves to the sorted matches in the first root
    that has any.

    Raises:
        InputError: files are missing; the message names each one and where to put it.
    """
    spec = bench.fewshot_files if fewshot else bench.files
    if spec is None:
        raise InputError(f"task {bench.name} defines no few-shot exemplars; use --prompt paper or chat")
    roots = data_roots(data_dir) + ([ASSETS_DIR] if bench.builtin else [])
    found: list[Path] = []
    missing: list[str] = []
    for rel in spec(key):
        hits = _find(rel, roots)
        if not hits and bench.hub and not is_offline() and not any(ch in rel for ch in "*?["):
            hits = _fetch(bench, rel)
        if hits:
            found.extend(hits)
        else:
            missing.append(rel)
    if missing:
        target = roots[0]
        where = ", ".join(str(target / rel) for rel in missing)
        searched = ", ".join(str(r) for r in roots)
        offline = " (offline: nothing is downloaded)" if bench.hub and is_offline() else ""
        raise InputError(f"{bench.name} {key}: missing data file(s); put {where} "
                         f"(from {bench.source}; searched {searched}){offline}")
    return found


def _find(rel: str, roots: list[Path]) -> list[Path]:
    for root in roots:
        if any(ch in rel for ch in "*?["):
            hits = sorted(Path(p) for p in glob.glob(str(root / rel)))
            if hits:
                return hits
        elif (root / rel).is_file():
            return [root / rel]
    return []


def _fetch(bench: Benchmark, rel: str) -> list[Path]:
    """Download ``rel`` from the benchmark's hub mirror into the cache; [] when that fails."""
    try:
        from huggingface_hub import hf_hub_download

        name = rel.split("/", 1)[1]  # the mirror holds the files at its root, without the task folder
        path = hf_hub_download(repo_id=bench.hub, filename=name, repo_type="dataset",
                               local_dir=str(cache_dir() / bench.name))
    except Exception as err:  # noqa: BLE001 - any failure means "not available"; the caller reports it
        log.warning("could not fetch %s from hub dataset %s: %s", rel, bench.hub, str(err).splitlines()[0][:200])
        return []
    return [Path(path)]
