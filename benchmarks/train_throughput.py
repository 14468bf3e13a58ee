"""Training throughput and padding waste: polyalign's packed loop vs a plain padded Hugging Face Trainer.

Same tiny Llama, same instruction data (lengths spread like Alpaca-style mixtures: short and long
examples), same micro-batch of examples, same optimizer and number of steps. Baseline: the stock
``Trainer`` with ``DataCollatorForSeq2Seq`` (right padding to the longest example of each batch,
prompt labels -100), no length grouping, as the papers' Alpaca-style scripts train. Reported:
real (non-padding) tokens per second of the training loop, median over repeats, the ratio, and
the share of computed positions that were padding.

    python benchmarks/train_throughput.py                       # 3 repeats × 30 steps
    python benchmarks/train_throughput.py --repeats 5 --steps 50 --threads 2
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import tempfile
import time
from pathlib import Path

import torch


def write_data(path: Path, n: int, seed: int = 0) -> None:
    """Instruction examples whose lengths vary ~20× (as real instruction mixtures do)."""
    rng = random.Random(seed)
    words = "the a house river time year world city apple number answer question because then".split()
    with path.open("w", encoding="utf-8") as handle:
        for i in range(n):
            prompt = "### Instruction:\n" + " ".join(rng.choices(words, k=rng.randint(3, 60))) + "\n### Response:"
            completion = " " + " ".join(rng.choices(words, k=int(rng.lognormvariate(3.0, 0.9)) + 1))
            handle.write(json.dumps({"id": str(i), "lang": "en", "source": "b", "prompt": prompt,
                                     "completion": completion}) + "\n")


def run_polyalign(model_dir: str, data_path: Path, out: Path, *, steps: int, micro: int, lr: float) -> dict:
    from polyalign.config import load_config
    from polyalign.train.config import TrainRecipe
    from polyalign.train.metrics import read_metrics
    from polyalign.train.recipe import run_recipe

    recipe = load_config(TrainRecipe, None, base={
        "name": "bench", "model": model_dir, "out": str(out), "precision": "fp32", "save_steps": 10**9,
        "stages": [{"name": "sft", "type": "sft", "data": str(data_path), "batch_size": micro,
                    "micro_batch_size": micro, "max_steps": steps, "learning_rate": lr, "warmup_ratio": 0.0,
                    "max_length": 512}]})
    run_recipe(recipe, overwrite=True, progress=False)
    lines = read_metrics(out / "sft" / "metrics.jsonl")
    tokens = sum(m["tokens"] for m in lines)
    # elapsed_s of the last step = wall time of the whole loop (steps, collation, optimizer)
    return {"tokens_per_s": tokens / lines[-1]["elapsed_s"],
            "padding_waste": statistics.fmean(m["padding_waste"] for m in lines)}


def run_hf_trainer(model_dir: str, data_path: Path, out: Path, *, steps: int, micro: int, lr: float) -> dict:
    from transformers import DataCollatorForSeq2Seq, Trainer, TrainingArguments

    from polyalign.models.loading import load_model, load_tokenizer
    from polyalign.train.data import tokenize_file

    tokenizer = load_tokenizer(model_dir)
    data = tokenize_file(data_path, "sft", tokenizer, 512)
    rows = []
    for i in range(len(data)):
        ids, prompt_len = data.example(i)
        labels = ids.tolist()
        labels[:prompt_len] = [-100] * prompt_len
        rows.append({"input_ids": ids.tolist(), "labels": labels})
    collate = DataCollatorForSeq2Seq(tokenizer, padding=True)
    counts = {"real": 0, "computed": 0}

    def counting_collate(features):
        batch = collate(features)
        counts["real"] += int(batch["attention_mask"].sum())
        counts["computed"] += batch["attention_mask"].numel()
        return batch

    args = TrainingArguments(output_dir=str(out), per_device_train_batch_size=micro, max_steps=steps,
                             learning_rate=lr, lr_scheduler_type="cosine", warmup_steps=0, weight_decay=0.0,
                             logging_strategy="no", save_strategy="no", report_to="none", use_cpu=True,
                             dataloader_num_workers=0, seed=1234, disable_tqdm=True)
    trainer = Trainer(model=load_model(model_dir), args=args, train_dataset=rows, data_collator=counting_collate)
    start = time.perf_counter()
    trainer.train()
    seconds = time.perf_counter() - start
    return {"tokens_per_s": counts["real"] / seconds, "padding_waste": 1 - counts["real"] / counts["computed"]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--steps", type=int, default=30)
    parser.add_argument("--micro", type=int, default=8, help="examples per forward pass (both trainers)")
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads (1 is fastest on a busy machine)")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    from transformers.utils import logging as hf_logging

    from polyalign.models.tiny import build_tiny_llama

    hf_logging.disable_progress_bar()
    hf_logging.set_verbosity_error()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        model_dir = str(build_tiny_llama(tmp / "model", hidden=128, layers=4, heads=4, vocab_size=2048))
        data_path = tmp / "train.jsonl"
        write_data(data_path, n=args.steps * args.micro)
        results: dict[str, list[dict]] = {"polyalign packed": [], "HF Trainer padded": []}
        for repeat in range(args.repeats):  # interleaved, so drifting machine load hits both alike
            results["polyalign packed"].append(run_polyalign(model_dir, data_path, tmp / f"p{repeat}", steps=args.steps,
                                                             micro=args.micro, lr=1e-4))
            results["HF Trainer padded"].append(run_hf_trainer(model_dir, data_path, tmp / f"h{repeat}",
                                                               steps=args.steps, micro=args.micro, lr=1e-4))
    print(f"tiny Llama (hidden 128, 4 layers), {args.steps} steps × {args.micro} examples, {args.repeats} repeats, "
          f"{args.threads} thread(s)")
    medians = {}
    for name, runs in results.items():
        medians[name] = statistics.median(r["tokens_per_s"] for r in runs)
        waste = statistics.median(r["padding_waste"] for r in runs)
        each = ", ".join(f"{r['tokens_per_s']:.0f}" for r in runs)
        print(f"  {name:20s} {medians[name]:9.0f} tokens/s (median; runs: {each})   padding waste {waste:.1%}")
    print(f"  ratio polyalign / HF Trainer: {medians['polyalign packed'] / medians['HF Trainer padded']:.2f}×")


if __name__ == "__main__":
    main()
