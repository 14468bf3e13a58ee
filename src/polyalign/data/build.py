"""`polyalign data build`: recipe → training mixture (train/dev JSONL) + data card + resolved config.

Reads top to bottom: expand sources → check inputs → build each source into a work shard (render,
measure, drop no-target examples) → size the sources (counts, weights, allocation plan) → mix,
deduplicate and shuffle in bounded memory → split → write card and config. Everything is written in
a staging folder renamed into place at the end: an error leaves no partial output behind.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import logging
import shutil
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterable

from tqdm import tqdm

from polyalign import __version__
from polyalign.config import save_config
from polyalign.data.allocation import read_plan
from polyalign.data.builders import BUILDERS, Builder, Instruction
from polyalign.data.card import DataCard, SourceStats
from polyalign.io import dump_json_line, file_sha256, staged_output_dir
from polyalign.data.lengths import LengthMeter, load_tokenizer
from polyalign.data.mixture import resolve_counts, sized_by_plan
from polyalign.data.readers import HF_PREFIX, Row, get_field, read_rows
from polyalign.data.recipe import DataBuildConfig, SourceConfig, builder_options, expand_sources, resolve_path
from polyalign.data.shuffle import dedup_shuffle
from polyalign.data.templates import PromptRenderer
from polyalign.errors import InputError

__all__ = ["build_data"]

log = logging.getLogger(__name__)
_BATCH = 512
_LEN = "_len"  # work-shard field holding (prompt, completion) lengths; removed from the output


def build_data(cfg: DataBuildConfig, *, overwrite: bool = False, progress: bool | None = None) -> Path:
    """Build the mixture a recipe describes and return the output folder.

    Args:
        cfg: the validated recipe.
        overwrite: replace a finished build in the output folder.
        progress: show progress bars (None: only on a terminal).

    Raises:
        InputError: any bad input (files, fields, counts, plan); nothing is left in the output folder.
    """
    sources = expand_sources(cfg)
    plan = read_plan(resolve_path(cfg.allocation.plan)) if cfg.allocation else None
    for source in sources:
        _check_inputs(source)
    tokenizer = load_tokenizer(cfg.tokenizer) if cfg.tokenizer else None
    render = PromptRenderer(cfg.template, tokenizer, cfg.system_prompt)
    meter = LengthMeter(tokenizer)
    card = DataCard({"name": cfg.name, "polyalign_version": __version__,
                     "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
                     "template": cfg.template, "language_names": cfg.language_names, "tokenizer": cfg.tokenizer,
                     "length_unit": meter.unit, "max_length": cfg.max_length, "seed": cfg.seed,
                     "dedup": cfg.dedup, "shuffle": cfg.shuffle})
    if tokenizer is None:
        card.warnings.append("no tokenizer given: lengths are in characters and truncation was not checked")

    out = cfg.output_dir()
    with staged_output_dir(out, overwrite=overwrite, marker="data_card.json") as stage:
        work = stage / ".work"
        work.mkdir()
        shards: dict[str, tuple[Path, int]] = {}
        for source in sources:
            shards[source.name] = _build_source(source, cfg, render, meter, card, work, progress)

        # Size the sources. Sampled sources are deduplicated and shuffled on their own first, so a
        # count means unique examples and the first N of the shuffle are nested samples.
        sampled = {s.name for s in sources if s.count is not None or s.weight is not None}
        sampled |= {s.name for s in sized_by_plan(sources, plan)}
        available = {}
        for name, (path, n_lines) in shards.items():
            if name in sampled:
                shuffled = work / f"{path.stem}.shuffled.jsonl"
                stats = dedup_shuffle(path, shuffled, n_lines=n_lines, seed=_source_seed(cfg.seed, name),
                                      dedup=cfg.dedup, workdir=work / "buckets")
                card.sources[name].duplicates_removed += stats.duplicates
                shards[name] = (shuffled, stats.kept)
            available[name] = shards[name][1]
        counts = resolve_counts(sources, available, total=cfg.total, plan=plan)

        mixed, n_mixed = work / "mixed.jsonl", 0
        with mixed.open("w", encoding="utf-8") as mixture:
            for source in sources:
                path, n_lines = shards[source.name]
                take = counts[source.name]
                card.sources[source.name].requested = take
                with path.open(encoding="utf-8") as shard:
                    for line in itertools.islice(shard, take if take is not None else n_lines):
                        mixture.write(line)
                        n_mixed += 1

        final = work / "final.jsonl"
        stats = dedup_shuffle(mixed, final, n_lines=n_mixed, seed=cfg.seed if cfg.shuffle else None,
                              dedup=cfg.dedup, workdir=work / "buckets")
        for name, duplicates in stats.duplicates_by_source.items():
            card.sources[name].duplicates_removed += duplicates
        if cfg.dev_size and cfg.dev_size >= stats.kept:
            raise InputError(f"dev_size {cfg.dev_size:,} leaves no training examples (the mixture has {stats.kept:,})")
        _write_splits(final, stage, cfg.dev_size, card, kind=_kind(sources))

        shutil.rmtree(work)
        save_config(cfg, stage)
        card.write(stage)
    log.info("built %s: %s", out, ", ".join(f"{k} {v['examples']:,}" for k, v in card.files.items()))
    return out


def _kind(sources: list[SourceConfig]) -> str:
    kinds = {BUILDERS.get(s.builder).kind for s in sources}
    if len(kinds) > 1:
        raise InputError("a mixture cannot mix instruction data and pretraining text; build them separately")
    return kinds.pop()


def _source_seed(seed: int, name: str) -> int:
    return int.from_bytes(hashlib.blake2b(f"{seed}/{name}".encode(), digest_size=8).digest(), "little")


def _input_paths(source: SourceConfig) -> list[str]:
    paths = list((source.parallel or {}).values()) + ([source.path] if source.path else [])
    return [resolve_path(p) for p in paths]


def _check_inputs(source: SourceConfig) -> None:
    """Fail before any work when a local input is missing."""
    for path in _input_paths(source):
        if not path.startswith(HF_PREFIX) and not Path(path).exists():
            raise InputError(f"source {source.name!r}: input not found", where=path)


def _pick_fields(row: Row, mapping: dict[str, str], required: list[str], optional: list[str]) -> dict[str, Any]:
    record: dict[str, Any] = {}
    for name in required + optional:
        column = mapping.get(name, name)
        try:
            record[name] = get_field(row.data, column)
        except KeyError:
            if name in required:
                found = ", ".join(map(str, list(row.data)[:8]))
                raise InputError(f"missing field {column!r} (this builder needs {', '.join(required)}; "
                                 f"map other names with `fields`; the record has: {found})", where=row.where) from None
    return record


def _build_source(source: SourceConfig, cfg: DataBuildConfig, render: PromptRenderer, meter: LengthMeter,
                  card: DataCard, work: Path, progress: bool | None) -> tuple[Path, int]:
    builder: Builder = BUILDERS.get(source.builder)(source.lang, builder_options(source, where="recipe"),
                                                    cfg.language_names)
    required, optional = builder.fields()
    unknown = sorted(set(source.fields) - set(required + optional))
    if unknown:
        raise InputError(f"source {source.name!r}: `fields` names {', '.join(unknown)}, but builder "
                         f"{source.builder!r} reads {', '.join(required + optional)}")
    stats = SourceStats(source.name, source.builder, builder.version, source.lang)
    stats.inputs = [{"path": p} if p.startswith(HF_PREFIX) or Path(p).is_dir()
                    else {"path": p, "bytes": Path(p).stat().st_size, "sha256": file_sha256(p)}
                    for p in _input_paths(source)]
    card.sources[source.name] = stats
    rows: Iterable[Row] = read_rows(path=resolve_path(source.path) if source.path else None,
                                    parallel={k: resolve_path(v) for k, v in (source.parallel or {}).items()},
                                    fmt=source.format, columns=source.columns, subset=source.subset,
                                    split=source.split)
    if source.limit is not None:
        rows = itertools.islice(rows, source.limit)

    shard = work / f"source-{len(card.sources):03d}.jsonl"
    written = 0
    with shard.open("w", encoding="utf-8") as out:
        batch: list[dict[str, Any]] = []
        for row in tqdm(rows, desc=f"build {source.name}", unit=" records", disable=None if progress is None else not progress,
                        leave=False):
            stats.records_read += 1
            record = _pick_fields(row, source.fields, required, optional)
            try:
                produced = list(builder.build(record, row.index))
            except InputError as err:
                raise InputError(str(err), where=err.where or row.where) from None
            if not produced:
                stats.records_skipped_empty += 1
            for suffix, sample in produced:
                example = {"id": f"{source.name}/{row.index}" + (f"/{suffix}" if suffix else ""),
                           "lang": source.lang, "source": source.name}
                if isinstance(sample, Instruction):
                    example.update(prompt=render(sample.instruction, sample.input), completion=sample.output)
                else:
                    example.update(text=sample.text)
                batch.append(example)
            if len(batch) >= _BATCH:
                written += _flush(batch, meter, cfg.max_length, stats, out)
        written += _flush(batch, meter, cfg.max_length, stats, out)
    if stats.records_read == 0:
        raise InputError(f"source {source.name!r}: no records (empty input)", where=_input_paths(source)[0])
    if written == 0:
        raise InputError(f"source {source.name!r}: none of its {stats.records_read:,} records gave an example "
                         f"({stats.records_skipped_empty:,} empty, {stats.dropped_no_target:,} with no room for "
                         "a target)", where=_input_paths(source)[0])
    if stats.dropped_no_target:
        message = (f"source {source.name!r}: dropped {stats.dropped_no_target:,} examples whose prompt alone fills "
                   f"max_length {cfg.max_length} (they would train on zero target tokens)")
        log.warning(message)
        card.warnings.append(message)
    log.info("source %s: %s records → %s examples", source.name, f"{stats.records_read:,}", f"{written:,}")
    return shard, written


def _flush(batch: list[dict[str, Any]], meter: LengthMeter, max_length: int, stats: SourceStats, out: Any) -> int:
    """Measure, check against max_length and write a batch; returns how many were written."""
    written = 0
    for example, (prompt_len, completion_len) in zip(batch, meter.measure(batch)):
        stats.examples_built += 1
        if meter.tokenizer is not None:
            if "prompt" in example and prompt_len >= max_length:
                stats.dropped_no_target += 1
                continue
            if prompt_len + completion_len > max_length:
                stats.truncated += 1
        example[_LEN] = [prompt_len, completion_len]
        out.write(dump_json_line(example))
        written += 1
    batch.clear()
    return written


def _write_splits(final: Path, stage: Path, dev_size: int, card: DataCard, *, kind: str) -> None:
    paths = {"train": stage / "train.jsonl", **({"dev": stage / "dev.jsonl"} if dev_size else {})}
    handles = {split: path.open("w", encoding="utf-8") for split, path in paths.items()}
    counts = dict.fromkeys(paths, 0)
    try:
        with final.open(encoding="utf-8") as lines:
            for number, line in enumerate(lines):
                record = json.loads(line)
                lengths = record.pop(_LEN)
                split = "dev" if number < dev_size else "train"
                card.observe(split, record, tuple(lengths))
                card.sources[record["source"]].selected += 1
                handles[split].write(dump_json_line(record))
                counts[split] += 1
    finally:
        for handle in handles.values():
            handle.close()
    card.files = {path.name: {"examples": counts[split], "kind": kind, "sha256": file_sha256(path)}
                  for split, path in paths.items()}
