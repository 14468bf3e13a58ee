"""The lean greedy decode loop: the model's own forward with its KV cache, no ``generate`` machinery.

Measured (benchmarks/decode_profile.py: model.forward timed inside ``generate`` on SmolLM2-135M, fp32,
batch 8, 2-core CPU): the machinery around the forward (logits processors, stopping criteria, cache
bookkeeping) is under 1 % of decoding time, so nearly all time is the forward itself. What this loop
(the single-model case of `polyalign.infer.lockstep.lockstep_decode`) saves is the forward work on rows
that already finished: ``generate`` keeps feeding them pad tokens through every layer until the
longest row ends, this loop drops a row from the batch and its cache as soon as it emits EOS or a
stop string. It computes only the last position's logits and takes the argmax.

Its greedy output equals ``model.generate``'s (same left padding, position ids and mask; tested on
the tiny model in fp32). Sampling stays with ``generate`` (`polyalign.infer.generate.generate`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from polyalign.infer.batching import AUTO, auto_batches
from polyalign.infer.generate import eos_ids, length_batches, truncate_at_stop
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
        batches = auto_batches([len(e) for e in encoded], max_new_tokens=max_new_tokens, model=model)
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
