"""Question alignment, QAlign stage I (docs/methods.md).

One sample per parallel question pair, Alpaca prompt without input: ``instruction`` = "Translate the
following sentences from {Lang} to English." + a space + the non-English question, ``output`` = the
English question. Pairs with an empty side are skipped, as in the original loader
(QAlign ``data/gsmtrans/gsmtrans.py``), which also strips both lines.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterator

from polyalign.data.builders.base import Builder, Instruction, Sample, clean

__all__ = ["QuestionAlignmentBuilder", "QuestionAlignmentOptions", "QUESTION_ALIGNMENT_INSTRUCTION"]

QUESTION_ALIGNMENT_INSTRUCTION = "Translate the following sentences from {src} to {tgt}."


@dataclass
class QuestionAlignmentOptions:
    target: str = "en"
    """The language questions are aligned to (English in the paper)."""


class QuestionAlignmentBuilder(Builder):
    name = "question_alignment"
    version = "1"
    Options = QuestionAlignmentOptions
    options: QuestionAlignmentOptions

    def fields(self) -> tuple[list[str], list[str]]:
        return [self.lang, self.options.target], []

    def build(self, record: dict[str, Any], index: int) -> Iterator[tuple[str, Sample]]:
        question, target = clean(record[self.lang]), clean(record[self.options.target])
        if not question or not target:
            return
        request = QUESTION_ALIGNMENT_INSTRUCTION.format(src=self.lang_name(self.lang),
                                                       tgt=self.lang_name(self.options.target))
        yield "", Instruction(f"{request} {question}", "", target)
