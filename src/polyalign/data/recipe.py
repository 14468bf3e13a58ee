"""The `polyalign data build` recipe: typed config, source expansion and path resolution.

A recipe lists sources; each source is read (`readers`), turned into samples by a builder
(`builders`), rendered with the recipe's template, and mixed (`mixture`). A source whose string fields
contain ``{lang}`` is a per-language template, expanded over its own ``langs`` or the recipe's
``langs``; ``{data_root}`` stands for the recipe's ``data_root``. Paths are relative to the current
directory; ``builtin:`` paths point into the data shipped with polyalign (``polyalign/assets``).
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any, Literal

from polyalign import langs as langtable
from polyalign.config import from_dict
from polyalign.data.builders import BUILDERS
from polyalign.data.readers import FORMATS, HF_PREFIX
from polyalign.errors import InputError

__all__ = ["SourceConfig", "AllocationConfig", "DataBuildConfig", "expand_sources", "resolve_path",
           "builder_options", "BUILTIN_PREFIX"]

BUILTIN_PREFIX = "builtin:"
_PLACEHOLDER = re.compile(r"\{(lang|data_root)\}")


@dataclass
class SourceConfig:
    """One input of a mixture."""

    name: str
    """Label written into each example's ``source`` field and its id; unique within a recipe."""
    builder: str
    """translation | instructions | question_alignment | response_alignment | pretraining."""
    lang: str | None = None
    """Language of the samples (for translation and question alignment: the non-English side)."""
    langs: list[str] | None = None
    """Expand this source once per language, substituting ``{lang}``."""
    path: str | None = None
    """A file, a local dataset folder, or a hub dataset as ``hf:org/name``."""
    parallel: dict[str, str] | None = None
    """Line-aligned parallel text: language code → file (keys may be ``{lang}``)."""
    format: str = "auto"
    """auto | jsonl | json | csv | tsv | parallel | text | hf."""
    columns: list[str] | None = None
    """CSV/TSV without a header row: the column names in order."""
    subset: str | None = None
    """Hugging Face dataset configuration."""
    split: str = "train"
    """Hugging Face dataset split."""
    fields: dict[str, str] = field(default_factory=dict)
    """Builder field → field in the file (dotted for nested), e.g. ``{instruction: query}``."""
    limit: int | None = None
    """Read only the first N records (quick runs)."""
    count: int | None = None
    """Take exactly this many examples (a seeded sample; nested across sizes for scaling sweeps)."""
    weight: float | None = None
    """Share of the mixture, relative to the other weighted sources."""
    options: dict[str, Any] = field(default_factory=dict)
    """Builder-specific options (see each builder's Options)."""

    def validate(self) -> None:
        if self.builder not in BUILDERS:
            BUILDERS.get(self.builder)  # raises with the known names
        if self.format not in FORMATS:
            raise InputError(f"format must be one of {', '.join(FORMATS)}, got {self.format!r}")
        if self.count is not None and self.weight is not None:
            raise InputError(f"source {self.name!r}: give `count` or `weight`, not both")
        if self.count is not None and self.count < 0 or self.limit is not None and self.limit < 0:
            raise InputError(f"source {self.name!r}: `count` and `limit` must be ≥ 0")
        if self.weight is not None and self.weight <= 0:
            raise InputError(f"source {self.name!r}: `weight` must be > 0")
        if self.path is None and not self.parallel:
            raise InputError(f"source {self.name!r}: needs `path` or `parallel`")
        for code in self.langs or []:
            langtable.get(code)
        if self.lang is not None:
            langtable.get(self.lang)


@dataclass
class AllocationConfig:
    """Size sources from a plan written by `polyalign scaling allocate`."""

    plan: str
    """The plan file (JSON)."""


@dataclass
class DataBuildConfig:
    """A data build: sources → one training mixture with a data card."""

    name: str
    """Name of the mixture (recorded in the data card)."""
    out: str
    """Output folder: train.jsonl, dev.jsonl, data_card.{json,md}, config.yaml; ``{langs}`` → de-fr."""
    sources: list[SourceConfig]
    """The inputs."""
    langs: list[str] | None = None
    """Languages for per-language sources that list none of their own."""
    data_root: str = "."
    """Substituted for ``{data_root}`` in source paths."""
    template: Literal["alpaca", "chat", "raw"] = "alpaca"
    """Prompt template: the papers' Alpaca prompt, the tokenizer's chat template, or none."""
    system_prompt: str | None = None
    """template=chat: an explicit system message (otherwise the template's default, if any)."""
    language_names: Literal["english", "paper"] = "english"
    """Language names in prompts: plain English, or the original code's iso639 names."""
    tokenizer: str | None = None
    """Tokenizer (local folder or hub id) for length statistics, truncation checks and chat rendering."""
    max_length: int = 512
    """Training sequence length: longer examples are counted as truncated; prompts that fill it are dropped."""
    seed: int = 1234
    """Seed of sampling, shuffling and the dev split (QAlign's seed)."""
    dedup: bool = True
    """Drop exact duplicate examples (same prompt and completion, or same text)."""
    shuffle: bool = True
    """Shuffle the final mixture (a seeded, uniform permutation)."""
    total: int | None = None
    """Size of the weighted part of the mixture; without it, the largest size the weights allow."""
    dev_size: int = 0
    """Examples held out into dev.jsonl."""
    allocation: AllocationConfig | None = None
    """Per-language sizes from an allocation plan."""

    def validate(self) -> None:
        sources = expand_sources(self)
        for source in sources:
            builder_options(source, where="")  # fail before any work; the loader adds the file name
            if source.lang is None:
                raise InputError(f"source {source.name!r}: set `lang` (every example records its language)")
        names = [s.name for s in sources]
        duplicated = sorted({n for n in names if names.count(n) > 1})
        if duplicated:
            raise InputError(f"source names must be unique; repeated: {', '.join(duplicated)}")
        if self.max_length < 2:
            raise InputError("max_length must be ≥ 2")
        if self.dev_size < 0 or self.total is not None and self.total < 0:
            raise InputError("dev_size and total must be ≥ 0")
        if self.dev_size and not self.shuffle:
            raise InputError("a dev split is drawn from the shuffled mixture; set shuffle: true")
        if self.template == "chat" and not self.tokenizer:
            raise InputError("template: chat needs `tokenizer`")
        for code in self.langs or []:
            langtable.get(code)
        if "{langs}" in self.out and not self.langs:
            raise InputError("`out` uses {langs} but the recipe has no `langs`")

    def output_dir(self) -> Path:
        """``out`` with ``{langs}`` filled in (so per-language builds of one recipe do not collide)."""
        codes = "-".join(langtable.get(code).code for code in self.langs or [])
        return Path(self.out.replace("{langs}", codes))


def _substitute(value: Any, mapping: dict[str, str]) -> Any:
    if isinstance(value, str):
        return _PLACEHOLDER.sub(lambda m: mapping.get(m.group(1), m.group(0)), value)
    if isinstance(value, list):
        return [_substitute(v, mapping) for v in value]
    if isinstance(value, dict):
        return {_substitute(k, mapping): _substitute(v, mapping) for k, v in value.items()}
    return value


def _mentions_lang(source: SourceConfig) -> bool:
    return "{lang}" in repr(dataclasses.asdict(source))


def expand_sources(cfg: DataBuildConfig) -> list[SourceConfig]:
    """Sources with ``{lang}`` expanded per language and ``{data_root}`` filled in, languages canonical."""
    expanded: list[SourceConfig] = []
    for source in cfg.sources:
        codes = source.langs or (cfg.langs if _mentions_lang(source) and source.lang is None else None)
        for code in codes or [source.lang]:
            code = langtable.get(code).code if code else None
            mapping = {"data_root": cfg.data_root, **({"lang": code} if code else {})}
            fields = {f.name: _substitute(getattr(source, f.name), mapping) for f in dataclasses.fields(source)}
            fields.update(lang=code, langs=None)
            if "{lang}" in repr(fields):
                raise InputError(f"source {source.name!r} uses {{lang}} but no language is given "
                                 "(set its `lang`/`langs` or the recipe's `langs`)")
            expanded.append(SourceConfig(**fields))
    return expanded


def resolve_path(path: str) -> str:
    """``builtin:x`` → the shipped asset ``polyalign/assets/x``; hub ids and other paths unchanged."""
    if path.startswith(BUILTIN_PREFIX):
        return str(Path(str(resources.files("polyalign") / "assets")) / path[len(BUILTIN_PREFIX):])
    if path.startswith(HF_PREFIX):
        return path
    return str(Path(path).expanduser())


def builder_options(source: SourceConfig, where: str) -> Any:
    """The source's ``options`` as the builder's typed Options (strictly checked)."""
    options_cls = BUILDERS.get(source.builder).Options
    return from_dict(options_cls, dict(source.options), where=where, field_path=f"source {source.name!r} options")
