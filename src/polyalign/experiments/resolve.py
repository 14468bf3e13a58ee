"""An arm made concrete: the data builds, vocabulary extension and train recipe it runs, with their outputs
placed in the arm's folder (``OUT/<arm>/data/<i>``, ``vocab``, ``train``, ``eval``, ``judge``).

An arm that starts from another arm's model gets the placeholder ``arm:<name>`` as its model here; the
runner puts the real path in once that arm is built (fingerprints use the other arm's fingerprint, so the
placeholder never hides a change).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from polyalign.config import load_config
from polyalign.errors import InputError
from polyalign.experiments.graph import arm_suite
from polyalign.experiments.spec import ArmConfig, ExperimentConfig, SuiteConfig

__all__ = ["ResolvedArm", "resolve_arm", "ARM_PREFIX", "eval_config"]

ARM_PREFIX = "arm:"


@dataclass
class ResolvedArm:
    """Everything an arm runs, as the typed configs of the packages that run it."""

    name: str
    arm: ArmConfig
    folder: Path
    suite: SuiteConfig
    data: list[Any]
    """DataBuildConfig per data build, ``out`` inside the arm folder."""
    vocab: Any | None
    """ExtendConfig, or None."""
    train: Any | None
    """TrainRecipe, or None."""


def resolve_arm(cfg: ExperimentConfig, name: str, out: Path) -> ResolvedArm:
    """The arm's concrete configs (recipes found, overrides applied, outputs placed).

    Raises:
        InputError: a recipe that does not exist or does not validate, named with the arm.
    """
    from polyalign.data.recipe import DataBuildConfig
    from polyalign.recipes import find_recipe
    from polyalign.train.config import TrainRecipe

    arm, folder = cfg.arms[name], out / name
    try:
        suite = arm_suite(cfg, name)
        data = [load_config(DataBuildConfig, find_recipe(build.recipe, "data"),
                            [*build.overrides, f"out={folder / 'data' / str(i)}"]) for i, build in enumerate(arm.data)]
        vocab = train = None
        if arm.train is not None:
            path = find_recipe(arm.train, "train")
            overrides = [*arm.overrides, f"out={folder / 'train'}"]
            stages = len(load_config(TrainRecipe, path, arm.overrides).stages)
            for i, build in enumerate(arm.data):
                if build.stage is None:
                    continue
                if not 0 <= build.stage < stages:
                    raise InputError(f"data[{i}].stage {build.stage}: the train recipe has {stages} stage(s)")
                built = Path(data[i].out)
                dev = f"eval_data={built / 'dev.jsonl'}" if data[i].dev_size > 0 else "eval_data=null"
                overrides += [f"stages.{build.stage}.data={built / 'train.jsonl'}", f"stages.{build.stage}.{dev}"]
                if data[i].dev_size == 0:
                    overrides.append(f"stages.{build.stage}.eval_steps=null")
            start = (ARM_PREFIX + arm.start_from) if arm.start_from else None
            if arm.vocab is not None:
                vocab = _vocab_config(arm, start or load_config(TrainRecipe, path, arm.overrides).model, folder)
                overrides += [f"model={folder / 'vocab'}", "tokenizer=null"]
            elif start is not None:
                overrides.append(f"model={start}")
            train = load_config(TrainRecipe, path, overrides)
    except InputError as err:
        raise InputError(f"arm {name!r}: {err}") from None
    return ResolvedArm(name, arm, folder, suite, data, vocab, train)


def _vocab_config(arm: ArmConfig, model: str, folder: Path) -> Any:
    from polyalign.vocab.extend import ExtendConfig

    spec = arm.vocab
    assert spec is not None
    cfg = ExtendConfig(model=model, corpus=list(spec.corpus), lang=spec.lang, new_tokens=spec.new_tokens,
                       out=str(folder / "vocab"), init=spec.init, seed=spec.seed, max_lines=spec.max_lines,
                       allow_ascii=spec.allow_ascii, eval_texts=list(spec.eval_texts))
    cfg.validate()
    return cfg


def eval_config(suite: SuiteConfig, out: Path, **model: Any) -> Any:
    """The `polyalign eval` config of one arm (``model`` holds model / backend / proxy fields)."""
    from polyalign.eval.config import EvalConfig

    extra: dict[str, Any] = {} if suite.protocol is None else {"protocol": suite.protocol}
    settings = {"backend": suite.backend, **model}
    return EvalConfig(tasks=list(suite.tasks), out=str(out), langs=suite.langs, limit=suite.limit,
                      data_dir=suite.data_dir, batch_size=suite.batch_size, max_new_tokens=suite.max_new_tokens,
                      prompt=suite.prompt, num_fewshot=suite.num_fewshot, mc_mode=suite.mc_mode, seed=suite.seed,
                      dtype=suite.dtype, device=suite.device, name_mode=suite.name_mode, **extra, **settings)
