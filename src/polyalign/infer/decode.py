"""The lean greedy decode loop: the model's own forward with its KV cache, no ``generate`` machinery.

Where decoding time went (benchmarks/decode_profile.py, torch profiler; SmolLM2-135M, 32 MGSM chat
prompts in 8 languages, 2-core CPU): the machinery around ``generate``'s forward is under 1 %; at
bf16, batch 32, the forward itself spent 35 % in ``DynamicCache``'s per-step ``torch.cat`` and 31 % in
attention over left padding, and padded prefill of prompts 75-536 tokens long cost 3x their real
tokens. This loop (the single-model case of `polyalign.infer.lockstep.lockstep_decode`):

* prefills a batch in runs of similar length into one preallocated cache
  (`polyalign.infer.kvcache`), then decodes all its rows at once: the CPU's GEMMs need the width,
  prefill pays only each run's own padding, and no step copies the cache;
* runs decode-step attention per bucket of rows from each bucket's first real column
  (`polyalign.infer.attention`);
* lets finished rows stop counting (dropped from the batch once they are a quarter of it) and
  computes only the last position's logits.

With ``auto``, only memory limits a batch's width. Greedy output equals ``model.generate``'s (same
left padding, positions and mask; tested on tiny models in fp32). Sampling stays with ``generate``
(`polyalign.infer.generate.generate`). Throughput against the machine's limit: benchmarks/ceiling.py.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from polyalign.infer.batching import AUTO, MAX_PADDING, auto_batches
from polyalign.infer.generate import eos_ids, length_batches, truncate_at_stop
from polyalign.infer.kvcache import InPlaceKV
from polyalign.infer.lockstep import lockstep_decode
from polyalign.infer.members import Member

if TYPE_CHECKING:
    from transformers import PreTrainedModel, PreTrainedTokenizerBase

__all__ = ["greedy_decode", "greedy_token_ids"]


def greedy_token_ids(model: PreTrainedModel, tokenizer: PreTrainedTokenizerBase, encoded: Sequence[Sequence[int]], *,
                     max_new_tokens: int, stop: Sequence[str] = (), batch_size: int | str | Sequence[Sequence[int]] = AUTO,
                     on_batch: Callable[[int], None] | None = None) -> list[list[int]]:
    """Generated token ids (EOS kept, stop strings not cut) for already-tokenised prompts, in input order.

    Args:
        batch_size: prompts per forward pass, ``auto`` (the widest batches a memory budget allows,
            `polyalign.infer.batching.auto_batches`) or explicit batches of indices.
    """
    member = Member("model", model, tokenizer)
    eos = eos_ids(model, tokenizer)
    if batch_size == AUTO:
        # Prefilled in runs of similar length and decoded with bucketed attention, a batch's padding
        # costs little (polyalign.infer.lockstep): then only memory limits its width.
        batches = auto_batches([len(e) for e in encoded], max_new_tokens=max_new_tokens, model=model,
                               max_padding=None if InPlaceKV.supports(model) else MAX_PADDING)
    elif isinstance(batch_size, int):
        batches = length_batches([len(e) for e in encoded], batch_size)
    else:
        batches = [list(b) for b in batch_size]
    outputs: list[list[int]] = [[] for _ in encoded]
    for batch in batches:
        # One model: no vocabulary to share, so the argmax runs over every output row, as generate's does.
        ids = lockstep_decode([member], _only, [[list(encoded[i]) for i in batch]], vocab_size=member.rows,
                              max_new_tokens=max_new_tokens, eos_ids=eos, stop=stop, stop_tokenizer=tokenizer,
                              batch_size=len(batch))
        for i, row in zip(batch, ids):
            outputs[i] = row
        if on_batch is not None:
            on_batch(len(batch))
    return outputs


def greedy_decode(model: PreTrainedModel, tokenizer: PreTrainedTokenizerBase, prompts: Sequence[str], *,
                  max_new_tokens: int, stop: Sequence[str] = (), batch_size: int | str | Sequence[Sequence[int]] = AUTO,
                  add_special_tokens: bool = True, on_batch: Callable[[int], None] | None = None) -> list[str]:
    """Greedy continuations of ``prompts`` (special tokens skipped, cut at the first stop string), in input order."""
    encoded = [tokenizer(p, add_special_tokens=add_special_tokens)["input_ids"] for p in prompts]
    ids = greedy_token_ids(model, tokenizer, encoded, max_new_tokens=max_new_tokens, stop=stop,
                           batch_size=batch_size, on_batch=on_batch)
    return [truncate_at_stop(tokenizer.decode(row, skip_special_tokens=True), stop) for row in ids]


def _only(logits: list) -> object:
    return logits[0]
