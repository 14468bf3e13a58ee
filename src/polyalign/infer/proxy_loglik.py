"""Continuation log-likelihoods under a combined (proxy-tuned) next-token distribution.

Multiple-choice scoring by option likelihood needs one number per option; for proxy-tuning the
natural one is the log-probability the *proxy distribution* gives the option:
``Σ_t log_softmax(s_L + α·(s_E − s_A))[token_t]`` over the continuation's tokens, each member's
scores cut to the shared vocabulary. That is the distribution greedy proxy decoding picks from, so
the "is greedy" flag agrees with what `polyalign.infer.proxy.ProxyTuner.generate` would produce.

Tokenisation follows `polyalign.infer.loglik` (lm-eval's split) with the base tokenizer; the
continuation's tokens are shared, while each member reads the context in its own prompt format
(plain members read exactly the base's context ids). One forward pass per member and batch,
right-padded (nothing is generated, so nothing needs aligning), sorted by length.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from polyalign.infer.generate import length_batches
from polyalign.infer.loglik import encode_pair
from polyalign.infer.members import Member

__all__ = ["combined_loglikelihoods"]


def _first_token(tokenizer: Any) -> int:
    """What an empty context is replaced by (a first token needs something to be predicted from)."""
    return int(tokenizer.bos_token_id if tokenizer.bos_token_id is not None else tokenizer.eos_token_id)


def _encode(members: Sequence[Member], context: str, continuation: str,
            add_special_tokens: bool) -> tuple[list[list[int]], list[int]]:
    """(context ids per member, shared continuation ids)."""
    base = members[0]
    ctx, cont = encode_pair(base.tokenizer, context, continuation, add_special_tokens)
    if not cont:
        raise ValueError(f"empty continuation for context ending {context[-40:]!r}")
    bare = context.rstrip()  # encode_pair moved the trailing spaces to the continuation
    contexts = []
    for member in members:
        ids = list(ctx) if member.prompt_format == "plain" else member.encode(bare, add_special_tokens)
        contexts.append(ids or [_first_token(member.tokenizer)])
    return contexts, list(cont)


def _right_pad(seqs: list[list[int]], pad_id: int) -> tuple[Any, Any]:
    import torch

    width = max(len(s) for s in seqs)
    ids = torch.full((len(seqs), width), pad_id, dtype=torch.long)
    mask = torch.zeros((len(seqs), width), dtype=torch.long)
    for row, seq in enumerate(seqs):
        ids[row, :len(seq)] = torch.tensor(seq, dtype=torch.long)
        mask[row, :len(seq)] = 1
    return ids, mask


def combined_loglikelihoods(members: Sequence[Member], combine: Any, pairs: Sequence[tuple[str, str]], *,
                            vocab_size: int, batch_size: int = 8,
                            add_special_tokens: bool = True) -> list[tuple[float, bool]]:
    """``(log-probability of the continuation, whether greedy decoding would produce it)`` per pair.

    Args:
        members: the models; the first one's tokenizer splits context and continuation.
        combine: per-member logits ([tokens, vocab_size] float32, one device) -> combined scores.
        pairs: (context, continuation) strings.
        vocab_size: the shared vocabulary; every member's logits are cut to it.
        batch_size: sequences per forward pass.
        add_special_tokens: let tokenizers add BOS; False for chat-rendered contexts.
    """
    import torch

    encoded = [_encode(members, c, x, add_special_tokens) for c, x in pairs]
    results: list[tuple[float, bool]] = [(0.0, False)] * len(encoded)
    lengths = [len(ctxs[0]) + len(cont) for ctxs, cont in encoded]
    with torch.inference_mode():
        for batch in length_batches(lengths, batch_size):
            logits = []
            for k, member in enumerate(members):
                # the last token is only a target
                ids, mask = _right_pad([(encoded[i][0][k] + encoded[i][1])[:-1] for i in batch], member.pad_id)
                device = member.input_device
                out = member.model(input_ids=ids.to(device), attention_mask=mask.to(device)).logits
                logits.append(out[:, :, :vocab_size])
            target = logits[0].device
            for row, i in enumerate(batch):
                contexts, cont = encoded[i]
                n = len(cont)
                # position len(ctx) - 1 predicts the first continuation token
                rows = [x[row, len(ctx) - 1:len(ctx) - 1 + n].float().to(target) for x, ctx in zip(logits, contexts)]
                scores = torch.log_softmax(combine(rows), dim=-1)
                targets = torch.tensor(cont, dtype=torch.long, device=target)
                picked = scores.gather(1, targets[:, None]).squeeze(1)
                results[i] = (float(picked.sum()), bool((scores.argmax(-1) == targets).all()))
    return results
