"""Example lengths as the trainer will see them, for data cards and truncation checks.

With a tokenizer, lengths are in tokens, measured the way the papers' training code measures them
(QAlign/Alpaca ``finetune.py``): the prompt alone, and prompt + completion together, with the
tokenizer's special tokens, plus one end-of-sequence token after the completion. Without a tokenizer,
lengths are in characters and truncation cannot be judged.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

__all__ = ["LengthMeter", "Histogram", "load_tokenizer"]


def load_tokenizer(name: str) -> Any:
    """A tokenizer from a local folder, a zoo name or a hub id (`polyalign.models.loading`)."""
    from polyalign.models.loading import load_tokenizer as load  # transformers is heavy: import on use

    return load(name)


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
