"""Batch size ``auto``: the largest batches that fit a memory budget, over length-sorted requests.

On a CPU a decode step multiplies every weight matrix once, whatever the batch, so tokens per second
grow with the batch until the multiplies become compute-bound (benchmarks/ceiling.py). What
limits the batch is memory: the KV cache of every row (prompt plus new tokens) and the prefill's
activations. Requests are sorted by length (longest first, so an out-of-memory error shows up at
once) and each batch takes as many as fit, so batches of short prompts are wider.

Padding limits the width too: a batch is padded to its longest prompt, and the prefill of the padding
costs as much as real tokens. Measured on SmolLM2-135M with MGSM prompts in 8 languages (Bengali and
Thai prompts are 3-7x longer than English ones in its byte-level vocabulary), one batch of 16 spent
2.9x its real prompt tokens on prefill and decoded 0.65x as fast as batches of 8 in fp32 (medians of 3). So a batch
takes at least `MIN_BATCH` requests (the previous fixed default), and more only while its padded
tokens stay within `MAX_PADDING` times its real ones.

The budget is ``POLYALIGN_BATCH_MEMORY_MB`` when set, else a quarter of the memory available now,
at most 4 GiB; a batch never exceeds `MAX_BATCH` rows (beyond it a CPU gains little and rows that
finish early leave the batch anyway).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from typing import Any

__all__ = ["AUTO", "MAX_BATCH", "MIN_BATCH", "MAX_PADDING", "auto_batches", "padded_runs", "memory_budget", "per_row_bytes", "parse_batch_size"]

AUTO = "auto"
"""The batch-size value that asks for `auto_batches`."""
MAX_BATCH = 64
"""Widest batch ``auto`` builds."""
MIN_BATCH = 8
"""Narrowest batch ``auto`` builds while memory allows (the fixed default it replaces)."""
MAX_PADDING = 1.3
"""Beyond `MIN_BATCH` rows, a batch grows only while padded prompt tokens ≤ this × real prompt tokens."""
_CAP = 4 << 30


def parse_batch_size(value: str | int) -> int | str:
    """A ``--batch-size`` value: a positive integer or ``auto`` (argparse ``type=``).

    Raises:
        ValueError: anything else (argparse turns it into a usage error, exit code 2).
    """
    if isinstance(value, str) and value.strip().lower() == AUTO:
        return AUTO
    number = int(value)
    if number < 1:
        raise ValueError(f"batch size must be >= 1 or auto, got {value!r}")
    return number


def memory_budget() -> int:
    """Bytes a batch may use: ``POLYALIGN_BATCH_MEMORY_MB``, else min(available / 4, 4 GiB)."""
    configured = os.environ.get("POLYALIGN_BATCH_MEMORY_MB", "").strip()
    if configured:
        return int(float(configured) * (1 << 20))
    available = _available_bytes()
    return min(available // 4, _CAP) if available else 1 << 30


def _available_bytes() -> int:
    try:
        with open("/proc/meminfo", encoding="utf-8") as handle:
            for line in handle:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def per_row_bytes(model: Any, length: int, prompt_length: int | None = None) -> int:
    """Estimated peak bytes one row of ``length`` tokens needs: KV cache, prefill activations, logits.

    Args:
        model: a transformers model (its config gives layers, heads, sizes; its weights the dtype).
        length: tokens the row holds at the end (prompt + new tokens).
        prompt_length: tokens the prefill runs over (default ``length``, as for scoring).
    """
    config = model.config
    prompt_length = length if prompt_length is None else prompt_length
    width = next(model.parameters()).element_size()
    layers = int(config.num_hidden_layers)
    heads = int(config.num_attention_heads)
    head_dim = int(getattr(config, "head_dim", None) or config.hidden_size // heads)
    kv_heads = int(getattr(config, "num_key_value_heads", None) or heads)
    kv = 2 * layers * kv_heads * head_dim * length * width
    hidden = int(config.hidden_size)
    inner = int(getattr(config, "intermediate_size", 4 * hidden))
    # prefill of one layer at a time: hidden states, MLP inner activations, attention scores
    prefill = prompt_length * (4 * hidden + 2 * inner) * width + heads * prompt_length * prompt_length * 4
    logits = int(config.vocab_size) * 4 * 2  # last position's logits and their float copy
    return kv + prefill + logits


def padded_runs(lengths: Sequence[int], *, min_rows: int, max_padding: float | None,
                max_rows: Callable[[int], int] | None = None) -> list[tuple[int, int]]:
    """Consecutive ``(start, end)`` runs of ``lengths`` whose padding to the run's longest stays small.

    A run takes ``min_rows`` rows whatever their padding, then grows while its padded tokens stay
    within ``max_padding`` × its real ones (``None``: no padding limit) and it has fewer than
    ``max_rows(first length)`` rows (for lengths sorted longest first, the first is the longest).
    """
    runs: list[tuple[int, int]] = []
    start = 0
    while start < len(lengths):
        limit = max(1, max_rows(max(lengths[start], 1))) if max_rows is not None else len(lengths)
        longest = real = max(lengths[start], 1)
        end = start + 1
        while end < len(lengths) and end - start < limit:
            added = max(lengths[end], 1)
            wider = max(longest, added)
            if end - start >= min_rows and max_padding is not None and wider * (end + 1 - start) > max_padding * (real + added):
                break
            longest, real, end = wider, real + added, end + 1
        runs.append((start, end))
        start = end
    return runs


def auto_batches(lengths: Sequence[int], *, max_new_tokens: int, model: Any, budget_bytes: int | None = None,
                 max_batch: int = MAX_BATCH, max_padding: float | None = MAX_PADDING) -> list[list[int]]:
    """Indices grouped in the widest batches that fit ``budget_bytes``, longest requests first.

    Args:
        lengths: prompt lengths in tokens.
        max_new_tokens: tokens each row may add (0 for scoring).
        model: the model (for `per_row_bytes`).
        budget_bytes: memory a batch may use (default `memory_budget`).
        max_batch: widest batch.
        max_padding: beyond `MIN_BATCH` rows, a batch grows only while its padded prompt tokens stay
            within this × its real ones; ``None`` when the caller prefills in groups of similar length
            anyway (`polyalign.infer.lockstep`), so only memory limits the width.
    """
    budget = memory_budget() if budget_bytes is None else budget_bytes
    order = sorted(range(len(lengths)), key=lambda i: -lengths[i])

    def fits(longest: int) -> int:  # every row of a batch is padded to its first (longest) request
        return min(max_batch, budget // max(per_row_bytes(model, longest + max_new_tokens, longest), 1))

    runs = padded_runs([lengths[i] for i in order], min_rows=MIN_BATCH, max_padding=max_padding, max_rows=fits)
    return [order[start:end] for start, end in runs]
