"""Decode-step attention over left-padded rows of very different lengths, in buckets.

A wide decode batch (`polyalign.infer.kvcache`) left-pads every row to the longest prompt, and
plain SDPA then reads every row's keys over the full padded width. With MGSM prompts in 8 languages
(75 to 536 SmolLM2 tokens: Thai and Bengali take 3-7x more tokens than English) most of that
width is padding, and attention was 31 % of a bf16 decode step at batch 32 (torch profiler).

For one query token per row, `bucketed_sdpa` splits the batch into runs of neighbouring rows and
gives each run only the columns from its earliest real token on: rows are sorted by length, so a
run's padding is small. Each run is transformers' own SDPA call on a view, so the numbers are what
SDPA computes (masked columns weigh exactly 0 either way); prefill (several query tokens) goes to
SDPA unchanged. `bucketed_attention` switches a model to it for the duration of a decode.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from polyalign.infer.batching import padded_runs

__all__ = ["NAME", "bucketed_sdpa", "bucketed_attention", "buckets"]

NAME = "polyalign_bucketed_sdpa"
"""The attention implementation's registered name."""
MIN_ROWS = 4
"""A bucket takes at least this many rows: each bucket is one more SDPA call per layer."""
MAX_PADDING = 1.3
"""Beyond `MIN_ROWS`, a bucket grows while its padded columns stay within this × its real ones."""


def buckets(starts: list[int], width: int) -> list[tuple[int, int, int]]:
    """``(first_row, end_row, first_column)`` runs covering every row, from each run's earliest real column.

    Args:
        starts: per row, the first column it attends to.
        width: the key length.
    """
    lengths = [width - s for s in starts]
    runs = padded_runs(lengths, min_rows=MIN_ROWS, max_padding=MAX_PADDING)
    return [(a, b, width - max(lengths[a:b])) for a, b in runs]


def bucketed_sdpa(module: Any, query: Any, key: Any, value: Any, attention_mask: Any, *args: Any,
                  **kwargs: Any) -> tuple[Any, None]:
    """transformers' SDPA attention, run per bucket of rows when each row has one query token."""
    import torch
    from transformers.integrations.sdpa_attention import sdpa_attention_forward

    if query.shape[2] != 1 or attention_mask is None or attention_mask.dtype != torch.bool or query.shape[0] <= MIN_ROWS:
        return sdpa_attention_forward(module, query, key, value, attention_mask, *args, **kwargs)
    width = key.shape[2]
    # first attended column per row: masks are [rows, 1, 1, width] (possibly broadcast over heads)
    attended = attention_mask[:, 0, -1, :]
    starts = torch.where(attended.any(-1), attended.to(torch.int8).argmax(-1), 0).tolist()
    runs = buckets(starts, width)
    if len(runs) == 1 and runs[0][2] == 0:
        return sdpa_attention_forward(module, query, key, value, attention_mask, *args, **kwargs)
    outputs = [sdpa_attention_forward(module, query[a:b], key[a:b, :, s:], value[a:b, :, s:], attention_mask[a:b, ..., s:],
                                      *args, **kwargs)[0] for a, b, s in runs]
    return torch.cat(outputs, dim=0), None


def _register() -> None:
    from transformers import AttentionInterface
    from transformers.masking_utils import ALL_MASK_ATTENTION_FUNCTIONS, AttentionMaskInterface, sdpa_mask

    if NAME not in ALL_MASK_ATTENTION_FUNCTIONS._global_mapping:
        AttentionInterface.register(NAME, bucketed_sdpa)
        AttentionMaskInterface.register(NAME, sdpa_mask)


@contextmanager
def bucketed_attention(model: Any) -> Iterator[None]:
    """Within the block, a model that uses SDPA uses `bucketed_sdpa` (others are left as they are)."""
    config = getattr(model, "config", None)
    if config is None or getattr(config, "_attn_implementation", None) != "sdpa":
        yield
        return
    _register()
    config._attn_implementation = NAME
    try:
        yield
    finally:
        config._attn_implementation = "sdpa"
