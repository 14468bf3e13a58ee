"""``polyalign scaling sweep``: build → train → evaluate one run per (language, data size), one CSV row each.

The sweep closes x-LLaMA's loop from the data side: the rows it appends (``lang, n_examples,
metric, value, run_dir``) are exactly what ``polyalign scaling fit`` reads. Every run reuses the
recipes of the other commands, changed only where the sweep needs it:

* data: the data recipe restricted to one language (or all of them, ``joint``), the sources named by
  ``vary`` sampled to ``n`` examples each (``count``: seeded, so a smaller subset is a prefix of a
  larger one's sample — nested subsets); every other source is left as the recipe has it (x-LLaMA
  varies the translation pairs, not Alpaca); no dev split;
* training: the train recipe with ``stages[train_stage].data`` set to that subset and no eval data;
  ``joint: true`` trains one model on every language's subset per size (QAlign's scale analysis);
* evaluation: one task and metric on the trained model, or the judge's score of open-ended responses
  (``eval.judge``); with ``baseline``, the untrained model is the ``n = 0`` point.

Runs live in ``OUT/runs/<lang>-n<size>/`` (``all-n<size>`` when joint); a row is appended only when
its run is complete, so an interrupted sweep reruns only what is missing (each step also resumes
inside: data builds are reused, training resumes from its checkpoints, evaluation from its samples).
"""

from __future__ import annotations

import csv
import hashlib
import json
import logging
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from polyalign import langs
from polyalign.config import load_config, save_config, to_dict
from polyalign.errors import InputError

__all__ = ["SweepConfig", "SweepEval", "SweepJudge", "run_sweep", "finished_runs", "varied_sources", "CSV_COLUMNS",
           "DEFAULT_VARIED_BUILDERS"]

log = logging.getLogger(__name__)

CSV_COLUMNS = ("lang", "n_examples", "metric", "value", "run_dir")
DEFAULT_VARIED_BUILDERS = ("translation", "question_alignment")
"""Builders of the sources a sweep varies when ``vary`` is not given: the data whose scale the papers study."""


@dataclass
class SweepJudge:
    """Score each run by an LLM judge on open-ended responses the run's model generates (`polyalign judge`)."""

    judge: str
    """Judge: an OpenAI-compatible endpoint URL or a local model."""
    instructions: str
    """Open-ended set (e.g. builtin:samples/open-ended); its languages must include the sweep's."""
    references: str | None = None
    limit: int | None = None
    """First N instructions per language."""
    max_new_tokens: int = 512
    prompt: str = "auto"
    batch_size: int = 8
    judge_model: str | None = None
    judge_backend: str = "hf"
    judge_options: list[str] = field(default_factory=list)


@dataclass
class SweepEval:
    """What each run is measured on (`polyalign eval` options)."""

    metric: str
    """Metric written to the CSV: the task's (e.g. ``chrf++``) or the judge's (e.g. ``avg_0-3``)."""
    task: str | None = None
    """Task name, e.g. ``qtrans`` (X→English question translation) or ``flores``; not with ``judge``."""
    judge: SweepJudge | None = None
    """Score by the judge instead of a task."""
    lang: str = "{lang}"
    """Language key evaluated, ``{lang}`` replaced by the sweep language (``{lang}-en`` for a direction)."""
    data_dir: str | None = None
    limit: int | None = None
    """First N examples per language (None: all)."""
    prompt: str | None = None
    name_mode: str = "english"
    """Language names in translation prompts: ``english`` or ``paper`` (match the data recipe's)."""
    batch_size: int = 8
    max_new_tokens: int | None = None

    def validate(self) -> None:
        if (self.task is None) == (self.judge is None):
            raise InputError("eval: give a task (with its metric) or a judge section, exactly one")


@dataclass
class SweepConfig:
    """A sweep recipe (YAML)."""

    name: str
    out: str
    langs: list[str]
    sizes: list[int]
    """Training examples per source and language, e.g. [100, 200, 400, 800]."""
    data: str
    """Data recipe (file or shipped name) whose sources use ``{lang}``."""
    train: str
    """Train recipe (file or shipped name)."""
    eval: SweepEval
    train_stage: int = 0
    """Index of the training stage that gets the subset."""
    baseline: bool = True
    """Also evaluate the untrained model (row with ``n_examples = 0``)."""
    data_overrides: list[str] = field(default_factory=list)
    train_overrides: list[str] = field(default_factory=list)
    vary: list[str] | None = None
    """Names of the data recipe's sources sized to n (as written, e.g. ``translation-en-{lang}``); default:
    the sources of the translation and question_alignment builders. The others keep their size."""
    joint: bool = False
    """One training run per size on all languages at once (n per language and varied source)."""

    def validate(self) -> None:
        if not self.langs:
            raise InputError("langs: give at least one language")
        self.langs = [langs.get(code).code for code in self.langs]
        if not self.sizes or any(n <= 0 for n in self.sizes) or len(set(self.sizes)) != len(self.sizes):
            raise InputError(f"sizes: expected distinct whole numbers > 0, got {self.sizes}")
        self.sizes = sorted(self.sizes)


def finished_runs(csv_path: Path, metric: str) -> dict[tuple[str, int], float]:
    """``(lang, n) -> value`` of the rows already in the CSV for ``metric``."""
    if not csv_path.is_file():
        return {}
    with csv_path.open(encoding="utf-8", newline="") as handle:
        return {(row["lang"], int(row["n_examples"])): float(row["value"])
                for row in csv.DictReader(handle) if row["metric"] == metric}


def _append_row(csv_path: Path, row: dict[str, Any]) -> None:
    new = not csv_path.is_file()
    with csv_path.open("a", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=CSV_COLUMNS)
        if new:
            writer.writeheader()
        writer.writerow(row)


def _claim(out: Path, cfg: SweepConfig, recipes: dict[str, Any]) -> None:
    """Mark ``out`` as this sweep's; rows of a sweep with other recipes must never be reused.

    Languages and sizes may change between runs (rows are per point); anything that changes what a
    point means — the recipes, their overrides, the eval settings — may not.
    """
    settings = {**to_dict(cfg), **recipes}
    for key in ("langs", "sizes", "baseline", "out", "name"):
        settings.pop(key)
    fingerprint = hashlib.sha256(json.dumps(settings, sort_keys=True, default=str).encode()).hexdigest()[:16]
    marker = out / "sweep.json"
    if marker.is_file() and json.loads(marker.read_text(encoding="utf-8")).get("fingerprint") != fingerprint:
        raise InputError(f"{out} holds a sweep run with other recipes or eval settings; its rows would not be "
                         "comparable — use another out or delete the folder", where=str(marker))
    out.mkdir(parents=True, exist_ok=True)
    save_config(cfg, out, "sweep.yaml")
    marker.write_text(json.dumps({"fingerprint": fingerprint, "settings": settings}, indent=2, default=str) + "\n",
                      encoding="utf-8")


def varied_sources(data: Any, vary: list[str] | None) -> list[int]:
    """Indices of the data recipe's sources a sweep sizes (see `SweepConfig.vary`).

    Raises:
        InputError: a name in ``vary`` that is no source, or no default source to vary.
    """
    names = [source.name for source in data.sources]
    if vary is None:
        found = [i for i, source in enumerate(data.sources) if source.builder in DEFAULT_VARIED_BUILDERS]
        if not found:
            raise InputError(f"vary: the data recipe {data.name!r} has no translation or question_alignment source; "
                             f"name the sources to size (its sources: {', '.join(names)})")
        return found
    unknown = [name for name in vary if name not in names]
    if unknown or not vary:
        raise InputError(f"vary: {', '.join(unknown) or '[]'} names no source of the data recipe {data.name!r} "
                         f"(its sources: {', '.join(names)})")
    return [names.index(name) for name in dict.fromkeys(vary)]


def run_sweep(cfg: SweepConfig, *, progress: bool | None = None) -> Path:
    """Run every missing (language, size) of the sweep; returns the CSV path (``OUT/results.csv``)."""
    from polyalign.data.recipe import DataBuildConfig
    from polyalign.recipes import find_recipe
    from polyalign.train.config import TrainRecipe

    cfg.validate()
    out = Path(cfg.out)
    # Load both recipes once up front: a typo must fail before the first hour of training.
    data_path, train_path = find_recipe(cfg.data, "data"), find_recipe(cfg.train, "train")
    base_train = load_config(TrainRecipe, train_path, cfg.train_overrides)
    if not 0 <= cfg.train_stage < len(base_train.stages):
        raise InputError(f"train_stage {cfg.train_stage}: the train recipe has {len(base_train.stages)} stage(s)")
    base_data = load_config(DataBuildConfig, data_path, [*cfg.data_overrides, f"langs=[{cfg.langs[0]}]"])
    varied = varied_sources(base_data, cfg.vary)
    _claim(out, cfg, {"data": to_dict(base_data), "train": to_dict(base_train),
                      "varied": [base_data.sources[i].name for i in varied]})

    csv_path = out / "results.csv"
    done = finished_runs(csv_path, cfg.eval.metric)
    sizes = ([0] if cfg.baseline else []) + cfg.sizes
    # A run is one training (or the untrained model) measured on its languages.
    runs = [(cfg.langs, n) for n in sizes] if cfg.joint else [([lang], n) for lang in cfg.langs for n in sizes]
    todo = [(group, n) for group, n in runs if any((lang, n) not in done for lang in group)]
    log.info("sweep %s: %d runs, %d already finished", cfg.name, len(runs), len(runs) - len(todo))
    from tqdm.auto import tqdm

    bar = tqdm(todo, desc=f"sweep {cfg.name}", unit="run", disable=progress is False)
    for group, n in bar:
        label = "all" if cfg.joint else group[0]
        bar.set_postfix_str(f"{label} n={n}")
        started = time.monotonic()
        run_dir = out / "runs" / f"{label}-n{n}"
        model = base_train.model if n == 0 else _train(cfg, group, n, run_dir, data_path, train_path, varied)
        values = _measure(cfg, group, model, run_dir)
        for lang in group:
            if (lang, n) in done:
                continue
            _append_row(csv_path, {"lang": lang, "n_examples": n, "metric": cfg.eval.metric,
                                   "value": f"{values[lang]:.6g}", "run_dir": str(run_dir)})
            log.info("%s n=%d: %s = %.4g", lang, n, cfg.eval.metric, values[lang])
        log.info("run %s n=%d took %.0f s", label, n, time.monotonic() - started)
    return csv_path


def _train(cfg: SweepConfig, group: list[str], n: int, run_dir: Path, data_path: Path, train_path: Path,
           varied: list[int]) -> str:
    """Build the n-example subset of the varied sources for these languages and train on it; returns the
    final model folder."""
    from polyalign.data.build import build_data
    from polyalign.data.recipe import DataBuildConfig
    from polyalign.train.config import TrainRecipe
    from polyalign.train.recipe import run_recipe

    data_out = run_dir / "data"
    overrides = [*cfg.data_overrides, f"langs=[{','.join(group)}]", f"out={data_out}", "dev_size=0"]
    overrides += [f"sources.{i}.{key}" for i in varied for key in (f"count={n}", "weight=null")]
    data_cfg = load_config(DataBuildConfig, data_path, overrides)
    if not (data_out / "data_card.json").is_file():
        build_data(data_cfg, overwrite=True, progress=False)
    card = json.loads((data_out / "data_card.json").read_text(encoding="utf-8"))
    for stats in card.get("sources", []):
        if stats.get("requested") == n and stats.get("selected", n) < n:
            log.warning("%s: asked for %d examples, the data gave %d", stats["name"], n, stats["selected"])

    stage = cfg.train_stage
    recipe = load_config(TrainRecipe, train_path, [*cfg.train_overrides, f"out={run_dir / 'train'}",
                                                   f"stages.{stage}.data={data_out / 'train.jsonl'}",
                                                   f"stages.{stage}.eval_data=null", f"stages.{stage}.eval_steps=null"])
    final = run_recipe(recipe, resume=True, progress=False)
    return json.loads((Path(final) / "run.json").read_text(encoding="utf-8"))["final_model"]


def _measure(cfg: SweepConfig, group: list[str], model: str, run_dir: Path) -> dict[str, float]:
    """The sweep metric of ``model`` for each language of the run."""
    spec = cfg.eval
    if spec.judge is not None:
        return _judge(cfg, group, model, run_dir / "judge")
    from polyalign.eval.config import EvalConfig
    from polyalign.eval.runner import run_eval

    assert spec.task is not None
    keys = {lang: spec.lang.format(lang=lang) for lang in group}
    document = run_eval(EvalConfig(tasks=[spec.task], out=str(run_dir / "eval"), model=model, langs=list(keys.values()),
                                   data_dir=spec.data_dir, limit=spec.limit, prompt=spec.prompt,
                                   name_mode=spec.name_mode, batch_size=spec.batch_size,
                                   max_new_tokens=spec.max_new_tokens))
    values = document["results"][spec.task]
    found: dict[str, float] = {}
    for lang, key in keys.items():
        row = values.get(key) or (next(iter(values.values())) if len(keys) == 1 else {})
        if spec.metric not in row or row[spec.metric] is None:
            have = ", ".join(k for k in row if k != "n") or "nothing"
            raise InputError(f"eval.metric {spec.metric!r}: task {spec.task} reports {have} for {key}")
        found[lang] = float(row[spec.metric])
    return found


def _judge(cfg: SweepConfig, group: list[str], model: str, out: Path) -> dict[str, float]:
    from polyalign.judge import JudgeConfig, run_judge

    spec, judge = cfg.eval, cfg.eval.judge
    assert judge is not None
    document = run_judge(JudgeConfig(
        judge=judge.judge, out=str(out), model=model, instructions=judge.instructions, references=judge.references,
        judge_model=judge.judge_model, judge_backend=judge.judge_backend, judge_options=list(judge.judge_options),
        prompt=judge.prompt, max_new_tokens=judge.max_new_tokens, batch_size=judge.batch_size, langs=list(group),
        limit=judge.limit))  # type: ignore[arg-type]
    found: dict[str, float] = {}
    for lang in group:
        rows = [langs_[lang] for langs_ in document["results"].values() if lang in langs_]
        value = rows[0].get(spec.metric) if rows else None
        if value is None:
            have = ", ".join(k for k in (rows[0] if rows else {}) if k != "n") or "no responses"
            raise InputError(f"eval.metric {spec.metric!r}: the judge gave {have} for {lang}")
        found[lang] = float(value)
    return found
