"""``polyalign experiment run``: execute what is missing, in dependency order, then compare and report.

Reads top to bottom: plan (fingerprints and status per step) → refuse changed finished steps unless
``rerun`` → run each missing step (recording ``running`` first and ``done`` last in
``OUT/experiment.json``, so a killed run resumes: training from its checkpoints, evaluation from its
samples) → comparisons whose arms are all evaluated → ``OUT/report.html``.

An arm whose step fails stops the experiment with one line naming the arm; the arms finished before it
stay finished and the next run starts at the failed step.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import shutil
import time
import traceback
from pathlib import Path
from typing import Any

from polyalign.errors import InputError
from polyalign.experiments.plan import STATE_FILE, Step, make_plan, read_state
from polyalign.experiments.resolve import ARM_PREFIX, eval_config
from polyalign.experiments.spec import ComparisonSpec, ExperimentConfig

__all__ = ["run_experiment", "compare_arms", "STEP_FOLDERS"]

log = logging.getLogger(__name__)

STEP_FOLDERS = {"build": ("data", "vocab", "train"), "eval": ("eval",), "judge": ("judge",),
                "perplexity": ("perplexity",)}
"""The arm sub-folders each step writes (removed before a step is redone from scratch)."""


def _save(out: Path, state: dict[str, Any]) -> None:
    out.mkdir(parents=True, exist_ok=True)
    tmp = out / (STATE_FILE + ".tmp")
    tmp.write_text(json.dumps(state, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    tmp.replace(out / STATE_FILE)


def _models(cfg: ExperimentConfig, state: dict[str, Any]) -> dict[str, str]:
    """Arm → model path for arms whose model exists (existing models and finished builds)."""
    models = {name: arm.model for name, arm in cfg.arms.items() if arm.model is not None}
    for name, steps in state.get("arms", {}).items():
        build = steps.get("build", {})
        if build.get("status") == "done" and build.get("model"):
            models[name] = build["model"]
    return models


def _real(model: str, models: dict[str, str]) -> str:
    return models[model[len(ARM_PREFIX):]] if model.startswith(ARM_PREFIX) else model


def _build(step: Step, models: dict[str, str]) -> str:
    """Data builds → vocabulary extension → training; returns the trained model's folder."""
    from polyalign.data.build import build_data
    from polyalign.train.recipe import run_recipe

    resolved = step.resolved
    for data in resolved.data:
        if not (Path(data.out) / "data_card.json").is_file():
            build_data(data, overwrite=True, progress=False)
    if resolved.vocab is not None:
        from polyalign.vocab.extend import MARKER, extend_vocabulary

        vocab = dataclasses.replace(resolved.vocab, model=_real(resolved.vocab.model, models))
        if not (Path(vocab.out) / MARKER).is_file():
            extend_vocabulary(vocab, overwrite=True)
    recipe = dataclasses.replace(resolved.train, model=_real(resolved.train.model, models))
    run = Path(run_recipe(recipe, resume=True, progress=False))
    return json.loads((run / "run.json").read_text(encoding="utf-8"))["final_model"]


def _evaluate(step: Step, models: dict[str, str]) -> None:
    from polyalign.eval.runner import run_eval
    from polyalign.infer.backends import ProxyOptions

    arm = step.resolved.arm
    out = step.resolved.folder / "eval"
    if arm.proxy is not None:
        proxy = arm.proxy
        cfg = eval_config(step.resolved.suite, out, backend="proxy", model=models[proxy.base],
                          proxy=ProxyOptions(expert=models[proxy.expert], anti_expert=models[proxy.anti_expert],
                                             alpha=proxy.alpha, prompt_formats=(proxy.base_format, proxy.expert_format,
                                                                                proxy.anti_expert_format),
                                             small_dtype=proxy.small_dtype, small_device=proxy.small_device))
    else:
        cfg = eval_config(step.resolved.suite, out, model=models[step.arm])
    run_eval(cfg)


def _judge(step: Step, cfg: ExperimentConfig, models: dict[str, str]) -> None:
    from polyalign.judge import JudgeConfig, run_judge

    spec = cfg.judge
    assert spec is not None
    run_judge(JudgeConfig(
        judge=spec.judge, out=str(step.resolved.folder / "judge"), model=models[step.arm],
        instructions=spec.instructions, references=spec.references, judge_model=spec.judge_model,
        judge_backend=spec.judge_backend, judge_options=list(spec.judge_options), prompt=spec.prompt,
        max_new_tokens=spec.max_new_tokens, batch_size=spec.batch_size, dtype=spec.dtype, device=spec.device,
        seed=spec.seed, langs=spec.langs, limit=spec.limit))


def _perplexity(step: Step, cfg: ExperimentConfig, models: dict[str, str]) -> None:
    from polyalign.analysis.perplexity.run import PerplexityConfig, analyze_perplexity

    spec = cfg.perplexity
    assert spec is not None
    analyze_perplexity(PerplexityConfig(models=[models[step.arm]], texts=list(spec.texts),
                                        out=str(step.resolved.folder / "perplexity"), limit=spec.limit,
                                        max_length=spec.max_length, dtype=spec.dtype))


def _one_line(err: BaseException) -> str:
    text = str(err).strip().splitlines()
    return text[0] if text else type(err).__name__


def _run_step(step: Step, cfg: ExperimentConfig, out: Path, state: dict[str, Any]) -> None:
    entry = state["arms"].setdefault(step.arm, {})
    if step.status == "todo" and step.kind in entry:  # started with another fingerprint: its outputs are stale
        for folder in STEP_FOLDERS[step.kind]:
            shutil.rmtree(step.resolved.folder / folder, ignore_errors=True)
    entry[step.kind] = {"status": "running", "fingerprint": step.fingerprint}
    _save(out, state)
    started = time.monotonic()
    models = _models(cfg, state)
    try:
        model = _build(step, models) if step.kind == "build" else None
        if step.kind == "eval":
            _evaluate(step, models)
        elif step.kind == "judge":
            _judge(step, cfg, models)
        elif step.kind == "perplexity":
            _perplexity(step, cfg, models)
    except Exception as err:  # noqa: BLE001 - any failure of an arm stops the experiment naming that arm
        entry[step.kind].update(status="failed", error=_one_line(err))
        _save(out, state)
        if not isinstance(err, InputError):
            step.resolved.folder.mkdir(parents=True, exist_ok=True)
            (step.resolved.folder / "error.log").write_text(traceback.format_exc(), encoding="utf-8")
        log.debug("arm %s failed", step.arm, exc_info=True)
        raise InputError(f"arm {step.arm!r} failed in its {step.kind} step: {_one_line(err)} "
                         f"(finished arms are kept; fix it and run again to resume)") from None
    entry[step.kind] = {"status": "done", "fingerprint": step.fingerprint,
                        "seconds": round(time.monotonic() - started, 1), **({"model": model} if model else {})}
    _save(out, state)


def compare_arms(cfg: ExperimentConfig, out: Path, comparison: ComparisonSpec, first: bool) -> Path:
    """Run one comparison on the arms' eval (or judge) folders; returns its comparison.json."""
    from polyalign.experiments.compare import compare_runs  # written alongside; imported when used

    runs = {name: out / name / comparison.runs for name in [comparison.baseline, *comparison.systems]}
    target = out if first else out / "comparisons" / comparison.name
    compare_runs(runs, comparison.baseline, metrics=comparison.metrics, out=target)
    return target / "comparison.json"


def run_experiment(cfg: ExperimentConfig, out: Path, *, only: list[str] | None = None, rerun: bool = False,
                   progress: bool | None = None) -> dict[str, Any]:
    """Run what is missing; returns the final state (also in ``OUT/experiment.json``).

    Raises:
        InputError: bad references or cycles, a changed finished step without ``rerun``, a failed arm.
    """
    from tqdm.auto import tqdm

    steps = make_plan(cfg, out, only=only)
    changed = [s for s in steps if s.status == "changed"]
    if changed and not rerun:
        what = ", ".join(f"{s.arm} ({s.kind})" for s in changed)
        raise InputError(f"{what}: changed since it finished (recipe, data or settings differ); pass --rerun to "
                         f"redo it, or use another --out", where=str(out / STATE_FILE))
    state = read_state(out)
    state.update(name=cfg.name, reproduces=cfg.reproduces, paper=cfg.paper)
    state.setdefault("arms", {})
    for step in changed:
        for folder in STEP_FOLDERS[step.kind]:
            shutil.rmtree(step.resolved.folder / folder, ignore_errors=True)
        state["arms"][step.arm].pop(step.kind, None)
        step.status = "todo"
    todo = [s for s in steps if s.status != "done"]
    log.info("experiment %s: %d steps, %d to run", cfg.name, len(steps), len(todo))
    bar = tqdm(total=len(steps), initial=len(steps) - len(todo), desc=f"experiment {cfg.name}", unit="step",
               disable=progress is False)
    for step in todo:
        bar.set_postfix_str(f"{step.arm}: {step.kind}")
        _run_step(step, cfg, out, state)
        bar.update(1)
    bar.close()

    done = {arm for arm, entry in state["arms"].items()
            if all(entry.get(kind, {}).get("status") == "done" for kind in ("eval",))}
    state["comparisons"] = {}
    for index, comparison in enumerate(cfg.comparisons):
        arms = [comparison.baseline, *comparison.systems]
        judged = all(state["arms"].get(a, {}).get("judge", {}).get("status") == "done" for a in arms)
        if all(a in done for a in arms) and (comparison.runs == "eval" or judged):
            state["comparisons"][comparison.name] = str(compare_arms(cfg, out, comparison, index == 0))
    _save(out, state)
    from polyalign.report.build import build_report

    state["report"] = str(build_report(out, out / "report.html"))
    _save(out, state)
    return state

