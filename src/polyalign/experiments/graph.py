"""The arms' dependency graph: references checked, cycles refused, a run order that puts needs first."""

from __future__ import annotations

from polyalign.config import apply_overrides, from_dict, to_dict
from polyalign.errors import InputError
from polyalign.experiments.spec import ArmConfig, ExperimentConfig, SuiteConfig

__all__ = ["needs", "run_order", "check_references", "arm_suite", "with_needs", "judged_arms", "scored_arms"]


def needs(arm: ArmConfig) -> list[tuple[str, str]]:
    """``(field, arm name)`` of every arm this arm uses."""
    found = [("start_from", arm.start_from)] if arm.start_from else []
    if arm.proxy is not None:
        found += [("proxy.base", arm.proxy.base), ("proxy.expert", arm.proxy.expert),
                  ("proxy.anti_expert", arm.proxy.anti_expert)]
    return found


def _unknown(what: str, name: str, cfg: ExperimentConfig) -> InputError:
    return InputError(f"{what}: {name!r} is not an arm of this experiment (arms: {', '.join(cfg.arms)})")


def check_references(cfg: ExperimentConfig) -> None:
    """Every arm name used by an arm, the judge or a comparison must exist; proxy members need models."""
    for name, arm in cfg.arms.items():
        for where, other in needs(arm):
            if other not in cfg.arms:
                raise _unknown(f"arm {name!r} {where}", other, cfg)
            if where.startswith("proxy") and cfg.arms[other].kind == "proxy":
                raise InputError(f"arm {name!r} {where}: {other!r} is a proxy arm; proxy members need a model")
    if cfg.judge is not None:
        for other in cfg.judge.arms or []:
            if other not in cfg.arms:
                raise _unknown("judge.arms", other, cfg)
            if cfg.arms[other].kind == "proxy":
                raise InputError(f"judge.arms: {other!r} is a proxy arm; the judge generates with one model")
    if cfg.perplexity is not None:
        for other in cfg.perplexity.arms or []:
            if other not in cfg.arms:
                raise _unknown("perplexity.arms", other, cfg)
            if cfg.arms[other].kind == "proxy":
                raise InputError(f"perplexity.arms: {other!r} is a proxy arm; perplexity scores one model")
    for comparison in cfg.comparisons:
        for other in [comparison.baseline, *comparison.systems]:
            if other not in cfg.arms:
                raise _unknown(f"comparison {comparison.name!r}", other, cfg)
        if comparison.runs == "judge":
            judged = judged_arms(cfg)
            missing = [a for a in [comparison.baseline, *comparison.systems] if a not in judged]
            if missing:
                raise InputError(f"comparison {comparison.name!r} is on judge runs, but {', '.join(missing)} "
                                 "is not judged (add a judge section / judge.arms)")
        _check_comparable(cfg, comparison.name, comparison.baseline, comparison.systems)


def judged_arms(cfg: ExperimentConfig) -> list[str]:
    """Arms the judge scores."""
    if cfg.judge is None:
        return []
    return list(cfg.judge.arms) if cfg.judge.arms else [n for n, a in cfg.arms.items() if a.kind != "proxy"]


def scored_arms(cfg: ExperimentConfig) -> list[str]:
    """Arms whose perplexity is measured."""
    if cfg.perplexity is None:
        return []
    return list(cfg.perplexity.arms) if cfg.perplexity.arms else [n for n, a in cfg.arms.items() if a.kind != "proxy"]


def arm_suite(cfg: ExperimentConfig, name: str) -> SuiteConfig:
    """The suite with the arm's own ``eval`` overrides applied."""
    arm = cfg.arms[name]
    if not arm.eval:
        return cfg.suite
    data = apply_overrides(to_dict(cfg.suite), arm.eval)
    return from_dict(SuiteConfig, data, where=f"arm {name!r} eval")


_SAME = ("tasks", "langs", "protocol", "prompt", "limit", "num_fewshot", "mc_mode")
"""Suite fields compared runs must share: they change which items are scored, how, or by which rule."""


def _check_comparable(cfg: ExperimentConfig, comparison: str, baseline: str, systems: list[str]) -> None:
    reference = arm_suite(cfg, baseline)
    for system in systems:
        suite = arm_suite(cfg, system)
        for key in _SAME:
            if getattr(suite, key) != getattr(reference, key):
                raise InputError(f"comparison {comparison!r}: arm {system!r} is evaluated with {key} "
                                 f"{getattr(suite, key)!r}, baseline {baseline!r} with {getattr(reference, key)!r}; "
                                 "compared runs need the same tasks, languages, prompt and protocol")


def run_order(cfg: ExperimentConfig) -> list[str]:
    """Arms in file order, each moved after the arms it needs.

    Raises:
        InputError: an unknown reference, or a cycle (named arm by arm).
    """
    check_references(cfg)
    order: list[str] = []
    state: dict[str, str] = {}

    def visit(name: str, path: list[str]) -> None:
        if state.get(name) == "done":
            return
        if state.get(name) == "active":
            cycle = path[path.index(name):] + [name]
            raise InputError(f"arms form a cycle: {' → '.join(cycle)}")
        state[name] = "active"
        for _, other in needs(cfg.arms[name]):
            visit(other, [*path, name])
        state[name] = "done"
        order.append(name)

    for name in cfg.arms:
        visit(name, [])
    return order


def with_needs(cfg: ExperimentConfig, only: list[str]) -> list[str]:
    """The arms in ``only`` and everything they need, in run order."""
    for name in only:
        if name not in cfg.arms:
            raise _unknown("--only", name, cfg)
    wanted: set[str] = set()
    stack = list(only)
    while stack:
        name = stack.pop()
        if name not in wanted:
            wanted.add(name)
            stack += [other for _, other in needs(cfg.arms[name])]
    return [name for name in run_order(cfg) if name in wanted]
