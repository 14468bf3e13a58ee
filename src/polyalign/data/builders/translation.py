"""Translation-task instructions (x-LLaMA's CoIT, docs/methods.md).

From parallel text English ↔ X: ``instruction`` = a request to translate, ``input`` = the source
sentence, ``output`` = its translation. The original draws the request from a pool of paraphrases by
line index; our pool is written by us (the original's is not reproduced), chosen the same way,
deterministically by ``index % len(pool)``. Its first entry is the papers' own wording, which their
evaluation always uses: ``instructions: first`` gives only that one.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterator, Literal

from polyalign.data.builders.base import Builder, Instruction, Sample, clean

__all__ = ["TranslationBuilder", "TranslationOptions", "TRANSLATION_INSTRUCTIONS"]

TRANSLATION_INSTRUCTIONS = (
    "Translate the following sentences from {src} to {tgt}.",  # the papers' template: keep first
    "Please provide the {tgt} translation for the following sentences.",
    "Render the following {src} text in {tgt}.",
    "Convert this passage from {src} into {tgt}.",
    "What is the {tgt} version of the following {src} sentences?",
    "Give a {tgt} translation of the text below.",
    "Translate this {src} text into {tgt}.",
    "I need the following sentences in {tgt}. Please translate them from {src}.",
    "Express the following {src} sentences in {tgt}.",
    "Can you translate the text below from {src} to {tgt}?",
    "Produce a faithful {tgt} translation of these {src} sentences.",
    "Rewrite the following text in {tgt}, keeping its meaning.",
    "Translate into {tgt}:",
    "Here is some {src} text. Translate it into {tgt}.",
    "How would you say the following in {tgt}?",
    "Turn the following {src} sentences into natural {tgt}.",
    "Provide an accurate translation of the following from {src} to {tgt}.",
    "Translate the sentences below, which are written in {src}, into {tgt}.",
    "Write the following {src} text in {tgt}.",
    "From {src} to {tgt}, please translate:",
    "Translate the given text from {src} into fluent {tgt}.",
    "Give me this text in {tgt}.",
    "Please translate the following {src} passage into {tgt}.",
    "Translate to {tgt} the following {src} sentences.",
)


@dataclass
class TranslationOptions:
    direction: Literal["en-x", "x-en", "both"] = "en-x"
    """en-x: English → the source's language (x-LLaMA); x-en: the reverse; both: one sample each way."""
    instructions: Literal["pool", "first"] = "pool"
    """pool: paraphrases chosen by line index; first: always the papers' template."""
    pivot: str = "en"
    """The other side of the pair (English in all three papers)."""


class TranslationBuilder(Builder):
    name = "translation"
    version = "1"
    Options = TranslationOptions
    options: TranslationOptions

    def fields(self) -> tuple[list[str], list[str]]:
        return [self.options.pivot, self.lang], []

    def build(self, record: dict[str, Any], index: int) -> Iterator[tuple[str, Sample]]:
        pivot, lang = self.options.pivot, self.lang
        texts = {pivot: clean(record[pivot]), lang: clean(record[lang])}
        if not texts[pivot] or not texts[lang]:
            return
        directions = {"en-x": [(pivot, lang)], "x-en": [(lang, pivot)], "both": [(pivot, lang), (lang, pivot)]}
        pool = TRANSLATION_INSTRUCTIONS if self.options.instructions == "pool" else TRANSLATION_INSTRUCTIONS[:1]
        template = pool[index % len(pool)]
        for src, tgt in directions[self.options.direction]:
            instruction = template.format(src=self.lang_name(src), tgt=self.lang_name(tgt))
            yield f"{src}-{tgt}", Instruction(instruction, texts[src], texts[tgt])
