"""`scaling sweep` as an experiment: only the `vary` sources are sized, all languages in one training run
(joint), and the judge's score as the metric — on the tiny model."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
import yaml

from polyalign.config import load_config
from polyalign.errors import InputError
from polyalign.scaling.sweep import SweepConfig, run_sweep

SAMPLES = Path(__file__).resolve().parents[2] / "src/polyalign/assets/samples/qalign-question-pairs"


pytestmark = pytest.mark.usefixtures("offline_one_thread")


@pytest.fixture
def write_sweep(tmp_path, tiny_model):
    """A sweep over a two-source mixture: 5 English instructions (fixed) + question alignment pairs (varied)."""
    alpaca = [{"instruction": f"Say {w}.", "input": "", "output": w} for w in ("one", "two", "three", "four", "five")]
    (tmp_path / "alpaca.json").write_text(json.dumps(alpaca), encoding="utf-8")
    data = {"name": "mix", "out": str(tmp_path / "unused-data"), "langs": ["de"], "template": "alpaca",
            "sources": [{"name": "alpaca-en", "builder": "instructions", "lang": "en", "path": str(tmp_path / "alpaca.json")},
                        {"name": "question-alignment-{lang}", "builder": "question_alignment",
                         "parallel": {"{lang}": f"{SAMPLES}/{{lang}}-en/train.{{lang}}",
                                      "en": f"{SAMPLES}/{{lang}}-en/train.en"}}]}
    (tmp_path / "data.yaml").write_text(yaml.safe_dump(data), encoding="utf-8")
    train = {"name": "tiny", "model": tiny_model, "out": str(tmp_path / "unused"), "seed": 1,
             "stages": [{"name": "sft", "type": "sft", "data": "unused.jsonl", "finetune": "lora",
                         "lora": {"r": 4, "alpha": 8, "target_modules": ["q_proj", "v_proj"]},
                         "epochs": 1, "batch_size": 2, "micro_batch_size": 2, "learning_rate": 1e-3}]}
    (tmp_path / "train.yaml").write_text(yaml.safe_dump(train), encoding="utf-8")
    for lang in ("de", "zh"):  # held-out questions for qtrans: the last two sample pairs
        folder = tmp_path / f"qtrans-data/qtrans/{lang}-en"
        folder.mkdir(parents=True)
        for side in (lang, "en"):
            lines = (SAMPLES / f"{lang}-en/train.{side}").read_text(encoding="utf-8").splitlines()
            (folder / f"test.{side}").write_text("\n".join(lines[-2:]) + "\n", encoding="utf-8")

    def write(**fields) -> SweepConfig:
        sweep = {"name": "mix", "out": str(tmp_path / "sweep"), "langs": ["de"], "sizes": [2], "baseline": False,
                 "data": str(tmp_path / "data.yaml"), "train": str(tmp_path / "train.yaml"),
                 "eval": {"task": "qtrans", "metric": "chrf++", "lang": "{lang}-en",
                          "data_dir": str(tmp_path / "qtrans-data"), "max_new_tokens": 4, "batch_size": 2}, **fields}
        (tmp_path / "sweep.yaml").write_text(yaml.safe_dump(sweep), encoding="utf-8")
        return load_config(SweepConfig, tmp_path / "sweep.yaml")
    return write


def _rows(path: Path) -> list[tuple[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return [(r["lang"], r["n_examples"]) for r in csv.DictReader(handle)]


def _sources(run: Path) -> dict[str, int]:
    card = json.loads((run / "data" / "data_card.json").read_text(encoding="utf-8"))
    return card["splits"]["train"]["sources"]


def test_only_the_question_alignment_source_is_sized_by_default(write_sweep, tmp_path):
    run_sweep(write_sweep(sizes=[2, 3]), progress=False)
    for n in (2, 3):  # the English instructions keep all 5 examples at every size
        assert _sources(tmp_path / f"sweep/runs/de-n{n}") == {"alpaca-en": 5, "question-alignment-de": n}


def test_vary_names_the_sources_to_size(write_sweep, tmp_path):
    run_sweep(write_sweep(vary=["alpaca-en", "question-alignment-{lang}"]), progress=False)
    assert _sources(tmp_path / "sweep/runs/de-n2") == {"alpaca-en": 2, "question-alignment-de": 2}


def test_joint_trains_one_model_on_all_languages_per_size(write_sweep, tmp_path):
    csv_path = run_sweep(write_sweep(langs=["de", "zh"], baseline=True, joint=True), progress=False)
    assert sorted(_rows(csv_path)) == [("de", "0"), ("de", "2"), ("zh", "0"), ("zh", "2")]
    runs = sorted(p.name for p in (tmp_path / "sweep/runs").iterdir())
    assert runs == ["all-n0", "all-n2"]  # one run per size, not per language
    assert _sources(tmp_path / "sweep/runs/all-n2") == {"alpaca-en": 5, "question-alignment-de": 2,
                                                        "question-alignment-zh": 2}
    assert (tmp_path / "sweep/runs/all-n2/train/run.json").is_file()


def test_the_judge_score_is_a_sweep_metric(write_sweep, tmp_path, monkeypatch):
    from polyalign.judge import runner as judge_runner
    from support.judges import ScriptedJudge

    # accuracy 3 for a response with a letter in it, else 0; the other dimensions 2
    def answer(conversation):
        text = conversation[0]["content"]
        if "Dimension: Accuracy." in text:
            response = text.split("Response", 1)[-1]
            return "Score: 3" if any(c.isalpha() for c in response) else "Score: 0"
        return "Score: 2"

    judge = ScriptedJudge(answer)
    monkeypatch.setattr(judge_runner, "make_judge", lambda cfg: judge)
    cfg = write_sweep(langs=["zh"], eval={"metric": "fluency_0-3", "judge": {
        "judge": "scripted", "instructions": "builtin:samples/open-ended", "limit": 2, "max_new_tokens": 4}})
    csv_path = run_sweep(cfg, progress=False)
    with csv_path.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert [(r["lang"], r["n_examples"], r["metric"], float(r["value"])) for r in rows] == [("zh", "2", "fluency_0-3", 2.0)]
    assert judge.calls == 2 * 5  # two responses × five rubric dimensions
    judged = json.loads((tmp_path / "sweep/runs/zh-n2/judge/results.json").read_text(encoding="utf-8"))
    assert judged["provenance"]["generation"]  # the responses came from the run's trained model


@pytest.mark.parametrize("fields,message", [
    ({"vary": ["nope"]}, r"vary: nope names no source of the data recipe 'mix' \(its sources: alpaca-en, "),
    ({"eval": {"metric": "x"}}, r"eval: give a task \(with its metric\) or a judge section, exactly one"),
])
def test_bad_sweeps_fail_before_training(write_sweep, tmp_path, fields, message):
    with pytest.raises(InputError, match=message):
        run_sweep(write_sweep(**fields), progress=False)
    assert not (tmp_path / "sweep/runs").exists()
