"""Hidden-state capture: one mean-pooled vector per sentence and layer, in batches.

The representation analysis of x-LLaMA and QAlign (docs/methods.md) mean-pools a
decoder's hidden states over a sentence's tokens at every layer. Three details decide whether the
numbers mean anything, and all three are handled here:

- **Pool over real tokens only.** The released x-LLaMA code divided the sum by the *padded* length,
  so a sentence's vector shrank with the longest sentence in its batch. We sum and divide under the
  attention mask (padded positions are replaced by zeros with ``torch.where``, never multiplied:
  a padded query attends to nothing and may hold NaN).
- **Positions ignore padding.** ``position_ids`` count real tokens only, so left and right padding
  give the same positions and the same vectors (tested: the padding amount changes nothing).
- **Exclude attention sinks.** From layer 12 on, SmolLM2-135M's hidden state at the first token
  has a norm of ~23,000 against ~150 elsewhere (the "attention sink", Xiao et al. 2023, arXiv
  2309.17453); one such token swamps a mean over 30. ``skip_first`` drops the first real token
  (BOS when the tokenizer adds one) from the pool. The sink is not always alone: in "Tim tiene 30
  manzanas…" the second token carries a 22,000 norm too, which made that sentence a far outlier in
  every language. So with ``skip_first`` any position whose norm, at any layer, exceeds
  ``sink_ratio`` times the median token norm of its sentence at that layer is dropped as well
  ("massive activations", Sun et al. 2024, arXiv 2402.17762: ~1,000x the median; ordinary tokens
  stay within ~2x). The same positions are dropped at every layer. A sentence left with no token
  keeps all of them.

Layer numbering follows ``output_hidden_states``: 0 is the embedding output, k the output of
decoder block k, and the last layer is reported after the final norm (as transformers does).
Sentences are deduplicated, sorted by length (less padding) and restored to input order, and only
the base model runs (no language-model head: its vocabulary-sized matmul is not needed).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from polyalign.errors import InputError

if TYPE_CHECKING:
    import torch

__all__ = ["Span", "pool_mask", "masked_mean", "massive_positions", "capture_pooled", "num_layers", "SINK_RATIO"]

SINK_RATIO = 20.0
"""A position whose hidden-state norm exceeds this multiple of its sentence's median is a sink."""

Span = tuple[int, int]
"""A ``[start, end)`` character range of a text: pool only over tokens overlapping it."""


def num_layers(model: Any) -> int:
    """Number of decoder blocks; hidden states exist for layers ``0 .. num_layers(model)``."""
    return int(model.config.num_hidden_layers)


def massive_positions(hidden_states: Sequence[torch.Tensor], attention_mask: torch.Tensor,
                      ratio: float) -> torch.Tensor:
    """``[batch, seq]`` True where a real token's norm exceeds ``ratio`` x its row's median at any layer."""
    import torch

    real = attention_mask.bool()
    found = torch.zeros_like(real)
    for hidden in hidden_states:
        norms = hidden.float().norm(dim=-1)
        median = torch.where(real, norms, torch.full_like(norms, float("nan"))).nanmedian(dim=1).values
        found |= real & (norms > ratio * median[:, None])
    return found


def pool_mask(attention_mask: torch.Tensor, *, skip_first: bool, token_mask: torch.Tensor | None = None,
              sinks: torch.Tensor | None = None) -> torch.Tensor:
    """Which positions enter each row's mean: real tokens, optionally a span, optionally not the sinks.

    Args:
        attention_mask: ``[batch, seq]`` 1 for real tokens, 0 for padding (either side).
        skip_first: leave out each row's first real token (the attention sink).
        token_mask: ``[batch, seq]`` extra selection (e.g. the question inside a prompt), or None.
        sinks: ``[batch, seq]`` further positions to leave out (`massive_positions`), or None.

    Returns:
        A boolean ``[batch, seq]`` mask. A row left empty by ``skip_first`` or ``token_mask`` falls
        back to all its real tokens, so every row has a vector.
    """
    real = attention_mask.bool()
    mask = real if token_mask is None else real & token_mask.bool()
    if skip_first:
        first = real & (attention_mask.long().cumsum(dim=1) == 1)
        mask = mask & ~first
    if sinks is not None:
        mask = mask & ~sinks
    empty = mask.sum(dim=1) == 0
    if bool(empty.any()):
        mask = mask | (empty[:, None] & real)
    return mask


def masked_mean(hidden: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Mean of ``hidden`` ``[batch, seq, dim]`` over the positions where ``mask`` ``[batch, seq]`` is true.

    Divides by the number of selected tokens, not the padded length (the x-LLaMA bug).
    """
    import torch

    kept = torch.where(mask[..., None], hidden, torch.zeros((), dtype=hidden.dtype, device=hidden.device))
    return kept.sum(dim=1) / mask.sum(dim=1, keepdim=True).clamp(min=1).to(hidden.dtype)


def capture_pooled(model: Any, tokenizer: Any, texts: Sequence[str], *, spans: Sequence[Span | None] | None = None,
                   layers: Sequence[int] | None = None, batch_size: int = 16, skip_first: bool = True,
                   sink_ratio: float | None = SINK_RATIO, max_length: int = 512, padding_side: str | None = None,
                   stats: dict[str, int] | None = None) -> np.ndarray:
    """Mean-pooled hidden states of ``texts`` at ``layers``.

    Args:
        model: a transformers causal LM (its base model is run) or a base model.
        tokenizer: its tokenizer; special tokens are added as the tokenizer does by default.
        texts: the inputs.
        spans: per text, a character range to pool over (None = the whole text); needs a fast
            tokenizer (offset mapping).
        layers: hidden-state indices (0 = embeddings); default all.
        batch_size: sentences per forward pass.
        skip_first: exclude each sequence's first real token from the pool, and with ``sink_ratio``
            every massive-activation position (`massive_positions`).
        sink_ratio: norm multiple of the sentence median that marks a sink; None or 0 = first token only.
        max_length: longer inputs are truncated to their first ``max_length`` tokens.
        padding_side: "left" or "right"; default the tokenizer's. The result does not depend on it.
        stats: if given, filled with ``sentences`` (distinct inputs), ``extra_sinks`` (massive
            positions dropped besides first tokens) and ``sentences_with_extra_sinks``.

    Returns:
        float32 array ``[len(layers), len(texts), hidden_size]``.
    """
    import torch

    depth = num_layers(model)
    layers = list(range(depth + 1)) if layers is None else list(layers)
    bad = [layer for layer in layers if not 0 <= layer <= depth]
    if bad:
        raise InputError(f"layer(s) {bad} out of range: the model has layers 0..{depth}")
    spans = list(spans) if spans is not None else [None] * len(texts)
    if len(spans) != len(texts):
        raise ValueError("spans must have one entry per text")
    side = padding_side or getattr(tokenizer, "padding_side", "right")
    pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0
    base = getattr(model, "base_model", model)
    device = next(model.parameters()).device

    # Identical inputs get identical vectors: capture each distinct (text, span) once.
    keys = list(zip(texts, spans))
    unique = list(dict.fromkeys(keys))
    where = {key: i for i, key in enumerate(unique)}
    encoded = [_encode(tokenizer, text, span, max_length) for text, span in unique]
    order = sorted(range(len(unique)), key=lambda i: len(encoded[i][0]))
    out = np.zeros((len(layers), len(unique), int(model.config.hidden_size)), dtype=np.float32)
    counts = {"sentences": len(unique), "extra_sinks": 0, "sentences_with_extra_sinks": 0}
    with torch.inference_mode():
        for start in range(0, len(order), batch_size):
            chunk = order[start:start + batch_size]
            ids, attention, selected = (t.to(device) for t in _pad([encoded[i] for i in chunk], pad_id, side))
            positions = (attention.cumsum(dim=1) - 1).clamp(min=0)
            hidden = base(input_ids=ids, attention_mask=attention, position_ids=positions,
                          output_hidden_states=True, use_cache=False).hidden_states
            sinks = None
            if skip_first and sink_ratio:
                sinks = massive_positions(hidden, attention, sink_ratio)
                first = attention.bool() & (attention.cumsum(dim=1) == 1)
                extra = (sinks & ~first).sum(dim=1)
                counts["extra_sinks"] += int(extra.sum())
                counts["sentences_with_extra_sinks"] += int((extra > 0).sum())
            mask = pool_mask(attention, skip_first=skip_first, token_mask=selected, sinks=sinks)
            for row, layer in enumerate(layers):
                out[row, chunk] = masked_mean(hidden[layer].float(), mask).cpu().numpy()
    if stats is not None:
        stats.update(counts)
    return out[:, [where[key] for key in keys]]


def _encode(tokenizer: Any, text: str, span: Span | None, max_length: int) -> tuple[list[int], list[bool]]:
    """Token ids and, per token, whether it overlaps ``span`` (all True without a span)."""
    if span is None:
        ids = tokenizer(text, truncation=True, max_length=max_length)["input_ids"]
        return list(ids), [True] * len(ids)
    if not getattr(tokenizer, "is_fast", False):
        raise InputError("pooling over a span of the prompt (template 'question') needs a fast tokenizer "
                         "(offset mapping); use template raw or alpaca")
    enc = tokenizer(text, truncation=True, max_length=max_length, return_offsets_mapping=True)
    lo, hi = span
    # special tokens have offsets (0, 0) and never overlap a non-empty span
    inside = [s < hi and e > lo and e > s for s, e in enc["offset_mapping"]]
    return list(enc["input_ids"]), inside


def _pad(items: list[tuple[list[int], list[bool]]], pad_id: int,
         side: str) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    import torch

    width = max(len(ids) for ids, _ in items)
    ids = torch.full((len(items), width), pad_id, dtype=torch.long)
    attention = torch.zeros((len(items), width), dtype=torch.long)
    selected = torch.zeros((len(items), width), dtype=torch.bool)
    for row, (tokens, inside) in enumerate(items):
        cols = slice(width - len(tokens), width) if side == "left" else slice(0, len(tokens))
        ids[row, cols] = torch.tensor(tokens, dtype=torch.long)
        attention[row, cols] = 1
        selected[row, cols] = torch.tensor(inside, dtype=torch.bool)
    return ids, attention, selected
