"""`polyalign scaling fit|allocate` end to end through argparse, as cli/main.py will wire them."""

from __future__ import annotations

import argparse
import csv
import json
from pathlib import Path

import numpy as np
import pytest

from polyalign.cli import scaling
from polyalign.data.allocation import read_plan
from polyalign.errors import InputError
from polyalign.scaling.fit import FITS_FORMAT, fit_language
from polyalign.scaling.laws import LAWS
from polyalign.scaling.plot import figure_for

SIZES = np.geomspace(100, 100_000, 8).round().astype(int)
TRUE = {"de": ("log", (3.0, 300.0, 5.0)), "en-zh": ("power", (60.0, 0.4, 40.0)), "ar": ("exp", (25.0, 5000.0, 35.0))}


def run(*argv: str) -> int:
    parser = argparse.ArgumentParser(prog="polyalign")
    scaling.register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(list(argv))
    return args.func(args)


def write_results(path: Path, extra_rows: list[list] = (), langs: tuple[str, ...] = tuple(TRUE)) -> Path:
    rng = np.random.default_rng(0)
    with path.open("w", newline="", encoding="utf-8") as handle:
        out = csv.writer(handle)
        out.writerow(["lang", "n_examples", "metric", "value", "run_dir"])
        for lang in langs:
            law, params = TRUE[lang]
            for size in SIZES:
                value = float(LAWS[law].predict(size, params)) + rng.normal(0, 0.1)
                out.writerow([lang, size, "bleu", f"{value:.4f}", f"runs/{lang}-{size}"])
        out.writerows(extra_rows)
    return path


@pytest.fixture(scope="module")
def fitted(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("scaling")
    csv_path = write_results(root / "results.csv", [["hi", 1000, "bleu", 3.0, ""], ["hi", 2000, "bleu", 4.0, ""]])
    assert run("scaling", "fit", str(csv_path), "--bootstrap", "5", "--out", str(root / "fits")) == 0
    return root / "fits"


def test_fit_writes_json_markdown_and_plots(fitted: Path) -> None:
    body = json.loads((fitted / "fits.json").read_text(encoding="utf-8"))
    assert body["format"] == FITS_FORMAT and body["metric"] == "bleu" and body["bootstrap"] == 5
    chosen = {lang: entry["chosen"] for lang, entry in body["languages"].items()}
    assert chosen == {"de": "log", "zh": "power", "ar": "exp", "hi": None}
    assert "cannot fit" in body["languages"]["hi"]["warnings"][0]
    assert body["languages"]["de"]["r2"] > 0.99 and len(body["languages"]["de"]["points"]) == 8
    table = (fitted / "fits.md").read_text(encoding="utf-8")
    assert "| de | 8 | log |" in table and "LOO power" in table
    for lang in ("de", "zh", "ar", "hi"):
        assert (fitted / f"fit_{lang}.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_fit_prints_the_table(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    csv_path = write_results(tmp_path / "r.csv", langs=("en-zh",))
    run("scaling", "fit", str(csv_path), "--laws", "log,power", "--bootstrap", "0", "--out", str(tmp_path / "o"))
    out = capsys.readouterr().out
    assert "| zh | 8 | power |" in out and "LOO exp" not in out


def test_plot_marks_the_chosen_law() -> None:
    x = SIZES.astype(float)
    fit = fit_language("de", x, LAWS["log"].predict(x, TRUE["de"][1]), bootstrap=0)
    ax = figure_for(fit, "bleu").axes[0]
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert sum("(chosen)" in label for label in labels) == 1 and labels[0].startswith("log")
    assert ax.get_xscale() == "log" and ax.get_xlabel() and ax.get_ylabel() == "bleu" and ax.get_title()
    widths = {line.get_label().split(":")[0]: line.get_linewidth() for line in ax.get_lines()}
    assert widths["log"] > widths["power"]
    with_zero = fit_language("de", np.append(0.0, x), LAWS["log"].predict(np.append(0.0, x), TRUE["de"][1]),
                             bootstrap=0)
    assert figure_for(with_zero, "bleu").axes[0].get_xscale() == "symlog"  # a zero-shot point stays visible


def test_allocate_plan_is_read_back_by_data_build(fitted: Path, tmp_path: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    plan_path = tmp_path / "plan.json"
    assert run("scaling", "allocate", "--fits", str(fitted / "fits.json"), "--budget", "60000",
               "--weights", "de=2,zh=1", "--available", "zh=10000", "--min", "ar=1000", "--out", str(plan_path)) == 0
    out = capsys.readouterr().out
    assert "uniform predicted" in out and out.count("\n") >= 6 and "vs uniform" in out
    plan = read_plan(plan_path)
    raw = json.loads(plan_path.read_text(encoding="utf-8"))
    assert plan.budget == 60000 == sum(plan.allocation.values())
    assert plan.allocation == raw["allocation"] and set(plan.allocation) == {"de", "zh", "ar"}
    assert plan.allocation["zh"] <= 10000 and plan.allocation["ar"] >= 1000
    assert plan.builder == "translation"
    for key in ("objective", "metric", "predicted", "uniform", "uniform_predicted"):
        assert plan.extra[key] == raw[key]
    assert plan.extra["objective"] == "sum" and plan.extra["metric"] == "bleu"
    assert sum(plan.extra["uniform"].values()) == 60000 and plan.extra["uniform"]["zh"] == 10000
    assert plan.extra["value"] >= plan.extra["uniform_value"]
    for lang, count in plan.allocation.items():  # each language's line shows its numbers
        assert f"{count:>11}{plan.extra['predicted'][lang]:>11.3f}" in out


def test_allocate_min_objective_and_langs(fitted: Path, tmp_path: Path) -> None:
    plan_path = tmp_path / "plan.json"
    run("scaling", "allocate", "--fits", str(fitted / "fits.json"), "--budget", "5000", "--langs", "de,zh",
        "--objective", "min", "--out", str(plan_path))
    plan = read_plan(plan_path)
    assert set(plan.allocation) == {"de", "zh"} and plan.extra["objective"] == "min"
    assert min(plan.extra["predicted"].values()) >= min(plan.extra["uniform_predicted"].values()) - 1e-9


def test_allocate_plan_sizes_the_builder_asked_for(fitted: Path, tmp_path: Path) -> None:
    plan_path = tmp_path / "plan.json"
    run("scaling", "allocate", "--fits", str(fitted / "fits.json"), "--budget", "300", "--langs", "de,zh",
        "--builder", "question_alignment", "--out", str(plan_path))
    assert read_plan(plan_path).builder == "question_alignment"  # QAlign stage I pairs, not x-LLaMA's


@pytest.mark.parametrize("flags, message", [
    (["--budget", "10000000", "--available", "de=1,zh=2,ar=3"], "budget 10000000 exceeds the 6 examples available"),
    (["--budget", "100", "--min", "de=60,zh=60"], "budget 100 is below the 120 examples the minimums require"),
    (["--budget", "-5"], "budget must be a whole number ≥ 0"),
    (["--budget", "100", "--weights", "de=-1"], "weights: value for 'de' must be a number ≥ 0"),
    (["--budget", "100", "--weights", "de:2"], "--weights: expected lang=value pairs"),
    (["--budget", "100", "--available", "de=1.5"], "--available: expected lang=value pairs with whole numbers"),
    (["--budget", "100", "--weights", "qq=1"], "--weights: unknown language code 'qq'"),
    (["--budget", "100", "--weights", "hi=1"], r"no fit for language 'hi' \(fitted: de, zh, ar\)"),
    (["--budget", "100", "--langs", "de,hi"], "--langs: no usable fit for hi"),
    (["--budget", "100", "--objective", "min", "--weights", "de=2"], "weights apply to the 'sum' objective only"),
])
def test_allocate_bad_input_is_an_input_error(fitted: Path, tmp_path: Path, flags: list[str], message: str) -> None:
    with pytest.raises(InputError, match=message):
        run("scaling", "allocate", "--fits", str(fitted / "fits.json"), *flags, "--out", str(tmp_path / "p.json"))
    assert not (tmp_path / "p.json").exists()


def test_allocate_rejects_a_missing_or_foreign_fits_file(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="fits file not found"):
        run("scaling", "allocate", "--fits", str(tmp_path / "none.json"), "--budget", "1", "--out", str(tmp_path / "p"))
    plan = tmp_path / "plan.json"
    plan.write_text('{"format": "polyalign-allocation/1", "budget": 0, "allocation": {}}', encoding="utf-8")
    with pytest.raises(InputError, match="polyalign-fits/1"):
        run("scaling", "allocate", "--fits", str(plan), "--budget", "1", "--out", str(tmp_path / "p"))


def test_fit_bad_input_is_an_input_error(tmp_path: Path) -> None:
    csv_path = write_results(tmp_path / "r.csv", [["de", 100, "chrf", 20.0, ""]])
    with pytest.raises(InputError, match=r"2 metrics present \(bleu, chrf\); choose one with --metric"):
        run("scaling", "fit", str(csv_path), "--out", str(tmp_path / "o"))
    with pytest.raises(InputError, match="unknown law"):
        run("scaling", "fit", str(csv_path), "--metric", "bleu", "--laws", "log,quadratic",
            "--out", str(tmp_path / "o"))
    with pytest.raises(InputError, match="no language could be fitted"):
        run("scaling", "fit", str(csv_path), "--metric", "chrf", "--out", str(tmp_path / "o"))


@pytest.mark.parametrize("argv, needles", [
    (["scaling", "--help"], ["scaling fit", "allocation.plan", "c − a·(x + 1)^(−alpha)"]),
    (["scaling", "fit", "--help"], ["lang, n_examples, metric, value, run_dir", "leave-one-size-out", "example:"]),
    (["scaling", "allocate", "--help"], ["Σ w_i·f_i(x_i)", "uniform split", "example:", "--weights de=2,zh=1"]),
])
def test_help_teaches(argv: list[str], needles: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        run(*argv)
    assert exit_info.value.code == 0
    text = " ".join(capsys.readouterr().out.split())
    for needle in needles:
        assert " ".join(needle.split()) in text
