"""Training in-process on the tiny model: held-out loss falls, new-token rows train, shipped recipes are valid."""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path

import pytest
from safetensors.torch import load_file

from polyalign.config import load_config
from polyalign.models.loading import load_model
from polyalign.train.config import TrainRecipe
from polyalign.train.data import tokenize_file
from polyalign.train.loop import evaluate
from polyalign.train.recipe import make_accelerator, run_recipe


def test_held_out_loss_falls_on_a_learnable_toy_set(tmp_path, tiny_model, tiny_tokenizer, toy_data, write_recipe,
                                                   stage, read_metrics):
    dev = toy_data("dev.jsonl", n=12, seed=9)
    recipe = write_recipe([stage(toy_data(n=48), eval_data=dev, epochs=4, batch_size=8, micro_batch_size=8,
                                 learning_rate=1e-2, eval_steps=4)])
    out = run_recipe(load_config(TrainRecipe, recipe), progress=False)
    evals = [m["eval_loss"] for m in read_metrics(out, "sft") if "eval_loss" in m]
    assert len(evals) == 6  # every 4 steps of 24, the last one at the end
    untrained = evaluate(make_accelerator("fp32"), load_model(tiny_model),
                         tokenize_file(dev, "sft", tiny_tokenizer, 512), micro_batch_size=8, packing=True,
                         pad_id=tiny_tokenizer.pad_token_id, capacity=512)["eval_loss"]
    # The dev prompts hold word combinations never seen in training: a fall is generalisation
    # (untrained ≈ ln 512 ≈ 6.2 nats; trained ≈ 3).
    assert evals[-1] < evals[0] and evals[-1] < 0.6 * untrained, (untrained, evals)
    assert json.loads((out / "run.json").read_text())["stages"][0]["eval_loss"] == pytest.approx(evals[-1])


def test_trainable_token_rows_are_the_only_embedding_rows_that_change(tmp_path, tiny_model, tiny_tokenizer, toy_data,
                                                                      write_recipe, stage):
    data = toy_data(n=8)
    present = sorted(set(tiny_tokenizer(Path(data).read_text(encoding="utf-8"))["input_ids"]))
    rows = present[5:8]  # stand-ins for the rows a vocabulary extension appends
    lora = {"r": 4, "alpha": 8, "target_modules": ["q_proj"], "trainable_token_ids": rows}
    recipe = write_recipe([stage(data, finetune="lora", lora=lora, learning_rate=1e-2)])
    out = run_recipe(load_config(TrainRecipe, recipe), progress=False)
    before = load_file(Path(tiny_model) / "model.safetensors")["model.embed_tokens.weight"]
    after = load_file(out / "sft" / "model" / "model.safetensors")["model.embed_tokens.weight"]
    changed = (before - after).abs().amax(dim=1).nonzero()[:, 0].tolist()
    assert changed == rows


def test_a_last_lora_stage_may_keep_only_its_adapter(tiny_model, toy_data, write_recipe, stage):
    recipe = write_recipe([stage(toy_data(n=8), finetune="lora", lora={"r": 4, "target_modules": ["q_proj"]},
                                 save_merged=False)])
    out = run_recipe(load_config(TrainRecipe, recipe), progress=False)
    run = json.loads((out / "run.json").read_text(encoding="utf-8"))
    assert run["final_model"] == str(out / "sft" / "adapter") and not (out / "sft" / "model").exists()


def _shipped() -> list[Path]:
    return sorted((Path(str(resources.files("polyalign.recipes"))) / "train").glob("*.yaml"))


@pytest.mark.parametrize("path", _shipped(), ids=lambda p: p.stem)
def test_shipped_recipes_are_valid_and_quote_their_paper_setting(path):
    recipe = load_config(TrainRecipe, path)
    head = path.read_text(encoding="utf-8").splitlines()[:3]
    assert all(line.startswith("# ") for line in head)
    assert recipe.out.startswith("runs/train/")


def test_the_paper_recipes_use_the_papers_hyperparameters():
    papers = {p.stem: load_config(TrainRecipe, p) for p in _shipped() if "llama" in p.stem and "smollm" not in p.stem}
    assert papers, "no paper recipes shipped"
    for name, recipe in papers.items():
        assert recipe.seed == 1234 and recipe.precision == "bf16", name
        for stage in recipe.stages:
            if stage.type == "sft":
                assert (stage.batch_size, stage.max_length, stage.warmup_ratio, stage.lr_scheduler,
                        stage.finetune, stage.weight_decay) == (128, 512, 0.03, "cosine", "full", 0.0), name
                expected = (1e-5, 5) if name.startswith("x-llama-13b") else (2e-5, 3)
                assert (stage.learning_rate, stage.epochs) == expected, name


def test_a_gguf_base_model_trains_and_saves_plain_safetensors(tmp_path, tiny_model, toy_data, write_recipe, stage):
    from polyalign.models.gguf import write_llama_gguf
    from polyalign.models.loading import load_tokenizer

    gguf = write_llama_gguf(load_model(tiny_model), load_tokenizer(tiny_model), tmp_path / "tiny.F32.gguf")
    recipe = write_recipe([stage(toy_data(n=8), finetune="lora", lora={"r": 4, "target_modules": ["q_proj"]})],
                          model=str(gguf))
    out = run_recipe(load_config(TrainRecipe, recipe), progress=False)
    assert not list((out / "sft" / "model").glob("*.gguf")) and (out / "sft" / "model" / "model.safetensors").is_file()
    assert load_model(str(out / "sft" / "model")).config.vocab_size == load_model(tiny_model).config.vocab_size
