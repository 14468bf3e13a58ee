"""Choosing the next token from (combined) scores: greedy, or temperature + top-p sampling, seeded per row.

Why one random generator per prompt (seeded from the run seed and the prompt's index in the call)
rather than one for the batch: a row's samples then do not depend on which other prompts share its
batch, on the batch size, or on when other rows finish, so sampled outputs are reproducible and
batched decoding gives the same text as one prompt at a time (the same property greedy has).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from polyalign.errors import InputError

__all__ = ["Sampling", "pick_tokens", "top_p_filter"]

_MIX = 0x9E3779B97F4A7C15  # odd 64-bit constant: spreads (seed, index) pairs over the generator's seed space


@dataclass(frozen=True)
class Sampling:
    """Decoding randomness; ``temperature == 0`` means greedy (argmax), the evaluation default."""

    temperature: float = 0.0
    """0 = greedy; above 0, scores are divided by it before the softmax."""
    top_p: float = 1.0
    """Nucleus sampling: sample among the most likely tokens whose mass reaches top_p (1 = all)."""
    seed: int = 0
    """Row i of a call samples from a generator seeded by (seed, i)."""

    @property
    def greedy(self) -> bool:
        return self.temperature == 0

    def validate(self) -> None:
        if not math.isfinite(self.temperature) or self.temperature < 0:
            raise InputError(f"--temperature must be a number >= 0 (0 = greedy), got {self.temperature}")
        if not math.isfinite(self.top_p) or not 0 < self.top_p <= 1:
            raise InputError(f"--top-p must be in (0, 1], got {self.top_p}")

    def generators(self, indices: Sequence[int]) -> list[Any] | None:
        """One CPU generator per prompt index, or None when greedy."""
        if self.greedy:
            return None
        import torch

        return [torch.Generator().manual_seed((self.seed * _MIX + i) % (1 << 63)) for i in indices]


def top_p_filter(probs: Any, top_p: float) -> Any:
    """Zero out the tail beyond the smallest set of tokens whose probability reaches ``top_p``.

    The most likely token is always kept, so the result is never all zeros.
    """
    import torch

    if top_p >= 1:
        return probs
    sorted_probs, order = torch.sort(probs, dim=-1, descending=True)
    before = torch.cumsum(sorted_probs, dim=-1) - sorted_probs  # mass of the strictly more likely tokens
    sorted_probs = sorted_probs.masked_fill(before >= top_p, 0.0)
    return torch.zeros_like(probs).scatter(-1, order, sorted_probs)


def pick_tokens(scores: Any, sampling: Sampling | None, generators: Sequence[Any] | None) -> list[int]:
    """The next token of every row of ``scores`` ([rows, vocab] float logits).

    Args:
        scores: next-token logits, one row per active sequence.
        sampling: None or greedy settings → argmax; else temperature / top-p sampling.
        generators: one per row (`Sampling.generators`), required when sampling.
    """
    import torch

    if sampling is None or sampling.greedy:
        return scores.argmax(dim=-1).tolist()
    if generators is None or len(generators) != scores.shape[0]:
        raise ValueError("sampling needs one generator per row")
    probs = top_p_filter(torch.softmax(scores.float().cpu() / sampling.temperature, dim=-1), sampling.top_p)
    return [int(torch.multinomial(row, 1, generator=g)) for row, g in zip(probs, generators)]
