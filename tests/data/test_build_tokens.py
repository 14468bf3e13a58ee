"""Builds measured in a real tokenizer's tokens: truncation, no-target drops, chat rendering."""

import json

import pytest

from polyalign.config import from_dict
from polyalign.data.build import build_data
from polyalign.data.recipe import DataBuildConfig
from polyalign.errors import InputError


def make(tmp_path, tiny_model, rows, **extra):
    path = tmp_path / "d.jsonl"
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    data = {"name": "tok", "out": str(tmp_path / "out"), "tokenizer": tiny_model, "shuffle": False,
            "sources": [{"name": "s", "builder": "instructions", "lang": "de", "path": str(path)}]}
    data.update(extra)
    return from_dict(DataBuildConfig, data)


def test_examples_whose_prompt_fills_max_length_are_dropped_and_counted(tmp_path, tiny_model):
    from transformers import AutoTokenizer

    from polyalign.data.templates import render_alpaca

    tokenizer = AutoTokenizer.from_pretrained(tiny_model)
    rows = [{"instruction": "kurz", "output": "ja"},
            {"instruction": "lang " * 300, "output": "nein"},
            {"instruction": "mittel", "output": "Antwort " * 60}]

    def size(text):
        return len(tokenizer(text)["input_ids"])

    prompts = [render_alpaca(r["instruction"]) for r in rows]
    max_length = max(size(prompts[0] + "ja") + 1, size(prompts[2]) + 1)
    assert size(prompts[1]) >= max_length and size(prompts[2] + rows[2]["output"]) + 1 > max_length
    out = build_data(make(tmp_path, tiny_model, rows, max_length=max_length), progress=False)
    card = json.loads((out / "data_card.json").read_text(encoding="utf-8"))
    source = card["sources"][0]
    kept = [json.loads(line) for line in (out / "train.jsonl").read_text(encoding="utf-8").splitlines()]
    assert [r["id"] for r in kept] == ["s/0", "s/2"]
    assert (source["dropped_no_target"], source["truncated"]) == (1, 1)
    assert card["length_unit"] == "tokens" and "zero target tokens" in card["warnings"][0]
    # Lengths are measured as the trainer sees them: prompt alone, prompt + completion + EOS.
    expected_prompt = len(tokenizer(kept[0]["prompt"])["input_ids"])
    expected_total = len(tokenizer(kept[0]["prompt"] + kept[0]["completion"])["input_ids"]) + 1
    lengths = card["splits"]["train"]["lengths"]
    assert lengths["prompt"]["min"] == expected_prompt and lengths["total"]["min"] == expected_total


def test_chat_template_rendering(tmp_path, tiny_model):
    rows = [{"instruction": "Übersetze ins Englische:", "input": "Hund", "output": "dog"}]
    out = build_data(make(tmp_path, tiny_model, rows, template="chat", system_prompt="Sei kurz."), progress=False)
    [record] = [json.loads(line) for line in (out / "train.jsonl").read_text(encoding="utf-8").splitlines()]
    assert record["prompt"] == ("<|im_start|>system\nSei kurz.<|im_end|>\n<|im_start|>user\nÜbersetze ins Englische:"
                                "\n\nHund<|im_end|>\n<|im_start|>assistant\n")
    assert record["completion"] == "dog"


def test_chat_template_needs_one(tmp_path, tiny_model):
    import shutil

    bare = tmp_path / "bare"
    shutil.copytree(tiny_model, bare)
    config = json.loads((bare / "tokenizer_config.json").read_text(encoding="utf-8"))
    config.pop("chat_template", None)
    (bare / "tokenizer_config.json").write_text(json.dumps(config), encoding="utf-8")
    for extra in bare.glob("chat_template.*"):
        extra.unlink()
    with pytest.raises(InputError, match="has no chat template"):
        build_data(make(tmp_path, str(bare), [{"instruction": "a", "output": "b"}], template="chat"), progress=False)
