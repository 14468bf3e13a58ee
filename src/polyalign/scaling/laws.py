"""Law forms: concave, saturating curves of translation quality against the number of translation pairs.

docs/methods.md ("Scaling law"): x-LLaMA models per-language Flores quality as a concave, saturating
function of the number of translation pairs, fitted on a few subset sizes; the exact functional form
is not recoverable from the released code, so we fit several candidates and select by held-out error
(`polyalign.scaling.fit`).

Every form here is ``y = a·g_θ(x) + c`` with ``a > 0`` and one shape parameter ``θ > 0``, where
``g_θ`` is increasing and concave on the allocation domain ``x ≥ 0``:

- ``log``:   ``a·log(x + b) + c``      (never saturates, but ever more slowly);
- ``power``: ``c − a·(x + 1)^(−α)``    (saturates at ``c``);
- ``exp``:   ``c − a·exp(−x / τ)``     (saturates at ``c``, fast: an S-curve on a log-x axis).

Why ``(x + 1)`` in ``power``: ``x^(−α)`` is infinite at ``x = 0`` (a language that gets no data), and
so is its derivative, which would break marginal-gain allocation. Shifting by one example keeps
``f(0) = c − a`` finite and changes ``x^(−α)`` by a relative ``≈ α/x`` — under 1% for ``x ≥ 100·α``,
well inside the noise of any subset-size run.

Why no separate ``a·log(γx + β)`` (the third candidate docs/methods.md lists): it equals
``a·log(x + β/γ) + a·log γ``, i.e. ``log`` with ``b = β/γ`` and ``c = a·log γ``. Its three
parameters are not identifiable from data and it would always tie with ``log`` under any selection
rule, so the saturating exponential takes its place as the third candidate.

The linear-in-(a, c) structure is also what makes fitting robust: for a fixed ``θ`` the best
``(a, c)`` is an ordinary least-squares solve, so starting points come from a profile over a ``θ``
grid (``Law.initial_guesses``) rather than from guesses that may sit in the wrong basin.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import numpy as np

__all__ = ["Law", "Curve", "LAWS", "LOG", "POWER", "EXP"]

_INF = float("inf")
_A_MIN = 1e-12  # "a > 0": least_squares needs a closed bound, so the smallest positive slope we allow


@dataclass(frozen=True)
class Law:
    """A law form ``y = a·g_θ(x) + c`` with parameters ``(a, θ, c)`` in that order."""

    name: str
    """Registry key (``log``, ``power``, ``exp``)."""
    formula: str
    """Human-readable formula, for tables, plots and ``--help``."""
    params: tuple[str, str, str]
    """Parameter names in the order of ``predict``'s ``params`` (a, θ, c)."""
    lower: tuple[float, float, float]
    """Lower bounds of the fit (the constraints that keep the form concave and increasing)."""
    upper: tuple[float, float, float]
    """Upper bounds of the fit."""
    shape: Callable[[np.ndarray, float], np.ndarray] = field(repr=False)
    """``g_θ(x)``."""
    shape_dx: Callable[[np.ndarray, float], np.ndarray] = field(repr=False)
    """``dg_θ/dx``."""
    shape_dtheta: Callable[[np.ndarray, float], np.ndarray] = field(repr=False)
    """``dg_θ/dθ``, for the analytic Jacobian of the fit."""
    theta_grid: Callable[[np.ndarray], np.ndarray] = field(repr=False)
    """Candidate θ values for the profile search, given the observed sizes."""

    def predict(self, x: np.ndarray | float, params: tuple[float, ...] | np.ndarray) -> np.ndarray:
        """The law's value at ``x`` (array or scalar) for parameters ``(a, θ, c)``."""
        a, theta, c = (float(p) for p in params)
        return a * self.shape(np.asarray(x, dtype=float), theta) + c

    def marginal(self, x: np.ndarray | float, params: tuple[float, ...] | np.ndarray) -> np.ndarray:
        """The derivative ``df/dx`` at ``x``: the gain per extra example."""
        a, theta, _ = (float(p) for p in params)
        return a * self.shape_dx(np.asarray(x, dtype=float), theta)

    def jacobian(self, x: np.ndarray, params: tuple[float, ...] | np.ndarray) -> np.ndarray:
        """``d predict / d (a, θ, c)`` at each x, shape ``(len(x), 3)``."""
        a, theta, _ = (float(p) for p in params)
        x = np.asarray(x, dtype=float)
        return np.column_stack([self.shape(x, theta), a * self.shape_dtheta(x, theta), np.ones_like(x)])

    def initial_guesses(self, x: np.ndarray, y: np.ndarray, k: int = 3) -> list[np.ndarray]:
        """The ``k`` best starting points for a least-squares fit, from a profile over θ.

        For each θ on ``theta_grid(x)`` the optimal ``(a, c)`` is a linear least-squares solve; ``a``
        is clipped to the bound when the data slope the wrong way. Returned best first.
        """
        x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
        scored = []
        grid = self.theta_grid(x)
        for theta in grid:
            g = self.shape(x, float(theta))
            design = np.column_stack([g, np.ones_like(g)])
            (a, c), *_ = np.linalg.lstsq(design, y, rcond=None)
            if not np.isfinite(a) or a <= _A_MIN:  # flat or decreasing data: best increasing fit is flat
                a, c = _A_MIN, float(np.mean(y - _A_MIN * g))
            guess = np.clip(np.array([a, theta, c]), self.lower, self.upper)
            resid = self.predict(x, guess) - y
            scored.append((float(resid @ resid) if np.all(np.isfinite(resid)) else np.inf, guess))
        # Starts from distinct basins: local minima of the profile first, best first, then the rest.
        rss = np.array([r for r, _ in scored])
        padded = np.concatenate([[np.inf], rss, [np.inf]])
        minima = [i for i in range(len(rss)) if rss[i] <= padded[i] and rss[i] <= padded[i + 2] and np.isfinite(rss[i])]
        rest = [i for i in np.argsort(rss, kind="stable") if i not in minima and np.isfinite(rss[i])]
        ranked = sorted(minima, key=lambda i: rss[i]) + rest
        return [scored[i][1] for i in ranked[:k]]


@dataclass(frozen=True)
class Curve:
    """A law with fitted parameters: the per-language ``f_i`` that allocation maximises."""

    law: Law
    params: tuple[float, ...]
    x_max: float | None = None
    """Largest size the fit saw; allocations beyond it are extrapolations (reported as notes)."""

    def __call__(self, x: np.ndarray | float) -> np.ndarray:
        return self.law.predict(x, self.params)

    def marginal(self, x: np.ndarray | float) -> np.ndarray:
        """``df/dx`` at ``x``."""
        return self.law.marginal(x, self.params)


def _span(x: np.ndarray) -> tuple[float, float]:
    positive = x[x > 0]
    lo = float(positive.min()) if positive.size else 1.0
    return lo, max(float(x.max()), lo)


def _log_grid(x: np.ndarray) -> np.ndarray:
    lo, hi = _span(x)
    return np.geomspace(lo * 1e-3, hi * 10.0, 40)


def _exp_grid(x: np.ndarray) -> np.ndarray:
    lo, hi = _span(x)
    return np.geomspace(lo / 10.0, hi * 10.0, 40)


LOG = Law(
    name="log", formula="a·log(x + b) + c", params=("a", "b", "c"),
    lower=(_A_MIN, 1e-9, -_INF), upper=(_INF, _INF, _INF),
    shape=lambda x, b: np.log(x + b),
    shape_dx=lambda x, b: 1.0 / (x + b),
    shape_dtheta=lambda x, b: 1.0 / (x + b),
    theta_grid=_log_grid,
)

POWER = Law(
    name="power", formula="c − a·(x + 1)^(−alpha)", params=("a", "alpha", "c"),
    # 0.01 ≤ α ≤ 5: below, the curve is a logarithm in disguise (a·α fixed while a → ∞, a flat valley
    # the optimiser crawls along; `log` covers that shape); above, it is a step at x ≈ 1.
    lower=(_A_MIN, 0.01, -_INF), upper=(_INF, 5.0, _INF),
    shape=lambda x, alpha: -np.power(x + 1.0, -alpha),
    shape_dx=lambda x, alpha: alpha * np.power(x + 1.0, -alpha - 1.0),
    shape_dtheta=lambda x, alpha: np.power(x + 1.0, -alpha) * np.log(x + 1.0),
    theta_grid=lambda x: np.geomspace(0.01, 3.0, 40),
)

EXP = Law(
    name="exp", formula="c − a·exp(−x / tau)", params=("a", "tau", "c"),
    lower=(_A_MIN, 1e-9, -_INF), upper=(_INF, _INF, _INF),
    shape=lambda x, tau: -np.exp(-x / tau),
    shape_dx=lambda x, tau: np.exp(-x / tau) / tau,
    shape_dtheta=lambda x, tau: -np.exp(-x / tau) * x / tau**2,
    theta_grid=_exp_grid,
)

LAWS: dict[str, Law] = {law.name: law for law in (LOG, POWER, EXP)}
"""All law forms by name, in the default fitting order (ties in held-out error go to the earlier)."""
