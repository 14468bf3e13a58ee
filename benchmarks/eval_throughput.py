"""Generation throughput of the ``hf`` eval backend vs a naive one-prompt-at-a-time loop.

Same model, same prompts (the papers' Alpaca prompt over mGSM questions in several languages), same
greedy settings and stop strings. The baseline calls ``model.generate`` once per prompt without
padding (`polyalign.infer.generate_naive`); the backend path is `polyalign.infer.generate`
(length-sorted, left-padded batches, KV cache). Outputs must be identical; the script reports
mismatches if any. Reported: median wall time over repeats, generated tokens per second and the
ratio baseline/batched.

    python benchmarks/eval_throughput.py                                  # SmolLM2-135M, 24 prompts
    python benchmarks/eval_throughput.py --model path/to/model --prompts 48 --batch-sizes 8 16 --repeats 3
    python benchmarks/eval_throughput.py --threads 1     # steadier on a machine shared with other jobs
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

import torch

from polyalign.data.templates import render_alpaca
from polyalign.infer import generate, generate_naive
from polyalign.models import load_model, load_tokenizer

SHARED_MGSM = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "mgsm"
FALLBACK = ["Janet has 16 eggs. She eats 3 and bakes 4 into muffins. How many eggs are left?",
            "Ein Kleid erfordert 2 Knäuel blaue Wolle und halb so viel weiße Wolle. Wie viele Knäuel braucht man?",
            "小明有 5 个苹果，他又买了 3 个，现在一共有几个？",
            "Une robe nécessite 2 rouleaux de fibre bleue et la moitié de fibre blanche. Combien en faut-il ?"]
STOP = ("### Instruction", "\n\n### ")


def questions(n: int) -> list[str]:
    """n mGSM questions, round-robin over languages (varied lengths), or a built-in sample."""
    langs = ["en", "de", "zh", "fr", "ru", "sw", "ja", "th"]
    files = [SHARED_MGSM / f"mgsm_{lang}.tsv" for lang in langs]
    if not all(f.is_file() for f in files):
        return [FALLBACK[i % len(FALLBACK)] for i in range(n)]
    per_lang = [[line.split("\t")[0] for line in f.read_text(encoding="utf-8").splitlines() if line.strip()]
                for f in files]
    return [per_lang[i % len(langs)][i // len(langs)] for i in range(n)]


def timed(fn) -> tuple[float, list[str]]:
    start = time.perf_counter()
    out = fn()
    return time.perf_counter() - start, out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default="smollm2-135m-instruct")
    parser.add_argument("--prompts", type=int, default=24)
    parser.add_argument("--max-new-tokens", type=int, default=64)
    parser.add_argument("--batch-sizes", type=int, nargs="+", default=[8, 24])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, help="torch threads (default: torch's choice)")
    args = parser.parse_args()

    if args.threads:
        torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    model = load_model(args.model)
    tok = load_tokenizer(args.model, padding_side="left")
    prompts = [render_alpaca(q) for q in questions(args.prompts)]
    print(f"model {args.model}, {len(prompts)} prompts, max_new_tokens {args.max_new_tokens}, "
          f"torch threads {torch.get_num_threads()}, repeats {args.repeats}")

    runs = {"naive (1 at a time)": lambda: generate_naive(model, tok, prompts, max_new_tokens=args.max_new_tokens,
                                                          stop=STOP)}
    for bs in args.batch_sizes:
        runs[f"hf backend, batch {bs}"] = (lambda bs=bs: generate(model, tok, prompts, max_new_tokens=args.max_new_tokens,
                                                                  stop=STOP, batch_size=bs))
    # Repeats are interleaved (every run once, then again) so load changes on a shared machine hit all
    # runs alike; the median of each run's repeats is reported.
    times: dict[str, list[float]] = {name: [] for name in runs}
    outputs: dict[str, list[str]] = {}
    for _ in range(args.repeats):
        for name, fn in runs.items():
            seconds, outputs[name] = timed(fn)
            times[name].append(seconds)
    reference = outputs[next(iter(runs))]
    rows = []
    for name in runs:
        mismatches = sum(a != b for a, b in zip(outputs[name], reference))
        tokens = sum(len(tok(o, add_special_tokens=False)["input_ids"]) for o in outputs[name])
        rows.append((name, statistics.median(times[name]), tokens, mismatches))
    base = rows[0][1]
    print(f"{'run':26s} {'median s':>9s} {'tokens':>7s} {'tok/s':>7s} {'speed-up':>8s} {'outputs ≠ naive':>16s}")
    for name, seconds, tokens, mismatches in rows:
        print(f"{name:26s} {seconds:9.2f} {tokens:7d} {tokens / seconds:7.1f} {base / seconds:7.2f}x {mismatches:16d}")


if __name__ == "__main__":
    main()
