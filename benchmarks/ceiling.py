"""How close decoding, log-likelihood scoring and LoRA training get to this CPU's limit, today vs now.

The limit: a GEMM benchmark of the model's own linear layers (every ``nn.Linear`` once, in order,
head included) at M rows — the tokens per second a forward pass could reach if nothing but its
matrix multiplies cost time — in fp32 and bf16. Attention, norms and sampling come on top, so no
real workload reaches 100 %.

Workloads (SmolLM2-135M-Instruct by default; threads pinned, ``--threads 2``):
* decode: chat-formatted MGSM questions (8 languages in turn), greedy, ``--new-tokens`` each.
  Besides % of the GEMM ceiling at the chosen batch (the issue's measure), ``pct_of_work_ceiling``
  also counts the prefill: the prompts hold ~2.8 tokens per new token here, so even a decoder that
  cost nothing but GEMMs (prefill at the M = 512 rate) would reach only ~36 % of the batch's ceiling
  in new tokens per second.
  ``today`` = transformers ``generate`` in fp32, batch 8 (the old default); ``new`` = the lean loop
  (polyalign.infer.decode) at ``--dtype auto`` and batch ``auto``; ``new_fp32`` = the same with bf16
  forced off (what a CPU without native bf16 gets). Tokens = generated tokens (the outputs re-tokenised).
* loglik: MMLU test questions, each with its 4 options as continuations (multiple choice by option
  likelihood). ``today`` = one sequence per pair, fp32, batch 8; ``new`` = shared contexts, auto dtype
  and batch; ``new_fp32`` = shared contexts in fp32. Tokens = context + continuation tokens of every pair.
* train: the quickstart's stage-I LoRA recipe (qalign-stage1-smollm2-lora) on the stage-I sample data,
  ``--train-steps`` optimizer steps; ``today`` = precision fp32 with torch's own dropout on the
  adapters' inputs, ``new`` = precision auto (bf16 autocast with fp32 master weights where native) with
  polyalign's cheaper dropout mask (polyalign.train.dropout), ``new_fp32`` = that dropout in fp32.
  Tokens/s from the run's metrics (training tokens over the loop's wall time). % of ceiling counts a
  training token as 3 forward tokens.

Settings of one workload run interleaved (today, new, new_fp32, today, ...) in one process, ``--repeats``
times; the medians and their ratios to ``today`` are printed. One JSON line per measurement.

    python benchmarks/ceiling.py                      # everything: ~15 min on an idle 2-core machine
    python benchmarks/ceiling.py --parts decode --generate-grid   # + generate at fp32 b32, bf16 b8 / b32
    python benchmarks/ceiling.py --parts gemm,decode --batches 8,32,128
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Callable

import torch

MGSM = Path(__file__).resolve().parents[2] / "shared" / "data" / "mgsm"
MMLU = Path(__file__).resolve().parents[2] / "shared" / "data" / "mmlu" / "test"
LANGS = ["de", "fr", "es", "ru", "ja", "sw", "bn", "th"]


def emit(record: dict[str, Any]) -> None:
    print(json.dumps(record, ensure_ascii=False), flush=True)


# --- the ceiling --------------------------------------------------------------------------------

def linear_shapes(model: Any) -> list[tuple[int, int]]:
    """(in, out) of every linear layer in module order (the head included)."""
    return [(m.in_features, m.out_features) for m in model.modules() if isinstance(m, torch.nn.Linear)]


class Clock:
    """Wall time, or this process's CPU time: with one thread on a machine shared with other work,
    CPU time counts the work done and not the time spent waiting for a core (``--cpu-time``)."""

    def __init__(self, cpu_time: bool) -> None:
        self.cpu_time = cpu_time
        self.wall, self.cpu = time.perf_counter(), time.process_time()

    def stop(self) -> tuple[float, float]:
        """(the chosen clock's seconds, wall seconds)."""
        wall = time.perf_counter() - self.wall
        return (time.process_time() - self.cpu if self.cpu_time else wall), wall


def gemm_ceiling(shapes: list[tuple[int, int]], rows: int, dtype: torch.dtype, repeats: int = 3,
                 cpu_time: bool = False) -> float:
    """Tokens per second if a forward pass of ``rows`` tokens cost only its matrix multiplies (median)."""
    weights = {shape: torch.randn(shape[1], shape[0], dtype=dtype) * 0.02 for shape in set(shapes)}
    inputs = {shape[0]: torch.randn(rows, shape[0], dtype=dtype) for shape in shapes}
    times = []
    with torch.inference_mode():
        for attempt in range(repeats + 1):
            clock = Clock(cpu_time)
            for shape in shapes:
                torch.nn.functional.linear(inputs[shape[0]], weights[shape])
            if attempt:  # the first pass warms oneDNN's kernel caches
                times.append(clock.stop()[0])
    return rows / statistics.median(times)


# --- workloads ----------------------------------------------------------------------------------

def mgsm_prompts(tokenizer: Any, n: int) -> list[str]:
    pools = [[line.split("\t")[0] for line in (MGSM / f"mgsm_{lang}.tsv").read_text(encoding="utf-8").splitlines()]
             for lang in LANGS]
    questions = [pools[i % len(pools)][i // len(pools)] for i in range(n)]
    return [tokenizer.apply_chat_template([{"role": "user", "content": q}], tokenize=False, add_generation_prompt=True)
            for q in questions]


def generated_tokens(tokenizer: Any, texts: list[str]) -> int:
    """Tokens of generated texts, re-tokenised without special tokens (every engine counted alike)."""
    return sum(len(tokenizer(t, add_special_tokens=False)["input_ids"]) for t in texts)


def mmlu_pairs(n_questions: int) -> list[tuple[str, str]]:
    import csv

    pairs = []
    for path in sorted(MMLU.glob("*_test.csv")):
        with path.open(encoding="utf-8") as handle:
            for row in csv.reader(handle):
                question, options = row[0], row[1:5]
                context = f"Question: {question}\nAnswer:"
                pairs += [(context, " " + option) for option in options]
                if len(pairs) >= 4 * n_questions:
                    return pairs
                break  # one question per subject: varied lengths and topics
    return pairs


def interleaved(settings: dict[str, Callable[[], tuple[float, dict]]], repeats: int, part: str,
                ceilings: Callable[[dict], float], work_ceilings: Callable[[dict], float] | None = None) -> None:
    """Run every setting once per round; emit each measurement, then medians, ratios and % of ceiling."""
    rates: dict[str, list[float]] = {name: [] for name in settings}
    info: dict[str, dict] = {}
    for round_ in range(repeats):
        for name, run in settings.items():
            rate, extra = run()
            rates[name].append(rate)
            info[name] = extra
            emit({"part": part, "setting": name, "round": round_, "tok_s": round(rate, 1), **extra})
    base = statistics.median(rates["today"])
    for name, values in rates.items():
        median = statistics.median(values)
        ceiling = ceilings(info[name])
        work = {}
        if work_ceilings is not None:
            limit = work_ceilings(info[name])
            work = {"work_ceiling_tok_s": round(limit, 1), "pct_of_work_ceiling": round(100 * median / limit, 1)}
        emit({"part": part, "setting": name, "median_tok_s": round(median, 1), "ratio_vs_today": round(median / base, 2),
              "ceiling_tok_s": round(ceiling, 1), "pct_of_ceiling": round(100 * median / ceiling, 1), **work,
              **info[name]})


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default="smollm2-135m-instruct")
    parser.add_argument("--parts", default="gemm,decode,loglik,train")
    parser.add_argument("--batches", default="8,32,128", help="M values of the GEMM ceiling table")
    parser.add_argument("--prompts", type=int, default=32)
    parser.add_argument("--new-tokens", type=int, default=64)
    parser.add_argument("--questions", type=int, default=32, help="MMLU questions (4 pairs each)")
    parser.add_argument("--train-steps", type=int, default=6)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--generate-grid", action="store_true",
                        help="decode also with transformers generate at fp32 batch 32 and bf16 batch 8 / 32 "
                             "(the issue's table of what the old path reaches)")
    parser.add_argument("--cpu-time", action="store_true",
                        help="rates from process CPU time (use with --threads 1 on a busy machine), wall rates too")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)

    from polyalign.infer.batching import MAX_PADDING, auto_batches
    from polyalign.infer.kvcache import InPlaceKV
    from polyalign.infer.decode import greedy_decode
    from polyalign.infer.generate import generate
    from polyalign.infer.loglik import encode_pair, loglikelihoods, loglikelihoods_per_pair
    from polyalign.models import load_model, load_tokenizer
    from polyalign.models.precision import resolve_dtype

    parts = set(args.parts.split(","))
    auto = resolve_dtype("auto")
    emit({"part": "setup", "model": args.model, "threads": args.threads, "auto_dtype": auto, "cpu_time": args.cpu_time,
          "torch": torch.__version__})
    models = {d: load_model(args.model, dtype=d) for d in sorted({"float32", auto})}
    tokenizer = load_tokenizer(args.model, padding_side="left")
    shapes = linear_shapes(models["float32"])
    cache: dict[tuple[str, int], float] = {}

    def ceiling(dtype: str, rows: int) -> float:
        if (dtype, rows) not in cache:
            cache[dtype, rows] = gemm_ceiling(shapes, rows, getattr(torch, dtype), args.repeats, args.cpu_time)
            emit({"part": "gemm", "dtype": dtype, "M": rows, "ceiling_tok_s": round(cache[dtype, rows], 1)})
        return cache[dtype, rows]

    if "gemm" in parts:
        for rows in map(int, args.batches.split(",")):
            for dtype in ("float32", "bfloat16"):
                ceiling(dtype, rows)

    if "decode" in parts:
        prompts = mgsm_prompts(tokenizer, args.prompts)

        def run(fn: Callable, dtype: str, batch: int | str) -> Callable[[], tuple[float, dict]]:
            def go() -> tuple[float, dict]:
                clock = Clock(args.cpu_time)
                texts = fn(models[dtype], tokenizer, prompts, max_new_tokens=args.new_tokens, batch_size=batch,
                           add_special_tokens=False)
                seconds, wall = clock.stop()
                chosen = batch if batch != "auto" else round(statistics.mean(len(b) for b in auto_batches(
                    [len(tokenizer(p, add_special_tokens=False)["input_ids"]) for p in prompts],
                    max_new_tokens=args.new_tokens, model=models[dtype],
                    max_padding=None if InPlaceKV.supports(models[dtype]) else MAX_PADDING)))  # mean width of the batches auto chose
                tokens = generated_tokens(tokenizer, texts)
                return tokens / seconds, {"dtype": dtype, "batch": chosen, "engine": fn.__name__,
                                          "tokens": tokens, "wall_tok_s": round(tokens / wall, 1)}
            return go

        prompt_tokens = sum(len(tokenizer(p, add_special_tokens=False)["input_ids"]) for p in prompts)

        def work_ceiling(info: dict) -> float:
            # The work includes the prefill of every prompt token (M = 512 stands for its wide GEMMs:
            # runs of prompts hold hundreds to thousands of tokens, and the rate is flat from M = 512 on)
            # besides one decode row per new token (M = the batch): new tokens per second if both
            # ran at their GEMM ceilings.
            ideal = prompt_tokens / ceiling(info["dtype"], 512) + info["tokens"] / ceiling(info["dtype"], info["batch"])
            return info["tokens"] / ideal

        settings = {"today": run(generate, "float32", 8), "new": run(greedy_decode, auto, "auto"),
                    "new_fp32": run(greedy_decode, "float32", "auto")}
        if args.generate_grid:
            settings.update({f"generate_{dtype}_b{batch}": run(generate, dtype, batch)
                             for dtype, batch in (("float32", 32), (auto, 8), (auto, 32))})
        interleaved(settings, args.repeats, "decode", lambda info: ceiling(info["dtype"], info["batch"]), work_ceiling)

    if "loglik" in parts:
        pairs = mmlu_pairs(args.questions)
        tokens = sum(len(c) + len(k) for c, k in (encode_pair(tokenizer, *p) for p in pairs))

        def score(fn: Callable, dtype: str, batch: int | str) -> Callable[[], tuple[float, dict]]:
            def go() -> tuple[float, dict]:
                clock = Clock(args.cpu_time)
                fn(models[dtype], tokenizer, pairs, batch_size=batch)
                seconds, wall = clock.stop()
                return tokens / seconds, {"dtype": dtype, "batch": batch, "engine": fn.__name__, "pairs": len(pairs),
                                          "wall_tok_s": round(tokens / wall, 1)}
            return go

        interleaved({"today": score(loglikelihoods_per_pair, "float32", 8), "new": score(loglikelihoods, auto, "auto"),
                     "new_fp32": score(loglikelihoods, "float32", "auto")}, args.repeats, "loglik",
                    lambda info: ceiling(info["dtype"], 128))

    if "train" in parts:
        del models
        data = build_stage1_data()

        def train(precision: str, *, today: bool = False) -> Callable[[], tuple[float, dict]]:
            def go() -> tuple[float, dict]:
                return train_rate(args.model, data, precision, args.train_steps, today=today), \
                    {"precision": precision, "dtype": auto if precision == "auto" else "float32"}
            return go

        interleaved({"today": train("fp32", today=True), "new": train("auto"), "new_fp32": train("fp32")},
                    args.repeats, "train", lambda info: ceiling(info["dtype"], 128) / 3)


def build_stage1_data() -> Path:
    from polyalign.config import load_config
    from polyalign.data.build import build_data
    from polyalign.data.recipe import DataBuildConfig
    from polyalign.recipes import find_recipe

    out = Path(tempfile.mkdtemp(prefix="ceiling-data-"))
    build_data(load_config(DataBuildConfig, find_recipe("qalign-stage1-sample", "data"), [f"out={out}"]),
               overwrite=True, progress=False)
    return out / "train.jsonl"


def train_rate(model: str, data: Path, precision: str, steps: int, *, today: bool = False) -> float:
    """Training tokens per second of the stage-I LoRA recipe over ``steps`` steps (first step excluded).

    ``today``: the adapters keep torch's own dropout (polyalign.train.dropout is what changed).
    """
    import polyalign.train.dropout as dropout
    from polyalign.config import load_config
    from polyalign.recipes import find_recipe
    from polyalign.train.config import TrainRecipe
    from polyalign.train.metrics import read_metrics
    from polyalign.train.recipe import run_recipe

    out = Path(tempfile.mkdtemp(prefix="ceiling-train-"))
    recipe = load_config(TrainRecipe, find_recipe("qalign-stage1-smollm2-lora", "train"),
                         [f"model={model}", f"out={out}", f"stages.0.data={data}", f"precision={precision}",
                          f"stages.0.max_steps={steps}", "save_steps=1000000"])
    swap = dropout.use_lora_dropout
    if today:
        dropout.use_lora_dropout = lambda model: 0
    try:
        run_recipe(recipe, overwrite=True, progress=False)
    finally:
        dropout.use_lora_dropout = swap
    lines = [m for m in read_metrics(out / recipe.stages[0].name / "metrics.jsonl") if "tokens" in m]
    timed = lines[1:]  # the first step pays one-off allocations
    return sum(m["tokens"] for m in timed) / (timed[-1]["elapsed_s"] - lines[0]["elapsed_s"])


if __name__ == "__main__":
    sys.exit(main())
