"""End to end: the real `polyalign train` command — stages, outputs, bad input, NaN, kill -9 + resume, 2 processes."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
from support.cli import run_cli
from safetensors.torch import load_file

from polyalign.config import load_config
from polyalign.train.config import TrainRecipe
from polyalign.train.recipe import run_recipe

LORA = {"r": 4, "alpha": 8, "dropout": 0.0, "target_modules": ["q_proj", "v_proj"]}


def _errors(done: subprocess.CompletedProcess) -> list[str]:
    assert "Traceback" not in done.stderr, done.stderr
    return [line for line in done.stderr.splitlines() if line.startswith("polyalign: error: ")]


def _run_in_process(recipe: str, out: Path) -> Path:
    return run_recipe(load_config(TrainRecipe, recipe, [f"out={out}"]), progress=False)


@pytest.mark.e2e
def test_cli_trains_cpt_then_two_lora_stages_and_the_output_generates(tmp_path, toy_data, write_recipe, stage,
                                                                      read_metrics):
    from peft import PeftModel
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from polyalign.models.loading import load_model

    text, sft = toy_data("text.jsonl", n=16, kind="cpt"), toy_data(n=16, seed=1)
    dev = toy_data("dev.jsonl", n=6, seed=2)
    recipe = write_recipe([
        {"name": "cpt", "type": "cpt", "data": text, "epochs": 1, "batch_size": 8, "micro_batch_size": 4,
         "max_length": 256, "learning_rate": 1e-3, "warmup_ratio": 0.0},
        stage(sft, name="sft-1", finetune="lora", lora=LORA, eval_data=dev, eval_steps=2, learning_rate=5e-3),
        stage(sft, name="sft-2", finetune="lora", continue_adapter=True, max_steps=2, learning_rate=5e-3),
    ], save_steps=2)
    done = run_cli("train", recipe, "--no-progress")
    assert done.returncode == 0, done.stderr
    run = tmp_path / "run"
    assert f"trained toy → {run / 'sft-2' / 'model'}" in done.stdout
    assert load_config(TrainRecipe, run / "config.yaml").stages[2].continue_adapter  # resolved recipe saved
    summary = json.loads((run / "run.json").read_text())
    assert [s["steps"] for s in summary["stages"]] == [2, 4, 2]
    lines = read_metrics(run, "sft-1")
    steps = [m for m in lines if "loss" in m]
    assert [m["step"] for m in steps] == [1, 2, 3, 4] and all(m["padding_waste"] == 0 for m in steps)
    assert {"lr", "grad_norm", "tokens_per_s", "epoch", "tokens"} <= set(steps[0])
    assert [m["step"] for m in lines if "eval_loss" in m] == [2, 4]
    assert not (run / "sft-1" / "checkpoints").exists()  # a finished stage's checkpoints are removed

    # The final model: plain transformers, polyalign's loader, and base + adapter all agree.
    final = run / "sft-2" / "model"
    model = AutoModelForCausalLM.from_pretrained(final)
    tokenizer = AutoTokenizer.from_pretrained(final)
    prompt = tokenizer("Repeat twice: dog\n### Response:", return_tensors="pt")
    generated = model.generate(**prompt, max_new_tokens=5, do_sample=False)
    assert generated.shape[1] > prompt["input_ids"].shape[1]
    adapter_config = json.loads((run / "sft-2" / "adapter" / "adapter_config.json").read_text())
    assert Path(adapter_config["base_model_name_or_path"]) == run / "cpt" / "model"  # stage II trained on cpt's output
    with torch.no_grad():
        merged = load_model(str(final))(**prompt).logits
        base = load_model(str(run / "cpt" / "model"))
        stacked = PeftModel.from_pretrained(base, run / "sft-2" / "adapter")(**prompt).logits
    assert torch.allclose(merged, stacked, atol=1e-4)

    again = run_cli("train", recipe, "--no-progress")
    assert again.returncode == 2 and "holds a finished run; pass --overwrite" in _errors(again)[0]


BAD = {
    "unknown stage type": ({"type": "dpo"}, None,
                           r"field stages\[0\]\.type: expected one of 'cpt' \| 'sft', got 'dpo'"),
    "missing data file": ({"data": "nowhere.jsonl"}, None, r"nowhere\.jsonl: file not found \(stages\[0\]\.data\)"),
    "data without completion": ({}, '{"id": "a", "lang": "en", "source": "s", "prompt": "p"}\n',
                                r"train\.jsonl:1: missing or non-string field\(s\) completion"),
    "LoRA target that does not exist": ({"finetune": "lora", "lora": {"target_modules": ["qkv_proj"]}}, None,
                                        r"stages\[0\]\.lora\.target_modules: the model has no module 'qkv_proj'; "
                                        r"it has: .*q_proj"),
    "NaN loss": ({"learning_rate": 1e30, "max_grad_norm": 0.0, "batch_size": 2}, None,
                 r"stage 'sft' step \d+: the (loss|gradient norm) is (nan|inf)"),
}


@pytest.mark.e2e
@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_input_exits_2_with_one_clear_line(tmp_path, toy_data, write_recipe, stage, case):
    fields, content, message = BAD[case]
    data = toy_data(n=8)
    if content is not None:
        Path(data).write_text(content, encoding="utf-8")
    done = run_cli("train", write_recipe([stage(data, **fields)]), "--no-progress")  # fields may replace data
    errors = _errors(done)
    assert done.returncode == 2 and len(errors) == 1, done.stderr
    assert re.search(message, errors[0]), errors[0]
    assert not (tmp_path / "run" / "run.json").exists()


@pytest.mark.e2e
def test_resume_after_kill_9_reproduces_the_uninterrupted_run(tmp_path, toy_data, write_recipe, stage, read_metrics):
    # LoRA dropout on: the dropout masks after the resume come from the restored RNG state.
    recipe = write_recipe([stage(toy_data(n=16), epochs=3, finetune="lora", learning_rate=3e-3,
                                 lora={**LORA, "dropout": 0.2})], save_steps=2)
    reference = _run_in_process(recipe, tmp_path / "reference")

    run = tmp_path / "run"
    process = subprocess.Popen([sys.executable, "-m", "polyalign.cli.main", "train", recipe, "--no-progress"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 300
    while not (run / "sft" / "checkpoints" / "step-000004").is_dir():
        assert process.poll() is None and time.monotonic() < deadline, "the run ended before its second checkpoint"
        time.sleep(0.01)
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    assert not (run / "run.json").exists()  # killed mid-run, 12 steps in all

    done = run_cli("train", recipe, "--resume", "--no-progress")
    assert done.returncode == 0, done.stderr
    resumed_after = int(re.search(r"resuming after step (\d+)", done.stderr).group(1))
    assert resumed_after >= 4  # it continued from a checkpoint: from scratch would match the reference too
    ours = load_file(run / "sft" / "adapter" / "adapter_model.safetensors")
    theirs = load_file(reference / "sft" / "adapter" / "adapter_model.safetensors")
    # Tolerance: 1e-6 absolute (CPU float32 kernels are deterministic; observed difference 0).
    assert max((ours[k] - theirs[k]).abs().max().item() for k in theirs) <= 1e-6
    resumed = [m["loss"] for m in read_metrics(run, "sft")]
    uninterrupted = [m["loss"] for m in read_metrics(reference, "sft")]
    assert len(resumed) == 12 and resumed == pytest.approx(uninterrupted, abs=1e-6)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.mark.e2e
def test_two_processes_follow_the_one_process_loss_curve(tmp_path, toy_data, write_recipe, stage, read_metrics):
    """``accelerate launch`` with 2 CPU processes (gloo) and the same effective batch of 8.

    accelerate 1.x starts several CPU processes only through its multi-process launcher
    (``--multi_gpu``; with ``--cpu`` it starts one unless mpirun is used); polyalign picks gloo on
    the CPU when there is no CUDA or ACCELERATE_USE_CPU=true.
    """
    recipe = write_recipe([stage(toy_data(n=24), batch_size=8, micro_batch_size=2)])
    one = _run_in_process(recipe, tmp_path / "one")  # 1 process × 4 micro-batches of 2, 3 steps
    two = tmp_path / "two"  # 2 processes × 2 micro-batches of 2
    done = subprocess.run(
        [sys.executable, "-m", "accelerate.commands.launch", "--multi_gpu", "--num_processes", "2", "--num_machines",
         "1", "--mixed_precision", "no", "--dynamo_backend", "no", "--main_process_port", str(_free_port()),
         "-m", "polyalign.cli.main", "train", recipe, f"out={two}", "--no-progress"],
        capture_output=True, text=True, timeout=600, env={**os.environ, "ACCELERATE_USE_CPU": "true"})
    assert done.returncode == 0, done.stderr[-3000:]
    assert "on 2 process(es)" in done.stderr
    curve_one = [m["loss"] for m in read_metrics(one, "sft")]
    curve_two = [m["loss"] for m in read_metrics(two, "sft")]
    # Tolerance: 1e-5 absolute per step (gradient all-reduce changes float32 summation order only).
    assert len(curve_one) == 3 and curve_two == pytest.approx(curve_one, abs=1e-5)
    a = load_file(one / "sft" / "model" / "model.safetensors")
    b = load_file(two / "sft" / "model" / "model.safetensors")
    assert max((a[k] - b[k]).abs().max().item() for k in a) <= 1e-5
