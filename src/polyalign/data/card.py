"""The data card written with every build: what went in, what came out, and what was dropped.

Counts per source, language and split; length statistics (tokens of the given tokenizer, else
characters); how many examples would be truncated at ``max_length`` and how many were dropped
because their prompt alone fills it (the original code trained on such examples with zero target
tokens: we count and drop them); duplicates removed. Written as JSON (for tools) and Markdown.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from polyalign.data.lengths import Histogram

__all__ = ["SourceStats", "DataCard", "CARD_FORMAT"]

CARD_FORMAT = "polyalign-data-card/1"


@dataclass
class SourceStats:
    name: str
    builder: str
    builder_version: str
    lang: str | None
    inputs: list[dict[str, Any]] = field(default_factory=list)
    records_read: int = 0
    records_skipped_empty: int = 0
    examples_built: int = 0
    dropped_no_target: int = 0
    truncated: int = 0
    duplicates_removed: int = 0
    requested: int | None = None
    selected: int = 0


@dataclass
class _SplitStats:
    examples: int = 0
    languages: Counter = field(default_factory=Counter)
    sources: Counter = field(default_factory=Counter)
    prompt: Histogram = field(default_factory=Histogram)
    completion: Histogram = field(default_factory=Histogram)
    total: Histogram = field(default_factory=Histogram)
    by_lang_total: dict[str, Histogram] = field(default_factory=lambda: defaultdict(Histogram))


class DataCard:
    """Accumulates statistics during a build and writes them out."""

    def __init__(self, header: dict[str, Any]) -> None:
        self.header = header
        self.sources: dict[str, SourceStats] = {}
        self.splits: dict[str, _SplitStats] = defaultdict(_SplitStats)
        self.files: dict[str, dict[str, Any]] = {}
        self.warnings: list[str] = []

    def observe(self, split: str, record: dict[str, Any], lengths: tuple[int, int]) -> None:
        stats = self.splits[split]
        stats.examples += 1
        stats.languages[record["lang"]] += 1
        stats.sources[record["source"]] += 1
        prompt, completion = lengths
        stats.prompt.add(prompt)
        stats.completion.add(completion)
        stats.total.add(prompt + completion)
        stats.by_lang_total[record["lang"]].add(prompt + completion)

    def to_dict(self) -> dict[str, Any]:
        splits = {
            name: {"examples": s.examples, "languages": dict(sorted(s.languages.items())),
                   "sources": dict(sorted(s.sources.items())),
                   "lengths": {"prompt": s.prompt.summary(), "completion": s.completion.summary(),
                               "total": s.total.summary()},
                   "total_length_by_language": {k: h.summary() for k, h in sorted(s.by_lang_total.items())}}
            for name, s in self.splits.items()
        }
        sources = [asdict(s) for s in self.sources.values()]
        return {"format": CARD_FORMAT, **self.header, "splits": splits, "sources": sources,
                "totals": {
                    "examples": sum(s.examples for s in self.splits.values()),
                    "dropped_no_target": sum(s.dropped_no_target for s in self.sources.values()),
                    "truncated": sum(s.truncated for s in self.sources.values()),
                    "duplicates_removed": sum(s.duplicates_removed for s in self.sources.values())},
                "warnings": self.warnings, "files": self.files}

    def to_markdown(self) -> str:
        card = self.to_dict()
        unit = card.get("length_unit", "tokens")
        lines = [f"# Data card: {card['name']}", "",
                 f"- template: `{card['template']}`, language names: `{card['language_names']}`",
                 f"- lengths in {unit}" + (f" of `{card['tokenizer']}`" if card.get("tokenizer") else ""),
                 f"- max length {card['max_length']}, seed {card['seed']}, created {card['created']}", "",
                 "## Sources", "",
                 "| source | builder | lang | read | skipped empty | built | dropped (no target) | truncated "
                 "| duplicates | selected |", "|---|---|---|---:|---:|---:|---:|---:|---:|---:|"]
        for s in card["sources"]:
            lines.append(f"| {s['name']} | {s['builder']} v{s['builder_version']} | {s['lang'] or ''} "
                         f"| {s['records_read']:,} | {s['records_skipped_empty']:,} | {s['examples_built']:,} "
                         f"| {s['dropped_no_target']:,} | {s['truncated']:,} | {s['duplicates_removed']:,} "
                         f"| {s['selected']:,} |")
        for name, split in card["splits"].items():
            lines += ["", f"## Split `{name}`: {split['examples']:,} examples", "",
                      "| language | examples | median length | p95 | max |", "|---|---:|---:|---:|---:|"]
            for lang, count in split["languages"].items():
                lengths = split["total_length_by_language"][lang]
                lines.append(f"| {lang} | {count:,} | {lengths['median']} | {lengths['p95']} | {lengths['max']} |")
            lines += ["", "| part | min | median | mean | p95 | max |", "|---|---:|---:|---:|---:|---:|"]
            for part, s in split["lengths"].items():
                if s.get("count"):
                    lines.append(f"| {part} | {s['min']} | {s['median']} | {s['mean']} | {s['p95']} | {s['max']} |")
        totals = card["totals"]
        lines += ["", "## Totals", "", f"- examples: {totals['examples']:,}",
                  f"- dropped because the prompt fills max length (no target tokens): {totals['dropped_no_target']:,}",
                  f"- truncated at max length (kept): {totals['truncated']:,}",
                  f"- duplicates removed: {totals['duplicates_removed']:,}"]
        if card["warnings"]:
            lines += ["", "## Warnings", ""] + [f"- {w}" for w in card["warnings"]]
        return "\n".join(lines) + "\n"

    def write(self, folder: Path) -> None:
        (folder / "data_card.json").write_text(json.dumps(self.to_dict(), indent=2, ensure_ascii=False) + "\n",
                                               encoding="utf-8")
        (folder / "data_card.md").write_text(self.to_markdown(), encoding="utf-8")
