"""Law forms: values, derivatives, shape (concave, increasing), the x = 0 convention, starts."""

from __future__ import annotations

import numpy as np
import pytest

from polyalign.scaling.laws import EXP, LAWS, LOG, POWER, Curve

PARAMS = {"log": (3.0, 300.0, 5.0), "power": (60.0, 0.4, 40.0), "exp": (25.0, 5000.0, 35.0)}


def test_registry_has_the_three_forms_in_order() -> None:
    assert list(LAWS) == ["log", "power", "exp"]
    for name, law in LAWS.items():
        assert law.name == name and len(law.params) == 3 and len(law.lower) == len(law.upper) == 3


def test_formulas_match_the_documented_forms() -> None:
    x = np.array([0.0, 10.0, 1e4])
    assert np.allclose(LOG.predict(x, (2, 5, 1)), 2 * np.log(x + 5) + 1)
    assert np.allclose(POWER.predict(x, (2, 0.5, 1)), 1 - 2 * (x + 1) ** -0.5)
    assert np.allclose(EXP.predict(x, (2, 50, 1)), 1 - 2 * np.exp(-x / 50))


@pytest.mark.parametrize("name", list(LAWS))
def test_marginal_is_the_derivative(name: str) -> None:
    law, p = LAWS[name], PARAMS[name]
    x = np.array([0.0, 1.0, 150.0, 2_000.0, 90_000.0])
    h = np.maximum(x, 1.0) * 1e-5
    # One-sided difference (x = 0 is the domain's edge); rtol covers the curvature error.
    numeric = (law.predict(x + h, p) - law.predict(x, p)) / h
    assert np.allclose(law.marginal(x, p), numeric, rtol=1e-3)


@pytest.mark.parametrize("name", list(LAWS))
def test_forms_are_increasing_and_concave_from_zero(name: str) -> None:
    law, p = LAWS[name], PARAMS[name]
    x = np.arange(0, 200_001, 7, dtype=float)
    y = law.predict(x, p)
    assert np.all(np.isfinite(y))
    d1 = law.marginal(x, p)
    assert np.all(d1 >= 0) and np.all(np.diff(d1) <= 1e-15)


def test_power_is_finite_at_zero_by_the_one_example_shift() -> None:
    a, alpha, c = PARAMS["power"]
    assert POWER.predict(0.0, PARAMS["power"]) == pytest.approx(c - a)
    assert POWER.marginal(0.0, PARAMS["power"]) == pytest.approx(a * alpha)


@pytest.mark.parametrize("name", list(LAWS))
def test_initial_guesses_are_inside_bounds_and_near_the_truth(name: str) -> None:
    law, p = LAWS[name], PARAMS[name]
    x = np.geomspace(100, 100_000, 8)
    y = law.predict(x, p)
    guesses = law.initial_guesses(x, y)
    assert 1 <= len(guesses) <= 3
    for g in guesses:
        assert np.all(g >= np.array(law.lower)) and np.all(g <= np.array(law.upper))
    best = guesses[0]
    rmse = np.sqrt(np.mean((law.predict(x, best) - y) ** 2))
    assert rmse < 0.05 * np.ptp(y)  # the profile grid lands in the right basin


def test_initial_guesses_handle_decreasing_data() -> None:
    x = np.geomspace(100, 100_000, 6)
    guesses = LOG.initial_guesses(x, 30 - np.log(x))
    assert guesses and all(g[0] > 0 for g in guesses)


def test_curve_wraps_law_and_params() -> None:
    curve = Curve(LOG, PARAMS["log"], x_max=1e5)
    assert float(curve(1000)) == pytest.approx(float(LOG.predict(1000, PARAMS["log"])))
    assert float(curve.marginal(1000)) == pytest.approx(3.0 / 1300)
