"""What an experiment's plan costs: tokens to train, items and tokens to generate (``--dry-run``).

Counts are exact when the inputs exist (built data with its data card, benchmark files); before
that they come from the recipes (``count`` / ``total`` per source, ``expect_examples`` of a data
build). Token counts are the data card's measured lengths when it measured tokens, else an upper
bound of ``max_length`` per example (marked ``≤``). Generated tokens are always an upper bound: items
× the generation limit. Unknown stays unknown (``?``), never guessed.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from polyalign.errors import InputError
from polyalign.experiments.resolve import ResolvedArm, eval_config

__all__ = ["Cost", "build_cost", "eval_cost", "judge_cost", "data_examples"]

_DEFAULT_GEN = 256  # the eval runner's limit when a task template names none


@dataclass
class Cost:
    """A step's cost; None = unknown."""

    examples: int | None = None
    """Training examples seen (all epochs) or items evaluated."""
    tokens: int | None = None
    """Tokens trained on, or at most generated."""
    bound: bool = False
    """``tokens`` is an upper bound."""
    note: str = ""

    def text(self, what: str) -> str:
        count = "?" if self.examples is None else f"{self.examples:,}"
        tokens = "?" if self.tokens is None else ("≤ " if self.bound else "≈ ") + f"{self.tokens:,}"
        unit = "examples seen" if what == "train" else "items"
        verb = "tokens to train" if what == "train" else "tokens to generate"
        return f"{count} {unit}, {tokens} {verb}" + (f" ({self.note})" if self.note else "")


def _card(folder: Path) -> dict[str, Any] | None:
    path = folder / "data_card.json"
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else None


def data_examples(data: Any, expected: int | None) -> int | None:
    """Training examples a data build gives: measured when built, else from its recipe."""
    from polyalign.data.recipe import expand_sources

    card = _card(Path(data.out))
    if card is not None:
        return int(card["splits"]["train"]["examples"])
    if data.total is not None:
        return max(data.total - data.dev_size, 0)
    counts = [s.count for s in expand_sources(data)]
    if counts and all(c is not None for c in counts):
        return max(sum(counts) - data.dev_size, 0)
    return expected


def _stage_examples(path: str, fed: dict[str, int | None]) -> tuple[int | None, float | None]:
    """(examples, mean tokens per example or None) of one stage's training file."""
    card = _card(Path(path).parent)
    if card is not None and Path(path).name == "train.jsonl":
        mean = card["splits"]["train"]["lengths"]["total"].get("mean")
        return int(card["splits"]["train"]["examples"]), (mean if card.get("length_unit") == "tokens" else None)
    if path in fed:
        return fed[path], None
    if Path(path).is_file():
        with Path(path).open(encoding="utf-8") as handle:
            return sum(1 for line in handle if line.strip()), None
    return None, None


def build_cost(resolved: ResolvedArm) -> Cost:
    """Tokens to train an arm (all stages); zero for arms that train nothing."""
    if resolved.train is None:
        return Cost(0, 0)
    fed = {str(Path(d.out) / "train.jsonl"): data_examples(d, b.expect_examples)
           for d, b in zip(resolved.data, resolved.arm.data)}
    seen_total, tokens_total, bound = 0, 0, False
    for stage in resolved.train.stages:
        examples, mean = _stage_examples(stage.data, fed)
        seen = stage.max_steps * stage.batch_size if stage.max_steps else (
            None if examples is None else examples * stage.epochs)
        if seen is None:
            return Cost(None, None, note=f"stage {stage.name}: size of {stage.data} unknown until it is built")
        if stage.max_steps and examples is not None:
            seen = min(seen, examples * stage.epochs)  # a short epoch ends the stage before max_steps
        seen_total += seen
        if mean is None:
            bound = True
            tokens_total += seen * stage.max_length
        else:
            tokens_total += int(seen * min(mean, stage.max_length))
    return Cost(seen_total, tokens_total, bound)


def _template_limit(task: str) -> int:
    template = Path(str(resources.files("polyalign.eval"))) / "tasks" / task / "_template_yaml"
    found = re.search(r"max_gen_toks:\s*(\d+)", template.read_text(encoding="utf-8")) if template.is_file() else None
    return int(found.group(1)) if found else _DEFAULT_GEN


def _local_count(bench: Any, key: str, read_records: Any, roots: list[Path]) -> int | None:
    """Items of one benchmark language from local files only: a plan never downloads anything."""
    paths: list[Path] = []
    for rel in bench.files(key):
        hits = next((sorted(root.glob(rel)) for root in roots if sorted(root.glob(rel))), [])
        if not hits:
            return None
        paths += hits
    try:
        return len(read_records(bench.reader, paths, key))
    except InputError:
        return None


def eval_cost(resolved: ResolvedArm) -> Cost:
    """Items evaluated and at most how many tokens the arm generates on the suite."""
    from polyalign.eval.benchmarks import get_benchmark
    from polyalign.eval.plan import plan
    from polyalign.eval.datafiles import ASSETS_DIR, data_roots
    from polyalign.eval.loaders import read_records
    from polyalign.eval.prompts import MODE_GENERATION

    suite = resolved.suite
    items_total, tokens_total, missing = 0, 0, []
    for item in plan(eval_config(suite, resolved.folder / "eval", model="x"), resolve=False):
        bench = get_benchmark(item.task)
        count = _local_count(bench, item.lang, read_records,
                             data_roots(suite.data_dir) + ([ASSETS_DIR] if bench.builtin else []))
        if suite.limit is not None:
            count = suite.limit if count is None else min(count, suite.limit)
        if count is None:
            missing.append(f"{item.task}/{item.lang}")
            continue
        items_total += count
        if item.mc_mode != "loglik":
            limit = suite.max_new_tokens or MODE_GENERATION.get(item.prompt, {}).get("max_gen_toks") \
                or _template_limit(item.task)
            tokens_total += count * limit
    if missing:
        shown = ", ".join(missing[:4]) + (" …" if len(missing) > 4 else "")
        return Cost(None, None, note=f"data not found for {shown}")
    return Cost(items_total, tokens_total, bound=True)


def judge_cost(judge: Any) -> Cost:
    """Responses the judge step generates and scores, and at most how many tokens they take."""
    from polyalign.judge.items import load_instructions

    try:
        items = load_instructions(judge.instructions)
    except InputError:
        return Cost(None, None, note=f"instructions {judge.instructions} not found")
    if judge.langs:
        items = [i for i in items if i.lang in judge.langs]
    counts: dict[str, int] = {}
    for item in items:
        counts[item.lang] = counts.get(item.lang, 0) + 1
    total = sum(min(n, judge.limit) if judge.limit else n for n in counts.values())
    return Cost(total, total * judge.max_new_tokens, bound=True)
