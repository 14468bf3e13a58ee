"""Batched greedy generation: length-sorted, left-padded batches through ``model.generate`` (KV cache).

The batching and stop-string pieces (`length_batches`, `left_pad`, `stop_hits`) are shared with the
proxy-tuning decode loop (`polyalign.infer.lockstep`), so both decoders batch and stop alike.

Why each choice:
* **Length-sorted batches**: prompts of similar length share a batch, so little compute goes into
  padding; the longest batch runs first, so an out-of-memory error shows up at once, not at the end.
* **Left padding** with an attention mask and position ids derived from it (transformers does this in
  ``generate``): every prompt ends at the same position, so the new tokens line up.
* **Explicit greedy `GenerationConfig`**: a checkpoint's own ``generation_config.json`` may ask for
  sampling or a temperature; evaluation must not inherit that silently.
* **Stop strings** end a sequence as soon as they appear in its *generated* text (a finished
  sequence stops costing compute) and are cut from the result, matching lm-eval's ``until``.
  transformers' own ``stop_strings`` also match across the prompt boundary (a prompt ending in "?"
  stops at once on "??"), so we use our own criterion over the new tokens only.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from transformers import PreTrainedModel, PreTrainedTokenizerBase

__all__ = ["generate", "generate_naive", "generation_config", "truncate_at_stop", "eos_ids", "stop_hits", "left_pad",
           "length_batches"]


def truncate_at_stop(text: str, stop: Sequence[str]) -> str:
    """Cut ``text`` at the earliest occurrence of any stop string (the stop string is removed too)."""
    cut = len(text)
    for s in stop:
        if s:
            at = text.find(s)
            if at != -1:
                cut = min(cut, at)
    return text[:cut]


def eos_ids(model: PreTrainedModel, tokenizer: PreTrainedTokenizerBase) -> list[int]:
    """End-of-sequence ids: the tokenizer's plus any the model's generation config lists."""
    ids: list[int] = []
    if tokenizer.eos_token_id is not None:
        ids.append(int(tokenizer.eos_token_id))
    configured = getattr(getattr(model, "generation_config", None), "eos_token_id", None)
    for i in configured if isinstance(configured, (list, tuple)) else [configured]:
        if i is not None and int(i) not in ids:
            ids.append(int(i))
    return ids


def stop_hits(tokenizer: PreTrainedTokenizerBase, generated: Any, stop: Sequence[str]) -> list[bool]:
    """Per row of ``generated`` (new token ids only, a tensor or lists), has a stop string appeared?

    Only the tail of each row is decoded: a character can take up to 4 byte-fallback tokens, so
    the window reaches back far enough for the longest stop string.
    """
    stops = [s for s in stop if s]
    if not stops:
        return [False] * len(generated)
    window = 4 * max(len(s) for s in stops) + 4
    tails = tokenizer.batch_decode([row[-window:] for row in generated], skip_special_tokens=True)
    return [any(s in t for s in stops) for t in tails]


def left_pad(seqs: Sequence[Sequence[int]], pad_id: int) -> tuple[Any, Any]:
    """``(input_ids, attention_mask)`` long tensors with every sequence right-aligned (left padding)."""
    import torch

    width = max(len(s) for s in seqs)
    ids = torch.full((len(seqs), width), pad_id, dtype=torch.long)
    mask = torch.zeros((len(seqs), width), dtype=torch.long)
    for row, seq in enumerate(seqs):
        if seq:
            ids[row, width - len(seq):] = torch.tensor(list(seq), dtype=torch.long)
            mask[row, width - len(seq):] = 1
    return ids, mask


def length_batches(lengths: Sequence[int], batch_size: int | str) -> list[list[int]]:
    """Indices grouped in batches of similar length, longest first (out-of-memory shows up at once).

    ``auto`` needs a model to size batches (`polyalign.infer.batching.auto_batches`); callers without
    one (the multi-model proxy loop) get `FALLBACK_BATCH`.
    """
    if batch_size == "auto":
        batch_size = FALLBACK_BATCH
    if batch_size < 1:
        raise ValueError("batch_size must be >= 1")
    order = sorted(range(len(lengths)), key=lambda i: -lengths[i])
    return [order[start:start + batch_size] for start in range(0, len(order), batch_size)]


FALLBACK_BATCH = 8
"""Batch width of ``auto`` where no model is at hand to size it."""


def generation_config(model: PreTrainedModel, tokenizer: PreTrainedTokenizerBase, max_new_tokens: int,
                      temperature: float = 0.0, top_p: float = 1.0) -> Any:
    """The explicit ``GenerationConfig`` every polyalign generation uses (greedy unless ``temperature``)."""
    from transformers import GenerationConfig

    eos = eos_ids(model, tokenizer)
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else (eos[0] if eos else 0)
    sampling = {"do_sample": True, "temperature": temperature, "top_p": top_p, "top_k": None} \
        if temperature > 0 else {"do_sample": False}
    return GenerationConfig(max_new_tokens=max_new_tokens, num_beams=1, use_cache=True,
                            eos_token_id=eos or None, pad_token_id=pad, **sampling)


def _stopping(tokenizer: PreTrainedTokenizerBase, stop: Sequence[str], prompt_len: int) -> Any:
    """A stopping criterion: per sequence, has a stop string appeared in the generated text?"""
    import torch
    from transformers import StoppingCriteria, StoppingCriteriaList

    class _StopStrings(StoppingCriteria):
        def __call__(self, input_ids: Any, scores: Any, **kwargs: Any) -> Any:
            return torch.tensor(stop_hits(tokenizer, input_ids[:, prompt_len:], stop), device=input_ids.device)

    return StoppingCriteriaList([_StopStrings()] if any(stop) else [])


def generate(model: PreTrainedModel, tokenizer: PreTrainedTokenizerBase, prompts: Sequence[str], *,
             max_new_tokens: int, stop: Sequence[str] = (), batch_size: int | str = 8,
             add_special_tokens: bool = True, on_batch: Callable[[int], None] | None = None,
             temperature: float = 0.0, top_p: float = 1.0, seed: int | None = None) -> list[str]:
    """Greedy (or sampled) continuations of ``prompts``, in input order.

    Args:
        model: a causal LM in eval mode.
        tokenizer: its tokenizer; needs a pad token (``polyalign.models.load_tokenizer`` sets one).
        prompts: the full prompt strings.
        max_new_tokens: generation limit per prompt.
        stop: strings that end a continuation (cut from the result); EOS always ends it.
        batch_size: prompts per forward pass, or ``auto`` (`polyalign.infer.batching.auto_batches`).
        add_special_tokens: let the tokenizer add BOS etc.; False for text already rendered by a chat
            template (which contains them).
        on_batch: called with the number of prompts finished after each batch (progress bars).
        temperature: 0 = greedy (the default); above 0, sample at this temperature.
        top_p: nucleus sampling mass (sampling only).
        seed: seeds torch's generator before sampling (samples then also depend on the batching).

    Returns:
        One decoded continuation per prompt, special tokens skipped, cut at the first stop string.
    """
    import torch

    encoded = [tokenizer(p, add_special_tokens=add_special_tokens)["input_ids"] for p in prompts]
    if batch_size == "auto":
        from polyalign.infer.batching import auto_batches

        batches = auto_batches([len(e) for e in encoded], max_new_tokens=max_new_tokens, model=model)
    else:
        batches = length_batches([len(e) for e in encoded], int(batch_size))
    config = generation_config(model, tokenizer, max_new_tokens, temperature, top_p)
    if temperature > 0 and seed is not None:
        torch.manual_seed(seed)
    device = next(model.parameters()).device
    outputs: list[str] = [""] * len(prompts)
    for batch in batches:
        ids, mask = left_pad([encoded[i] for i in batch], config.pad_token_id)
        width = ids.shape[1]
        with torch.inference_mode():
            out = model.generate(input_ids=ids.to(device), attention_mask=mask.to(device),
                                 generation_config=config, stopping_criteria=_stopping(tokenizer, stop, width))
        for row, i in enumerate(batch):
            text = tokenizer.decode(out[row, width:], skip_special_tokens=True)
            outputs[i] = truncate_at_stop(text, stop)
        if on_batch is not None:
            on_batch(len(batch))
    return outputs


def generate_naive(model: PreTrainedModel, tokenizer: PreTrainedTokenizerBase, prompts: Sequence[str], *,
                   max_new_tokens: int, stop: Sequence[str] = (), add_special_tokens: bool = True) -> list[str]:
    """The baseline: one ``model.generate`` call per prompt, no padding (benchmarks/eval_throughput.py)."""
    import torch

    config = generation_config(model, tokenizer, max_new_tokens)
    device = next(model.parameters()).device
    outputs = []
    for prompt in prompts:
        ids = tokenizer(prompt, add_special_tokens=add_special_tokens, return_tensors="pt")["input_ids"].to(device)
        with torch.inference_mode():
            out = model.generate(input_ids=ids, attention_mask=torch.ones_like(ids), generation_config=config,
                                 stopping_criteria=_stopping(tokenizer, stop, ids.shape[1]))
        outputs.append(truncate_at_stop(tokenizer.decode(out[0, ids.shape[1]:], skip_special_tokens=True), stop))
    return outputs
