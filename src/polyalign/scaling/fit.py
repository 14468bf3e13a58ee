"""Fitting law forms per language: bounded least squares, leave-one-size-out selection, bootstrap.

docs/methods.md ("Scaling law"): the functional form x-LLaMA used is unknown, so every candidate in
`polyalign.scaling.laws` is fitted and the one with the lowest held-out error is chosen. Held-out
error is leave-one-*size*-out RMSE: all runs at one subset size are held out together, so repeated
seeds at a size cannot leak into their own prediction and the score measures what allocation needs
(predicting the metric at a size the fit has not seen).

Input is a results CSV (``lang, n_examples, metric, value, run_dir``), output a FITS.json file
(``"format": "polyalign-fits/1"``) that `polyalign.scaling.allocate` reads back as `Curve` objects.
"""

from __future__ import annotations

import csv
import json
import math
import warnings
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from polyalign import langs
from polyalign.io import read_json
from polyalign.errors import InputError
from polyalign.scaling.laws import LAWS, Curve, Law

__all__ = ["FITS_FORMAT", "canonical_lang", "LawFit", "LanguageFit", "FitReport", "read_results", "fit_law", "loo_rmse",
           "fit_language", "fit_all", "write_fits", "read_fits"]

FITS_FORMAT = "polyalign-fits/1"
_COLUMNS = ("lang", "n_examples", "metric", "value")
_TIE = 0.05  # laws whose held-out RMSE is within 5% of the best are reported as "not distinguishable"


@dataclass
class LawFit:
    """One law fitted to one language's points."""

    law: str
    params: dict[str, float]
    rmse: float
    r2: float | None
    loo_rmse: float | None
    """Leave-one-size-out RMSE; None when there are too few sizes to hold one out."""


@dataclass
class LanguageFit:
    """All fits for one language, the chosen law and its bootstrap uncertainty."""

    lang: str
    x: list[float]
    y: list[float]
    fits: dict[str, LawFit] = field(default_factory=dict)
    chosen: str | None = None
    stderr: dict[str, float] = field(default_factory=dict)
    interval95: dict[str, list[float]] = field(default_factory=dict)
    bootstrap_ok: int = 0
    warnings: list[str] = field(default_factory=list)

    def curve(self) -> Curve | None:
        """The chosen law as a `Curve`, or None when the language could not be fitted."""
        if self.chosen is None:
            return None
        law = LAWS[self.chosen]
        return Curve(law, tuple(self.fits[self.chosen].params[p] for p in law.params), max(self.x))


@dataclass
class FitReport:
    """Fits for every language of one metric."""

    metric: str
    languages: dict[str, LanguageFit]
    laws: list[str]
    bootstrap: int
    seed: int
    source: str = ""


def canonical_lang(raw: str, where: str) -> str:
    """The language code a result row stands for: ``de``, ``deu`` and ``en-de`` / ``de-en`` all give ``de``."""
    # Flores results are keyed by direction (docs/architecture.md: `en-zh`); x-LLaMA allocates per language,
    # so a direction to or from English stands for its non-English side.
    parts = raw.strip().split("-")
    if len(parts) == 2 and "en" in (p.lower() for p in parts) and parts[0].lower() != parts[1].lower():
        raw = parts[1] if parts[0].lower() == "en" else parts[0]
    try:
        return langs.get(raw).code
    except InputError as err:
        raise InputError(str(err), where=where) from None


def read_results(path: str | Path, metric: str | None = None) -> tuple[str, dict[str, tuple[np.ndarray, np.ndarray]]]:
    """Read a results CSV into ``(metric, {lang: (sizes, values)})``.

    Args:
        path: CSV with columns ``lang, n_examples, metric, value`` (``run_dir`` and others ignored).
        metric: the metric to keep; None means the only one in the file.

    Raises:
        InputError: missing file or column, a bad number (naming the line), or an ambiguous metric.
    """
    path = Path(path)
    try:
        with path.open(encoding="utf-8", newline="") as handle:
            reader = csv.DictReader(handle)
            missing = [c for c in _COLUMNS if c not in (reader.fieldnames or [])]
            if missing:
                raise InputError(f"missing column(s) {', '.join(missing)}; expected {', '.join(_COLUMNS)}, run_dir",
                                 where=str(path))
            rows = [(reader.line_num, row) for row in reader]
    except FileNotFoundError:
        raise InputError("results file not found", where=str(path)) from None
    metrics = sorted({(row["metric"] or "").strip() for _, row in rows})
    if metric is None:
        if len(metrics) != 1:
            raise InputError(f"{len(metrics)} metrics present ({', '.join(metrics) or 'none'}); "
                             "choose one with --metric", where=str(path))
        metric = metrics[0]
    elif metric not in metrics:
        raise InputError(f"no rows for metric {metric!r}; present: {', '.join(metrics)}", where=str(path))
    points: dict[str, list[tuple[float, float]]] = {}
    directions: dict[str, str] = {}
    for line, row in rows:
        if (row["metric"] or "").strip() != metric:
            continue
        where = f"{path}:{line}"
        lang = canonical_lang(row["lang"] or "", where)
        if directions.setdefault(lang, row["lang"].strip()) != row["lang"].strip():
            raise InputError(f"language {lang!r} appears as both {directions[lang]!r} and {row['lang'].strip()!r}; "
                             "keep one direction per language", where=where)
        try:
            size, value = float(row["n_examples"]), float(row["value"])
        except (TypeError, ValueError):
            raise InputError(f"n_examples and value must be numbers, got {row['n_examples']!r}, {row['value']!r}",
                             where=where) from None
        if not (math.isfinite(size) and size >= 0 and size == int(size)) or not math.isfinite(value):
            raise InputError(f"expected a whole n_examples ≥ 0 and a finite value, got {row['n_examples']!r}, "
                             f"{row['value']!r}", where=where)
        points.setdefault(lang, []).append((size, value))
    return metric, {k: (np.array([p[0] for p in v]), np.array([p[1] for p in v])) for k, v in points.items()}


def fit_law(law: Law, x: np.ndarray, y: np.ndarray, starts: Sequence[np.ndarray] = (),
            n_profile: int = 3) -> tuple[np.ndarray, float]:
    """Bounded nonlinear least squares from several starts; returns ``(params, residual sum of squares)``.

    Starts are the given ones plus the ``n_profile`` best points (distinct basins first) of the law's
    θ profile. Refits on subsets (leave-one-out, bootstrap) pass the full-data fit as a start and
    use one profile point, which keeps them cheap without trusting the warm start alone.
    """
    from scipy.optimize import least_squares  # here, not at the top: keeps `polyalign --help` fast

    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    best, best_rss = None, math.inf
    lower, upper = np.array(law.lower), np.array(law.upper)
    for x0 in [*starts, *law.initial_guesses(x, y, n_profile)]:
        x0 = np.clip(np.asarray(x0, dtype=float), lower, upper)
        with np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                res = least_squares(lambda p: law.predict(x, p) - y, x0, jac=lambda p: law.jacobian(x, p),
                                    bounds=(lower, upper),
                                    x_scale="jac", ftol=1e-10, xtol=1e-10, gtol=1e-10, max_nfev=300)
            except ValueError:  # non-finite residuals at the start
                continue
        rss = float(res.fun @ res.fun)
        if math.isfinite(rss) and rss < best_rss:
            best, best_rss = res.x, rss
    if best is None:
        raise InputError(f"could not fit law {law.name!r} to {len(x)} points")
    return best, best_rss


def loo_rmse(law: Law, x: np.ndarray, y: np.ndarray, start: np.ndarray | None = None) -> float | None:
    """Leave-one-size-out RMSE of ``law``; None when fewer than ``len(params) + 1`` distinct sizes.

    ``start`` (the full-data fit) is an extra starting point for every refit.
    """
    sizes = np.unique(x)
    if len(sizes) <= len(law.params):
        return None
    errors = []
    for size in sizes:
        train = x != size
        params, _ = fit_law(law, x[train], y[train], starts=[] if start is None else [start], n_profile=1)
        errors.append(law.predict(x[~train], params) - y[~train])
    err = np.concatenate(errors)
    return float(np.sqrt(np.mean(err**2)))


def _bootstrap(law: Law, x: np.ndarray, y: np.ndarray, start: np.ndarray, reps: int,
               rng: np.random.Generator) -> np.ndarray:
    """Parameters refitted on ``reps`` resamples of the points (with replacement)."""
    draws = []
    for _ in range(reps):
        idx = rng.integers(0, len(x), len(x))
        if len(np.unique(x[idx])) < len(law.params):  # not identifiable: skip, counted as a failure
            continue
        xb, yb = x[idx], y[idx]
        draws.append(fit_law(law, xb, yb, starts=[start], n_profile=1)[0])
    return np.array(draws).reshape(-1, len(law.params))


def fit_language(lang: str, x: np.ndarray, y: np.ndarray, laws: Sequence[str] = tuple(LAWS),
                 bootstrap: int = 200, seed: int = 0) -> LanguageFit:
    """Fit every law to one language, choose by held-out RMSE, bootstrap the chosen law's parameters.

    Never raises for too little data: the problem is recorded in ``warnings`` and ``chosen`` stays None
    (fewer than 3 sizes), so one thin language does not stop the others from being fitted.
    """
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    order = np.argsort(x, kind="stable")
    x, y = x[order], y[order]
    out = LanguageFit(lang=lang, x=x.tolist(), y=y.tolist())
    sizes = np.unique(x)
    n_params = max(len(LAWS[name].params) for name in laws)
    if len(sizes) < 3:
        out.warnings.append(f"only {len(sizes)} distinct size(s): cannot fit a {n_params}-parameter law (need ≥ 3)")
        return out
    if len(sizes) < n_params + 2:
        out.warnings.append(f"only {len(sizes)} distinct sizes: fits are unreliable (≥ {n_params + 2} recommended)")
    means = np.array([y[x == s].mean() for s in sizes])
    drops = [f"{sizes[i]:g}→{sizes[i + 1]:g}" for i in range(len(sizes) - 1) if means[i + 1] < means[i]]
    if drops:
        out.warnings.append(f"non-monotone data: the metric drops at {', '.join(drops)} (the laws assume growth)")
    tss = float(np.sum((y - y.mean()) ** 2))
    for name in laws:
        law = LAWS[name]
        params, rss = fit_law(law, x, y)
        out.fits[name] = LawFit(law=name, params=dict(zip(law.params, map(float, params))),
                                rmse=math.sqrt(rss / len(x)), r2=1 - rss / tss if tss > 0 else None,
                                loo_rmse=loo_rmse(law, x, y, params))
    held_out = {k: f.loo_rmse for k, f in out.fits.items() if f.loo_rmse is not None}
    if held_out:
        out.chosen = min(held_out, key=held_out.__getitem__)
        close = [k for k, v in held_out.items() if k != out.chosen and v <= held_out[out.chosen] * (1 + _TIE)]
        if close:
            out.warnings.append(f"{', '.join(close)} fit(s) about as well as {out.chosen} on held-out sizes: "
                                "interpolations agree, extrapolations may not")
    else:
        out.chosen = min(out.fits, key=lambda k: out.fits[k].rmse)
        out.warnings.append(f"leave-one-out needs ≥ {n_params + 1} sizes: law chosen by in-sample RMSE")
    law = LAWS[out.chosen]
    best = np.array([out.fits[out.chosen].params[p] for p in law.params])
    rise = float(law.predict(x[-1], best) - law.predict(x[0], best))
    if rise <= 1e-3 * float(np.abs(y).max()):  # flat or falling data: the bounds force a ≈ 0
        out.warnings.append(f"flat fit: the curve rises by only {rise:.3g} over the sizes seen, so allocation "
                            "will treat more data for this language as (almost) useless")
    for name, value, lo, hi in zip(law.params, best, law.lower, law.upper):
        if (lo > -math.inf and value <= lo * (1 + 1e-6) + 1e-12) or (hi < math.inf and value >= hi * (1 - 1e-6)):
            out.warnings.append(f"{out.chosen}: parameter {name}={value:.4g} is at its bound")
    if bootstrap > 0:
        # Seeded per language so a language's intervals do not depend on which others are in the file.
        rng = np.random.default_rng([seed, zlib.crc32(lang.encode())])
        draws = _bootstrap(law, x, y, best, bootstrap, rng)
        out.bootstrap_ok = len(draws)
        if len(draws) >= 2:
            for j, name in enumerate(law.params):
                out.stderr[name] = float(np.std(draws[:, j], ddof=1))
                out.interval95[name] = [float(v) for v in np.percentile(draws[:, j], [2.5, 97.5])]
    return out


def fit_all(data: dict[str, tuple[np.ndarray, np.ndarray]], metric: str, laws: Sequence[str] = tuple(LAWS),
            bootstrap: int = 200, seed: int = 0, source: str = "") -> FitReport:
    """Fit every language of ``data`` (as returned by `read_results`).

    Raises:
        InputError: an unknown law name, a negative bootstrap count, or no language with enough sizes.
    """
    unknown = [name for name in laws if name not in LAWS]
    if unknown or not laws:
        raise InputError(f"unknown law(s) {', '.join(unknown) or '(none given)'}; known: {', '.join(LAWS)}")
    if bootstrap < 0:
        raise InputError(f"bootstrap must be ≥ 0, got {bootstrap}")
    report = FitReport(metric, {lang: fit_language(lang, x, y, laws, bootstrap, seed) for lang, (x, y) in data.items()},
                       list(laws), bootstrap, seed, source)
    if not any(fit.chosen for fit in report.languages.values()):
        detail = "; ".join(f"{k}: {' '.join(v.warnings)}" for k, v in report.languages.items())
        raise InputError(f"no language could be fitted ({detail or 'no rows'})", where=source or None)
    return report


def write_fits(report: FitReport, path: str | Path) -> Path:
    """Write FITS.json (``"format": "polyalign-fits/1"``) and return its path."""
    body: dict[str, Any] = {"format": FITS_FORMAT, "metric": report.metric, "source": report.source,
                            "laws": {name: LAWS[name].formula for name in report.laws},
                            "bootstrap": report.bootstrap, "seed": report.seed, "languages": {}}
    for lang, fit in report.languages.items():
        chosen = fit.fits.get(fit.chosen) if fit.chosen else None
        body["languages"][lang] = {
            "chosen": fit.chosen, "formula": LAWS[fit.chosen].formula if fit.chosen else None,
            "params": chosen.params if chosen else None, "stderr": fit.stderr, "interval95": fit.interval95,
            "bootstrap_ok": fit.bootstrap_ok, "r2": chosen.r2 if chosen else None,
            "rmse": chosen.rmse if chosen else None,
            "loo_rmse": {k: f.loo_rmse for k, f in fit.fits.items()},
            "fits": {k: {"params": f.params, "rmse": f.rmse, "r2": f.r2} for k, f in fit.fits.items()},
            "warnings": fit.warnings, "points": [[a, b] for a, b in zip(fit.x, fit.y)],
        }
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(body, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return path


def read_fits(path: str | Path) -> tuple[str, dict[str, Curve]]:
    """Read FITS.json into ``(metric, {lang: Curve})``; languages without a usable fit are left out.

    Raises:
        InputError: missing file, bad JSON, wrong format tag, unknown law or missing parameters.
    """
    path = Path(path)
    data = read_json(path, "fits file")
    if not isinstance(data, dict) or data.get("format") != FITS_FORMAT or not isinstance(data.get("languages"), dict):
        raise InputError(f"expected a JSON object with \"format\": \"{FITS_FORMAT}\" and \"languages\" "
                         "(written by 'polyalign scaling fit')", where=str(path))
    curves = {}
    for lang, entry in data["languages"].items():
        if not isinstance(entry, dict) or entry.get("chosen") is None:
            continue
        law = LAWS.get(entry["chosen"])
        params = entry.get("params") or {}
        if law is None or not all(isinstance(params.get(p), (int, float)) for p in law.params):
            raise InputError(f"language {lang!r}: unknown law {entry['chosen']!r} or missing parameters "
                             f"(known laws: {', '.join(LAWS)})", where=str(path))
        points = entry.get("points") or []
        x_max = max((p[0] for p in points), default=None)
        curves[langs.get(lang).code] = Curve(law, tuple(float(params[p]) for p in law.params), x_max)
    return str(data.get("metric", "")), curves
