"""Negative log-likelihood of documents, counted so that bits per character compare across tokenizers.

Perplexity per *token* depends on the tokenizer (an extended vocabulary has fewer, rarer tokens);
bits per character and per UTF-8 byte do not, so they are what to compare (LLaMA beyond English, docs/methods.md):
``bits/char = Σ NLL (nats) / ln 2 / characters``.

What is counted, exactly:
- **The first token has no prediction.** A causal LM predicts token t from tokens < t; the
  document's first token has no context. By default it is not scored, and its characters are left
  out of the denominator (characters are counted from the end of the first token to the end of the
  last scored token, using the tokenizer's offsets). When the tokenizer itself prepends BOS, that
  BOS is the first token and every text token is scored. With ``bos_context=True`` a BOS (or, if the
  tokenizer has none, EOS) is prepended when missing, so every text token is scored and every
  character counts, as lm-evaluation-harness's rolling log-likelihood does.
- **Long documents: sliding window.** Windows of ``max_length`` tokens advance by ``stride``; each
  window scores only tokens no earlier window scored, so every token is scored once with at least
  ``max_length - stride`` tokens of context (the Hugging Face "perplexity of fixed-length models"
  recipe). With ``truncate=True`` only the first ``max_length`` tokens are scored.
- **Real tokens only.** Windows are batched with right padding; only target positions of real
  tokens enter the sum.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

__all__ = ["TextNLL", "document_nll", "LN2"]

LN2 = math.log(2.0)


@dataclass(frozen=True)
class TextNLL:
    """Summed negative log-likelihood of one document and what it was measured over."""

    nll: float
    """Σ −ln p(token | context) over the scored tokens, in nats."""
    tokens: int
    """Number of scored tokens."""
    chars: int
    """Characters of the scored text (Unicode code points)."""
    bytes: int
    """UTF-8 bytes of the scored text."""


def document_nll(model: Any, tokenizer: Any, texts: Sequence[str], *, max_length: int = 1024,
                 stride: int | None = None, truncate: bool = False, bos_context: bool = False,
                 batch_tokens: int = 2048) -> list[TextNLL]:
    """Score each document (see the module docstring for what is counted).

    Args:
        model: a causal LM.
        tokenizer: its tokenizer (fast tokenizers give exact character offsets).
        texts: the documents.
        max_length: window length in tokens.
        stride: window step (default ``max_length // 2``); ignored with ``truncate``.
        truncate: score only each document's first ``max_length`` tokens.
        bos_context: prepend BOS/EOS so the first text token is scored too.
        batch_tokens: padded tokens per forward pass (bounds the logits' memory).

    Returns:
        One `TextNLL` per document, in order.
    """
    import torch

    stride = max(1, stride or max_length // 2)
    if stride > max_length:
        raise ValueError("stride must not exceed max_length")
    docs = [_tokenize(tokenizer, text, bos_context) for text in texts]
    windows = []  # (document, begin, end, number of targets)
    spans = []
    for d, (ids, offsets) in enumerate(docs):
        last = min(len(ids), max_length) if truncate else len(ids)
        windows += _windows(last, max_length, stride, d)
        spans.append(_scored_span(texts[d], offsets, last))
    totals = [0.0] * len(docs)
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0
    device = next(model.parameters()).device
    with torch.inference_mode():
        for batch in _batches(windows, batch_tokens):
            width = max(end - begin for _, begin, end, _ in batch)
            ids = torch.full((len(batch), width), pad, dtype=torch.long)
            mask = torch.zeros((len(batch), width), dtype=torch.long)
            scored = torch.zeros((len(batch), width), dtype=torch.bool)  # positions whose token is scored
            for row, (d, begin, end, n_targets) in enumerate(batch):
                ids[row, :end - begin] = torch.tensor(docs[d][0][begin:end])
                mask[row, :end - begin] = 1
                scored[row, end - begin - n_targets:end - begin] = True
            scored[:, 0] = False  # a window's first position has no context inside it
            ids, mask, scored = ids.to(device), mask.to(device), scored.to(device)
            logits = model(input_ids=ids, attention_mask=mask, use_cache=False).logits
            chosen = scored[:, 1:]  # the logits at position p predict the token at p + 1
            logprobs = torch.log_softmax(logits[:, :-1][chosen].float(), dim=-1)
            picked = logprobs.gather(1, ids[:, 1:][chosen][:, None]).squeeze(1).double().cpu()
            rows = chosen.nonzero()[:, 0].cpu()
            for row, (d, *_) in enumerate(batch):
                totals[d] -= float(picked[rows == row].sum())
    out = []
    for d, (ids, _) in enumerate(docs):
        last = min(len(ids), max_length) if truncate else len(ids)
        scored = spans[d]
        out.append(TextNLL(nll=totals[d], tokens=max(0, last - 1), chars=len(scored),
                           bytes=len(scored.encode("utf-8"))))
    return out


def _tokenize(tokenizer: Any, text: str, bos_context: bool) -> tuple[list[int], list[tuple[int, int]] | None]:
    fast = bool(getattr(tokenizer, "is_fast", False))
    enc = tokenizer(text, return_offsets_mapping=fast, verbose=False)  # long documents are windowed, not cut
    ids = list(enc["input_ids"])
    offsets = [tuple(o) for o in enc["offset_mapping"]] if fast else None
    if bos_context:
        context = tokenizer.bos_token_id if tokenizer.bos_token_id is not None else tokenizer.eos_token_id
        if context is None:
            raise ValueError("bos_context needs a tokenizer with a BOS or EOS token")
        if not ids or ids[0] != context:
            ids.insert(0, context)
            if offsets is not None:
                offsets.insert(0, (0, 0))
    return ids, offsets


def _windows(length: int, max_length: int, stride: int, doc: int) -> list[tuple[int, int, int, int]]:
    """Sliding windows ``(doc, begin, end, targets)`` scoring tokens 1..length-1 exactly once.

    ``targets`` counts the window's last positions to score; a window after the first starts at
    least one token before the previous end, so its first target always has context.
    """
    windows, prev_end, begin = [], 0, 0
    while prev_end < length:
        if prev_end:
            begin = min(begin, prev_end - 1)
        end = min(begin + max_length, length)
        if end - begin >= 2:
            windows.append((doc, begin, end, end - prev_end))
        prev_end = end
        begin += stride
    return windows


def _batches(windows: list[tuple[int, int, int, int]], batch_tokens: int) -> list[list[tuple[int, int, int, int]]]:
    """Windows grouped by length (little padding), each group within ``batch_tokens`` padded tokens."""
    batches: list[list[tuple[int, int, int, int]]] = []
    for window in sorted(windows, key=lambda w: w[2] - w[1]):
        width = window[2] - window[1]  # sorted ascending: the newest window is the widest
        if batches and (len(batches[-1]) + 1) * width <= batch_tokens:
            batches[-1].append(window)
        else:
            batches.append([window])
    return batches


def _scored_span(text: str, offsets: list[tuple[int, int]] | None, last: int) -> str:
    """The text from the end of the first token to the end of token ``last - 1``."""
    if last < 2:
        return ""
    if offsets is None:  # slow tokenizer: all of the text (the first token's few characters included)
        return text
    begin = offsets[0][1]
    end = max(e for _, e in offsets[:last])
    return text[begin:end]
