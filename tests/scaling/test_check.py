"""`polyalign scaling check`: a plan's predicted scores against an eval run's measured ones."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from support.cli import run_cli

from polyalign.data.allocation import AllocationPlan, read_plan, write_plan
from polyalign.errors import InputError
from polyalign.scaling.check import check_plan, read_eval_results


def _plan(tmp_path: Path) -> Path:
    return write_plan(AllocationPlan(allocation={"de": 235, "zh": 21}, budget=256, builder="question_alignment", extra={
        "metric": "chrf++", "predicted": {"de": 29.4, "zh": 23.3},
        "uniform": {"de": 128, "zh": 128}, "uniform_predicted": {"de": 23.2, "zh": 24.9}}), tmp_path / "plan.json")


def _results(tmp_path: Path, rows: dict[str, dict[str, float]], task: str = "qtrans") -> Path:
    run = tmp_path / "eval"
    run.mkdir(exist_ok=True)
    (run / "results.json").write_text(json.dumps({"results": {task: rows}, "provenance": {}}), encoding="utf-8")
    return run


MEASURED = {"de-en": {"chrf++": 28.2, "bleu": 10.1, "n": 30}, "zh-en": {"chrf++": 23.25, "bleu": 3.8, "n": 30}}


def test_directions_count_as_their_language_and_errors_are_observed_minus_predicted(tmp_path):
    check = check_plan(read_plan(_plan(tmp_path)), read_eval_results(_results(tmp_path, MEASURED)))
    assert check.task == "qtrans" and check.metric == "chrf++"
    assert check.rows["de"] == {"examples": 235, "key": "de-en", "predicted": 29.4, "observed": 28.2,
                                "error": pytest.approx(-1.2)}
    assert check.rows["zh"]["error"] == pytest.approx(-0.05)
    assert check.mean_abs_error == pytest.approx(0.625)
    uniform = check_plan(read_plan(_plan(tmp_path)), read_eval_results(_results(tmp_path, MEASURED)),
                         predictions="uniform_predicted")
    assert uniform.rows["de"]["examples"] == 128 and uniform.rows["de"]["predicted"] == 23.2


@pytest.mark.e2e
def test_cli_prints_the_table_and_writes_json(tmp_path):
    out = tmp_path / "check.json"
    proc = run_cli("scaling", "check", "--plan", str(_plan(tmp_path)), "--results", str(_results(tmp_path, MEASURED)),
                   "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    assert "de           235      29.40     28.20    -1.20" in proc.stdout
    assert "mean absolute error 0.62" in proc.stdout
    assert json.loads(out.read_text())["languages"]["zh"]["observed"] == 23.25


@pytest.mark.parametrize("rows, task, message", [
    ({"de-en": {"chrf++": 28.2}}, None, "the run did not evaluate zh on qtrans"),
    ({"de-en": {"bleu": 1.0}, "zh-en": {"chrf++": 2.0}}, None, "qtrans de-en has no 'chrf++' value"),
    (MEASURED, "flores", "the run has no task 'flores'"),
])
def test_what_the_run_lacks_is_an_input_error(tmp_path, rows, task, message):
    with pytest.raises(InputError, match=re.escape(message)):
        check_plan(read_plan(_plan(tmp_path)), read_eval_results(_results(tmp_path, rows)), task=task)


@pytest.mark.e2e
def test_bad_input_exits_2_with_one_line(tmp_path):
    no_predictions = write_plan(AllocationPlan(allocation={"de": 1}, budget=1), tmp_path / "bare.json")
    proc = run_cli("scaling", "check", "--plan", str(no_predictions), "--results", str(_results(tmp_path, MEASURED)))
    assert proc.returncode == 2 and "no metric or 'predicted' scores" in proc.stderr
    proc = run_cli("scaling", "check", "--plan", str(_plan(tmp_path)), "--results", str(tmp_path / "missing"))
    assert proc.returncode == 2 and len(proc.stderr.strip().splitlines()) == 1
