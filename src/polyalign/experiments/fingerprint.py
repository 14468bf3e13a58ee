"""Fingerprints of an arm's steps: what the step's result depends on, hashed.

* build (data → vocab → train): the resolved recipes (output folders left out), the contents of every
  local input file (data sources, training files the arm does not build itself, vocabulary corpora) and
  the build fingerprints of the arms it starts from;
* eval / judge: the model's identity (its build fingerprint, or the model name for an existing model;
  for a proxy arm its members' and alpha) and the suite or judge settings.

A finished step whose fingerprint differs from the file's current one was run with another recipe or
other data: reusing it would mix results, so the runner refuses without ``--rerun``.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from pathlib import Path
from typing import Any

from polyalign.config import to_dict
from polyalign.experiments.resolve import ResolvedArm

__all__ = ["build_fingerprint", "eval_fingerprint", "settings_fingerprint", "input_files"]

_HASHES: dict[tuple[str, int, int], str] = {}


def _file_hash(path: Path) -> str:
    """sha256 of a file, remembered per (path, size, mtime) so a status check hashes big files once."""
    stat = path.stat()
    key = (str(path.resolve()), stat.st_size, stat.st_mtime_ns)
    if key not in _HASHES:
        from polyalign.io import file_sha256

        _HASHES[key] = file_sha256(path)
    return _HASHES[key]


def _digest(value: Any) -> str:
    return hashlib.sha256(json.dumps(value, sort_keys=True, default=str).encode()).hexdigest()[:16]


def _without_out(config: Any) -> dict[str, Any]:
    data = to_dict(config)
    data.pop("out", None)
    return data


def input_files(resolved: ResolvedArm) -> list[str]:
    """Local files the arm's build reads that it does not write itself."""
    from polyalign.data.recipe import expand_sources, resolve_path

    found: list[str] = []
    for data in resolved.data:
        for source in expand_sources(data):
            paths = [source.path] if source.path else []
            paths += list((source.parallel or {}).values())
            found += [resolve_path(p) for p in paths if not p.startswith("hf:")]
    if resolved.vocab is not None:
        found += [spec.split(":", 1)[-1] if ":" in spec and not Path(spec).exists() else spec
                  for spec in [*resolved.vocab.corpus, *resolved.vocab.eval_texts]]
    if resolved.train is not None:
        built = str(resolved.folder)
        for stage in resolved.train.stages:
            found += [p for p in (stage.data, stage.eval_data) if p and not p.startswith(built)]
    return found


def _files_state(paths: list[str]) -> dict[str, str]:
    return {p: (_file_hash(Path(p)) if Path(p).is_file() else "missing") for p in dict.fromkeys(paths)}


def build_fingerprint(resolved: ResolvedArm, upstream: dict[str, str]) -> str:
    """Fingerprint of the arm's model; ``upstream`` maps arm names to their build fingerprints."""
    arm = resolved.arm
    if arm.kind == "model":
        return _digest({"model": arm.model})
    if arm.kind == "proxy":
        assert arm.proxy is not None
        spec = dataclasses.asdict(arm.proxy)
        return _digest({"proxy": spec, "members": {role: upstream[spec[role]]
                                                   for role in ("base", "expert", "anti_expert")}})
    return _digest({
        "data": [_without_out(d) for d in resolved.data],
        "vocab": _without_out(resolved.vocab) if resolved.vocab is not None else None,
        "train": _without_out(resolved.train),
        "files": _files_state(input_files(resolved)),
        "start_from": upstream.get(arm.start_from) if arm.start_from else None,
    })


def eval_fingerprint(resolved: ResolvedArm, build: str) -> str:
    """Fingerprint of the arm's eval run: the model's fingerprint and the suite settings."""
    return _digest({"model": build, "suite": to_dict(resolved.suite)})


def settings_fingerprint(settings: Any, build: str, files: list[str] | tuple[str, ...] = ()) -> str:
    """Fingerprint of a judge or perplexity run: the model's fingerprint, the step's settings and the
    contents of the local files it reads."""
    return _digest({"model": build, "settings": to_dict(settings), "files": _files_state(list(files))})
