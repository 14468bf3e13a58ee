"""What a benchmark folder declares: its metadata row (`Benchmark`), reader, prompt quirks and paper rule.

Every benchmark lives in one folder, ``eval/tasks/<name>/`` (or a folder of your own on
``$POLYALIGN_TASKS_PATH``): ``benchmark.py`` defines ``BENCHMARK = Benchmark(...)`` with the reader of
its upstream files and any prompt quirk; ``_template_yaml``, ``utils.py`` and ``README.md`` make it
an lm-eval task. The central modules only know answer *kinds* (scorers, generic prompts), never a
benchmark's name (`polyalign.eval.benchmarks` discovers the folders; docs/architecture.md has the
checklist).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from polyalign import langs
from polyalign.errors import InputError

__all__ = ["Benchmark", "Kind", "PaperRule", "Reader", "split_direction", "flores_directions"]

Kind = Literal["numeric", "qa", "choice", "translation"]
Reader = Callable[[list[Path], str], list[dict[str, Any]]]
"""(files in reading order, language key) -> records in source order (`polyalign.eval.loaders`)."""


@dataclass(frozen=True)
class PaperRule:
    """How the paper's released code evaluates one benchmark, where it differs from polyalign's."""

    source: str
    """Released file and function this rule follows."""
    until: tuple[str, ...] | None = None
    """Stop strings (``()`` = none: decode to the limit or EOS); None = the task's own."""
    max_new_tokens: int | None = None
    """Generation limit; None = the task's own."""
    avg_langs: tuple[str, ...] | None = None
    """Language keys of the paper's average; None = every language of the benchmark."""
    name_mode: str | None = None
    """Language names in translation prompts (``paper`` = the iso639 names the code uses)."""


@dataclass(frozen=True)
class Benchmark:
    """One benchmark: its languages, answer type, upstream files, reader and prompt quirks."""

    name: str
    """polyalign task name (``--tasks``) and folder name; lm-eval tasks are ``pa_<name>_<lang>``."""
    kind: Kind
    """Answer type; decides the scorers (`polyalign.eval.metrics`) and the generic prompt."""
    langs: tuple[str, ...]
    """Language keys in the papers' order; translation directions (``en-zh``) for translation tasks."""
    files: Callable[[str], tuple[str, ...]]
    """Language key -> the files it needs, relative to the data root (glob patterns allowed)."""
    reader: Reader | str
    """The reader of those files: a function, or the name of a shared format in `polyalign.eval.loaders`."""
    source: str
    """Where the official files come from (shown when they are missing)."""
    fewshot_files: Callable[[str], tuple[str, ...]] | None = None
    """Files holding few-shot exemplars (``--prompt fewshot``), when the benchmark defines them."""
    hub: str | None = None
    """A Hugging Face dataset repository mirroring the upstream file names (fetched when allowed)."""
    mc_modes: tuple[str, ...] = ()
    """Multiple choice only: scoring modes, default first (``loglik`` = option likelihood,
    ``generate`` = letter read from generated text)."""
    default_prompt: str = "paper"
    """Prompt variant a plain run uses."""
    builtin: bool = False
    """The files ship with polyalign (``polyalign/assets``), searched after every other root."""
    variants: tuple[str, ...] = ()
    """Extra prompt variants the benchmark has (``pot``, ``direct``, ``rationale``)."""
    instruction_input: Callable[[str, dict[str, Any], str], tuple[str, str]] | None = None
    """Prompt quirk: (key, record, name mode) -> the zero-shot (instruction, input); None = the kind's."""
    fewshot_header: tuple[str, str] | None = None
    """Multiple-choice few-shot framing: (header with ``{subject}``, answer label with its separator:
    ``"Answer: "``, ``"答案："``); None = MMLU's."""
    subject_names: Callable[[str], str] | None = None
    """Subject slug -> the name the few-shot header uses; None = the slug with spaces."""
    paper: PaperRule | None = None
    """``--protocol paper``: how the defining paper's released code evaluates it (`polyalign.eval.protocols`)."""
    folder: Path | None = None
    """The benchmark's folder (set when discovered)."""


def split_direction(key: str) -> tuple[str, str]:
    """``"en-zh"`` -> ``("en", "zh")``; raises `InputError` for anything else."""
    parts = key.split("-")
    if len(parts) != 2 or not all(parts):
        raise InputError(f"translation direction {key!r}: expected SRC-TGT such as en-zh")
    return langs.get(parts[0]).code, langs.get(parts[1]).code


def flores_directions() -> tuple[str, ...]:
    """en→X then X→en for every table language with a Flores-101 code."""
    others = [row.code for row in langs.LANGUAGES.values() if row.flores and row.code != "en"]
    return tuple(f"en-{x}" for x in others) + tuple(f"{x}-en" for x in others)
