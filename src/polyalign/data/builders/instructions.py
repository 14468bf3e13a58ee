"""Instruction sets as they are: Alpaca-format data in any language (x-LLaMA's translated Alpaca,
Bactrian-X, BELLE), or English Alpaca itself. Records without an instruction or an output are skipped.
"""

from __future__ import annotations

from typing import Any, Iterator

from polyalign.data.builders.base import Builder, Instruction, Sample, clean

__all__ = ["InstructionsBuilder"]


class InstructionsBuilder(Builder):
    name = "instructions"
    version = "1"

    def fields(self) -> tuple[list[str], list[str]]:
        return ["instruction", "output"], ["input"]

    def build(self, record: dict[str, Any], index: int) -> Iterator[tuple[str, Sample]]:
        instruction, output = clean(record["instruction"]), clean(record["output"])
        if instruction and output:
            yield "", Instruction(instruction, clean(record.get("input")), output)
