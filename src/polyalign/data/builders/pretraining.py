"""Further-pretraining text (LLaMA beyond English, docs/methods.md): one document per record.

Per-language mixing ratios come from the mixture (source weights), not from this builder.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterator

from polyalign.data.builders.base import Builder, Sample, Text
from polyalign.errors import InputError

__all__ = ["PretrainingBuilder", "PretrainingOptions"]


@dataclass
class PretrainingOptions:
    min_chars: int = 1
    """Skip documents shorter than this many characters (after stripping)."""

    def validate(self) -> None:
        if self.min_chars < 1:
            raise InputError("min_chars must be ≥ 1")


class PretrainingBuilder(Builder):
    name = "pretraining"
    version = "1"
    kind = "text"
    Options = PretrainingOptions
    options: PretrainingOptions

    def fields(self) -> tuple[list[str], list[str]]:
        return ["text"], []

    def build(self, record: dict[str, Any], index: int) -> Iterator[tuple[str, Sample]]:
        text = "" if record["text"] is None else str(record["text"]).strip()
        if len(text) >= self.options.min_chars:
            yield "", Text(text)
