"""`polyalign plan`'s memory estimate vs the peak memory a real training run reaches on this CPU.

Each case trains a few optimizer steps of further pretraining (every position scored, micro-batches
of full max_length rows: the worst case the plan assumes) in a fresh process, and measures the
increase of the process's resident memory from just before the model is loaded to its peak during
training (RSS sampled every 5 ms, and the kernel's own high-water mark, whichever is larger). The plan
is computed for the same recipe with `polyalign.scaleout.plan_recipe(..., cuda=False)`. Reported:
plan, measured (median over repeats) and the error (plan − measured) / measured, twice:

- ``glibc``: the default allocator. glibc raises its mmap threshold after large frees, so freed
  activation buffers stay in the heap and RSS keeps memory no tensor holds (up to +35% here);
- ``mmap``: the same run with ``MALLOC_MMAP_THRESHOLD_=131072`` (fixed threshold: large buffers go
  back to the system when freed), so RSS follows the live tensors the plan counts.

Cases: the tiny test model (full and LoRA) and SmolLM2-135M-Instruct (LoRA, full fp32, full with
bf16 autocast); the 135M cases need the embedded model (`polyalign models pull smollm2-135m-instruct`)
and are skipped without it.

    python benchmarks/plan_vs_peak.py                       # every case once
    python benchmarks/plan_vs_peak.py --cases tiny-full,135m-lora --repeats 3
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

CASES = {
    # name: (model, finetune, precision, micro_batch_size, max_length)
    "tiny-full": ("tiny", "full", "fp32", 4, 512),
    "tiny-lora": ("tiny", "lora", "fp32", 4, 512),
    "135m-lora": ("smollm2-135m-instruct", "lora", "fp32", 4, 512),
    "135m-lora-mb2": ("smollm2-135m-instruct", "lora", "fp32", 2, 512),
    "135m-full": ("smollm2-135m-instruct", "full", "fp32", 2, 512),
    "135m-full-bf16": ("smollm2-135m-instruct", "full", "bf16", 2, 512),
}


def _rss() -> int:
    with open("/proc/self/statm", encoding="ascii") as handle:
        return int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def _write_text(path: Path, n: int, seed: int = 0) -> None:
    rng = random.Random(seed)
    words = ("the house river time year world city apple number answer question because then water "
             "Haus Fluss Zeit Jahr Welt Stadt Apfel Zahl Antwort Frage weil dann Wasser").split()
    with path.open("w", encoding="utf-8") as handle:
        for i in range(n):
            text = " ".join(rng.choice(words) for _ in range(3000))
            handle.write(json.dumps({"text": text, "lang": "en", "source": "bench", "id": f"b/{i}"}) + "\n")


def _recipe(case: str, model: str, data: Path, out: Path, steps: int):
    from polyalign.train.config import LoraSettings, StageConfig, TrainRecipe

    _, finetune, precision, micro, length = CASES[case]
    lora = LoraSettings(target_modules=["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"])
    stage = StageConfig(name="cpt", type="cpt", data=str(data), finetune=finetune, lora=lora, max_steps=steps,
                        batch_size=micro, micro_batch_size=micro, max_length=length, learning_rate=1e-4)
    return TrainRecipe(name=case, model=model, out=str(out), stages=[stage], precision=precision,
                       model_dtype="float32", save_steps=10_000)


def measure(case: str, steps: int) -> dict:
    """Train ``case`` in this process and return its peak RSS increase and the plan's estimate."""
    # Libraries are imported before the baseline: the plan estimates tensors, not code.
    import accelerate  # noqa: F401
    import peft  # noqa: F401
    import torch  # noqa: F401
    from transformers import LlamaForCausalLM  # noqa: F401

    from polyalign.models import build_tiny_llama, resolve_model
    from polyalign.scaleout import plan_recipe
    from polyalign.train import recipe as recipe_module

    model, *_ = CASES[case]
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        path = str(build_tiny_llama(tmp / "tiny")) if model == "tiny" else resolve_model(model, pull=False)
        _write_text(tmp / "train.jsonl", 8)
        recipe = _recipe(case, path, tmp / "train.jsonl", tmp / "run", steps)
        plan = plan_recipe(recipe, gpus=1, cuda=False, examples=8)
        peak, stop = [0], threading.Event()

        def sample() -> None:
            while not stop.is_set():
                peak[0] = max(peak[0], _rss())
                time.sleep(0.005)

        base = _rss()
        base_hwm = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
        train_steps, times = recipe_module.train_steps, {}

        def measured_steps(**kwargs):  # the peak of loading + training, not of writing the outputs afterwards
            result = train_steps(**kwargs)
            times["hwm"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
            stop.set()
            return result

        recipe_module.train_steps = measured_steps
        watcher = threading.Thread(target=sample, daemon=True)
        watcher.start()
        started = time.perf_counter()
        recipe_module.run_recipe(recipe, progress=False)
        seconds = time.perf_counter() - started
        watcher.join()
        hwm = times["hwm"]
        measured = max(peak[0], hwm if hwm > base_hwm else 0) - base
        memory = plan.stages[0].memory
        return {"case": case, "plan_bytes": memory.total, "measured_bytes": measured, "seconds": seconds,
                "plan_parts": memory.as_dict(), "params": plan.arch.params}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cases", default=",".join(CASES), help="comma-separated cases")
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--steps", type=int, default=2, help="optimizer steps per run (peak is reached in step 1-2)")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--one", help=argparse.SUPPRESS)  # internal: measure one case in this process
    args = parser.parse_args()
    if args.one:
        import torch

        torch.set_num_threads(args.threads)
        print(json.dumps(measure(args.one, args.steps)))
        return
    from polyalign.models import zoo

    mib = 1024 ** 2
    print(f"{'case':16} {'plan MiB':>9}  {'glibc MiB':>7} {'error':>7}  {'mmap MiB':>7} {'error':>7}   "
          f"(median of {args.repeats}; plan parts MiB)")
    for case in args.cases.split(","):
        if CASES[case][0] != "tiny" and not zoo.is_pulled(CASES[case][0]):
            print(f"{case:16} skipped: polyalign models pull {CASES[case][0]}")
            continue
        measured, runs = {}, []
        for allocator, env in (("glibc", {}), ("mmap", {"MALLOC_MMAP_THRESHOLD_": "131072"})):
            for _ in range(args.repeats):
                done = subprocess.run([sys.executable, __file__, "--one", case, "--steps", str(args.steps),
                                       "--threads", str(args.threads)], capture_output=True, text=True, check=True,
                                      env={**os.environ, **env})
                runs.append(json.loads(done.stdout.strip().splitlines()[-1]))
            measured[allocator] = statistics.median(r["measured_bytes"] for r in runs[-args.repeats:])
        plan = runs[0]["plan_bytes"]
        parts = runs[0]["plan_parts"]
        detail = " ".join(f"{k[:4]}={parts[k] / mib:.0f}" for k in ("weights", "gradients", "optimizer",
                                                                     "activations", "buffers"))
        cells = "  ".join(f"{measured[a] / mib:7.0f} {(plan - measured[a]) / measured[a]:+7.1%}" for a in measured)
        print(f"{case:16} {plan / mib:9.0f}  {cells}   {detail}", flush=True)


if __name__ == "__main__":
    main()
