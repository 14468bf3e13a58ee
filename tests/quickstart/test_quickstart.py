"""`polyalign quickstart` end to end on the tiny model, resume, and bad input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from support.cli import run_cli
from polyalign.errors import InputError
from polyalign.quickstart import measure, pipeline
from polyalign.quickstart.plan import REFERENCE_TOKENS_PER_SECOND, QuickstartConfig, relative_speed, sizes_for
from polyalign.quickstart.table import before_after_table

WORDS = {"en": "How many apples does {n} have", "de": "Wie viele Äpfel hat {n}", "zh": "{n}有多少个苹果"}


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
    return QuickstartConfig(out=str(tmp_path / "qs"), model=tiny_model, langs=["de", "zh"], budget_minutes=0.1, **kw)


def test_quickstart_measures_before_and_after_and_resumes(tmp_path, tiny_model, monkeypatch):
    state = pipeline.run_quickstart(_cfg(tmp_path, tiny_model), progress=False)
    assert list(state["steps"]) == list(pipeline.STEP_WEIGHTS)
    # the model step measured this machine and sized the run with it
    assert state["speed"]["tokens_per_second"] > 0
    assert state["sizes"] == vars(sizes_for(0.1, 2, state["speed"]["relative"]))
    for when in ("before", "after"):
        for lang in ("de", "zh"):
            row = state[when][lang]
            assert 0 <= row["chrf"] <= 100 and row["ref_logprob"] < 0 and 0 <= row["retrieval"] <= 100
            assert 0 <= row["acc"] <= 100 and 0 <= row["answer_lang_match"] <= 100
        assert state[when]["en"]["chrf"] is None and state[when]["en"]["acc"] is not None
    # training moved the model: the reference likelihood changed in every language
    assert all(state["after"][lang]["ref_logprob"] != state["before"][lang]["ref_logprob"] for lang in ("de", "zh"))
    out = Path(state["settings"] and tmp_path / "qs")
    saved = json.loads((out / "quickstart.json").read_text(encoding="utf-8"))
    assert saved["before"] == state["before"] and (out / "eval-before/qtrans/results.json").is_file()
    table = before_after_table(saved)
    assert table.splitlines()[0].startswith("| lang | chrF++") and "| zh | " in table

    # rerun: every step is done, nothing is measured again
    def fail(*args, **kwargs):
        raise AssertionError("a finished step ran again")

    monkeypatch.setattr(pipeline, "measure_model", fail)
    monkeypatch.setattr(pipeline, "generation_speed", fail)  # a resumed run keeps its sizes
    assert pipeline.run_quickstart(_cfg(tmp_path, tiny_model), progress=False)["after"] == state["after"]


def test_an_interrupted_run_resumes_from_the_failed_step(tmp_path, tiny_model, monkeypatch):
    calls = []
    real = pipeline.measure_model

    def flaky(model, out, *args, **kwargs):
        calls.append(out.name)
        if out.name == "eval-after" and calls.count("eval-after") == 1:
            raise KeyboardInterrupt
        return real(model, out, *args, **kwargs)

    monkeypatch.setattr(pipeline, "measure_model", flaky)
    with pytest.raises(KeyboardInterrupt):
        pipeline.run_quickstart(_cfg(tmp_path, tiny_model), progress=False)
    state = json.loads((tmp_path / "qs/quickstart.json").read_text(encoding="utf-8"))
    assert [k for k, v in state["steps"].items() if v["status"] == "done"] == ["model", "data", "before", "train"]
    state = pipeline.run_quickstart(_cfg(tmp_path, tiny_model), progress=False)
    assert calls == ["eval-before", "eval-after", "eval-after"] and "align" in state["steps"]


def test_sizes_scale_with_the_budget_and_stay_within_the_data():
    small, default, large = sizes_for(5, 8), sizes_for(15, 8), sizes_for(600, 8)
    assert small.train < default.train < large.train == 200 and large.translate == 50
    assert sizes_for(15, 2).train > default.train  # fewer languages, more pairs each


def test_sizes_scale_with_the_measured_speed_within_limits():
    assert relative_speed(REFERENCE_TOKENS_PER_SECOND) == 1.0
    assert relative_speed(REFERENCE_TOKENS_PER_SECOND / 2) == 0.5
    assert relative_speed(1.0) == 0.25 and relative_speed(1e6) == 4.0  # clamped
    half, default = sizes_for(15, 8, 0.5), sizes_for(15, 8)
    assert half.train == default.train // 2 and half.loglik == default.loglik // 2
    assert sizes_for(15, 8, 4.0) == sizes_for(60, 8)


def test_without_calibration_the_reference_sizes_are_used(tmp_path, tiny_model, monkeypatch):
    class Stop(Exception):
        pass

    def fail(*args, **kwargs):
        raise AssertionError("probed the speed although calibration is off")

    def stop(*args, **kwargs):
        raise Stop

    monkeypatch.setattr(pipeline, "generation_speed", fail)
    monkeypatch.setattr(pipeline, "measure_model", lambda *args, **kwargs: {})
    monkeypatch.setattr(pipeline, "_train", stop)  # the sizes are fixed by then
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


def test_a_model_without_a_chat_template_is_refused(tmp_path, tiny_model):
    import shutil

    plain = tmp_path / "plain"
    shutil.copytree(tiny_model, plain)
    config = json.loads((plain / "tokenizer_config.json").read_text(encoding="utf-8"))
    config.pop("chat_template", None)
    (plain / "tokenizer_config.json").write_text(json.dumps(config), encoding="utf-8")
    for extra in plain.glob("chat_template.*"):
        extra.unlink()
    with pytest.raises(InputError, match="has no chat template"):
        pipeline.run_quickstart(_cfg(tmp_path, str(plain)), progress=False)


def test_a_measurement_loads_the_model_once(tmp_path, tiny_model, monkeypatch):
    import polyalign.models as models
    from polyalign.quickstart.plan import Sizes

    loads: list[str] = []
    real = models.load_model

    def counting(name, **kw):
        loads.append(name)
        return real(name, **kw)

    monkeypatch.setattr(models, "load_model", counting)
    sizes = Sizes(train=4, translate=2, loglik=2, answer=2, align=2)
    folders = measure.write_starter_layouts(tmp_path / "layout", ["de"], sizes)
    metrics = measure.measure_model(tiny_model, tmp_path / "m", ["de"], sizes, folders["eval_data"], batch_size=2)
    assert loads == [tiny_model]  # one backend serves both evaluations and the reference log-likelihoods
    assert set(metrics) == {"en", "de"} and metrics["de"]["ref_logprob"] < 0
