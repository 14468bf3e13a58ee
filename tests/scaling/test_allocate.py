"""Allocation: exact against brute force, invariants over random instances, uniform split, bad input."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from polyalign.errors import InputError
from polyalign.scaling.allocate import allocate, uniform_split
from polyalign.scaling.laws import EXP, LAWS, LOG, POWER, Curve, Law

CODES = ["de", "zh", "ar"]


def random_curve(rng: np.random.Generator) -> Curve:
    law = LAWS[str(rng.choice(list(LAWS)))]
    theta = {"log": rng.uniform(0.5, 20), "power": rng.uniform(0.1, 1.5), "exp": rng.uniform(1, 20)}[law.name]
    return Curve(law, (float(rng.uniform(1, 30)), float(theta), float(rng.uniform(0, 40))))


def brute_force(curves: dict[str, Curve], budget: int, lo: dict, hi: dict, weights: dict | None,
                objective: str) -> float:
    table = {c: [float(f(v)) for v in range(hi[c] + 1)] for c, f in curves.items()}  # f_c(v) by v
    w = [(weights or {}).get(c, 1.0) for c in curves]
    best = -np.inf
    for x in itertools.product(*[range(lo[c], hi[c] + 1) for c in curves]):
        if sum(x) != budget:
            continue
        vals = [table[c][v] for c, v in zip(curves, x)]
        best = max(best, sum(wi * v for wi, v in zip(w, vals)) if objective == "sum" else min(vals))
    return best


def random_instance(rng: np.random.Generator) -> tuple[dict, int, dict, dict, dict]:
    curves = {c: random_curve(rng) for c in CODES}
    lo = {c: int(rng.integers(0, 5)) for c in CODES}
    hi = {c: int(rng.integers(lo[c], 25)) for c in CODES}
    budget = int(rng.integers(sum(lo.values()), sum(hi.values()) + 1))
    weights = {c: float(rng.choice([0.0, rng.uniform(0.1, 3)])) for c in CODES}
    return curves, budget, lo, hi, weights


@pytest.mark.parametrize("objective", ["sum", "min"])
def test_equals_brute_force_on_small_grids(objective: str) -> None:
    rng = np.random.default_rng(7)
    for trial in range(150):
        curves, budget, lo, hi, weights = random_instance(rng)
        w = weights if objective == "sum" else None
        result = allocate(curves, budget, weights=w, available=hi, minimum=lo, objective=objective)
        best = brute_force(curves, budget, lo, hi, w, objective)
        assert result.value == pytest.approx(best, rel=1e-9, abs=1e-9), (trial, result.allocation)
        assert result.method == ("water-filling" if objective == "sum" else "bisection")
        x = result.allocation
        assert sum(x.values()) == budget
        assert all(lo[c] <= x[c] <= hi[c] and isinstance(x[c], int) for c in CODES)
        # the reported scores are the curves at the plan
        assert all(result.predicted[c] == pytest.approx(float(curves[c](x[c]))) for c in CODES)


def test_budget_30_three_languages_exhaustive() -> None:
    curves = {"de": Curve(LOG, (3.0, 2.0, 5.0)), "zh": Curve(POWER, (20.0, 0.5, 30.0)), "ar": Curve(EXP, (15, 8, 20))}
    full = {c: 30 for c in curves}
    zero = {c: 0 for c in curves}
    for objective in ("sum", "min"):
        result = allocate(curves, 30, objective=objective)
        assert result.value == pytest.approx(brute_force(curves, 30, zero, full, None, objective), abs=1e-12)
        assert result.value >= result.uniform_value - 1e-12


def test_large_budget_is_fast_and_satisfies_the_optimality_condition() -> None:
    """For B = 10^7 brute force is out of reach; check the KKT certificate on unit gains instead."""
    rng = np.random.default_rng(3)
    codes = ["de", "zh", "ar", "hi", "vi", "el", "tr", "fr"]
    curves = {c: Curve(LAWS[n], p) for c, n, p in zip(codes, ["log", "power", "exp"] * 3, [
        (3, 300, 5), (60, 0.4, 40), (25, 5000, 35), (2, 50, 10), (30, 0.3, 45), (10, 90_000, 30), (1, 10, 1),
        (80, 0.6, 38)])}
    weights = {c: float(rng.uniform(0.5, 2)) for c in codes}
    available = {"de": 3_000_000, "fr": 10}
    result = allocate(curves, 10_000_000, weights=weights, available=available, minimum={"tr": 5000})
    x = result.allocation
    assert sum(x.values()) == 10_000_000 and x["de"] <= 3_000_000 and x["fr"] <= 10 and x["tr"] >= 5000
    gain = {c: lambda v, c=c: weights[c] * float(curves[c](v) - curves[c](v - 1)) for c in codes}
    can_grow = [c for c in codes if x[c] < available.get(c, 10_000_000)]
    can_shrink = [c for c in codes if x[c] > (5000 if c == "tr" else 0)]
    best_add = max(gain[c](x[c] + 1) for c in can_grow)
    worst_removed = min(gain[c](x[c]) for c in can_shrink)
    assert best_add <= worst_removed + 1e-12  # no unit move from one language to another helps
    assert result.value > result.uniform_value


def test_invariants_over_random_seeds() -> None:
    for seed in range(40):
        rng = np.random.default_rng(seed)
        pool = ["de", "zh", "ar", "hi", "vi", "el", "tr"]
        codes = list(rng.choice(pool, size=int(rng.integers(1, 6)), replace=False))
        curves = {c: random_curve(rng) for c in codes}
        lo = {c: int(rng.integers(0, 1000)) for c in codes}
        hi = {c: lo[c] + int(rng.integers(0, 100_000)) for c in codes}
        budget = int(rng.integers(sum(lo.values()), sum(hi.values()) + 1))
        for objective in ("sum", "min"):
            result = allocate(curves, budget, available=hi, minimum=lo, objective=objective)
            for plan in (result.allocation, result.uniform):
                assert sum(plan.values()) == budget
                assert all(lo[c] <= plan[c] <= hi[c] for c in codes)
            assert result.value >= result.uniform_value - 1e-9  # never worse than the uniform split


def test_uniform_split_redistributes_what_caps_cut() -> None:
    assert uniform_split(100, {"de": 0, "zh": 0, "ar": 0}, {"de": 10, "zh": 100, "ar": 100}) == \
        {"de": 10, "zh": 45, "ar": 45}
    assert uniform_split(10, {"de": 0, "zh": 0, "ar": 0}, {"de": 10, "zh": 10, "ar": 10}) == \
        {"de": 4, "zh": 3, "ar": 3}
    assert uniform_split(30, {"de": 20, "zh": 0, "ar": 0}, {"de": 30, "zh": 30, "ar": 30}) == \
        {"de": 20, "zh": 5, "ar": 5}


def test_identical_languages_split_evenly() -> None:
    curve = Curve(LOG, (3.0, 100.0, 5.0))
    result = allocate({"de": curve, "zh": curve, "ar": curve, "hi": curve}, 1000)
    assert sorted(result.allocation.values()) == [250, 250, 250, 250]
    assert result.value == pytest.approx(result.uniform_value)


def test_weights_shift_data_towards_the_heavier_language() -> None:
    curve = Curve(LOG, (3.0, 100.0, 5.0))
    result = allocate({"de": curve, "zh": curve}, 10_000, weights={"de": 3})
    assert result.allocation["de"] == pytest.approx(7550, abs=1)  # solves 3/(x+b) = 1/(B−x+b)


def test_non_concave_fit_falls_back_to_slsqp_with_a_note() -> None:
    # An S-curve in x: convex below k, concave above, so greedy gains are not sorted.
    sigmoid = Law("sigmoid", "c + a·x²/(x² + θ²)", ("a", "theta", "c"), (0, 1e-9, -np.inf), (np.inf,) * 3,
                  shape=lambda x, k: x**2 / (x**2 + k**2), shape_dx=lambda x, k: 2 * x * k**2 / (x**2 + k**2) ** 2,
                  shape_dtheta=lambda x, k: -2 * k * x**2 / (x**2 + k**2) ** 2, theta_grid=lambda x: np.ones(1))
    curves = {"de": Curve(sigmoid, (20.0, 8.0, 0.0)), "zh": Curve(LOG, (3.0, 2.0, 5.0)), "ar": Curve(EXP, (15, 8, 20))}
    zero, full = {c: 0 for c in curves}, {c: 30 for c in curves}
    result = allocate(curves, 30)
    assert result.method == "slsqp" and "not concave" in result.notes[0] and "de" in result.notes[0]
    assert sum(result.allocation.values()) == 30
    assert result.uniform_value - 1e-9 <= result.value <= brute_force(curves, 30, zero, full, None, "sum") + 1e-9
    decreasing = {"de": Curve(LOG, (-2.0, 5.0, 30.0)), "zh": Curve(LOG, (3.0, 2.0, 5.0))}
    result = allocate(decreasing, 20, objective="min")
    assert result.method == "slsqp" and "concave and increasing" in result.notes[0]
    assert result.value == pytest.approx(brute_force(decreasing, 20, {"de": 0, "zh": 0}, {"de": 20, "zh": 20},
                                                     None, "min"))


def test_extrapolation_beyond_the_fitted_sizes_is_noted() -> None:
    curves = {"de": Curve(LOG, (3.0, 100.0, 5.0), x_max=1000), "zh": Curve(LOG, (3.0, 100.0, 5.0), x_max=50_000)}
    result = allocate(curves, 20_000)
    assert len(result.notes) == 1 and result.notes[0].startswith("de: 10000 examples is beyond")


CURVES = {"de": Curve(LOG, (3.0, 100.0, 5.0)), "zh": Curve(POWER, (20.0, 0.5, 30.0))}


@pytest.mark.parametrize("kwargs, message", [
    ({"budget": 102, "available": {"de": 50, "zh": 51}}, "budget 102 exceeds the 101 examples available in total"),
    ({"budget": 10, "minimum": {"de": 6, "zh": 5}}, "budget 10 is below the 11 examples the minimums require"),
    ({"budget": -1}, "budget must be a whole number ≥ 0, got -1"),
    ({"budget": 10, "weights": {"de": -1}}, "weights: value for 'de' must be a number ≥ 0"),
    ({"budget": 10, "available": {"de": -5}}, "available: value for 'de' must be a whole number ≥ 0"),
    ({"budget": 10, "minimum": {"zh": 2.5}}, "min: value for 'zh' must be a whole number"),
    ({"budget": 10, "weights": {"xx": 1}}, "unknown language code 'xx'"),
    ({"budget": 10, "weights": {"fr": 1}}, r"weights: no fit for language 'fr' \(fitted: de, zh\)"),
    ({"budget": 10, "available": {"de": 3}, "minimum": {"de": 4}}, r"min for 'de' \(4\) exceeds what is available"),
    ({"budget": 10, "objective": "max"}, "objective must be 'sum' or 'min'"),
    ({"budget": 10, "objective": "min", "weights": {"de": 2}}, "weights apply to the 'sum' objective only"),
])
def test_infeasible_or_bad_input_is_an_input_error(kwargs: dict, message: str) -> None:
    budget = kwargs.pop("budget")
    with pytest.raises(InputError, match=message):
        allocate(CURVES, budget, **kwargs)


def test_edge_budgets() -> None:
    assert allocate(CURVES, 0).allocation == {"de": 0, "zh": 0}
    result = allocate(CURVES, 30, available={"de": 10, "zh": 20})
    assert result.allocation == {"de": 10, "zh": 20} == result.uniform
    with pytest.raises(InputError, match="no fitted languages"):
        allocate({}, 10)
