"""The quickstart's experiment: the shipped QAlign experiment, sized and pointed at the chosen model.

`quickstart_experiment` loads ``qalign-smollm2`` (base / MonoReason / QAlign on the arith task) with
the calibrated sizes as its ``vars``, the suite's languages set to English plus the chosen ones, the
stage-I data build restricted to them, and the model set in the base arm and in every train recipe.
`stage1_model` finds QAlign's stage-I model (the first stage's output inside the arm's train run) for
the stage-I panel.
"""

from __future__ import annotations

import json
from pathlib import Path

from polyalign.experiments.spec import ExperimentConfig, load_experiment
from polyalign.quickstart.plan import Sizes

__all__ = ["quickstart_experiment", "stage1_model", "ARMS", "QALIGN", "MONOREASON", "BASE"]

BASE, MONOREASON, QALIGN = "base", "monoreason", "qalign"
ARMS = (BASE, MONOREASON, QALIGN)


def quickstart_experiment(name: str, model: str, langs: list[str], sizes: Sizes, seed: int,
                          extra: list[str] | tuple[str, ...] = ()) -> ExperimentConfig:
    """The experiment file ``name`` with the quickstart's sizes, languages and model.

    Args:
        name: experiment file or shipped name with arms ``base``, ``monoreason`` and ``qalign``.
        model: resolved model folder: the base arm's model and the train recipes' starting model.
        langs: languages besides English.
        sizes: the calibrated sizes (stage-I pairs, stage-II examples, test items per language).
        seed: seed of the data builds and training.
        extra: further ``key=value`` overrides, applied last (tests use them to shrink decoding).
    """
    overrides = [f"vars.stage1_pairs={sizes.stage1_pairs}", f"vars.stage2_examples={sizes.stage2_examples}",
                 f"suite.limit={sizes.test}", *extra]
    cfg, _ = load_experiment(name, overrides)
    cfg.suite.langs = ["en", *langs]
    cfg.arms[BASE].model = model
    for arm in (MONOREASON, QALIGN):
        cfg.arms[arm].overrides = [*cfg.arms[arm].overrides, f"model={model}", f"seed={seed}"]
        for build in cfg.arms[arm].data:
            build.overrides = [*build.overrides, f"seed={seed}"]
    # stage I pairs only the chosen languages with English (the recipe lists all eight)
    stage1 = cfg.arms[QALIGN].data[0]
    stage1.overrides = [*stage1.overrides, f"langs=[{','.join(langs)}]"]
    return cfg


def stage1_model(experiment_out: Path) -> str:
    """QAlign's model after stage I alone: the first stage's model (or adapter) in the arm's train run."""
    from polyalign.config import read_yaml

    train = experiment_out / QALIGN / "train"
    run = json.loads((train / "run.json").read_text(encoding="utf-8"))
    first = run["stages"][0]
    stage = str(read_yaml(train / "config.yaml")["stages"][0]["name"])  # the run's resolved recipe
    return str(train / stage / (first.get("model") or first["adapter"]))
