"""`polyalign quickstart`: the CPU QAlign experiment (base / MonoReason / QAlign) on the embedded model.

Steps, each recorded in ``OUT/quickstart.json`` as it finishes, so that rerunning the same command
after an interruption skips what is done (the experiment itself resumes: training from its
checkpoints, evaluation from its samples):

1. ``model``       pull / resolve the model, measure its generation speed on this machine and size the
   run (`polyalign.quickstart.plan.sizes_for`);
2. ``data``        lay the starter questions out for the stage-I panel (`polyalign.quickstart.measure`);
3. ``experiment``  run ``qalign-smollm2`` into ``OUT/experiment`` (`polyalign.experiments.run_experiment`);
4. ``panel``       the stage-I panel: base vs QAlign's stage-I model on X→English question translation;
5. ``align``       layer-wise retrieval of parallel questions in both of the panel's models;
6. ``comparison``  compare rows, per-arm accuracy, gap to English and answer language with CIs;
7. ``report``      ``OUT/report.html``.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from polyalign.config import save_config, to_dict
from polyalign.errors import InputError
from polyalign.quickstart.measure import generation_speed, measure_model, retrieval_by_lang, write_starter_layouts
from polyalign.quickstart.plan import (METRICS, REFERENCE_TOKENS_PER_SECOND, QuickstartConfig, Sizes, relative_speed,
                                       sizes_for)

__all__ = ["run_quickstart", "STATE_FILE", "STEP_WEIGHTS"]

log = logging.getLogger(__name__)

STATE_FILE = "quickstart.json"
STEP_WEIGHTS = {"model": 2, "data": 1, "experiment": 81, "panel": 11, "align": 5, "comparison": 0, "report": 0}
"""Share of the run each step takes at the reference sizes (`plan.REFERENCE_STEP_SECONDS`); drives the ETA."""


class _OnlyChrf(logging.Filter):
    """The panel reads chrF++ only: notes about optional translation metrics are noise here."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "not computed" not in record.getMessage()


def run_quickstart(cfg: QuickstartConfig, *, progress: bool | None = None) -> dict[str, Any]:
    """Run (or resume) a quickstart; returns the state written to ``OUT/quickstart.json``."""
    from tqdm.auto import tqdm

    cfg.validate()
    out = Path(cfg.out)
    state = _load_state(out, cfg)
    save_config(cfg, out)
    steps: list[tuple[str, Callable[[dict[str, Any]], None]]] = [
        ("model", lambda s: _model(s, cfg)), ("data", lambda s: _data(s, out, cfg, _sizes(s))),
        ("experiment", lambda s: _experiment(s, out, cfg, _sizes(s), progress)),
        ("panel", lambda s: _panel(s, out, cfg, _sizes(s))),
        ("align", lambda s: _align(s, out, cfg, _sizes(s))),
        ("comparison", lambda s: _comparison(s, out, cfg)), ("report", lambda s: _report(s, out))]
    runner_log = logging.getLogger("polyalign.eval.runner")
    if not any(isinstance(f, _OnlyChrf) for f in runner_log.filters):
        runner_log.addFilter(_OnlyChrf())
    bar = tqdm(total=sum(STEP_WEIGHTS.values()), desc="quickstart", unit="%", disable=progress is False,
               bar_format="{l_bar}{bar}| {n:.0f}/{total:.0f}% [{elapsed}<{remaining}]")
    for name, step in steps:
        if state["steps"].get(name, {}).get("status") == "done":
            bar.update(STEP_WEIGHTS[name])
            continue
        bar.set_postfix_str(name)
        started = time.monotonic()
        step(state)
        state["steps"][name] = {"status": "done", "seconds": round(time.monotonic() - started, 1)}
        _save_state(out, state)
        bar.update(STEP_WEIGHTS[name])
    bar.close()
    return state


def _load_state(out: Path, cfg: QuickstartConfig) -> dict[str, Any]:
    path = out / STATE_FILE
    settings = {"model": cfg.model, "langs": cfg.langs, "budget_minutes": cfg.budget_minutes,
                "calibrate": cfg.calibrate, "experiment": cfg.experiment, "overrides": list(cfg.overrides),
                "seed": cfg.seed}
    if path.is_file():
        state = json.loads(path.read_text(encoding="utf-8"))
        if state.get("settings") != settings:
            raise InputError(f"{out} holds a quickstart with other settings ({state.get('settings')}); "
                             "use another --out or delete it")
        return state
    out.mkdir(parents=True, exist_ok=True)
    return {"kind": "polyalign-quickstart/2", "settings": settings, "model": cfg.model, "langs": cfg.langs,
            "budget_minutes": cfg.budget_minutes, "speed": None, "sizes": None, "metrics": METRICS,
            "before": {}, "after": {}, "steps": {}, "comparison": None,
            "dirs": {"experiment": "experiment", "panel_base": "panel-base", "panel_stage1": "panel-stage1",
                     "analysis": "analysis"}}


def _save_state(out: Path, state: dict[str, Any]) -> None:
    tmp = out / (STATE_FILE + ".tmp")
    tmp.write_text(json.dumps(state, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    tmp.replace(out / STATE_FILE)  # never a half-written state file after an interruption


def _model(state: dict[str, Any], cfg: QuickstartConfig) -> None:
    from polyalign.models.loading import resolve_model

    path = resolve_model(cfg.model)
    state["model_path"] = path
    speed = 1.0
    if cfg.calibrate:
        tokens_per_second = generation_speed(path, ["en", *cfg.langs])
        speed = relative_speed(tokens_per_second)
        state["speed"] = {"tokens_per_second": round(tokens_per_second, 1),
                          "reference_tokens_per_second": REFERENCE_TOKENS_PER_SECOND, "relative": round(speed, 3)}
        log.info("this machine generates %.0f tokens/s with %s (reference %.0f): sizes scaled by %.2f",
                 tokens_per_second, cfg.model, REFERENCE_TOKENS_PER_SECOND, speed)
    state["sizes"] = to_dict(sizes_for(cfg.budget_minutes, len(cfg.langs), speed))


def _sizes(state: dict[str, Any]) -> Sizes:
    """The sizes fixed by the ``model`` step; a resumed run keeps them whatever the machine does now."""
    return Sizes(**state["sizes"])


def _data(state: dict[str, Any], out: Path, cfg: QuickstartConfig, sizes: Sizes) -> None:
    folders = write_starter_layouts(out / "data", cfg.langs, sizes)
    state["data"] = {name: str(path) for name, path in folders.items()}


def _experiment(state: dict[str, Any], out: Path, cfg: QuickstartConfig, sizes: Sizes,
                progress: bool | None) -> None:
    from polyalign.experiments.runner import run_experiment
    from polyalign.quickstart.experiment import quickstart_experiment, stage1_model

    exp_out = out / state["dirs"]["experiment"]
    spec = quickstart_experiment(cfg.experiment, state["model_path"], cfg.langs, sizes, cfg.seed, cfg.overrides)
    result = run_experiment(spec, exp_out, progress=progress)
    state["experiment"] = {"name": spec.name, "arms": {arm: {"seconds": {k: v.get("seconds") for k, v in steps.items()
                                                                          if isinstance(v, dict)}}
                                                      for arm, steps in result.get("arms", {}).items()}}
    state["trained_model"] = stage1_model(exp_out)


def _panel(state: dict[str, Any], out: Path, cfg: QuickstartConfig, sizes: Sizes) -> None:
    """The stage-I panel: the base model ("before") and QAlign's stage-I model ("after")."""
    for when, key, model in (("before", "panel_base", state["model_path"]),
                             ("after", "panel_stage1", state["trained_model"])):
        measured = measure_model(model, out / state["dirs"][key], cfg.langs, sizes, Path(state["data"]["eval_data"]))
        for lang, row in measured.items():
            state[when].setdefault(lang, {}).update(row)


def _align(state: dict[str, Any], out: Path, cfg: QuickstartConfig, sizes: Sizes) -> None:
    from polyalign.analysis.alignment.run import AlignmentConfig, analyze_alignment

    folder = Path(state["data"]["align"])
    data = analyze_alignment(AlignmentConfig(
        model=state["model_path"], compare_model=state["trained_model"], out=str(out / state["dirs"]["analysis"]),
        parallel=[f"{lang}={folder / f'test.{lang}'}" for lang in ["en", *cfg.langs]], langs=cfg.langs,
        limit=sizes.align))
    for when, row in zip(("before", "after"), retrieval_by_lang(data)):
        for lang, value in row.items():
            state[when].setdefault(lang, {})["retrieval"] = value


def _comparison(state: dict[str, Any], out: Path, cfg: QuickstartConfig) -> None:
    from polyalign.quickstart.comparison import summarize
    from polyalign.quickstart.experiment import ARMS

    state["comparison"] = summarize(out / state["dirs"]["experiment"], ARMS, seed=cfg.seed)


def _report(state: dict[str, Any], out: Path) -> None:
    from polyalign.report import build_report

    _save_state(out, state)  # the report reads quickstart.json: it must hold the comparison
    state["report"] = str(build_report(out))
