"""The plan of an experiment: each arm's steps in dependency order, their fingerprints, status and cost.

Steps: ``build`` (data builds → vocabulary extension → training; nothing for an existing model or a
proxy arm), ``eval`` (the suite) and ``judge`` (when the arm is judged). Status against the state
file ``OUT/experiment.json``: ``done`` (finished with the same fingerprint: reused), ``changed``
(finished with another fingerprint: refused without --rerun), ``resume`` (started, not finished),
``todo``. With a ``perplexity`` section, scored arms also get a ``perplexity`` step.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from polyalign.experiments import fingerprint as fp
from polyalign.experiments.cost import Cost, build_cost, eval_cost, judge_cost
from polyalign.experiments.graph import judged_arms, run_order, scored_arms, with_needs
from polyalign.experiments.resolve import ResolvedArm, resolve_arm
from polyalign.experiments.spec import ExperimentConfig

__all__ = ["Step", "make_plan", "format_plan", "read_state", "STATE_FILE"]

STATE_FILE = "experiment.json"


@dataclass
class Step:
    """One step of one arm."""

    arm: str
    kind: str
    """build | eval | judge | perplexity."""
    fingerprint: str
    status: str
    """done | changed | resume | todo."""
    resolved: ResolvedArm = field(repr=False)
    cost: Cost | None = None
    label: str = ""


def read_state(out: Path) -> dict[str, Any]:
    """The state file, or an empty state."""
    path = out / STATE_FILE
    if path.is_file():
        return json.loads(path.read_text(encoding="utf-8"))
    return {"arms": {}, "comparisons": {}}


def _status(state: dict[str, Any], arm: str, kind: str, fingerprint: str) -> str:
    entry = state.get("arms", {}).get(arm, {}).get(kind)
    if entry is None:
        return "todo"
    if entry.get("status") == "done":
        return "done" if entry.get("fingerprint") == fingerprint else "changed"
    return "resume" if entry.get("fingerprint") == fingerprint else "todo"


def _label(resolved: ResolvedArm) -> str:
    arm = resolved.arm
    if arm.kind == "model":
        return f"model {arm.model}"
    if arm.kind == "proxy":
        assert arm.proxy is not None
        return f"proxy {arm.proxy.base} + {arm.proxy.alpha:g} × ({arm.proxy.expert} − {arm.proxy.anti_expert})"
    parts = [f"data {', '.join(b.recipe for b in arm.data)}"] if arm.data else []
    if arm.vocab is not None:
        parts.append(f"vocab +{arm.vocab.new_tokens} {arm.vocab.lang}")
    parts.append(f"train {arm.train}" + (f" from {arm.start_from}" if arm.start_from else ""))
    return " → ".join(parts)


def make_plan(cfg: ExperimentConfig, out: Path, *, only: list[str] | None = None,
              costs: bool = False) -> list[Step]:
    """Every step of the experiment (or of ``only`` and what it needs), in run order.

    Raises:
        InputError: unknown arm references, a cycle, incomparable comparisons, a recipe that does not load.
    """
    order = with_needs(cfg, only) if only else run_order(cfg)
    state = read_state(out)
    judged, scored = set(judged_arms(cfg)), set(scored_arms(cfg))
    builds: dict[str, str] = {}
    steps: list[Step] = []
    for name in order:
        resolved = resolve_arm(cfg, name, out)
        upstream = {other: builds[other] for other in builds}
        builds[name] = fp.build_fingerprint(resolved, upstream)
        label = _label(resolved)
        if resolved.arm.kind in ("train", "vocab+train"):
            steps.append(Step(name, "build", builds[name], _status(state, name, "build", builds[name]), resolved,
                              build_cost(resolved) if costs else None, label))
        evaluation = fp.eval_fingerprint(resolved, builds[name])
        steps.append(Step(name, "eval", evaluation, _status(state, name, "eval", evaluation), resolved,
                          eval_cost(resolved) if costs else None, label))
        if name in judged and cfg.judge is not None:
            judging = fp.settings_fingerprint(cfg.judge, builds[name])
            steps.append(Step(name, "judge", judging, _status(state, name, "judge", judging), resolved,
                              judge_cost(cfg.judge) if costs else None, label))
        if name in scored and cfg.perplexity is not None:
            scoring = fp.settings_fingerprint(cfg.perplexity, builds[name],
                                              [t.split("=", 1)[-1] for t in cfg.perplexity.texts])
            steps.append(Step(name, "perplexity", scoring, _status(state, name, "perplexity", scoring), resolved,
                              None, label))
    return steps


def _total(steps: list[Step], kinds: tuple[str, ...]) -> tuple[int | None, int | None, bool]:
    examples, tokens, bound = 0, 0, False
    for step in steps:
        if step.kind not in kinds or step.status == "done" or step.cost is None:
            continue
        if step.cost.examples is None or step.cost.tokens is None:
            return None, None, False
        examples += step.cost.examples
        tokens += step.cost.tokens
        bound |= step.cost.bound
    return examples, tokens, bound


def format_plan(cfg: ExperimentConfig, steps: list[Step], out: Path) -> str:
    """The plan as text: arms with their steps, status and cost, comparisons, and the totals still to pay."""
    lines = [f"experiment {cfg.name} → {out}"]
    if cfg.reproduces:
        lines.append(f"reproduces: {cfg.reproduces}")
    current = None
    for step in steps:
        if step.arm != current:
            current = step.arm
            note = f"  — {step.resolved.arm.note}" if step.resolved.arm.note else ""
            lines.append(f"arm {step.arm}: {step.label}{note}")
        cost = f"  {step.cost.text('train' if step.kind == 'build' else 'eval')}" if step.cost else ""
        if step.kind == "perplexity" and steps[0].cost is not None:
            cost = "  scores the texts (no generation)"
        lines.append(f"  {step.kind:<10} {step.status:<8}{cost}")
    for comparison in cfg.comparisons:
        metrics = ", ".join(comparison.metrics) if comparison.metrics else "all metrics"
        lines.append(f"compare {comparison.name}: {', '.join(comparison.systems)} vs {comparison.baseline} "
                     f"on {comparison.runs} runs ({metrics})")
    if steps and steps[0].cost is not None:
        trained = _total(steps, ("build",))
        generated = _total(steps, ("eval", "judge"))
        fmt = (lambda n, b: "?" if n is None else ("≤ " if b else "≈ ") + f"{n:,}")
        lines.append(f"to do: {fmt(trained[1], trained[2])} tokens to train; "
                     f"{'?' if generated[0] is None else f'{generated[0]:,}'} items and "
                     f"{fmt(generated[1], True)} tokens to generate")
    return "\n".join(lines)
