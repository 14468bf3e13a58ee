"""Shipped recipes of the code and commonsense tracks: they load, chain, and build what evaluation asks."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from polyalign.config import load_config
from polyalign.data.build import build_data
from polyalign.data.recipe import DataBuildConfig
from polyalign.eval import prompts
from polyalign.recipes import find_recipe, list_recipes
from polyalign.train.config import TrainRecipe

DATA = ["qalign-stage2-code", "qalign-stage2-code-sample", "qalign-stage1-commonsense",
        "qalign-stage1-commonsense-sample", "qalign-stage2-commonsense", "qalign-stage2-commonsense-sample"]
TRAIN = ["qalign-code-llama2-7b", "qalign-code-llama2-13b", "qalign-code-smollm2-lora",
         "qalign-commonsense-llama2-7b", "qalign-commonsense-llama2-13b", "qalign-commonsense-smollm2-lora"]
CHOICES = ["oven", "cupboard", "refrigerator", "table", "window sill"]


def _data(name: str, *overrides: str) -> DataBuildConfig:
    return load_config(DataBuildConfig, find_recipe(name, "data"), overrides)


def _rows(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


@pytest.mark.parametrize("name", DATA)
def test_data_recipes_load_and_quote_their_setting(name):
    cfg = _data(name)
    assert cfg.name == name and cfg.out == f"runs/data/{name}" and cfg.seed == 1234 and cfg.template == "alpaca"
    first = find_recipe(name, "data").read_text(encoding="utf-8").splitlines()[0]
    assert first.startswith("# QAlign stage")
    assert "sample" in name or "Zhu et al. 2024" in first


@pytest.mark.parametrize("name", TRAIN)
def test_train_recipes_load_and_read_what_the_data_recipes_write(name):
    recipe = load_config(TrainRecipe, find_recipe(name, "train"))
    assert recipe.name == name and recipe.seed == 1234
    outputs = {f"{_data(n).out}/train.jsonl" for n, _ in list_recipes("data")}
    stages = [stage.data for stage in recipe.stages]
    assert [s.name for s in recipe.stages] == ["question-alignment", "response-alignment"]
    assert all(path in outputs for path in stages), stages
    track = "code" if "-code-" in name else "commonsense"
    assert track in stages[1] and (track == "code" or track in stages[0])


def test_cpu_variants_are_the_gpu_recipes_made_small():
    for track in ("code", "commonsense"):
        big = load_config(TrainRecipe, find_recipe(f"qalign-{track}-llama2-7b", "train"))
        small = load_config(TrainRecipe, find_recipe(f"qalign-{track}-smollm2-lora", "train"))
        assert small.model == "smollm2-135m-instruct" and all(s.finetune == "lora" for s in small.stages)
        for a, b in zip(big.stages, small.stages):
            assert (a.epochs, a.lr_scheduler, a.warmup_ratio, a.max_length) == (b.epochs, b.lr_scheduler,
                                                                                b.warmup_ratio, b.max_length)


def _write(path: Path, lines: list[str]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")


def test_code_recipe_builds_the_prompt_pot_evaluation_asks(tmp_path):
    _write(tmp_path / "pot/train.jsonl", [json.dumps({"question": "Tom has 3 apples and buys 4. How many?",
                                                      "code": "apples = 3 + 4\nprint(apples)"})])
    out = build_data(_data("qalign-stage2-code", f"data_root={tmp_path / 'pot'}", f"out={tmp_path / 'o'}"),
                     progress=False)
    (row,) = _rows(out / "train.jsonl")
    record = {"question": "Tom has 3 apples and buys 4. How many?"}
    assert row["prompt"] == prompts.render("pot", prompts.variant_instruction("pot", "numeric", record))
    assert row["completion"] == "```python\napples = 3 + 4\nprint(apples)\n```"


def test_commonsense_sample_recipes_build_question_alignment_and_rationale_answers(tmp_path):
    _write(tmp_path / "commonsense/train.jsonl", [json.dumps({
        "question": "Where would you put milk to keep it cold?", "choices": CHOICES, "answer": "C",
        "rationale": "A refrigerator keeps food cold."})])
    for lang, question in (("de", "Wo bleibt Milch kalt?"), ("zh", "牛奶放在哪里保持冰凉？")):
        _write(tmp_path / f"pairs/{lang}-en/train.{lang}", [question] * 2)
        _write(tmp_path / f"pairs/{lang}-en/train.en", ["Where would you put milk to keep it cold?"] * 2)
    stage2 = build_data(_data("qalign-stage2-commonsense-sample", f"data_root={tmp_path}", f"out={tmp_path / 's2'}"),
                        progress=False)
    (row,) = _rows(stage2 / "train.jsonl")
    record = {"question": "Where would you put milk to keep it cold?", "choices": CHOICES, "labels": list("ABCDE")}
    assert row["prompt"] == prompts.render("rationale", prompts.variant_instruction("rationale", "choice", record))
    assert row["completion"] == "A refrigerator keeps food cold.\nThe answer is (C)."
    stage1 = build_data(_data("qalign-stage1-commonsense-sample", f"data_root={tmp_path / 'pairs'}", "langs=[de,zh]",
                              "dev_size=0", f"out={tmp_path / 's1'}"), progress=False)
    rows = _rows(stage1 / "train.jsonl")
    assert len(rows) == 2  # exact duplicates removed
    assert {r["lang"] for r in rows} == {"de", "zh"}
    assert all(r["completion"] == "Where would you put milk to keep it cold?" for r in rows)
    assert any("Translate the following sentences from German to English. Wo bleibt Milch kalt?" in r["prompt"]
               for r in rows)


def test_commonsense_recipe_builds_from_the_x_csr_release_files(tmp_path):
    _write(tmp_path / "X-CSQA/en/train.jsonl", [json.dumps({"id": "1", "question": {
        "stem": "Where would you put milk to keep it cold?",
        "choices": [{"label": label, "text": text} for label, text in zip("ABCDE", CHOICES)]}, "answerKey": "C"})])
    out = build_data(_data("qalign-stage2-commonsense", f"data_root={tmp_path / 'X-CSQA'}", f"out={tmp_path / 'o'}"),
                     progress=False)
    (row,) = _rows(out / "train.jsonl")
    assert "\nAnswer Choices: (A) oven (B) cupboard (C) refrigerator (D) table (E) window sill\n" in row["prompt"]
    assert row["completion"] == "The answer is (C)."


@pytest.mark.parametrize("name,examples", [("qalign-stage2-code-sample", 12), ("qalign-stage1-commonsense-sample", 66),
                                           ("qalign-stage2-commonsense-sample", 12)])
def test_cpu_data_recipes_build_from_the_shipped_samples(tmp_path, name, examples):
    out = build_data(_data(name, f"out={tmp_path / name}"), progress=False)
    assert len(_rows(out / "train.jsonl")) == examples
