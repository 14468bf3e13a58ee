"""Budget allocation across languages from fitted laws (docs/methods.md, "Data allocation").

Choose integer amounts ``x_i`` with ``Σ x_i = B`` and ``min_i ≤ x_i ≤ available_i`` maximising either
``Σ w_i f_i(x_i)`` (objective ``sum``, x-LLaMA's) or ``min_i f_i(x_i)`` (objective ``min``: lift the
weakest language). Both are solved exactly on integers:

- ``sum`` with concave ``f_i``: the objective is separable concave, so taking the B best unit steps
  (greedy by marginal gain) is optimal. Rather than B heap pops we bisect on the Lagrange multiplier
  λ ("water-filling"): each language takes every unit step whose gain ``w_i·(f_i(x) − f_i(x−1))`` is
  ≥ λ, found by search because gains decrease; steps tied at the final λ fill the remainder.
  Cost: O(n · log B) curve evaluations per bisection step, so B = 10^7 takes milliseconds.
- ``min`` with concave increasing ``f_i``: bisection on the target level T; each language needs the
  smallest x with ``f_i(x) ≥ T``; T is feasible when those needs fit in B. Whatever budget is left
  over at the best T goes to the ``sum`` objective (unit weights), so the plan does not waste data.

Fits that are not concave (``sum``), or not concave and increasing (``min``), on the allowed range —
possible only with hand-edited or custom laws, since the fitted forms are concave and increasing by
their bounds — fall back to SLSQP on the continuous relaxation followed by integer repair and
unit-move local search; the result is then a local optimum and the plan carries a note saying so.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Literal, Mapping

import numpy as np

from polyalign import langs
from polyalign.errors import InputError
from polyalign.scaling.laws import Curve

__all__ = ["Objective", "Allocation", "allocate", "uniform_split"]

Objective = Literal["sum", "min"]
_ITERS = 200  # bisection steps: enough to reach adjacent floats for any realistic gain/score range


@dataclass
class Allocation:
    """An allocation, its predicted scores and the uniform split's, for comparison."""

    allocation: dict[str, int]
    predicted: dict[str, float]
    uniform: dict[str, int]
    uniform_predicted: dict[str, float]
    objective: Objective
    value: float
    """The objective at ``allocation`` (weighted sum or minimum of the predicted scores)."""
    uniform_value: float
    method: str
    """``water-filling``, ``bisection`` or ``slsqp`` (the non-concave fallback)."""
    notes: list[str] = field(default_factory=list)


def _last_true(pred: Callable[[np.ndarray], np.ndarray], lo: int, hi: int) -> int:
    """Largest integer k in [lo, hi] with pred(k), for pred true up to some point then false; pred(lo) true.

    Probes 65 points per round, so a range of 10^9 takes five vectorised rounds.
    """
    while hi > lo:
        if hi - lo <= 64:
            pts = np.arange(lo, hi + 1, dtype=np.int64)
        else:
            pts = np.unique(np.linspace(lo, hi, 65).round().astype(np.int64))
        ok = np.flatnonzero(pred(pts) | (pts == lo))
        j = int(ok[-1])
        if j == len(pts) - 1:
            return hi
        lo, hi = int(pts[j]), int(pts[j + 1]) - 1
    return lo


def uniform_split(budget: int, low: Mapping[str, int], high: Mapping[str, int]) -> dict[str, int]:
    """``budget / n`` each, clipped to ``[low, high]``, with what caps cut redistributed equally.

    The share t is the largest integer with ``Σ clip(t, low, high) ≤ budget``; the few examples left
    go one each to the languages that can still grow, in the given order.
    """
    codes = list(low)
    lo, hi = np.array([low[c] for c in codes]), np.array([high[c] for c in codes])
    total = lambda t: np.clip(t[:, None], lo, hi).sum(axis=1)  # noqa: E731
    share = _last_true(lambda t: total(t) <= budget, 0, int(hi.max(initial=0)))
    x = np.clip(share, lo, hi)
    for i in np.flatnonzero((x == share) & (x < hi))[: budget - int(x.sum())]:
        x[i] += 1
    return {c: int(v) for c, v in zip(codes, x)}


def _probe_points(lo: int, hi: int) -> np.ndarray:
    """Integers in [lo, hi) where a shape check looks: the first 64, then 256 log-spaced."""
    pts = np.concatenate([np.arange(lo, min(hi, lo + 64)), np.geomspace(lo + 1, hi, 256).astype(np.int64) - 1])
    pts = np.unique(pts)
    return pts[(pts >= lo) & (pts < hi)]


def _is_concave(f: Curve, lo: int, hi: int) -> bool:
    """Unit gains f(x+1) − f(x) never increase on [lo, hi] (checked on probe points, with float slack)."""
    if hi - lo < 2:
        return True
    pts = _probe_points(lo, hi)
    before, after = f(pts), f(pts + 1)
    gains = after - before
    # Gains are differences of values of size |f|: rounding alone can make them wobble by ~eps·|f|.
    slack = 1e-9 * np.abs(gains[:-1]) + 16 * np.finfo(float).eps * (1.0 + np.abs(after).max())
    return bool(np.all(np.diff(gains) <= slack))


def _is_concave_increasing(f: Curve, lo: int, hi: int) -> bool:
    """Concave, and the last unit gain is ≥ 0 (so every gain is, gains being non-increasing)."""
    return _is_concave(f, lo, hi) and (hi == lo or float(f(hi) - f(hi - 1)) >= 0)


def _water_fill(fs: list[Curve], w: np.ndarray, lo: np.ndarray, hi: np.ndarray, budget: int) -> np.ndarray:
    """Exact integer maximiser of Σ w_i f_i(x_i) for concave f_i (see module docstring)."""
    gain = [lambda x, f=f, wi=wi: wi * (f(x) - f(x - 1)) for f, wi in zip(fs, w)]
    free = [i for i in range(len(fs)) if hi[i] > lo[i]]
    if budget <= lo.sum() or not free:
        return lo.copy()
    if budget >= hi.sum():
        return hi.copy()

    def take(lam: float) -> np.ndarray:
        # x = lo always qualifies (no step taken); clipping keeps f away from x = lo − 1, possibly < 0.
        return np.array([_last_true(lambda x: gain[i](np.maximum(x, lo[i] + 1)) >= lam, lo[i], hi[i])
                         for i in range(len(fs))])

    top = max(float(gain[i](lo[i] + 1)) for i in free)
    bottom = min(float(gain[i](hi[i])) for i in free)
    lam_hi, lam_lo = top + abs(top) + 1.0, bottom - abs(bottom) - 1.0  # take(lam_hi)=lo, take(lam_lo)=hi
    x_hi, x_lo = lo.copy(), hi.copy()
    # Stop when the multipliers agree to ~1e-13 of the gains' scale: the steps left between them are
    # then tied for any purpose (the objective can move by at most that much per step).
    tol = 1e-13 * (abs(top) + abs(bottom))
    for _ in range(_ITERS):
        mid = (lam_hi + lam_lo) / 2
        if mid in (lam_hi, lam_lo) or lam_hi - lam_lo <= tol:
            break
        x_mid = take(mid)
        if x_mid.sum() == budget:
            return x_mid
        if x_mid.sum() < budget:
            lam_hi, x_hi = mid, x_mid
        else:
            lam_lo, x_lo = mid, x_mid
    # Steps between the two multipliers have gains in [lam_lo, lam_hi): tied to float precision.
    x, left = x_hi.copy(), budget - int(x_hi.sum())
    for i in sorted(range(len(fs)), key=lambda i: -float(gain[i](x[i] + 1)) if x[i] < hi[i] else np.inf):
        step = min(left, max(0, int(x_lo[i] - x[i])))
        x[i] += step
        left -= step
    return x


def _max_min(fs: list[Curve], lo: np.ndarray, hi: np.ndarray, budget: int) -> np.ndarray:
    """Exact integer maximiser of min_i f_i(x_i) for concave increasing f_i (see module docstring).

    The level search needs only increasing f_i; concavity makes the leftover's water-filling exact.
    """
    def need(level: float) -> np.ndarray | None:
        if any(float(f(h)) < level for f, h in zip(fs, hi)):
            return None
        x = np.array([l if float(f(l)) >= level else _last_true(lambda v: f(v) < level, l, h) + 1
                      for f, l, h in zip(fs, lo, hi)])
        return x if x.sum() <= budget else None

    t_lo = min(float(f(l)) for f, l in zip(fs, lo))
    t_hi = min(float(f(h)) for f, h in zip(fs, hi))
    best = need(t_hi)
    if best is None:
        best = lo.copy()
        for _ in range(_ITERS):
            mid = (t_lo + t_hi) / 2
            if mid in (t_lo, t_hi) or t_hi - t_lo <= 1e-13 * (abs(t_lo) + abs(t_hi)):
                break
            x = need(mid)
            if x is None:
                t_hi = mid
            else:
                t_lo, best = mid, x
    return _water_fill(fs, np.ones(len(fs)), best, hi, budget)


def _repair(x: np.ndarray, score: Callable[[np.ndarray], float], lo: np.ndarray, hi: np.ndarray,
            budget: int, max_moves: int = 2_000) -> np.ndarray:
    """Round a continuous solution to integers summing to the budget, then improve by unit moves.

    A move takes one example from the language whose loss hurts least and gives it to the one whose
    gain helps most (the best pair for a separable objective); it stops when no move improves.
    """
    unit = np.eye(len(x), dtype=np.int64)
    x = np.clip(np.floor(x + 1e-9), lo, hi).astype(np.int64)
    while x.sum() != budget:
        sign = 1 if x.sum() < budget else -1
        options = [i for i in range(len(x)) if (x[i] < hi[i] if sign > 0 else x[i] > lo[i])]
        x[max(options, key=lambda i: score(x + sign * unit[i]))] += sign
    for _ in range(max_moves):
        current = score(x)
        grow = [i for i in range(len(x)) if x[i] < hi[i]]
        shrink = [j for j in range(len(x)) if x[j] > lo[j]]
        if not grow or not shrink:
            break
        i = max(grow, key=lambda k: score(x + unit[k]))
        j = max((k for k in shrink if k != i), key=lambda k: score(x - unit[k]), default=None)
        if j is None or score(x + unit[i] - unit[j]) <= current + 1e-12 * (1 + abs(current)):
            break
        x = x + unit[i] - unit[j]
    return x


def _slsqp(score: Callable[[np.ndarray], float], lo: np.ndarray, hi: np.ndarray, budget: int) -> np.ndarray:
    from scipy.optimize import minimize

    scale = float(max(budget, 1))  # optimise shares of the budget so SLSQP's steps are well scaled
    start = np.array(list(uniform_split(budget, dict(enumerate(lo)), dict(enumerate(hi))).values())) / scale
    res = minimize(lambda z: -score(z * scale), start, method="SLSQP", bounds=list(zip(lo / scale, hi / scale)),
                   constraints=[{"type": "eq", "fun": lambda z: z.sum() - budget / scale}])
    best = res.x if res.success and score(res.x * scale) >= score(start * scale) else start
    return _repair(best * scale, score, lo, hi, budget)


def _check(codes: list[str], table: Mapping[str, float] | None, flag: str,
           integer: bool) -> dict[str, float]:
    out: dict[str, float] = {}
    for raw, value in (table or {}).items():
        code = langs.get(raw).code
        if code not in codes:
            raise InputError(f"{flag}: no fit for language {code!r} (fitted: {', '.join(codes)})")
        if isinstance(value, bool) or not np.isfinite(value) or value < 0 or (integer and value != int(value)):
            raise InputError(f"{flag}: value for {code!r} must be a {'whole number' if integer else 'number'} "
                             f"≥ 0, got {value!r}")
        out[code] = value
    return out


def allocate(curves: Mapping[str, Curve], budget: int, *, weights: Mapping[str, float] | None = None,
             available: Mapping[str, int] | None = None, minimum: Mapping[str, int] | None = None,
             objective: Objective = "sum") -> Allocation:
    """Split ``budget`` examples across the languages of ``curves``.

    Args:
        curves: fitted law per language code (`polyalign.scaling.fit.read_fits`).
        budget: total number of examples B.
        weights: ``w_i`` for the ``sum`` objective (default 1); not allowed with ``min``.
        available: caps (default: the budget); minimum: floors (default 0).
        objective: ``sum`` maximises Σ w_i f_i(x_i); ``min`` maximises min_i f_i(x_i).

    Raises:
        InputError: negative or non-integer amounts, languages without fits, or an infeasible budget.
    """
    codes = [langs.get(c).code for c in curves]
    if not codes:
        raise InputError("no fitted languages to allocate across")
    if isinstance(budget, bool) or not isinstance(budget, (int, np.integer)) or budget < 0:
        raise InputError(f"budget must be a whole number ≥ 0, got {budget!r}")
    if objective not in ("sum", "min"):
        raise InputError(f"objective must be 'sum' or 'min', got {objective!r}")
    if weights and objective == "min":
        raise InputError("weights apply to the 'sum' objective only (the 'min' objective treats languages alike)")
    w_map = _check(codes, weights, "weights", integer=False)
    cap = _check(codes, available, "available", integer=True)
    floor = _check(codes, minimum, "min", integer=True)
    fs = [curves[c] for c in curves]
    w = np.array([float(w_map.get(c, 1.0)) for c in codes])
    lo = np.array([int(floor.get(c, 0)) for c in codes], dtype=np.int64)
    hi = np.array([int(cap.get(c, budget)) for c in codes], dtype=np.int64)
    for c, l, h in zip(codes, lo, hi):
        if l > h:
            raise InputError(f"min for {c!r} ({l}) exceeds what is available ({h})")
    if budget > hi.sum():
        raise InputError(f"budget {budget} exceeds the {int(hi.sum())} examples available in total")
    if budget < lo.sum():
        raise InputError(f"budget {budget} is below the {int(lo.sum())} examples the minimums require")
    hi = np.minimum(hi, lo + (budget - lo.sum()))  # no language can take more than the budget leaves

    def score(x: np.ndarray) -> float:
        vals = np.array([float(f(v)) for f, v in zip(fs, x)])
        return float(w @ vals) if objective == "sum" else float(vals.min())

    notes: list[str] = []
    shape_ok = _is_concave if objective == "sum" else _is_concave_increasing
    bad = [c for c, f, l, h in zip(codes, fs, lo, hi) if not shape_ok(f, int(l), int(h))]
    if bad:
        method = "slsqp"
        shape = "concave" if objective == "sum" else "concave and increasing"
        notes.append(f"fits for {', '.join(bad)} are not {shape} on the allowed range: solved with SLSQP + "
                     "integer local search (a local optimum, not guaranteed best)")
        x = _slsqp(score, lo, hi, budget)
    elif objective == "sum":
        method, x = "water-filling", _water_fill(fs, w, lo, hi, budget)
    else:
        method, x = "bisection", _max_min(fs, lo, hi, budget)
    for c, f, v in zip(codes, fs, x):
        if f.x_max is not None and v > f.x_max:
            notes.append(f"{c}: {int(v)} examples is beyond the largest fitted size ({f.x_max:g}): extrapolated")
    uni = uniform_split(budget, dict(zip(codes, lo.tolist())), dict(zip(codes, hi.tolist())))
    u = np.array([uni[c] for c in codes])
    return Allocation(
        allocation={c: int(v) for c, v in zip(codes, x)},
        predicted={c: float(f(v)) for c, f, v in zip(codes, fs, x)},
        uniform=uni, uniform_predicted={c: float(f(v)) for c, f, v in zip(codes, fs, u)},
        objective=objective, value=score(x), uniform_value=score(u), method=method, notes=notes)
