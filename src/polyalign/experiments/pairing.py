"""Load evaluation run folders and pair their items by id, refusing runs that are not comparable.

A run folder is what ``polyalign eval`` writes: ``results.json`` and ``samples/<task>_<lang>.jsonl``.
Two runs are comparable when they scored the same items (ids and targets) with the same prompts,
under the same protocol, task versions and scorer settings; the first difference found is raised
as one `InputError` line naming it and the two runs. Samples files are only read (an interrupted
run's torn last line is an error here, not repaired: rerun the evaluation to finish it).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from polyalign.errors import InputError

__all__ = ["Run", "Paired", "load_run", "pair_runs", "DEFAULT_PROTOCOL"]

DEFAULT_PROTOCOL = "polyalign"
"""The protocol of a results.json that does not state one (runs made before protocols existed)."""


@dataclass
class Run:
    """One evaluation run folder, as read from disk."""

    name: str
    path: Path
    results: dict[str, dict[str, dict[str, Any]]]
    """``results.json["results"]``: task -> lang -> metric -> value."""
    provenance: dict[str, Any]
    protocol: str
    averages: dict[str, Any]
    """``results.json["averages"]`` (empty when the run has none)."""


@dataclass
class Paired:
    """Runs whose items are paired: ``samples[name][(task, lang)][i]`` is item ``ids[(task, lang)][i]``."""

    runs: dict[str, Run]
    """Baseline first, then the systems, in the order given."""
    langs: dict[str, list[str]]
    """Task -> its languages with at least one item (in the baseline's order)."""
    ids: dict[tuple[str, str], list[str]] = field(default_factory=dict)
    samples: dict[str, dict[tuple[str, str], list[dict[str, Any]]]] = field(default_factory=dict)
    protocol: str = DEFAULT_PROTOCOL


def _read_json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError("not found (expected the output folder of `polyalign eval`)", where=str(path)) from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise InputError(f"not readable JSON ({err})", where=str(path)) from None
    if not isinstance(data, dict) or not isinstance(data.get("results"), dict):
        raise InputError("expected an object with 'results' (task -> language -> metrics)", where=str(path))
    return data


def load_run(name: str, path: Path) -> Run:
    """Read a run folder's results.json."""
    path = Path(path)
    data = _read_json(path / "results.json")
    protocol = data.get("protocol") or DEFAULT_PROTOCOL
    return Run(name, path, data["results"], data.get("provenance") or {}, str(protocol),
               data.get("averages") if isinstance(data.get("averages"), dict) else {})


def _read_samples(path: Path) -> dict[str, dict[str, Any]]:
    """Samples by id; a missing file is no samples (the language had no item)."""
    if not path.is_file():
        return {}
    records: dict[str, dict[str, Any]] = {}
    for number, raw in enumerate(path.read_text(encoding="utf-8").split("\n"), 1):
        if not raw.strip():
            continue
        try:
            record = json.loads(raw)
        except ValueError:
            record = None
        if not isinstance(record, dict) or "id" not in record:
            raise InputError("not a samples line (an interrupted or edited run? rerun its evaluation)",
                             where=f"{path}:{number}")
        records[str(record["id"])] = record
    return records


def _differ(what: str, detail: str) -> InputError:
    return InputError(f"runs differ in {what}: {detail}; compare runs of the same evaluation")


def _check_same(what: str, values: dict[str, Any], describe: Any = repr) -> None:
    """Raise naming the first run whose value differs from the baseline's."""
    (base, first), *rest = values.items()
    for name, value in rest:
        if value != first:
            raise _differ(what, f"{describe(first)} in {base}, {describe(value)} in {name}")


def _item_order(record: dict[str, Any]) -> tuple[int, str]:
    index = record.get("index")
    return (index if isinstance(index, int) else 1 << 62, str(record["id"]))


def pair_runs(runs: dict[str, Run], protocol: str | None = None) -> Paired:
    """Check that ``runs`` (baseline first) are comparable and pair their items by id.

    Args:
        runs: name -> run, the baseline first.
        protocol: the protocol the runs must have been scored under (None: any, but the same).

    Raises:
        InputError: one line naming the first difference (protocol, tasks, languages, task versions,
            prompt variants, scorer settings, items, targets or prompts) and the runs it is between.
    """
    names = list(runs)
    base = runs[names[0]]
    _check_same("protocol", {n: r.protocol for n, r in runs.items()})
    if protocol is not None and base.protocol != protocol:
        raise InputError(f"the runs were scored under protocol {base.protocol!r}, not {protocol!r} "
                         f"(results.json 'protocol'; absent means {DEFAULT_PROTOCOL!r})", where=str(base.path))
    _check_same("tasks", {n: sorted(r.results) for n, r in runs.items()}, lambda v: ", ".join(v) or "none")
    for task in base.results:
        _check_same(f"languages of {task}", {n: sorted(r.results[task]) for n, r in runs.items()},
                    lambda v: ", ".join(v) or "none")
        for key, what in (("task_versions", "task versions"), ("prompt", "prompt variants"),
                          ("mc_mode", "multiple-choice modes")):
            _check_same(f"{what} ({task})", {n: (r.provenance.get(key) or {}).get(task) for n, r in runs.items()})
        signatures = {n: (r.provenance.get("metric_signatures") or {}).get(task) for n, r in runs.items()}
        if any(s is not None for s in signatures.values()):
            _check_same(f"scorer settings ({task}, sacrebleu signatures)", signatures)
        paper_langs = {n: ((r.averages.get(task) or {}).get("avg_paper") or {}).get("langs") for n, r in runs.items()}
        _check_same(f"the paper's averaging languages ({task})", paper_langs)

    # versions recorded beside task_versions (e.g. of scorers) must agree too, whatever they are keyed by
    for key in sorted({k for r in runs.values() for k in r.provenance if k.endswith("_versions")} - {"task_versions"}):
        _check_same(key.replace("_", " "), {n: r.provenance.get(key) for n, r in runs.items()})

    paired = Paired(runs=runs, langs={}, protocol=base.protocol)
    for task, per_lang in base.results.items():
        for lang in per_lang:
            read = {n: _read_samples(r.path / "samples" / f"{task}_{lang}.jsonl") for n, r in runs.items()}
            _check_items(task, lang, read)
            if not read[names[0]]:
                continue
            order = sorted(read[names[0]].values(), key=_item_order)
            ids = [str(rec["id"]) for rec in order]
            paired.langs.setdefault(task, []).append(lang)
            paired.ids[(task, lang)] = ids
            for name in names:
                paired.samples.setdefault(name, {})[(task, lang)] = [read[name][i] for i in ids]
    if not paired.ids:
        raise InputError("the runs have no scored items (samples/ is empty)", where=str(base.path))
    return paired


def _check_items(task: str, lang: str, read: dict[str, dict[str, dict[str, Any]]]) -> None:
    (base, first), *rest = read.items()
    for name, records in rest:
        if set(records) != set(first):
            missing = sorted(set(first) - set(records))
            extra = sorted(set(records) - set(first))
            example = (f"{missing[0]} only in {base}" if missing else f"{extra[0]} only in {name}")
            raise _differ("items", f"{task} {lang} has {len(first)} scored items in {base}, {len(records)} in "
                                   f"{name} ({example})")
        for item, record in first.items():
            other = records[item]
            if record.get("target") != other.get("target"):
                raise _differ("items", f"{item} has target {record.get('target')!r} in {base}, "
                                       f"{other.get('target')!r} in {name}")
            if record.get("prompt") != other.get("prompt"):
                raise _differ("prompts", f"the prompt of {item} in {base} is not the one in {name}")
