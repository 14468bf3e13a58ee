"""Decode with several models in lockstep: one KV cache each, one combined choice of the next token.

The loop behind proxy-tuning (`polyalign.infer.proxy`), generic over how scores are combined.
Why it is shaped this way:

* **A stream per member.** Members may render the prompt differently (`Member.prompt_format`), so
  each has its own left-padded ids, attention mask, position ids and ``DynamicCache``; only the
  generated tokens are shared, fed to every member at every step.
* **Positions as transformers' ``generate`` makes them** (``cumsum(mask) - 1``, then +1 per step;
  an all-ones mask is dropped as ``generate`` drops it), so one member alone decodes exactly as
  ``model.generate`` would: proxy-tuning with α = 0 reproduces the base model's greedy output.
* **Length-sorted batches** (`polyalign.infer.generate.length_batches`, by the first member's
  prompt length) and the same stop-string check as ``polyalign.infer.generate``.
* **Finished rows leave the batch**: when a row emits EOS or a stop string, it is removed from every
  member's cache, mask and positions. It stops costing compute and cannot influence rows still
  running (sampling draws from a generator per row, `polyalign.infer.sampling`).
* **Scores are cut to the shared vocabulary** before combining, so ids some member lacks (an added
  ``<pad>`` row) are never emitted.
"""

from __future__ import annotations

import inspect
from contextlib import ExitStack
from collections.abc import Callable, Sequence
from typing import Any

from polyalign.infer.attention import bucketed_attention
from polyalign.infer.batching import padded_runs
from polyalign.infer.generate import left_pad, length_batches, stop_hits
from polyalign.infer.kvcache import InPlaceKV
from polyalign.infer.members import Member
from polyalign.infer.sampling import Sampling, pick_tokens

__all__ = ["lockstep_decode", "Combine"]

Combine = Callable[[list[Any]], Any]
"""Per-member next-token logits ([rows, shared vocab] float32, one device) -> the scores to pick from."""


class _Stream:
    """One member's decoding state for one batch: cache, attention mask, next positions, last logits.

    Where the model's cache allows it (`polyalign.infer.kvcache.InPlaceKV`), the batch is prefilled
    in runs of similar length, each padded only to its own longest prompt, into one preallocated
    cache that the decode steps then extend for all rows at once.
    """

    def __init__(self, member: Member, seqs: Sequence[Sequence[int]], vocab_size: int, max_new_tokens: int) -> None:
        import torch
        from transformers import DynamicCache

        self.model = member.model
        self.device = member.input_device
        self.vocab_size = vocab_size
        ids, mask = left_pad(seqs, member.pad_id)
        self.use_mask = not bool(mask.all())  # as generate: no padding, no mask (the faster attention path)
        positions = (mask.cumsum(-1) - 1).masked_fill(mask == 0, 0)
        self.mask = mask.to(self.device)
        self.next_positions = (positions[:, -1:] + 1).to(self.device)
        accepts = inspect.signature(self.model.forward).parameters
        self.extra = {"logits_to_keep": 1} if "logits_to_keep" in accepts else {}
        # Recent transformers 5 releases (5.25 here) name the cache argument and output `cache` and
        # deprecate `past_key_values` (removal announced for 5.40); older ones know only the latter.
        self.cache_name = "cache" if "cache" in accepts else "past_key_values"
        self._ones = torch.ones((1, 1), dtype=self.mask.dtype, device=self.device)
        width = ids.shape[1]
        kv = InPlaceKV(self.model, len(seqs), width + max_new_tokens) if InPlaceKV.supports(self.model) else None
        if kv is None:
            self.cache = DynamicCache(config=self.model.config)
            self.logits = self._forward(ids, positions, self.mask if self.use_mask else None, self.cache)
            return
        lengths = [len(seq) for seq in seqs]
        parts = []
        for first, end in padded_runs(lengths, min_rows=1, max_padding=PREFILL_PADDING):
            cut = width - max(max(lengths[first:end]), 1)  # this run's own padding starts here
            run_mask = mask[first:end, cut:]
            parts.append(self._forward(ids[first:end, cut:], positions[first:end, cut:],
                                       None if run_mask.all() else run_mask, kv.window(first, end, start=cut)))
        self.cache = kv.window(0, len(seqs), 0, length=width)
        self.logits = torch.cat(parts)

    def _forward(self, ids: Any, positions: Any, mask: Any, cache: Any) -> Any:
        """The last position's logits (cut to the shared vocabulary, float32); ``cache`` is extended in place."""
        out = self.model(input_ids=ids.to(self.device), attention_mask=None if mask is None else mask.to(self.device),
                         position_ids=positions.to(self.device), use_cache=True, **{self.cache_name: cache}, **self.extra)
        return out.logits[:, -1, :self.vocab_size].float()

    def step(self, tokens: Any) -> Any:
        """Feed one new token per row; returns the next logits."""
        import torch

        self.mask = torch.cat([self.mask, self._ones.expand(self.mask.shape[0], 1)], dim=1)
        positions, self.next_positions = self.next_positions, self.next_positions + 1
        self.logits = self._forward(tokens[:, None], positions, self.mask if self.use_mask else None, self.cache)
        return self.logits

    def keep(self, rows: Any) -> None:
        """Drop every row not in ``rows`` (a CPU long tensor of batch positions) from the cache and state."""
        # CPU indices select on any device: a sharded model's cache layers live on several.
        self.cache.batch_select_indices(rows)
        on_device = rows.to(self.device)
        self.mask, self.next_positions = self.mask[on_device], self.next_positions[on_device]


PREFILL_PADDING = 1.3
"""A prefill run grows while its padded prompt tokens stay within this × its real ones."""
COMPACT_SHARE = 0.25
"""Finished rows stay in the batch (fed, never read) until they are this share of it: dropping rows
copies every layer's cache, while a finished row costs a decode step almost nothing on a CPU."""


def lockstep_decode(members: Sequence[Member], combine: Combine, prompt_ids: Sequence[Sequence[Sequence[int]]], *,
                    vocab_size: int, max_new_tokens: int, eos_ids: Sequence[int] = (), stop: Sequence[str] = (),
                    stop_tokenizer: Any = None, sampling: Sampling | None = None, batch_size: int = 8,
                    on_batch: Callable[[int], None] | None = None) -> list[list[int]]:
    """Generate from several models at once, choosing each token from ``combine`` of their scores.

    Args:
        members: the models (the first one's device receives the combined scores).
        combine: per-member logits -> scores (e.g. `polyalign.infer.proxy.combine_logits`).
        prompt_ids: ``prompt_ids[k][i]`` = token ids of prompt i as member k reads it.
        vocab_size: the shared vocabulary (`polyalign.infer.members.shared_vocab_size`): logits are cut to it.
        max_new_tokens: generation limit per prompt.
        eos_ids: ids that end a row (kept in its output); empty = always run to the limit.
        stop: strings that end a row once they appear in its generated text (not cut here).
        stop_tokenizer: decodes generated ids for the stop check (needed when ``stop`` is set).
        sampling: None or greedy settings → argmax; else seeded temperature / top-p sampling.
        batch_size: prompts per forward pass.
        on_batch: called with the number of prompts finished after each batch.

    Returns:
        The generated ids of every prompt, in input order.
    """
    import torch

    if max_new_tokens < 1:
        raise ValueError("max_new_tokens must be >= 1")
    if any(stop) and stop_tokenizer is None:
        raise ValueError("stop strings need a stop_tokenizer")
    outputs: list[list[int]] = [[] for _ in prompt_ids[0]]
    with torch.inference_mode(), ExitStack() as scope:
        for member in members:
            scope.enter_context(bucketed_attention(member.model))
        for batch in length_batches([len(ids) for ids in prompt_ids[0]], batch_size):
            streams = [_Stream(m, [ids[i] for i in batch], vocab_size, max_new_tokens) for m, ids in zip(members, prompt_ids)]
            _decode_batch(streams, combine, list(batch), outputs, max_new_tokens, set(eos_ids), stop,
                          stop_tokenizer, sampling)
            if on_batch is not None:
                on_batch(len(batch))
    return outputs


def _decode_batch(streams: list[_Stream], combine: Combine, rows: list[int], outputs: list[list[int]],
                  max_new_tokens: int, eos: set[int], stop: Sequence[str], stop_tokenizer: Any,
                  sampling: Sampling | None) -> None:
    import torch

    generators = sampling.generators(rows) if sampling is not None else None
    target = streams[0].logits.device
    logits = [s.logits for s in streams]
    alive = [True] * len(rows)
    for step in range(max_new_tokens):
        tokens = pick_tokens(combine([x.to(target) for x in logits]), sampling, generators)
        running = [k for k in range(len(rows)) if alive[k]]
        for k in running:
            outputs[rows[k]].append(tokens[k])
        if step + 1 == max_new_tokens:
            return
        hits = stop_hits(stop_tokenizer, [outputs[rows[k]] for k in running], stop) if any(stop) else [False] * len(running)
        for k, hit in zip(running, hits):
            alive[k] = tokens[k] not in eos and not hit
        left = sum(alive)
        if not left:
            return
        if len(rows) - left >= max(1, COMPACT_SHARE * len(rows)):
            keep = [k for k in range(len(rows)) if alive[k]]
            selected = torch.tensor(keep, dtype=torch.long)
            for s in streams:
                s.keep(selected)
            rows, tokens, alive = [rows[k] for k in keep], [tokens[k] for k in keep], [True] * len(keep)
            generators = [generators[k] for k in keep] if generators is not None else None
        next_ids = torch.tensor(tokens, dtype=torch.long)
        logits = [s.step(next_ids) for s in streams]
