"""`polyalign quickstart` end to end on the tiny model (the QAlign experiment and the stage-I panel),
resume, the comparison with CIs, the report's three-arm table, and bad input."""

from __future__ import annotations

import json

import pytest

from support.cli import run_cli
from polyalign.quickstart import measure, pipeline
from polyalign.quickstart.experiment import quickstart_experiment
from polyalign.quickstart.plan import (MIN_TEST_DEFAULT, REFERENCE_TOKENS_PER_SECOND, QuickstartConfig, Sizes,
                                       relative_speed, sizes_for)
from polyalign.quickstart.table import before_after_table, three_arm_table

WORDS = {"en": "How many apples does {n} have", "de": "Wie viele Äpfel hat {n}", "zh": "{n}有多少个苹果"}
TINY = ["suite.max_new_tokens=6", "suite.batch_size=8"]
"""The tiny random model chatters to the token limit: a few tokens keep the test fast."""


@pytest.fixture(autouse=True)
def _small(monkeypatch, tmp_path):
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    starter = tmp_path / "starter"  # a small parallel set in the shipped layout
    starter.mkdir()
    for lang, text in WORDS.items():
        for split, n in (("train", 20), ("test", 12)):
            lines = [f"{text.format(n=f'{split}{i}')}?\t{i}" for i in range(n)]
            (starter / f"{split}.{lang}.tsv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    monkeypatch.setattr(measure, "STARTER_DIR", starter)
    yield
    torch.set_num_threads(threads)


def _cfg(tmp_path, tiny_model, **kw):
    return QuickstartConfig(out=str(tmp_path / "qs"), model=tiny_model, langs=["de", "zh"], budget_minutes=0.1,
                            overrides=list(TINY), **kw)


def _check_comparison(comparison, n_test):
    arms = comparison["arms"]
    assert set(arms) == {"base", "monoreason", "qalign"}
    for arm, rows in arms.items():
        assert list(rows) == ["en", "de", "zh"]
        for lang, row in rows.items():
            assert row["n"] == n_test and row["acc_ci_low"] <= row["acc"] <= row["acc_ci_high"]
            assert 0 <= row["answers_in_english"] <= 1 and 0 <= row["answers_in_question_lang"] <= 1
            assert ("gap_to_en" in row) == (lang != "en")
            if lang != "en":
                assert row["gap_ci_low"] <= row["gap_to_en"] <= row["gap_ci_high"]
                assert row["gap_to_en"] == pytest.approx(row["acc"] - rows["en"]["acc"])
    keys = {"task", "lang", "metric", "system", "score", "baseline_score", "delta", "ci_low", "ci_high", "p_value",
            "test", "n", "score_ci_low", "score_ci_high"}
    rows = comparison["rows"]
    assert all(keys <= set(row) for row in rows)
    pairs = {(r["comparison"], r["system"], r["lang"]) for r in rows}
    for lang in ("en", "de", "zh"):
        assert ("qalign-vs-monoreason", "qalign", lang) in pairs
        assert {("vs-base", "monoreason", lang), ("vs-base", "qalign", lang)} <= pairs


def test_quickstart_runs_the_experiment_and_the_panel_and_resumes(tmp_path, tiny_model, monkeypatch):
    state = pipeline.run_quickstart(_cfg(tmp_path, tiny_model), progress=False)
    assert list(state["steps"]) == list(pipeline.STEP_WEIGHTS)
    assert all(step["seconds"] >= 0 for step in state["steps"].values())
    # the model step measured this machine and sized the run with it
    assert state["speed"]["tokens_per_second"] > 0
    assert state["sizes"] == vars(sizes_for(0.1, 2, state["speed"]["relative"]))
    out = tmp_path / "qs"
    experiment = json.loads((out / "experiment/experiment.json").read_text(encoding="utf-8"))
    assert {arm: entry["eval"]["status"] for arm, entry in experiment["arms"].items()} == {
        "base": "done", "monoreason": "done", "qalign": "done"}
    # the panel's "after" model is QAlign's stage I alone, inside the arm's train run
    assert "qalign/train/question-alignment" in state["trained_model"]
    for when in ("before", "after"):
        for lang in ("de", "zh"):
            row = state[when][lang]
            assert 0 <= row["chrf"] <= 100 and row["ref_logprob"] < 0 and 0 <= row["retrieval"] <= 100
    assert all(state["after"][lang]["ref_logprob"] != state["before"][lang]["ref_logprob"] for lang in ("de", "zh"))
    saved = json.loads((out / "quickstart.json").read_text(encoding="utf-8"))
    _check_comparison(saved["comparison"], saved["sizes"]["test"])
    table = three_arm_table(saved)
    assert table.splitlines()[0].startswith("| lang | base acc %") and "| zh | " in table
    assert before_after_table(saved).splitlines()[0].startswith("| lang | chrF++")
    html = (out / "report.html").read_text(encoding="utf-8")
    assert "Base vs MonoReason vs QAlign" in html and "QAlign − MonoReason" in html
    assert html.index("Base vs MonoReason vs QAlign") < html.index("Stage-I panel")
    assert "answers in English by design" in html

    # rerun: every step is done, nothing runs again
    def fail(*args, **kwargs):
        raise AssertionError("a finished step ran again")

    monkeypatch.setattr(pipeline, "measure_model", fail)
    monkeypatch.setattr(pipeline, "generation_speed", fail)  # a resumed run keeps its sizes
    assert pipeline.run_quickstart(_cfg(tmp_path, tiny_model), progress=False)["comparison"] == saved["comparison"]


def test_an_interrupted_experiment_resumes(tmp_path, tiny_model, monkeypatch):
    import polyalign.experiments.runner as runner

    real, calls = runner._evaluate, []

    def flaky(step, models):
        calls.append(step.arm)
        if step.arm == "qalign" and calls.count("qalign") == 1:
            raise KeyboardInterrupt
        return real(step, models)

    monkeypatch.setattr(runner, "_evaluate", flaky)
    with pytest.raises(KeyboardInterrupt):
        pipeline.run_quickstart(_cfg(tmp_path, tiny_model), progress=False)
    state = json.loads((tmp_path / "qs/quickstart.json").read_text(encoding="utf-8"))
    assert [k for k, v in state["steps"].items() if v["status"] == "done"] == ["model", "data"]
    state = pipeline.run_quickstart(_cfg(tmp_path, tiny_model), progress=False)
    assert sorted(calls) == ["base", "monoreason", "qalign", "qalign"]  # only the interrupted arm again
    _check_comparison(state["comparison"], state["sizes"]["test"])


def test_the_experiment_gets_the_sizes_languages_and_model(tiny_model):
    sizes = Sizes(stage1_pairs=11, stage2_examples=22, test=33, translate=4, loglik=8, align=8)
    cfg = quickstart_experiment("qalign-smollm2", tiny_model, ["de", "sw"], sizes, 7)
    assert cfg.suite.langs == ["en", "de", "sw"] and cfg.suite.limit == 33
    assert cfg.arms["base"].model == tiny_model
    for arm in ("monoreason", "qalign"):
        assert f"model={tiny_model}" in cfg.arms[arm].overrides
    stage1, stage2 = cfg.arms["qalign"].data
    assert "sources.0.count=11" in stage1.overrides and "langs=[de,sw]" in stage1.overrides
    assert "sources.0.count=22" in stage2.overrides


def test_sizes_scale_with_the_budget_and_stay_within_the_data():
    small, default, full = sizes_for(3, 8), sizes_for(15, 8), sizes_for(60, 8)
    assert small.stage1_pairs < default.stage1_pairs < full.stage1_pairs
    assert default.test >= MIN_TEST_DEFAULT and sizes_for(15, 8, 0.25).test >= MIN_TEST_DEFAULT
    assert sizes_for(6000, 8).stage1_pairs == 480 and sizes_for(6000, 8).test == 80
    assert sizes_for(15, 2).stage1_pairs > default.stage1_pairs  # fewer languages, more pairs each


def test_sizes_scale_with_the_measured_speed_within_limits():
    assert relative_speed(REFERENCE_TOKENS_PER_SECOND) == 1.0
    assert relative_speed(REFERENCE_TOKENS_PER_SECOND / 2) == 0.5
    assert relative_speed(1.0) == 0.25 and relative_speed(1e6) == 4.0  # clamped
    half, default = sizes_for(15, 8, 0.5), sizes_for(15, 8)
    assert half.stage1_pairs == default.stage1_pairs // 2 and half.loglik == default.loglik // 2
    assert sizes_for(15, 8, 4.0) == sizes_for(60, 8)


def test_without_calibration_the_reference_sizes_are_used(tmp_path, tiny_model, monkeypatch):
    class Stop(Exception):
        pass

    def fail(*args, **kwargs):
        raise AssertionError("probed the speed although calibration is off")

    def stop(*args, **kwargs):
        raise Stop

    monkeypatch.setattr(pipeline, "generation_speed", fail)
    monkeypatch.setattr(pipeline, "_experiment", stop)  # the sizes are fixed by then
    with pytest.raises(Stop):
        pipeline.run_quickstart(_cfg(tmp_path, tiny_model, calibrate=False), progress=False)
    state = json.loads((tmp_path / "qs/quickstart.json").read_text(encoding="utf-8"))
    assert state["speed"] is None and state["sizes"] == vars(sizes_for(0.1, 2))
    assert state["settings"]["calibrate"] is False


@pytest.mark.e2e
@pytest.mark.parametrize("args,message", [
    (["--model", "no-such-model-xyz/../x"], "no such file or folder"),
    (["--langs", "de,xx"], "unknown language"),
    (["--langs", "de,it"], "the starter data has de, fr, es, ru, zh, ja, sw, th"),
    (["--budget-minutes", "0"], "--budget-minutes must be > 0"),
])
def test_bad_input_exits_2_with_one_line(tmp_path, args, message):
    result = run_cli("quickstart", "--out", str(tmp_path / "qs"), "--no-progress", *args)
    assert result.returncode == 2 and message in result.stderr, result.stderr


def test_a_measurement_loads_the_model_once(tmp_path, tiny_model, monkeypatch):
    import polyalign.models as models

    loads: list[str] = []
    real = models.load_model

    def counting(name, **kw):
        loads.append(name)
        return real(name, **kw)

    monkeypatch.setattr(models, "load_model", counting)
    sizes = Sizes(stage1_pairs=4, stage2_examples=4, test=2, translate=2, loglik=2, align=2)
    folders = measure.write_starter_layouts(tmp_path / "layout", ["de"], sizes)
    metrics = measure.measure_model(tiny_model, tmp_path / "m", ["de"], sizes, folders["eval_data"], batch_size=2)
    assert loads == [tiny_model]  # one backend serves the translations and the reference log-likelihoods
    assert set(metrics) == {"en", "de"} and metrics["de"]["ref_logprob"] < 0
