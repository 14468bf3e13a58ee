"""Example lengths as the trainer will see them, for data cards and truncation checks.

With a tokenizer, lengths are in tokens, measured the way the papers' training code measures them
(QAlign/Alpaca ``finetune.py``): the prompt alone, and prompt + completion together, with the
tokenizer's special tokens, plus one end-of-sequence token after the completion. Without a tokenizer,
lengths are in characters and truncation cannot be judged.
"""

from __future__ import annotations

import os
from collections import Counter
from typing import Any

from polyalign.errors import InputError

__all__ = ["LengthMeter", "Histogram", "load_tokenizer"]


def load_tokenizer(name: str) -> Any:
    """A Hugging Face tokenizer from a local folder or hub id, with a clear error when unavailable."""
    from transformers import AutoTokenizer  # heavy import, only when a tokenizer is asked for

    try:
        return AutoTokenizer.from_pretrained(name)
    except Exception as err:  # OSError, ValueError, HF hub errors: all mean "cannot load this tokenizer"
        offline = os.environ.get("HF_HUB_OFFLINE") == "1"
        first = str(err).splitlines()[0] if str(err) else type(err).__name__
        hint = "" if os.path.isdir(name) else " (no network or offline mode? point `tokenizer` at a local folder)"
        raise InputError(f"cannot load tokenizer {name!r}: {first}{hint if not offline else ''}") from None


class LengthMeter:
    """Measures ``(prompt_length, completion_length)`` of rendered examples, in batches."""

    def __init__(self, tokenizer: Any = None) -> None:
        self.tokenizer = tokenizer
        self.unit = "tokens" if tokenizer is not None else "characters"

    def measure(self, records: list[dict[str, Any]]) -> list[tuple[int, int]]:
        """Lengths for each record; text records have prompt length 0."""
        prompts = [r.get("prompt", "") for r in records]
        fulls = [r["text"] if "text" in r else r["prompt"] + r["completion"] for r in records]
        if self.tokenizer is None:
            return [(len(p), len(f) - len(p)) for p, f in zip(prompts, fulls)]
        prompt_ids = self.tokenizer(prompts, add_special_tokens=True)["input_ids"]
        full_ids = self.tokenizer(fulls, add_special_tokens=True)["input_ids"]
        return [(len(p) if prompt else 0, len(f) - (len(p) if prompt else 0) + 1)
                for p, f, prompt in zip(prompt_ids, full_ids, prompts)]


class Histogram:
    """Exact order statistics of integer lengths in memory bounded by the number of distinct values."""

    def __init__(self) -> None:
        self.counts: Counter[int] = Counter()

    def add(self, value: int) -> None:
        self.counts[value] += 1

    def summary(self) -> dict[str, float | int]:
        n = sum(self.counts.values())
        if n == 0:
            return {"count": 0}
        ordered = sorted(self.counts.items())

        def quantile(q: float) -> int:
            rank, seen = max(1, round(q * n)), 0
            for value, count in ordered:
                seen += count
                if seen >= rank:
                    return value
            return ordered[-1][0]

        mean = sum(v * c for v, c in ordered) / n
        return {"count": n, "min": ordered[0][0], "median": quantile(0.5), "mean": round(mean, 2),
                "p95": quantile(0.95), "max": ordered[-1][0]}
