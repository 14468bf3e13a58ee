"""Log-likelihood of continuations given contexts (multiple-choice scoring by option likelihood).

Tokenisation follows lm-evaluation-harness (``HFLM._encode_pair``) so scores are comparable with
lm-eval's: trailing spaces of the context move to the continuation, then the continuation's tokens
are those of ``encode(context + continuation)`` after the context's tokens. Batches are right-padded
(no generation, so no alignment is needed) and sorted by length to keep padding small.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from transformers import PreTrainedModel, PreTrainedTokenizerBase

__all__ = ["loglikelihoods", "encode_pair"]


def encode_pair(tokenizer: PreTrainedTokenizerBase, context: str, continuation: str,
                add_special_tokens: bool = True) -> tuple[list[int], list[int]]:
    """Token ids of (context, continuation) as lm-eval splits them."""
    spaces = len(context) - len(context.rstrip())
    if spaces:
        continuation = context[-spaces:] + continuation
        context = context[:-spaces]
    whole = tokenizer(context + continuation, add_special_tokens=add_special_tokens)["input_ids"]
    ctx = tokenizer(context, add_special_tokens=add_special_tokens)["input_ids"] if context else []
    return whole[:len(ctx)], whole[len(ctx):]


def loglikelihoods(model: PreTrainedModel, tokenizer: PreTrainedTokenizerBase,
                   pairs: Sequence[tuple[str, str]], *, batch_size: int = 8,
                   add_special_tokens: bool = True) -> list[tuple[float, bool]]:
    """``(sum of log-probabilities of the continuation, whether greedy decoding would produce it)``.

    Args:
        model: a causal LM in eval mode.
        tokenizer: its tokenizer.
        pairs: (context, continuation) strings.
        batch_size: sequences per forward pass.
        add_special_tokens: let the tokenizer add BOS; False for chat-rendered contexts.
    """
    import torch

    seqs: list[tuple[list[int], int]] = []  # (input ids, number of continuation tokens)
    for context, continuation in pairs:
        ctx, cont = encode_pair(tokenizer, context, continuation, add_special_tokens)
        if not cont:
            raise ValueError(f"empty continuation for context ending {context[-40:]!r}")
        if not ctx:  # a first token needs something to be predicted from
            ctx = [tokenizer.bos_token_id if tokenizer.bos_token_id is not None else tokenizer.eos_token_id]
        seqs.append((ctx + cont, len(cont)))
    order = sorted(range(len(seqs)), key=lambda i: -len(seqs[i][0]))
    device = next(model.parameters()).device
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0
    results: list[tuple[float, bool]] = [(0.0, False)] * len(seqs)
    for start in range(0, len(order), batch_size):
        batch = order[start:start + batch_size]
        width = max(len(seqs[i][0]) for i in batch) - 1
        ids = torch.full((len(batch), width), pad, dtype=torch.long)
        mask = torch.zeros((len(batch), width), dtype=torch.long)
        for row, i in enumerate(batch):
            inp = seqs[i][0][:-1]  # the last token is only a target
            ids[row, :len(inp)] = torch.tensor(inp, dtype=torch.long)
            mask[row, :len(inp)] = 1
        with torch.inference_mode():
            logprobs = torch.log_softmax(model(input_ids=ids.to(device), attention_mask=mask.to(device)).logits.float(),
                                         dim=-1).cpu()
        for row, i in enumerate(batch):
            full, n = seqs[i]
            length = len(full) - 1
            targets = torch.tensor(full[-n:], dtype=torch.long)
            scores = logprobs[row, length - n:length]
            picked = scores.gather(1, targets[:, None]).squeeze(1)
            results[i] = (float(picked.sum()), bool((scores.argmax(-1) == targets).all()))
    return results
