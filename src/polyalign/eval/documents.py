"""Benchmark documents: records + ids + the prompt of the chosen variant, as lm-eval consumes them.

`build_docs` is the single place where a (task, language) becomes the list of documents every
backend sees; `load_dataset` wraps it for lm-eval's ``custom_dataset`` hook, which receives the task
metadata (``data_dir``, ``prompt``, ``num_fewshot``, ``name_mode``: from ``polyalign eval`` or
``lm_eval --metadata '{...}'``) plus the per-language ``dataset_kwargs`` (``lang``).

Every document carries ``id`` (``<task>/<lang>/<index>``, docs/architecture.md), ``index``, ``task``, ``lang``,
``kind``, ``text_lang`` (the language answers should be in), ``prompt_mode``, ``prompt`` (what
``doc_to_text`` returns), ``target`` (the gold answer as text) and the record's own fields.

`task_class` is the lm-eval task class of templates whose prompt variants need their own generation
settings (``class: !function utils.Task``): a variant such as ``pot`` asks for a program, which
needs a longer budget and stop strings that cannot cut code, and lm-eval has no per-variant
``generation_kwargs``. The class puts `polyalign.eval.prompts.MODE_GENERATION` over the template's
settings when it is built, so ``polyalign eval --prompt pot`` and ``lm_eval --include_path ...
--metadata '{"prompt": "pot"}'`` generate alike and the provenance shows the settings used.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from polyalign.errors import InputError
from polyalign.eval import loaders, prompts
from polyalign.eval.benchmarks import get_benchmark, split_direction
from polyalign.eval.datafiles import resolve_files

__all__ = ["build_docs", "load_dataset", "task_class", "DEFAULT_SHOTS"]

DEFAULT_SHOTS = {"choice": 5, "numeric": 8}
"""Exemplars per question in ``fewshot`` mode: 5 for MMLU/C-Eval (the papers' 5-shot), 8 for GSM8K."""


def build_docs(task: str, key: str, *, data_dir: str | os.PathLike[str] | None = None, prompt: str | None = None,
               num_fewshot: int | None = None, name_mode: str = "english", protocol: str = "polyalign",
               files: Sequence[str] | None = None, fewshot_files: Sequence[str] | None = None) -> list[dict[str, Any]]:
    """All documents of one task language, in source order.

    Args:
        task: polyalign task name (``mgsm``).
        key: language code, or direction for translation tasks (``en-zh``).
        data_dir: data root searched first (`polyalign.eval.datafiles`).
        prompt: a `polyalign.eval.prompts.PROMPT_MODES` variant the task has; None = the benchmark's default.
        num_fewshot: exemplars per question in ``fewshot`` mode; None = `DEFAULT_SHOTS`.
        name_mode: language names in translation prompts, ``english`` or ``paper`` (iso639 names).
        protocol: ``polyalign`` or ``paper`` (`polyalign.eval.protocols`); carried by every document.
        files: the data files already resolved by the plan (`polyalign.eval.plan`): the task, language
            and prompt were checked there, so neither they nor the files are looked up again.
        fewshot_files: the plan's few-shot exemplar files (``fewshot`` prompts).

    Raises:
        InputError: unknown task/language/prompt, missing or malformed data files.
    """
    bench = get_benchmark(task)
    mode = prompt or bench.default_prompt
    if files is None:  # called by lm-eval directly: check what the plan would have checked
        if key not in bench.langs:
            raise InputError(f"task {task} has no language {key!r}; languages: {', '.join(bench.langs)}")
        prompts.check_mode(task, mode)
        if mode == "fewshot" and bench.fewshot_files is None:
            raise InputError(f"task {task} defines no few-shot exemplars; use --prompt paper or chat")
        files = resolve_files(bench, key, data_dir)
        if mode == "fewshot":
            fewshot_files = resolve_files(bench, key, data_dir, fewshot=True)
    records = loaders.read_records(bench.reader, [Path(f) for f in files], key)
    shots_by_subject: dict[str, list[dict[str, Any]]] = {}
    if mode == "fewshot":
        k = DEFAULT_SHOTS.get(bench.kind, 0) if num_fewshot is None else int(num_fewshot)
        exemplars = loaders.read_records(bench.reader, [Path(f) for f in fewshot_files or ()], key)
        for shot in exemplars:
            group = shots_by_subject.setdefault(shot.get("subject", ""), [])
            if len(group) < k:
                group.append(shot)
    text_lang = split_direction(key)[1] if bench.kind == "translation" else key
    docs = []
    for index, record in enumerate(records):
        if mode == "fewshot":
            text = prompts.fewshot_prompt(bench, record, shots_by_subject.get(record.get("subject", ""), []))
        elif mode in prompts.VARIANTS:
            text = prompts.render(mode, prompts.variant_instruction(mode, bench.kind, record))
        else:
            text = prompts.render(mode, *prompts.instruction_input(bench, key, record, name_mode=name_mode))
        doc = {"id": f"{task}/{key}/{index}", "index": index, "task": task, "lang": key, "kind": bench.kind,
               "text_lang": text_lang, "prompt_mode": mode, "protocol": protocol, "prompt": text,
               "target": _target(bench.kind, record), **record}
        if bench.kind == "choice":
            doc["gold_index"] = record["labels"].index(record["gold"])
        docs.append(doc)
    return docs


def _target(kind: str, record: dict[str, Any]) -> str:
    if kind == "numeric":
        value = record["answer"]
        return str(int(value)) if float(value).is_integer() else str(value)
    if kind == "qa":
        return record["answers"][0]
    if kind == "choice":
        return record["gold"]
    return record["reference"]


def load_dataset(task: str, lang: str, **metadata: Any) -> Any:
    """lm-eval ``custom_dataset`` hook: the documents as a ``datasets.DatasetDict`` with a ``test`` split.

    ``polyalign eval`` passes its plan in ``metadata["resolved"]`` (``"task/lang"`` -> files, few-shot
    files and name mode), so the files are not looked up again. Unknown metadata keys (lm-eval adds ``version``, ``config_source``, ...) are ignored.
    """
    import datasets

    resolved = (metadata.get("resolved") or {}).get(f"{task}/{lang}") or {}
    docs = build_docs(task, lang, data_dir=metadata.get("data_dir"), prompt=metadata.get("prompt"),
                      num_fewshot=metadata.get("num_fewshot"),
                      name_mode=resolved.get("name_mode") or metadata.get("name_mode") or "english",
                      protocol=metadata.get("protocol") or "polyalign",
                      files=resolved.get("files"), fewshot_files=resolved.get("fewshot_files"))
    if not docs:
        raise InputError(f"{task} {lang}: the data file holds no examples")
    return datasets.DatasetDict({"test": datasets.Dataset.from_list(docs)})


@functools.cache
def task_class() -> type:
    """The ``ConfigurableTask`` subclass the variant-aware templates name (imported lazily: lm-eval is heavy)."""
    from lm_eval.api.task import ConfigurableTask

    class PromptVariantTask(ConfigurableTask):
        """A YAML task whose ``generation_kwargs`` follow the prompt variant in its metadata."""

        def __init__(self, config: dict[str, Any] | None = None, **kwargs: Any) -> None:
            config = {k: v for k, v in (config or {}).items() if k != "class"}  # TaskConfig has no such field
            mode = (config.get("metadata") or {}).get("prompt")
            if mode in ("pot", "rationale") and config.get("output_type") != "generate_until":
                raise InputError(f"--prompt {mode} needs generated text; use --mc-mode generate")
            if config.get("output_type") == "generate_until":
                config["generation_kwargs"] = prompts.generation_kwargs(mode, config.get("generation_kwargs"))
            super().__init__(config=config, **kwargs)

    return PromptVariantTask
