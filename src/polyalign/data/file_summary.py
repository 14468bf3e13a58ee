"""`polyalign data inspect`: check a training-data file against the format and summarise it."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

from polyalign.io import iter_jsonl
from polyalign.data.lengths import Histogram, LengthMeter
from polyalign.errors import InputError

__all__ = ["inspect_file"]

_COMMON = ("id", "lang", "source")


def inspect_file(path: str | Path, *, meter: LengthMeter | None = None, show: int = 2) -> dict[str, Any]:
    """Validate every line of a prompt/completion or text JSONL file and summarise it.

    Raises:
        InputError: a line is not JSON, lacks a field (docs/architecture.md: prompt/completion or text, plus
            lang, source, id), mixes the two kinds, or repeats an id; the file is empty.
    """
    meter = meter or LengthMeter()
    languages, sources, ids = Counter(), Counter(), set()
    lengths = {"prompt": Histogram(), "completion": Histogram()}
    kind, examples, batch = None, [], []
    count = 0
    for number, record in iter_jsonl(path):
        where = f"{path}:{number}"
        this_kind = "text" if "text" in record else "instruction"
        needed = _COMMON + (("text",) if this_kind == "text" else ("prompt", "completion"))
        missing = [f for f in needed if not isinstance(record.get(f), str)]
        if missing:
            raise InputError(f"missing or non-string field(s) {', '.join(missing)} "
                             f"(expected {', '.join(needed)})", where=where)
        if kind not in (None, this_kind):
            raise InputError(f"mixes {kind} and {this_kind} records", where=where)
        if record["id"] in ids:
            raise InputError(f"id {record['id']!r} repeats an earlier line", where=where)
        kind = this_kind
        ids.add(record["id"])
        languages[record["lang"]] += 1
        sources[record["source"]] += 1
        if len(examples) < show:
            examples.append(record)
        batch.append(record)
        count += 1
        if len(batch) >= 512:
            _measure(batch, meter, lengths)
    _measure(batch, meter, lengths)
    if count == 0:
        raise InputError("no examples (the file is empty)", where=str(path))
    return {"path": str(path), "kind": kind, "examples": count, "languages": dict(languages.most_common()),
            "sources": dict(sources.most_common()), "length_unit": meter.unit,
            "lengths": {k: h.summary() for k, h in lengths.items() if h.counts and not (k == "prompt" and kind == "text")},
            "examples_shown": examples}


def _measure(batch: list[dict[str, Any]], meter: LengthMeter, lengths: dict[str, Histogram]) -> None:
    for prompt, completion in meter.measure(batch):
        lengths["prompt"].add(prompt)
        lengths["completion"].add(completion)
    batch.clear()
