"""`polyalign train --nproc 2 --strategy ddp|fsdp` on CPU (gloo): the same loss curve and weights as one
process, uneven data handled, and a SIGKILLed sharded run resumes to the uninterrupted run's weights.

One recipe serves every test: 21 examples in steps of 8 (3 steps per epoch, the last one of 5), so
with 2 processes × 2 micro-batches of 2 one process computes a placeholder micro-batch in the last
step of every epoch; 5 held-out examples split unevenly too.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest
import yaml
from safetensors.torch import load_file

from polyalign.config import load_config
from polyalign.train.config import TrainRecipe
from polyalign.train.recipe import run_recipe

pytestmark = pytest.mark.e2e  # every test launches `polyalign train --nproc` in subprocesses

N_TRAIN, EPOCHS = 21, 4
STEPS = EPOCHS * 3
LORA = {"r": 4, "alpha": 8, "dropout": 0.0, "target_modules": ["q_proj", "v_proj"]}
WORDS = ["apple", "dog", "fish", "house", "Apfel", "猫", "книга", "casa"]


def _write_data(path: Path, n: int, seed: int) -> str:
    import random

    rng = random.Random(seed)
    with path.open("w", encoding="utf-8") as handle:
        for i in range(n):
            words = " ".join(rng.choice(WORDS) for _ in range(rng.randint(1, 4)))
            handle.write(json.dumps({"id": f"toy/{i}", "lang": "en", "source": "toy",
                                     "prompt": f"Repeat twice: {words}\n### Response:",
                                     "completion": f" {words} {words}"}, ensure_ascii=False) + "\n")
    return str(path)


@pytest.fixture(scope="module")
def recipes(tmp_path_factory, tiny_model) -> dict[str, str]:
    """A full fine-tuning and a LoRA recipe (no dropout: each process draws its own masks, so with dropout
    2 processes cannot follow 1 exactly; restoring RNG state on resume is tested in one process)."""
    root = tmp_path_factory.mktemp("parallel")
    train, dev = _write_data(root / "train.jsonl", N_TRAIN, 0), _write_data(root / "dev.jsonl", 5, 1)
    stage = {"name": "sft", "type": "sft", "data": train, "eval_data": dev, "eval_steps": 6, "epochs": EPOCHS,
             "batch_size": 8, "micro_batch_size": 2, "learning_rate": 3e-3, "warmup_ratio": 0.0}
    paths = {}
    for kind, extra in (("full", {}), ("lora", {"finetune": "lora", "lora": LORA})):
        # fp32: parity is about the distributed arithmetic; bf16 autocast (precision auto on a CPU with
        # native bf16) rounds partial sums differently per process count, by ~3e-4 on these curves
        recipe = {"name": f"toy-{kind}", "model": tiny_model, "out": str(root / kind / "one"), "seed": 7,
                  "precision": "fp32", "save_steps": 2, "stages": [{**stage, **extra}]}
        paths[kind] = str(root / f"{kind}.yaml")
        Path(paths[kind]).write_text(yaml.safe_dump(recipe, allow_unicode=True), encoding="utf-8")
    return paths


def _command(recipe: str, out: Path, strategy: str, *flags: str, overrides: tuple[str, ...] = ()) -> list[str]:
    return [sys.executable, "-m", "polyalign.cli.main", "train", recipe, f"out={out}", *overrides, "--nproc", "2",
            "--strategy", strategy, "--no-progress", *flags]


def _launch(recipe: str, out: Path, strategy: str, *flags: str) -> subprocess.CompletedProcess:
    # A hang (a process waiting forever in a collective) fails here by timeout.
    done = subprocess.run(_command(recipe, out, strategy, *flags), capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    return done


@pytest.fixture(scope="module")
def runs(recipes) -> dict[str, Path]:
    """Each recipe in one process (in-process) and with 2 processes under each strategy, uninterrupted."""
    out = {}
    for kind, recipe in recipes.items():
        out[f"{kind}/one"] = run_recipe(load_config(TrainRecipe, recipe), progress=False)
    for kind, strategy in (("full", "ddp"), ("full", "fsdp"), ("lora", "fsdp")):
        out[f"{kind}/{strategy}"] = Path(recipes[kind]).parent / kind / strategy
        done = _launch(recipes[kind], out[f"{kind}/{strategy}"], strategy)
        assert "on 2 process(es)" in done.stderr
    return out


def _metrics(run: Path) -> tuple[list[dict], list[dict]]:
    lines = [json.loads(line) for line in (run / "sft" / "metrics.jsonl").read_text().splitlines()]
    return [m for m in lines if "loss" in m], [m for m in lines if "eval_loss" in m]


def _weights(run: Path, kind: str) -> dict:
    return load_file(run / "sft" / ("model/model.safetensors" if kind == "full" else "adapter/adapter_model.safetensors"))


def _max_difference(a: dict, b: dict) -> float:
    assert set(a) == set(b)
    return max((a[k] - b[k]).abs().max().item() for k in a)


@pytest.mark.parametrize("kind, strategy", [("full", "ddp"), ("full", "fsdp"), ("lora", "fsdp")])
def test_two_processes_follow_the_one_process_loss_curve(runs, kind, strategy):
    one_steps, one_evals = _metrics(runs[f"{kind}/one"])
    two_steps, two_evals = _metrics(runs[f"{kind}/{strategy}"])
    assert [m["step"] for m in two_steps] == list(range(1, STEPS + 1))
    # Tolerance: 1e-4 absolute per step (all-reduce / reduce-scatter change float32 summation order only).
    assert [m["loss"] for m in two_steps] == pytest.approx([m["loss"] for m in one_steps], abs=1e-4)
    assert [m["eval_loss"] for m in two_evals] == pytest.approx([m["eval_loss"] for m in one_evals], abs=1e-4)
    assert _max_difference(_weights(runs[f"{kind}/one"], kind), _weights(runs[f"{kind}/{strategy}"], kind)) <= 1e-4
    # The output is the same plain Hugging Face folder however training was sharded.
    assert sorted(p.name for p in (runs[f"{kind}/{strategy}"] / "sft" / "model").iterdir()) == \
        sorted(p.name for p in (runs[f"{kind}/one"] / "sft" / "model").iterdir())


@pytest.mark.parametrize("strategy", ["ddp", "fsdp"])
def test_uneven_data_across_processes_is_neither_dropped_nor_hangs(runs, strategy):
    steps, evals = _metrics(runs[f"full/{strategy}"])  # the launch finished within its timeout: no hang
    # Every example of every epoch was trained on, the partial last steps included.
    assert [m["examples"] for m in steps] == [8, 8, 5] * EPOCHS
    one_steps, one_evals = _metrics(runs["full/one"])
    assert [m["target_tokens"] for m in steps] == [m["target_tokens"] for m in one_steps]
    # Every held-out token was scored once, though 5 examples in micro-batches of 2 do not split evenly.
    assert {m["eval_tokens"] for m in evals} == {one_evals[0]["eval_tokens"]}


def _kill_one_process_after_checkpoint(command: list[str], checkpoint: Path) -> None:
    parent = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 300
    while not checkpoint.is_dir():
        assert parent.poll() is None and time.monotonic() < deadline, "the run ended before the checkpoint"
        time.sleep(0.01)
    workers = [p for p in psutil.Process(parent.pid).children(recursive=True)
               if p.environ().get("RANK") == "1" and "polyalign.cli.main" in p.cmdline()]
    assert len(workers) == 1, workers
    os.kill(workers[0].pid, signal.SIGKILL)
    assert parent.wait(timeout=120) == 1  # the launcher stops the survivor and reports a failure


@pytest.mark.parametrize("kind", ["full", "lora"])
def test_sigkill_of_one_fsdp_process_then_resume_reproduces_the_uninterrupted_run(runs, recipes, kind):
    out = Path(recipes[kind]).parent / kind / "killed"
    _kill_one_process_after_checkpoint(_command(recipes[kind], out, "fsdp"), out / "sft" / "checkpoints" / "step-000004")
    assert not (out / "run.json").exists()
    assert (out / "sft" / "checkpoints" / "step-000004" / "dcp" / ".metadata").is_file()  # sharded (DCP) checkpoint

    done = _launch(recipes[kind], out, "fsdp", "--resume")
    resumed_after = int(re.search(r"resuming after step (\d+)", done.stderr).group(1))
    assert resumed_after >= 4  # it continued from a checkpoint: from scratch would match the reference too
    # Tolerance: 1e-6 absolute (CPU float32 kernels are deterministic; observed difference 0).
    assert _max_difference(_weights(out, kind), _weights(runs[f"{kind}/fsdp"], kind)) <= 1e-6
    resumed, _ = _metrics(out)
    uninterrupted, _ = _metrics(runs[f"{kind}/fsdp"])
    assert [m["loss"] for m in resumed] == pytest.approx([m["loss"] for m in uninterrupted], abs=1e-6)


def test_zero_without_deepspeed_is_bad_input_naming_the_extra(monkeypatch):
    from polyalign.errors import InputError
    from polyalign.train.parallel import make_accelerator

    monkeypatch.setitem(sys.modules, "deepspeed", None)  # as on a machine without the `gpu` extra
    with pytest.raises(InputError, match=r"--strategy zero3 needs DeepSpeed: pip install 'polyalign\[gpu\]'"):
        make_accelerator("fp32", "zero3")


def test_divergence_in_launched_processes_exits_2_with_one_error_line(recipes, tmp_path):
    """Every process diverges at the same step; the launcher reports it once, as bad input (see TrainingDiverged)."""
    command = _command(recipes["full"], tmp_path / "nan", "fsdp",
                       overrides=("stages.0.learning_rate=1e30", "stages.0.max_grad_norm=0.0"))
    done = subprocess.run(command, capture_output=True, text=True, timeout=300)
    errors = [line for line in done.stderr.splitlines() if line.startswith("polyalign: error: ")]
    assert done.returncode == 2 and "Traceback" not in done.stderr, done.stderr[-3000:]
    assert len(errors) == 1 and re.search(r"stage 'sft' step \d+: the (loss|gradient norm) is (nan|inf)", errors[0])
