"""Fitting: parameter recovery and form selection on synthetic data, warnings, CSV and FITS.json I/O."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from polyalign.errors import InputError
from polyalign.scaling.fit import FITS_FORMAT, fit_all, fit_language, read_fits, read_results, write_fits
from polyalign.scaling.laws import LAWS

SIZES = np.geomspace(100, 100_000, 8).round()
NOISE = 0.1  # BLEU points: small next to the 10-30 point range of the curves
# True parameters and the tolerances the fit must meet, as (relative, absolute) per parameter.
CASES = {
    "log": ((3.0, 300.0, 5.0), ((0.05, 0), (0.20, 0), (0, 0.8))),
    "power": ((60.0, 0.4, 40.0), ((0.20, 0), (0.10, 0), (0, 0.5))),
    "exp": ((25.0, 5000.0, 35.0), ((0.03, 0), (0.05, 0), (0, 0.3))),
}


def synthetic(name: str, seed: int, sizes: np.ndarray = SIZES) -> tuple[np.ndarray, np.ndarray]:
    params = CASES[name][0]
    rng = np.random.default_rng(seed)
    return sizes, LAWS[name].predict(sizes, params) + rng.normal(0, NOISE, len(sizes))


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("name", list(CASES))
def test_recovers_parameters_and_selects_the_true_form(name: str, seed: int) -> None:
    x, y = synthetic(name, seed)
    fit = fit_language("de", x, y, bootstrap=0)
    assert fit.chosen == name, {k: f.loo_rmse for k, f in fit.fits.items()}
    truth, tolerances = CASES[name]
    got = fit.fits[name].params
    for pname, true, (rel, absolute) in zip(LAWS[name].params, truth, tolerances):
        assert abs(got[pname] - true) <= rel * abs(true) + absolute, (pname, got[pname], true)
    assert fit.fits[name].r2 > 0.995
    assert fit.fits[name].rmse < 2 * NOISE
    # the wrong forms predict held-out sizes clearly worse than the true one
    others = [f.loo_rmse for k, f in fit.fits.items() if k != name]
    assert min(others) > 2 * fit.fits[name].loo_rmse


def test_bootstrap_is_seeded_and_brackets_the_estimate() -> None:
    x, y = synthetic("exp", 0)
    first = fit_language("de", x, y, bootstrap=10, seed=3)
    again = fit_language("de", x, y, bootstrap=10, seed=3)
    other = fit_language("de", x, y, bootstrap=10, seed=4)
    assert first.stderr == again.stderr and first.stderr != other.stderr
    assert first.bootstrap_ok >= 8
    for pname, (lo, hi) in first.interval95.items():
        assert lo <= first.fits["exp"].params[pname] <= hi
        assert first.stderr[pname] > 0


def test_too_few_sizes_is_reported_not_fitted() -> None:
    fit = fit_language("de", np.array([100.0, 1000.0, 1000.0]), np.array([10.0, 20.0, 21.0]))
    assert fit.chosen is None and "cannot fit" in fit.warnings[0]
    three = fit_language("de", np.array([100.0, 1000.0, 10_000.0]), np.array([10.0, 20.0, 25.0]), bootstrap=5)
    assert three.chosen is not None
    assert any("unreliable" in w for w in three.warnings)
    assert any("in-sample" in w for w in three.warnings)
    assert all(f.loo_rmse is None for f in three.fits.values())


def test_non_monotone_data_is_flagged() -> None:
    x, y = synthetic("log", 0)
    y[5] = y[6] + 1.0
    fit = fit_language("de", x, y, bootstrap=0)
    assert any("non-monotone" in w and f"{x[5]:g}→{x[6]:g}" in w for w in fit.warnings)


def test_flat_data_is_flagged() -> None:
    fit = fit_language("de", SIZES, np.full(len(SIZES), 7.0), bootstrap=0)
    assert fit.chosen is not None and any(w.startswith("flat fit") for w in fit.warnings)
    assert not any(w.startswith("flat fit") for w in fit_language("de", *synthetic("log", 0), bootstrap=0).warnings)


def test_repeated_runs_per_size_are_held_out_together() -> None:
    x, y = synthetic("power", 0, np.repeat(SIZES, 2))
    fit = fit_language("de", x, y, bootstrap=0)
    assert fit.chosen == "power" and len(fit.x) == 16


def _csv(path: Path, rows: list[str]) -> Path:
    path.write_text("lang,n_examples,metric,value,run_dir\n" + "\n".join(rows) + "\n", encoding="utf-8")
    return path


def test_read_results_picks_metric_and_maps_directions(tmp_path: Path) -> None:
    path = _csv(tmp_path / "r.csv", ["en-zh,100,bleu,10,", "en-zh,1000,bleu,20,runs/a", "de,100,bleu,5,",
                                     "de,100,comet,0.5,"])
    with pytest.raises(InputError, match="2 metrics present \\(bleu, comet\\); choose one with --metric"):
        read_results(path)
    metric, data = read_results(path, "bleu")
    assert metric == "bleu" and sorted(data) == ["de", "zh"]
    assert data["zh"][0].tolist() == [100, 1000] and data["zh"][1].tolist() == [10, 20]
    with pytest.raises(InputError, match="no rows for metric 'chrf'"):
        read_results(path, "chrf")


@pytest.mark.parametrize("rows, message", [
    (["de,lots,bleu,5,"], r"r\.csv:2: n_examples and value must be numbers"),
    (["de,100,bleu,5,", "de,-5,bleu,5,"], r"r\.csv:3: expected a whole n_examples ≥ 0"),
    (["xx,100,bleu,5,"], r"r\.csv:2: unknown language code 'xx'"),
    (["en-de,100,bleu,5,", "de-en,200,bleu,5,"], "keep one direction per language"),
])
def test_read_results_errors_name_the_line(tmp_path: Path, rows: list[str], message: str) -> None:
    with pytest.raises(InputError, match=message):
        read_results(_csv(tmp_path / "r.csv", rows))


def test_read_results_missing_column_and_file(tmp_path: Path) -> None:
    bad = tmp_path / "r.csv"
    bad.write_text("lang,size,metric,value\nde,1,bleu,2\n", encoding="utf-8")
    with pytest.raises(InputError, match="missing column\\(s\\) n_examples"):
        read_results(bad)
    with pytest.raises(InputError, match="results file not found"):
        read_results(tmp_path / "nope.csv")


def test_fits_file_round_trip(tmp_path: Path) -> None:
    data = {"de": synthetic("log", 0), "zh": synthetic("exp", 1), "hi": (np.array([1.0, 2.0]), np.array([1.0, 2.0]))}
    report = fit_all(data, "bleu", bootstrap=5, seed=1, source="r.csv")
    path = write_fits(report, tmp_path / "fits.json")
    body = json.loads(path.read_text(encoding="utf-8"))
    assert body["format"] == FITS_FORMAT and body["languages"]["hi"]["chosen"] is None
    assert set(body["languages"]["de"]["loo_rmse"]) == set(LAWS)
    metric, curves = read_fits(path)
    assert metric == "bleu" and sorted(curves) == ["de", "zh"]  # unfitted hi is left out
    for lang in ("de", "zh"):
        expected = report.languages[lang].curve()
        assert curves[lang].law is expected.law and curves[lang].x_max == 100_000
        assert np.allclose(curves[lang](SIZES), expected(SIZES), rtol=0, atol=1e-12)


def test_fit_all_rejects_bad_options_and_empty_data() -> None:
    with pytest.raises(InputError, match="unknown law\\(s\\) cubic; known: log, power, exp"):
        fit_all({"de": synthetic("log", 0)}, "bleu", laws=["log", "cubic"])
    with pytest.raises(InputError, match="bootstrap must be ≥ 0"):
        fit_all({"de": synthetic("log", 0)}, "bleu", bootstrap=-1)
    with pytest.raises(InputError, match="no language could be fitted"):
        fit_all({"de": (np.array([1.0, 2.0]), np.array([3.0, 4.0]))}, "bleu")


def test_read_fits_rejects_other_files(tmp_path: Path) -> None:
    path = tmp_path / "f.json"
    path.write_text('{"format": "polyalign-allocation/1"}', encoding="utf-8")
    with pytest.raises(InputError, match="polyalign-fits/1"):
        read_fits(path)
    path.write_text(json.dumps({"format": FITS_FORMAT, "languages": {"de": {"chosen": "cubic", "params": {}}}}))
    with pytest.raises(InputError, match="unknown law 'cubic'"):
        read_fits(path)


@pytest.mark.parametrize("seed", [2, 17])
def test_held_out_error_not_in_sample_fit_decides(seed: int) -> None:
    """Noisy log data where `exp` fits the points best but predicts held-out sizes worse."""
    rng = np.random.default_rng(seed)
    y = LAWS["log"].predict(SIZES, CASES["log"][0]) + rng.normal(0, 1.5, len(SIZES))
    fit = fit_language("de", SIZES, y, bootstrap=0)
    assert fit.fits["exp"].rmse < fit.fits["log"].rmse
    assert fit.chosen == "log" == min(fit.fits, key=lambda k: fit.fits[k].loo_rmse)


def test_loo_rmse_holds_out_whole_sizes() -> None:
    from polyalign.scaling.fit import fit_law, loo_rmse

    x, y = synthetic("power", 5, np.repeat(SIZES[:6], 2))
    law = LAWS["power"]
    errors = []
    for size in np.unique(x):
        keep = x != size
        params, _ = fit_law(law, x[keep], y[keep])
        errors.extend(law.predict(x[~keep], params) - y[~keep])
    assert loo_rmse(law, x, y) == pytest.approx(float(np.sqrt(np.mean(np.square(errors)))), rel=1e-6)
    assert loo_rmse(law, x[:6], y[:6]) is None  # 3 sizes: nothing left to fit a 3-parameter law on


def test_near_ties_are_flagged() -> None:
    rng = np.random.default_rng(16)
    y = LAWS["log"].predict(SIZES, CASES["log"][0]) + rng.normal(0, 1.5, len(SIZES))
    fit = fit_language("de", SIZES, y, bootstrap=0)
    assert fit.chosen == "log" and any(w.startswith("power fit(s) about as well as log") for w in fit.warnings)
