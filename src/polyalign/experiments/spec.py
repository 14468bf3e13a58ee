"""Experiment files (YAML) as typed configs: arms, the eval suite, optional judging, comparisons.

An arm is one of four kinds, told by which field it sets:

* ``model``: an existing model (zoo name, folder, hub id), evaluated as it is;
* ``train``: a train recipe with ``overrides`` (and optional ``data`` builds feeding its stages and
  ``start_from`` another arm's model); the recipe's final model is the arm's model;
* ``train`` + ``vocab``: a vocabulary extension of the starting model, then that training;
* ``proxy``: proxy-tuning over three other arms (base + alpha · (expert − anti-expert)).

Strings may use ``{name}`` for the file's ``vars`` (set them on the command line as
``vars.name=value``); other braces (a data recipe's ``{lang}``) are left alone.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from polyalign.config import apply_overrides, from_dict, read_yaml
from polyalign.errors import InputError

__all__ = ["DataBuild", "VocabSpec", "ProxySpec", "ArmConfig", "SuiteConfig", "JudgeSpec", "PerplexitySpec", "ComparisonSpec",
           "ExperimentConfig", "load_experiment", "find_experiment", "list_experiments"]

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")


@dataclass
class DataBuild:
    """A `polyalign data build` the arm runs before training (written to ``OUT/<arm>/data/<i>``)."""

    recipe: str
    """Data recipe: a file or a shipped name."""
    overrides: list[str] = field(default_factory=list)
    """``key=value`` overrides of the data recipe (its ``out`` is set by the experiment)."""
    stage: int | None = 0
    """Index of the train stage that reads the built ``train.jsonl`` (null: none, e.g. a shared mixture)."""
    expect_examples: int | None = None
    """Examples the build is expected to give, for ``--dry-run`` costs before the data exists (paper sizes)."""


@dataclass
class VocabSpec:
    """A vocabulary extension of the arm's starting model (`polyalign vocab extend`) before training."""

    corpus: list[str]
    """Target-language text files."""
    lang: str
    """Target language code."""
    new_tokens: int
    """Tokens (byte-level BPE merges) or SentencePiece model size to add."""
    init: str = "subtoken-mean"
    """New embedding rows: subtoken-mean, mean or mean-noise."""
    seed: int = 0
    max_lines: int = 1_000_000
    """Corpus lines read per file."""
    allow_ascii: bool = False
    eval_texts: list[str] = field(default_factory=list)
    """Text files measured before and after (``lang:path``)."""


@dataclass
class ProxySpec:
    """Proxy-tuning over other arms: next-token scores s_base + alpha · (s_expert − s_anti_expert)."""

    base: str
    """Arm whose model is the large base."""
    expert: str
    """Arm of the small aligned expert."""
    anti_expert: str
    """Arm of the same small model without the alignment."""
    alpha: float = 1.0
    base_format: str = "plain"
    expert_format: str = "plain"
    anti_expert_format: str = "plain"
    small_dtype: str | None = None
    small_device: str | None = None


@dataclass
class ArmConfig:
    """One system of the experiment."""

    model: str | None = None
    """An existing model (zoo name, folder, hub id): the arm is evaluated as it is."""
    train: str | None = None
    """Train recipe (file or shipped name) whose final model is the arm's model."""
    overrides: list[str] = field(default_factory=list)
    """``key=value`` overrides of the train recipe (``out`` and, with data/start_from/vocab, ``model`` and
    the fed stages' data are set by the experiment)."""
    data: list[DataBuild] = field(default_factory=list)
    """Data builds run before training."""
    start_from: str | None = None
    """Arm whose model the training (or the vocabulary extension) starts from; default: the recipe's model."""
    vocab: VocabSpec | None = None
    """Extend the vocabulary of the starting model first, then train the extended model."""
    proxy: ProxySpec | None = None
    """Proxy-tuning over three other arms."""
    eval: list[str] = field(default_factory=list)
    """``key=value`` overrides of the suite for this arm only (e.g. ``batch_size=2``)."""
    note: str = ""
    """What the arm stands for (shown in plans and status)."""

    @property
    def kind(self) -> str:
        """model | train | vocab+train | proxy."""
        if self.proxy is not None:
            return "proxy"
        if self.train is not None:
            return "vocab+train" if self.vocab is not None else "train"
        return "model"

    def validate(self) -> None:
        kinds = [name for name, value in (("model", self.model), ("train", self.train), ("proxy", self.proxy))
                 if value is not None]
        if len(kinds) != 1:
            raise InputError(f"an arm sets exactly one of model, train or proxy (got {', '.join(kinds) or 'none'})")
        if self.train is None and (self.data or self.vocab or self.start_from or self.overrides):
            raise InputError("data, vocab, start_from and overrides belong to arms with a train recipe")


@dataclass
class SuiteConfig:
    """How every arm is evaluated (`polyalign eval` settings)."""

    tasks: list[str]
    """Tasks, e.g. [mgsm, msvamp]."""
    langs: list[str] | None = None
    """Languages or directions (default: all of each task)."""
    prompt: str | None = None
    """Prompt variant (default: per task)."""
    protocol: str | None = None
    """Scoring protocol: polyalign (corrected) or paper (the papers' released rules), when eval offers it."""
    limit: int | None = None
    """First N examples of each language."""
    data_dir: str | None = None
    """Benchmark data root."""
    batch_size: int | str = "auto"
    """Prompts per forward pass, or auto (the widest batches memory allows)."""
    max_new_tokens: int | None = None
    num_fewshot: int | None = None
    mc_mode: str | None = None
    seed: int = 0
    dtype: str = "auto"
    device: str = "cpu"
    backend: str = "hf"
    """hf or vllm (proxy arms always use the proxy backend)."""
    name_mode: Literal["english", "paper"] = "english"

    def validate(self) -> None:
        if not self.tasks:
            raise InputError("suite.tasks: name at least one task")
        if self.limit is not None and self.limit < 1:
            raise InputError("suite.limit must be ≥ 1")
        if self.batch_size != "auto" and (not isinstance(self.batch_size, int) or self.batch_size < 1):
            raise InputError(f"suite.batch_size must be ≥ 1 or auto, got {self.batch_size!r}")
        if self.backend in ("proxy", "replay"):
            raise InputError(f"suite.backend {self.backend!r}: use hf or vllm (proxy arms get the proxy backend)")


@dataclass
class JudgeSpec:
    """LLM-judge scoring of open-ended responses generated by each arm (`polyalign judge --model`)."""

    judge: str
    """Judge: an OpenAI-compatible endpoint URL or a local model."""
    instructions: str
    """Open-ended set, e.g. builtin:samples/open-ended."""
    arms: list[str] | None = None
    """Arms to judge (default: every arm with a model, i.e. not proxy arms)."""
    references: str | None = None
    langs: list[str] | None = None
    limit: int | None = None
    max_new_tokens: int = 512
    prompt: Literal["auto", "chat", "alpaca"] = "auto"
    batch_size: int = 8
    judge_model: str | None = None
    judge_backend: str = "hf"
    judge_options: list[str] = field(default_factory=list)
    dtype: str = "float32"
    device: str = "cpu"
    seed: int = 0


@dataclass
class PerplexitySpec:
    """Bits per character of held-out text under each arm's model (`polyalign analyze perplexity`)."""

    texts: list[str]
    """``lang=path`` items (one document per line, or JSONL with ``text``)."""
    arms: list[str] | None = None
    """Arms scored (default: every arm with a model, i.e. not proxy arms)."""
    limit: int | None = None
    """First N documents per file."""
    max_length: int = 1024
    """Window length in tokens."""
    dtype: str = "float32"


@dataclass
class ComparisonSpec:
    """Systems against a baseline on the suite's (or the judge's) runs (`polyalign compare`)."""

    baseline: str
    """Baseline arm."""
    systems: list[str]
    """Arms compared with it."""
    name: str = "main"
    """The first comparison is written to OUT/comparison.json, the others to OUT/comparisons/<name>/."""
    metrics: list[str] | None = None
    """Metrics to compare (default: all)."""
    runs: Literal["eval", "judge"] = "eval"
    """Which runs are compared: the suite's or the judge's."""


@dataclass
class ExperimentConfig:
    """An experiment file."""

    name: str
    out: str
    """Output folder: one run folder per arm, experiment.json, comparison.json, report.html."""
    arms: dict[str, ArmConfig]
    suite: SuiteConfig
    reproduces: str = ""
    """The paper table or figure this experiment reproduces."""
    paper: dict[str, Any] = field(default_factory=dict)
    """The paper's numbers for it (for the reader and the report; never used as results)."""
    vars: dict[str, str] = field(default_factory=dict)
    """Values for ``{name}`` placeholders in the file's strings."""
    judge: JudgeSpec | None = None
    perplexity: PerplexitySpec | None = None
    """Bits per character per language (comparable across vocabularies), per arm."""
    comparisons: list[ComparisonSpec] = field(default_factory=list)

    def validate(self) -> None:
        if not self.arms:
            raise InputError("arms: an experiment needs at least one arm")
        for name in self.arms:
            if not _NAME.match(name):
                raise InputError(f"arm name {name!r}: use letters, digits, '.', '_' and '-' (it names a folder)")
        names = [c.name for c in self.comparisons]
        if len(set(names)) != len(names):
            raise InputError("comparisons: give each comparison its own name")


def list_experiments() -> list[tuple[str, str]]:
    """``(name, first comment line)`` of the shipped experiments."""
    from polyalign.recipes import list_recipes

    return list_recipes("experiments")


def find_experiment(name_or_path: str) -> Path:
    """An experiment file: an existing path or a shipped name."""
    from polyalign.recipes import find_recipe

    return find_recipe(name_or_path, "experiments")


def _substitute(value: Any, values: dict[str, str]) -> Any:
    if isinstance(value, str) and values:
        pattern = re.compile(r"\{(" + "|".join(re.escape(k) for k in values) + r")\}")
        return pattern.sub(lambda m: str(values[m.group(1)]), value)
    if isinstance(value, list):
        return [_substitute(v, values) for v in value]
    if isinstance(value, dict):
        return {k: _substitute(v, values) for k, v in value.items()}
    return value


def load_experiment(name_or_path: str, overrides: list[str] | tuple[str, ...] = ()) -> tuple[ExperimentConfig, Path]:
    """Read, override (``key.sub=value``), substitute ``vars`` and validate an experiment file."""
    path = find_experiment(name_or_path)
    data = apply_overrides(read_yaml(path), list(overrides))
    values = {str(k): str(v) for k, v in (data.get("vars") or {}).items()}
    data = {k: (v if k in ("vars", "paper") else _substitute(v, values)) for k, v in data.items()}
    return from_dict(ExperimentConfig, data, where=str(path)), path
