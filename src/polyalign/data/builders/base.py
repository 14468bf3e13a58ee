"""What every builder is: a named, versioned function from input records to training samples.

A builder reads records whose fields it names (`fields`), and yields samples: an `Instruction`
(instruction / input / output, rendered into prompt/completion by the build's template) or a `Text`
(further-pretraining text). Builders know nothing of files, templates or mixtures; the build
(`polyalign.data.build`) handles those. Bump a builder's ``version`` when a change can alter its
output: the version is written into every data card.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any, ClassVar, Iterator, Literal

from polyalign.langs import NameMode, language_name

__all__ = ["Instruction", "Text", "Sample", "Builder", "NoOptions"]


@dataclass(frozen=True)
class Instruction:
    """An Alpaca-style sample; ``input`` may be empty."""

    instruction: str
    input: str
    output: str


@dataclass(frozen=True)
class Text:
    """A further-pretraining document."""

    text: str


Sample = Instruction | Text


@dataclass
class NoOptions:
    """This builder takes no options."""


class Builder(ABC):
    """Base class of the builders (one level of inheritance, no deeper)."""

    name: ClassVar[str]
    version: ClassVar[str]
    kind: ClassVar[Literal["instruction", "text"]] = "instruction"
    Options: ClassVar[type] = NoOptions

    def __init__(self, lang: str, options: Any, name_mode: NameMode = "english") -> None:
        self.lang = lang
        self.options = options
        self.name_mode = name_mode

    def lang_name(self, code: str) -> str:
        """A language's name as prompts spell it (plain English, or the papers' iso639 names)."""
        return language_name(code, self.name_mode)

    @abstractmethod
    def fields(self) -> tuple[list[str], list[str]]:
        """The record fields read: (required, optional), by the builder's own names."""

    @abstractmethod
    def build(self, record: dict[str, Any], index: int) -> Iterator[tuple[str, Sample]]:
        """Yield ``(id_suffix, sample)`` pairs for one record; nothing when the record is empty.

        ``index`` is the record's 0-based position in its source (deterministic choices use it).
        """


def clean(value: Any) -> str:
    """A field value as stripped text (None → empty), as the original loaders strip lines."""
    return "" if value is None else str(value).strip()
