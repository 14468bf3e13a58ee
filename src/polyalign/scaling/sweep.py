"""``polyalign scaling sweep``: build → train → evaluate one run per (language, data size), one CSV row each.

The sweep closes x-LLaMA's loop from the data side: the rows it appends (``lang, n_examples,
metric, value, run_dir``) are exactly what ``polyalign scaling fit`` reads. Every run reuses the
recipes of the other commands, changed only where the sweep needs it:

* data: the data recipe restricted to one language, every source sampled to ``n`` examples
  (``count``: seeded, so a smaller subset is a prefix of a larger one's sample — nested subsets),
  no dev split (``n`` is the number of training examples);
* training: the train recipe with ``stages[train_stage].data`` set to that subset and no eval data;
* evaluation: one task and metric on the trained model (and, with ``baseline``, on the untrained
  model as the ``n = 0`` point).

Runs live in ``OUT/runs/<lang>-n<size>/``; a row is appended only when its run is complete, so an
interrupted sweep reruns only what is missing (each step also resumes inside: data builds are
reused, training resumes from its checkpoints, evaluation from its samples).
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

__all__ = ["SweepConfig", "SweepEval", "run_sweep", "finished_runs", "CSV_COLUMNS"]

log = logging.getLogger(__name__)

CSV_COLUMNS = ("lang", "n_examples", "metric", "value", "run_dir")


@dataclass
class SweepEval:
    """What each run is measured on (`polyalign eval` options)."""

    task: str
    """Task name, e.g. ``qtrans`` (X→English question translation) or ``flores``."""
    metric: str
    """Metric of that task written to the CSV, e.g. ``chrf++``."""
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
    _claim(out, cfg, {"data": to_dict(base_data), "train": to_dict(base_train)})

    csv_path = out / "results.csv"
    done = finished_runs(csv_path, cfg.eval.metric)
    points = [(lang, n) for lang in cfg.langs for n in ([0] if cfg.baseline else []) + cfg.sizes]
    todo = [p for p in points if p not in done]
    log.info("sweep %s: %d runs, %d already finished", cfg.name, len(points), len(points) - len(todo))
    from tqdm.auto import tqdm

    bar = tqdm(todo, desc=f"sweep {cfg.name}", unit="run", disable=progress is False)
    for lang, n in bar:
        bar.set_postfix_str(f"{lang} n={n}")
        started = time.monotonic()
        run_dir = out / "runs" / f"{lang}-n{n}"
        model = base_train.model if n == 0 else _train(cfg, lang, n, run_dir, data_path, train_path)
        value = _evaluate(cfg, lang, model, run_dir / "eval")
        _append_row(csv_path, {"lang": lang, "n_examples": n, "metric": cfg.eval.metric, "value": f"{value:.6g}",
                               "run_dir": str(run_dir)})
        log.info("%s n=%d: %s = %.4g (%.0f s)", lang, n, cfg.eval.metric, value, time.monotonic() - started)
    return csv_path


def _train(cfg: SweepConfig, lang: str, n: int, run_dir: Path, data_path: Path, train_path: Path) -> str:
    """Build the n-example subset of one language and train on it; returns the final model folder."""
    from polyalign.data.build import build_data
    from polyalign.data.recipe import DataBuildConfig
    from polyalign.train.config import TrainRecipe
    from polyalign.train.recipe import run_recipe

    data_out = run_dir / "data"
    overrides = [*cfg.data_overrides, f"langs=[{lang}]", f"out={data_out}", "dev_size=0"]
    sources = len(load_config(DataBuildConfig, data_path, overrides).sources)
    overrides += [f"sources.{i}.{key}" for i in range(sources) for key in (f"count={n}", "weight=null")]
    data_cfg = load_config(DataBuildConfig, data_path, overrides)
    if not (data_out / "data_card.json").is_file():
        build_data(data_cfg, overwrite=True, progress=False)
    card = json.loads((data_out / "data_card.json").read_text(encoding="utf-8"))
    built = card["splits"]["train"]["languages"].get(lang, 0)
    if built < n * len(data_cfg.sources):
        log.warning("%s: asked for %d examples per source, the data gave %d in all", lang, n, built)

    stage = cfg.train_stage
    recipe = load_config(TrainRecipe, train_path, [*cfg.train_overrides, f"out={run_dir / 'train'}",
                                                   f"stages.{stage}.data={data_out / 'train.jsonl'}",
                                                   f"stages.{stage}.eval_data=null"])
    final = run_recipe(recipe, resume=True, progress=False)
    return json.loads((Path(final) / "run.json").read_text(encoding="utf-8"))["final_model"]


def _evaluate(cfg: SweepConfig, lang: str, model: str, eval_out: Path) -> float:
    from polyalign.eval.config import EvalConfig
    from polyalign.eval.runner import run_eval

    spec = cfg.eval
    key = spec.lang.format(lang=lang)
    document = run_eval(EvalConfig(tasks=[spec.task], out=str(eval_out), model=model, langs=[key],
                                   data_dir=spec.data_dir, limit=spec.limit, prompt=spec.prompt,
                                   name_mode=spec.name_mode, batch_size=spec.batch_size,
                                   max_new_tokens=spec.max_new_tokens))
    values = document["results"][spec.task]
    row = values.get(key) or next(iter(values.values()))
    if spec.metric not in row or row[spec.metric] is None:
        raise InputError(f"eval.metric {spec.metric!r}: task {spec.task} reports {', '.join(k for k in row if k != 'n')}")
    return float(row[spec.metric])
