"""Log-likelihood of continuations given contexts (multiple-choice scoring by option likelihood).

Tokenisation follows lm-evaluation-harness (``HFLM._encode_pair``) so scores are comparable with
lm-eval's: trailing spaces of the context move to the continuation, then the continuation's tokens
are those of ``encode(context + continuation)`` after the context's tokens.

`loglikelihoods` runs each distinct context once: multiple-choice options and the answer candidates
of a question share their context, whose forward pass (most of the tokens) is computed once and its
KV cache copied to one row per continuation; only the continuations' tokens are then run. Contexts are
left-padded and length-sorted (little padding), continuations right-padded after them.
`loglikelihoods_per_pair` is the plain one-sequence-per-pair method (the benchmarks' baseline).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from transformers import PreTrainedModel, PreTrainedTokenizerBase

__all__ = ["loglikelihoods", "loglikelihoods_per_pair", "encode_pair"]


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


def loglikelihoods_per_pair(model: PreTrainedModel, tokenizer: PreTrainedTokenizerBase,
                            pairs: Sequence[tuple[str, str]], *, batch_size: int = 8,
                            add_special_tokens: bool = True) -> list[tuple[float, bool]]:
    """As `loglikelihoods`, one right-padded sequence per pair (no context shared): the baseline.

    Args:
        model: a causal LM in eval mode.
        tokenizer: its tokenizer.
        pairs: (context, continuation) strings.
        batch_size: sequences per forward pass.
        add_special_tokens: let the tokenizer add BOS; False for chat-rendered contexts.
    """
    import torch

    seqs = [(ctx + cont, len(cont)) for ctx, cont in _encode_all(tokenizer, pairs, add_special_tokens)]
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


def _encode_all(tokenizer: PreTrainedTokenizerBase, pairs: Sequence[tuple[str, str]],
                add_special_tokens: bool) -> list[tuple[list[int], list[int]]]:
    out = []
    for context, continuation in pairs:
        ctx, cont = encode_pair(tokenizer, context, continuation, add_special_tokens)
        if not cont:
            raise ValueError(f"empty continuation for context ending {context[-40:]!r}")
        if not ctx:  # a first token needs something to be predicted from
            ctx = [tokenizer.bos_token_id if tokenizer.bos_token_id is not None else tokenizer.eos_token_id]
        out.append((list(ctx), list(cont)))
    return out


def loglikelihoods(model: PreTrainedModel, tokenizer: PreTrainedTokenizerBase,
                   pairs: Sequence[tuple[str, str]], *, batch_size: int | str = "auto",
                   add_special_tokens: bool = True) -> list[tuple[float, bool]]:
    """``(sum of log-probabilities of the continuation, whether greedy decoding would produce it)``.

    Args:
        model: a causal LM in eval mode.
        tokenizer: its tokenizer.
        pairs: (context, continuation) strings.
        batch_size: distinct contexts per forward pass, or ``auto`` (`polyalign.infer.batching`).
        add_special_tokens: let the tokenizer add BOS; False for chat-rendered contexts.
    """
    import torch

    from polyalign.infer.batching import AUTO, auto_batches
    from polyalign.infer.generate import length_batches

    encoded = _encode_all(tokenizer, pairs, add_special_tokens)
    groups: dict[tuple[int, ...], list[int]] = {}
    for i, (ctx, _) in enumerate(encoded):
        groups.setdefault(tuple(ctx), []).append(i)
    contexts = list(groups)
    lengths = [len(c) for c in contexts]
    if batch_size == AUTO:
        # a batch's rows are its continuations; budget as if each context were repeated for each
        longest = max(len(cont) for _, cont in encoded)
        per_context = max(len(members) for members in groups.values())
        batches = auto_batches(lengths, max_new_tokens=longest, model=model,
                               max_batch=max(1, 64 // per_context))
    else:
        batches = length_batches(lengths, int(batch_size))
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0
    results: list[tuple[float, bool]] = [(0.0, False)] * len(pairs)
    with torch.inference_mode():
        for batch in batches:
            rows = [(c, i) for c in batch for i in groups[contexts[c]]]  # (context slot, pair index)
            scored = _score_batch(model, [list(contexts[c]) for c in batch], [(batch.index(c), encoded[i][1])
                                                                              for c, i in rows], pad)
            for (_, i), result in zip(rows, scored):
                results[i] = result
    return results


def _score_batch(model: PreTrainedModel, contexts: list[list[int]], rows: list[tuple[int, list[int]]],
                 pad: int) -> list[tuple[float, bool]]:
    """Score continuations ``rows`` = [(index into contexts, continuation ids)] with one pass per context."""
    import inspect

    import torch
    from transformers import DynamicCache

    from polyalign.infer.generate import left_pad

    device = next(model.parameters()).device
    ids, mask = left_pad(contexts, pad)
    positions = (mask.cumsum(-1) - 1).clamp(min=0)
    cache = DynamicCache(config=model.config)
    accepts = inspect.signature(model.forward).parameters
    # transformers 5.25 names the cache argument `cache` (past_key_values deprecated); older ones the latter
    cache_arg = "cache" if "cache" in accepts else "past_key_values"
    keep = {"logits_to_keep": 1} if "logits_to_keep" in accepts else {}
    out = model(input_ids=ids.to(device), attention_mask=mask.to(device), position_ids=positions.to(device),
                use_cache=True, **{cache_arg: cache}, **keep)
    first = torch.log_softmax(out.logits[:, -1].float(), dim=-1).cpu()  # predicts each continuation's 1st token
    longest = max(len(cont) for _, cont in rows)
    later = None
    if longest > 1:
        index = torch.tensor([c for c, _ in rows], dtype=torch.long)
        cache = getattr(out, cache_arg)
        cache.batch_select_indices(index.to(device))  # one copy of its context's cache per continuation
        width = longest - 1  # the last token of a continuation is only a target
        cont_ids = torch.full((len(rows), width), pad, dtype=torch.long)
        cont_mask = torch.zeros((len(rows), width), dtype=torch.long)
        for r, (_, cont) in enumerate(rows):
            cont_ids[r, :len(cont) - 1] = torch.tensor(cont[:-1], dtype=torch.long)
            cont_mask[r, :len(cont) - 1] = 1
        start = positions[index, -1:] + 1
        cont_pos = start + torch.arange(width)[None, :]
        full_mask = torch.cat([mask[index], cont_mask], dim=1)
        out = model(input_ids=cont_ids.to(device), attention_mask=full_mask.to(device),
                    position_ids=cont_pos.to(device), use_cache=True, **{cache_arg: cache})
        later = torch.log_softmax(out.logits.float(), dim=-1).cpu()
    results = []
    for r, (c, cont) in enumerate(rows):
        targets = torch.tensor(cont, dtype=torch.long)
        scores = first[c][None, :] if later is None or len(cont) == 1 else \
            torch.cat([first[c][None, :], later[r, :len(cont) - 1]], dim=0)
        picked = scores.gather(1, targets[:, None]).squeeze(1)
        results.append((float(picked.sum()), bool((scores.argmax(-1) == targets).all())))
    return results
