"""Sentences per second of the alignment capture (`capture_pooled`) vs a naive per-sentence loop.

The naive baseline is what analysis scripts usually do: for each sentence, run the full causal LM
with ``output_hidden_states=True`` and mean-pool every layer (attention sinks excluded by the same
rule as ours).
`capture_pooled` batches length-sorted sentences, runs only the base model (no vocabulary-sized LM
head) and pools under the attention mask. Both must give the same vectors (checked, atol 1e-4);
the table reports medians over repeats and the speed-up against the naive loop, all measured in
one process on the same sentences.

    python benchmarks/alignment_capture.py                       # SmolLM2-135M, 64 sentences
    python benchmarks/alignment_capture.py --model path/to/model --sentences 128 --repeats 5
    python benchmarks/alignment_capture.py --threads 1      # steadier when other jobs share the CPU
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

import numpy as np
import torch

from polyalign.analysis.alignment.capture import SINK_RATIO, capture_pooled
from polyalign.models.loading import load_model, load_tokenizer

PAIRS = Path(__file__).resolve().parents[1] / "src" / "polyalign" / "assets" / "samples" / "qalign-question-pairs"


def sentences(n: int) -> list[str]:
    """Distinct sentences in several languages (the packaged QAlign sample), cycled with a suffix if needed."""
    pool = list(dict.fromkeys(line.strip() for path in sorted(PAIRS.glob("*/train.*"))
                              for line in path.read_text(encoding="utf-8").splitlines() if line.strip()))
    return [pool[i % len(pool)] + ("" if i < len(pool) else f" ({i // len(pool)})") for i in range(n)]


def naive(model, tokenizer, texts: list[str]) -> np.ndarray:
    """One full forward pass per sentence; mean over the tokens that are not attention sinks.

    Same rule as `capture_pooled`: drop the first token and any token whose norm exceeds
    `SINK_RATIO` times the sentence's median norm at some layer.
    """
    rows = []
    with torch.inference_mode():
        for text in texts:
            ids = tokenizer(text, return_tensors="pt")["input_ids"]
            states = model(input_ids=ids, output_hidden_states=True).hidden_states
            keep = torch.ones(ids.shape[1], dtype=torch.bool)
            keep[0] = False
            for h in states:
                norms = h[0].norm(dim=-1)
                keep &= norms <= SINK_RATIO * norms.median()
            if not keep.any():
                keep[:] = True
            rows.append(np.stack([h[0, keep].mean(dim=0).numpy() for h in states]))
    return np.stack(rows, axis=1)


def timed(fn, repeats: int) -> tuple[float, np.ndarray]:
    times, out = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default="smollm2-135m-instruct")
    parser.add_argument("--sentences", type=int, default=64)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--batch-sizes", type=int, nargs="+", default=[1, 16, 32])
    parser.add_argument("--threads", type=int, help="torch threads (1 is steadier on a shared, busy CPU)")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    model, tokenizer = load_model(args.model), load_tokenizer(args.model)
    texts = sentences(args.sentences)
    tokens = sum(len(tokenizer(t)["input_ids"]) for t in texts)
    print(f"{args.model}: {len(texts)} sentences, {tokens} tokens, {model.config.num_hidden_layers + 1} layers pooled, "
          f"torch {torch.__version__}, {torch.get_num_threads()} threads")
    print(f"{'method':<36} {'median s':>9} {'sent/s':>8} {'speed-up':>9} {'max |diff|':>11}", flush=True)
    base_s, reference = timed(lambda: naive(model, tokenizer, texts), args.repeats)
    _row("naive per-sentence loop (full LM)", base_s, base_s, len(texts), 0.0)
    for batch in args.batch_sizes:
        seconds, pooled = timed(lambda: capture_pooled(model, tokenizer, texts, batch_size=batch), args.repeats)
        diff = float(np.abs(pooled - reference).max())
        assert np.allclose(pooled, reference, atol=1e-4, rtol=1e-4), f"outputs differ (max abs {diff:.2e})"
        _row(f"capture_pooled batch {batch}", seconds, base_s, len(texts), diff)
    print(f"(medians of {args.repeats} runs; speed-up = naive seconds / method seconds, same process)")


def _row(name: str, seconds: float, base_s: float, n: int, diff: float) -> None:
    print(f"{name:<36} {seconds:>9.2f} {n / seconds:>8.1f} {base_s / seconds:>8.2f}x {diff:>11.1e}", flush=True)


if __name__ == "__main__":
    main()
