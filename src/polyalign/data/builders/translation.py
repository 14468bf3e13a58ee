"""Translation-task instructions (x-LLaMA's CoIT, docs/methods.md).

From parallel text English ↔ X: ``instruction`` = a request to translate, ``input`` = the source
sentence, ``output`` = its translation. The original draws the request from a pool of paraphrases by
line index; our pool is written by us (the original's is not reproduced), chosen the same way,
deterministically by ``index % len(pool)``. Its first entry is the papers' own wording, which their
evaluation always uses: ``instructions: first`` gives only that one.

``instructions_file: PATH`` replaces the pool with the user's own, one instruction per line (blank
lines ignored), applied by line index exactly as x-LLaMA applies its 33 paraphrases
(``data/translation/translation.py``: ``_INSTRUCTIONS[key % len(_INSTRUCTIONS)]``, where ``key`` counts
every line of the parallel file). Placeholders: ``{src}``/``{tgt}``, or x-LLaMA's own
``{source_lang}``/``{target_lang}``, so its list can be pasted unchanged.
"""

from __future__ import annotations

import functools
import string
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator, Literal

from polyalign.data.builders.base import Builder, Instruction, Sample, clean
from polyalign.errors import InputError

__all__ = ["TranslationBuilder", "TranslationOptions", "TRANSLATION_INSTRUCTIONS", "load_instructions"]

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
    instructions_file: str | None = None
    """A pool of your own (one instruction per line, ``{src}``/``{tgt}`` or ``{source_lang}``/
    ``{target_lang}`` placeholders), chosen by line index as x-LLaMA does; replaces the built-in pool."""


_PLACEHOLDERS = {"src": "{src}", "tgt": "{tgt}", "source_lang": "{src}", "target_lang": "{tgt}"}


@functools.lru_cache(maxsize=8)
def load_instructions(path: str) -> tuple[str, ...]:
    """A user's instruction pool: non-blank lines, placeholders normalised to ``{src}``/``{tgt}``.

    Raises:
        InputError: the file is missing or empty, or a line has another placeholder.
    """
    file = Path(path).expanduser()
    if not file.is_file():
        raise InputError("instructions_file not found (expected one translation instruction per line)", where=path)
    pool = []
    for number, line in enumerate(file.read_text(encoding="utf-8").splitlines(), start=1):
        line = line.strip()
        if not line:
            continue
        names = [name for _, name, _, _ in string.Formatter().parse(line) if name is not None]
        unknown = [name for name in names if name not in _PLACEHOLDERS]
        if unknown:
            raise InputError(f"unknown placeholder {{{unknown[0]}}}; use {{src}}/{{tgt}} or "
                             "{source_lang}/{target_lang}", where=f"{path}:{number}")
        pool.append(line.format_map(_PLACEHOLDERS))
    if not pool:
        raise InputError("instructions_file holds no instruction", where=path)
    return tuple(pool)


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
        if self.options.instructions_file:
            pool = load_instructions(self.options.instructions_file)
        else:
            pool = TRANSLATION_INSTRUCTIONS if self.options.instructions == "pool" else TRANSLATION_INSTRUCTIONS[:1]
        template = pool[index % len(pool)]
        for src, tgt in directions[self.options.direction]:
            instruction = template.format(src=self.lang_name(src), tgt=self.lang_name(tgt))
            yield f"{src}-{tgt}", Instruction(instruction, texts[src], texts[tgt])
