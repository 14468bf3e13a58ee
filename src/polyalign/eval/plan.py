"""The evaluation plan: every (task, language) of a run, resolved once.

A `PlanItem` carries everything later steps need, decided here and nowhere else: the prompt variant
(checked against the benchmark), the multiple-choice mode, the protocol, the translation direction
``(src, tgt)`` and the language answers should be in, the language-name mode of translation prompts,
and the data files with their SHA-256 (found once; every missing file of the run is named at once).
The documents are then built from these files (`polyalign.eval.documents.build_docs`) and provenance
reads the hashes from the plan.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from polyalign import langs
from polyalign.io import file_sha256
from polyalign.errors import InputError
from polyalign.eval.benchmarks import Benchmark, get_benchmark, split_direction
from polyalign.eval.config import EvalConfig
from polyalign.eval.datafiles import resolve_files
from polyalign.eval.prompts import check_mode
from polyalign.eval.protocols import paper_rule

__all__ = ["PlanItem", "plan", "keys_for"]


@dataclass(frozen=True)
class PlanItem:
    """One (task, language) to evaluate and how, fully resolved."""

    task: str
    lang: str
    """Language key: a code, or a direction ``src-tgt`` for translation tasks."""
    prompt: str
    mc_mode: str | None
    protocol: str = "polyalign"
    kind: str = "numeric"
    src: str | None = None
    """Translation tasks: source language code."""
    tgt: str | None = None
    """Translation tasks: target language code."""
    text_lang: str = ""
    """The language outputs should be in (the target of a translation, else the key)."""
    name_mode: str = "english"
    files: tuple[str, ...] = ()
    """Data files (test items, then few-shot exemplars if any), in reading order."""
    fewshot_files: tuple[str, ...] = ()
    hashes: tuple[str, ...] = ()
    """SHA-256 of ``files + fewshot_files``, in the same order."""

    def file_hashes(self) -> dict[str, str]:
        """``{path: sha256}`` of every data file of the item (provenance)."""
        return dict(zip(self.files + self.fewshot_files, self.hashes))


def keys_for(bench: Benchmark, spec: str) -> list[str]:
    """The language keys of ``bench`` a ``--langs`` item selects (plain codes expand to both directions)."""
    if bench.kind == "translation":
        if "-" in spec:
            key = "-".join(split_direction(spec))
            return [key] if key in bench.langs else []
        code = langs.get(spec).code
        return [k for k in (f"en-{code}", f"{code}-en") if k in bench.langs]
    try:
        code = langs.get(spec).code
    except InputError:
        if "-" in spec:
            return []  # a direction (en-zh): only translation tasks have it
        raise
    return [code] if code in bench.langs else []


def _mc_mode(bench: Benchmark, cfg: EvalConfig) -> str | None:
    if bench.kind != "choice":
        return None
    mc_mode = cfg.mc_mode or bench.mc_modes[0]
    if mc_mode not in bench.mc_modes:
        raise InputError(f"task {bench.name} supports --mc-mode {', '.join(bench.mc_modes)}, not {mc_mode}")
    if cfg.backend == "replay" and mc_mode != "generate":
        if cfg.mc_mode:
            raise InputError("the replay backend scores generated text; use --mc-mode generate")
        mc_mode = "generate"
    return mc_mode


def _keys(bench: Benchmark, specs: list[str] | None, used: set[str]) -> list[str]:
    if specs is None:
        return list(bench.langs)
    keys: list[str] = []
    for spec in specs:
        found = keys_for(bench, spec.strip())
        if found:
            used.add(spec)
        keys.extend(k for k in found if k not in keys)
    return keys


def plan(cfg: EvalConfig, *, resolve: bool = True) -> list[PlanItem]:
    """Expand tasks x languages and resolve each item; every ``--langs`` item must belong to a task.

    ``resolve=False`` checks tasks, languages and modes but leaves the files out (no data is looked
    for or hashed): what an experiment's ``--dry-run`` needs before the data exists.

    Raises:
        InputError: unknown task or language, a language no selected task has, a prompt variant or
            multiple-choice mode a task does not support, missing data files (all named at once).
    """
    benches = [get_benchmark(name.strip()) for name in dict.fromkeys(cfg.tasks) if name.strip()]
    items: list[PlanItem] = []
    used: set[str] = set()
    problems: list[str] = []
    hashes: dict[Path, str] = {}
    for bench in benches:
        prompt = cfg.prompt or bench.default_prompt
        check_mode(bench.name, prompt)  # before any model loads: e.g. --prompt pot on a task without it
        if prompt == "fewshot" and bench.fewshot_files is None:
            raise InputError(f"task {bench.name} defines no few-shot exemplars; use --prompt paper or chat")
        mc_mode = _mc_mode(bench, cfg)
        rule = paper_rule(bench.name, cfg.protocol)
        name_mode = rule.name_mode if rule is not None and rule.name_mode else cfg.name_mode
        for key in _keys(bench, cfg.langs, used):
            src, tgt = split_direction(key) if bench.kind == "translation" else (None, None)
            found: list[list[Path]] = []
            for fewshot in ((False, True) if prompt == "fewshot" else (False,)) if resolve else ():
                try:
                    found.append(resolve_files(bench, key, cfg.data_dir, fewshot=fewshot))
                except InputError as err:
                    problems.append(str(err))
                    found.append([])
            paths = [p for group in found for p in group]
            for path in paths:
                if path not in hashes:
                    hashes[path] = file_sha256(path)
            items.append(PlanItem(
                bench.name, key, prompt, mc_mode, protocol=cfg.protocol, kind=bench.kind, src=src, tgt=tgt,
                text_lang=tgt or key, name_mode=name_mode, files=tuple(str(p) for p in found[0]) if found else (),
                fewshot_files=tuple(str(p) for p in found[1]) if len(found) > 1 else (),
                hashes=tuple(hashes[p] for p in paths)))
    for spec in cfg.langs or []:
        if spec not in used:
            langs.get(spec.split("-")[0])  # unknown codes get the language table's message
            have = "; ".join(f"{b.name}: {', '.join(b.langs[:12])}{' ...' if len(b.langs) > 12 else ''}"
                             for b in benches)
            raise InputError(f"language {spec!r} is in none of the selected tasks ({have})")
    if len(problems) == 1:
        raise InputError(problems[0])
    if problems:
        raise InputError(f"{len(problems)} data problems: " + " | ".join(problems))
    return items
