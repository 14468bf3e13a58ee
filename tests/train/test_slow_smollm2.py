"""Slow: the shipped CPU recipe (LoRA, QAlign stage I → II) on SmolLM2-135M-Instruct with real stage-I pairs."""

from __future__ import annotations

import json
import math

import pytest
from support.cli import run_cli


@pytest.mark.e2e
@pytest.mark.slow
def test_shipped_lora_recipe_trains_smollm2_on_real_pairs_and_the_result_generates(tmp_path, shared_data):
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from polyalign.models.loading import load_model

    stage1, stage2, run = tmp_path / "stage1", tmp_path / "stage2", tmp_path / "run"
    built = run_cli("data", "build", "qalign-stage1", f"data_root={shared_data / 'qalign-question-pairs'}",
                    "langs=[de,zh]", "sources.0.limit=40", "dev_size=8", f"out={stage1}", "--no-progress")
    assert built.returncode == 0, built.stderr
    built = run_cli("data", "build", "qalign-stage2-gsm8k", "sources.0.path=builtin:samples/math-cot/train.jsonl",
                    "sources.0.subset=null", f"out={stage2}", "--no-progress")
    assert built.returncode == 0, built.stderr

    # LoRA on this model trains at ~60 tokens/s (1 thread, busy machine) to ~170 (idle): 3 + 1 steps
    # of 8 examples (~4K tokens) keep the whole test within about two minutes.
    done = run_cli("train", "qalign-smollm2-lora", f"out={run}", f"stages.0.data={stage1 / 'train.jsonl'}",
                   f"stages.0.eval_data={stage1 / 'dev.jsonl'}", "stages.0.batch_size=8", "stages.0.max_steps=3",
                   "stages.0.eval_steps=2", f"stages.1.data={stage2 / 'train.jsonl'}", "stages.1.max_steps=1",
                   "--no-progress")
    assert done.returncode == 0, done.stderr
    summary = json.loads((run / "run.json").read_text())
    first, second = summary["stages"]
    assert first["examples"] == 72 and first["dropped"] == 0
    assert math.isfinite(first["train_loss"]) and math.isfinite(second["train_loss"])
    lines = [json.loads(line) for line in (run / "question-alignment" / "metrics.jsonl").read_text().splitlines()]
    evals = [m["eval_loss"] for m in lines if "eval_loss" in m]
    assert len(evals) == 2 and all(math.isfinite(e) for e in evals)
    print("\nSmolLM2 LoRA:", [f"{m['tokens_per_s']:.0f} tok/s" for m in lines if "loss" in m], "eval", evals)

    final = run / "response-alignment" / "model"
    tokenizer = AutoTokenizer.from_pretrained(final)
    model = AutoModelForCausalLM.from_pretrained(final)
    prompt = ("Below is an instruction that describes a task. Write a response that appropriately completes the "
              "request.\n\n### Instruction:\nTom has 3 apples and buys 4 more. How many apples does he have?\n\n"
              "### Response:")
    inputs = tokenizer(prompt, return_tensors="pt")
    output = model.generate(**inputs, max_new_tokens=24, do_sample=False)
    text = tokenizer.decode(output[0, inputs["input_ids"].shape[1]:], skip_special_tokens=True)
    assert text.strip(), "the trained model generated nothing"
    assert load_model(str(final)).config.vocab_size == model.config.vocab_size
