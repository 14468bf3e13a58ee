"""Responses to an open-ended set, generated through a backend and stored as eval-style samples.

``polyalign judge --model M --instructions SET`` first writes ``OUT/samples/<task>_<lang>.jsonl``
(the ``polyalign eval`` samples format, plus ``instruction`` and ``category``), then judges them.
Prompts go through the model's chat template when it has one and the papers' Alpaca prompt
otherwise (``--prompt`` forces either). Finished chunks are appended at once, so an interrupted run
resumes where it stopped; ``OUT/generation.json`` records the settings, and samples made with other
settings are never mixed in (use another --out or --overwrite).
"""

from __future__ import annotations

import json
import logging
import shutil
from pathlib import Path
from typing import Any

from polyalign.data.templates import render_alpaca
from polyalign.errors import InputError
from polyalign.infer.backends import BackendOptions, GenRequest
from polyalign.infer.backends.options import flat_fields
from polyalign.provenance import model_fingerprint
from polyalign.runfiles import append_samples, read_samples, samples_path
from polyalign.judge.items import TASK, OpenEndedItem

__all__ = ["generate_responses", "CHUNK"]

log = logging.getLogger(__name__)

CHUNK = 32
"""Instructions per generate call and per checkpoint."""

_ALPACA_STOP = ("### Instruction:",)


def _settings(backend: str, options: BackendOptions, prompt: str, max_new_tokens: int) -> dict[str, Any]:
    """What the responses depend on; the weights by fingerprint, computed without loading the model."""
    from polyalign.models import resolve_model

    fields = {k: v for k, v in flat_fields(options).items() if k not in ("batch_size", "device")}
    sha = model_fingerprint(resolve_model(options.model)) if options.model else None
    settings = {"backend": backend, **fields, "model_sha256": sha, "prompt": prompt, "max_new_tokens": max_new_tokens}
    return json.loads(json.dumps(settings))  # as it reads back from generation.json (tuples → lists)


def _check_out(out: Path, settings: dict[str, Any], overwrite: bool) -> dict[str, Any]:
    """Guard against mixing runs; returns what an earlier run of the same settings recorded."""
    marker = out / "generation.json"
    if overwrite:
        shutil.rmtree(out / "samples", ignore_errors=True)
        marker.unlink(missing_ok=True)
    if marker.exists():
        before = json.loads(marker.read_text(encoding="utf-8"))
        recorded = before.pop("provenance", None)
        for key in sorted(set(before) | set(settings)):
            if before.get(key) != settings.get(key):
                raise InputError(f"holds responses generated with {key}={before.get(key)!r}, not "
                                 f"{settings.get(key)!r}; use another --out or --overwrite", where=str(out))
        return {"provenance": recorded} if recorded else {}
    if (out / "samples").exists() and any((out / "samples").glob("*.jsonl")):
        raise InputError("holds samples from another run; use another --out or --overwrite", where=str(out))
    return {}


def generate_responses(items: list[OpenEndedItem], *, backend: str, options: BackendOptions, out: Path,
                       prompt: str = "auto", max_new_tokens: int = 512, overwrite: bool = False,
                       task: str = TASK) -> dict[str, Any]:
    """Generate (or resume) responses to ``items`` into ``out/samples``; returns the generation's provenance."""
    from polyalign.serve.model import ServedModel

    settings = _settings(backend, options, prompt, max_new_tokens)
    earlier = _check_out(out, settings, overwrite)
    by_lang: dict[str, list[OpenEndedItem]] = {}
    for item in items:
        by_lang.setdefault(item.lang, []).append(item)
    done = {lang: read_samples(samples_path(out, task, lang)) for lang in by_lang}
    if earlier.get("provenance") and all(i.id in done[i.lang] for i in items):
        return earlier["provenance"]  # nothing left to generate: the model is not even loaded

    served = ServedModel(backend, options)
    if prompt == "auto":
        prompt = "chat" if served.template is not None else "alpaca"
    if prompt == "chat" and served.template is None:
        raise InputError(f"model {options.model!r} has no chat template; use --prompt alpaca")
    provenance = {**served.provenance(), "prompt": prompt, "max_new_tokens": max_new_tokens}
    out.mkdir(parents=True, exist_ok=True)
    (out / "generation.json").write_text(json.dumps({**settings, "provenance": provenance}, indent=2, sort_keys=True,
                                                    ensure_ascii=False) + "\n", encoding="utf-8")

    def render(item: OpenEndedItem) -> str:
        if prompt == "chat":
            return served.render_chat([{"role": "user", "content": item.instruction}])
        return served.completion_prompt(render_alpaca(item.instruction))

    stop = () if prompt == "chat" else _ALPACA_STOP
    for lang, group in by_lang.items():
        path = samples_path(out, task, lang)
        todo = [item for item in group if item.id not in done[lang]]
        for start in range(0, len(todo), CHUNK):
            part = todo[start:start + CHUNK]
            prompts = [render(item) for item in part]
            outputs = served.backend.generate([GenRequest(item.id, p, stop, max_new_tokens)
                                               for item, p in zip(part, prompts)])
            append_samples(path, [{"id": item.id, "task": task, "lang": item.lang, "index": item.index,
                                   "category": item.category, "instruction": item.instruction, "prompt": p,
                                   "output": o, "target": item.reference}
                                  for item, p, o in zip(part, prompts, outputs) if o is not None])
            log.info("%s %s: generated %d/%d", task, lang, len(group) - len(todo) + start + len(part), len(group))
    return provenance
