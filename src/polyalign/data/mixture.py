"""How many examples each source contributes to a mixture.

A source gives all its examples, an exact ``count``, a ``weight`` (a share of the weighted part,
whose size is the recipe's ``total`` or, without one, the largest size the weights allow without
repeating examples), or the count an allocation plan gives its language. Counts are checked against
what each source really has after empty, no-target and duplicate examples are gone.
"""

from __future__ import annotations

import math
from typing import Sequence

from polyalign.data.allocation import AllocationPlan
from polyalign.data.recipe import SourceConfig
from polyalign.errors import InputError

__all__ = ["resolve_counts", "apportion", "sized_by_plan"]


def apportion(total: int, weights: Sequence[float]) -> list[int]:
    """Split ``total`` into integers proportional to ``weights`` (largest remainder; ties → earlier)."""
    norm = sum(weights)
    exact = [total * w / norm for w in weights]
    counts = [math.floor(x) for x in exact]
    order = sorted(range(len(weights)), key=lambda i: (-(exact[i] - counts[i]), i))
    for i in order[: total - sum(counts)]:
        counts[i] += 1
    return counts


def sized_by_plan(sources: Sequence[SourceConfig], plan: AllocationPlan | None) -> list[SourceConfig]:
    """The sources an allocation plan sizes: those built by the plan's builder."""
    return [s for s in sources if plan is not None and s.builder == plan.builder]


def resolve_counts(sources: Sequence[SourceConfig], available: dict[str, int], *, total: int | None = None,
                   plan: AllocationPlan | None = None) -> dict[str, int | None]:
    """Examples to take from each source (None = all of them).

    Raises:
        InputError: a count above what a source has, a plan that does not match the sources, or
            ``total`` without weighted sources.
    """
    counts: dict[str, int | None] = {s.name: s.count for s in sources}
    for source in sized_by_plan(sources, plan):
        assert plan is not None
        if source.count is not None or source.weight is not None:
            raise InputError(f"source {source.name!r} is sized by the allocation plan; remove its count/weight")
        if source.lang not in plan.allocation:
            raise InputError(f"the allocation plan has no entry for {source.lang!r} (source {source.name!r})")
        counts[source.name] = plan.allocation[source.lang]
    if plan is not None:
        planned = sized_by_plan(sources, plan)
        if not planned:
            raise InputError(f"the allocation plan sizes {plan.builder!r} sources, but the recipe has none")
        langs = [s.lang for s in planned]
        repeated = sorted({code for code in langs if langs.count(code) > 1 and code})
        if repeated:
            raise InputError(f"a plan sizes one source per language; several {plan.builder!r} sources for "
                             f"{', '.join(repeated)}")
        missing = sorted(set(plan.allocation) - set(langs))
        if missing:
            raise InputError(f"the allocation plan allocates to {', '.join(missing)}, but no {plan.builder!r} "
                             "source has that language")

    weighted = [s for s in sources if s.weight is not None]
    if total is not None and not weighted:
        raise InputError("`total` sizes the weighted sources, but no source has a `weight`")
    if weighted:
        norm = sum(s.weight for s in weighted)  # type: ignore[misc]
        size = total if total is not None else math.floor(
            min(available[s.name] / (s.weight / norm) for s in weighted))  # type: ignore[operator]
        for source, count in zip(weighted, apportion(size, [s.weight for s in weighted])):  # type: ignore[misc]
            counts[source.name] = count

    for name, count in counts.items():
        if count is not None and count > available[name]:
            raise InputError(f"source {name!r}: {count:,} examples asked for, but only {available[name]:,} are "
                             "available (after dropping empty, no-target and duplicate examples)")
    return counts
