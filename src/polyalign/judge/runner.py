"""``polyalign judge``: (generate responses) → read samples → ask the judge → judgments → results.json.

Reads top to bottom (docs/architecture.md, style rule 2). Every judge reply goes through the cache, so the
judgments files and results.json are cheap to recompute: a rerun of the same command sends nothing.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

from polyalign import langs as langtable
from polyalign.config import save_config
from polyalign.io import dump_json_line, file_sha256
from polyalign.errors import InputError
from polyalign.provenance import now, package_versions
from polyalign.judge import aggregate, rubric
from polyalign.judge.ask import ask_all
from polyalign.judge.cache import ReplyCache
from polyalign.judge.clients import EndpointJudge, LocalJudge, is_endpoint
from polyalign.judge.config import JudgeConfig
from polyalign.judge.generate import generate_responses
from polyalign.judge.items import JudgeItem, apply_references, load_instructions, read_sample_items, response_language
from polyalign.judge.parse import parse_score, parse_verdict
from polyalign.infer.backends import BackendOptions
from polyalign.serve.model import served_options

__all__ = ["run_judge", "make_judge"]

log = logging.getLogger(__name__)


def make_judge(cfg: JudgeConfig) -> Any:
    if is_endpoint(cfg.judge):
        return EndpointJudge(cfg.judge, cfg.judge_model, api_key_env=cfg.api_key_env, max_tokens=cfg.judge_max_tokens,
                             concurrency=cfg.concurrency, timeout=cfg.timeout)
    options = BackendOptions(model=cfg.judge, batch_size=cfg.batch_size, dtype=cfg.dtype, device=cfg.device,
                             seed=cfg.seed)
    return LocalJudge(served_options(options, cfg.judge_options), backend=cfg.judge_backend,
                      max_tokens=cfg.judge_max_tokens)


def run_judge(cfg: JudgeConfig, *, overwrite: bool = False) -> dict[str, Any]:
    """Judge the responses of ``cfg`` and write OUT/results.json, OUT/judgments/; returns results.json."""
    cfg.validate()
    started, out, notes = now(), Path(cfg.out), []
    wanted = _wanted_langs(cfg.langs)
    generation, judge = None, None
    if cfg.model is not None:
        instructions = _select(load_instructions(cfg.instructions or ""), wanted, cfg.limit)
        judge = make_judge(cfg)  # an unreachable or misnamed judge fails before any response is generated
        options = served_options(BackendOptions(model=cfg.model, batch_size=cfg.batch_size, dtype=cfg.dtype,
                                                device=cfg.device, seed=cfg.seed, proxy=cfg.proxy),
                                 cfg.backend_options)
        generation = generate_responses(instructions, backend=cfg.backend, options=options, out=out,
                                        prompt=cfg.prompt, max_new_tokens=cfg.max_new_tokens, overwrite=overwrite)
    samples = cfg.samples or str(out / "samples")
    items, files, without_output = read_sample_items(samples)
    items = _select(items, wanted, cfg.limit)
    if without_output:
        notes.append(f"{without_output} samples without a text output (multiple choice) were not judged")
    if cfg.references:
        items, matched = apply_references(items, load_instructions(cfg.references))
        notes.append(f"references: {matched} of {len(items)} responses matched by id")
    if not items:
        raise InputError("no responses to judge (check --langs / --limit and the samples)", where=samples)

    if judge is None:
        judge = make_judge(cfg)
    out.mkdir(parents=True, exist_ok=True)
    save_config(cfg, out)
    cache = ReplyCache(cfg.cache or out / "cache.sqlite")
    try:
        if cfg.compare:
            judged, results, extra = _pairwise(cfg, judge, cache, items, notes)
        else:
            judged, results, extra = _absolute(cfg, judge, cache, items, notes)
    finally:
        cache.close()
    _write_judgments(out, judged)

    provenance = {
        "mode": "pairwise" if cfg.compare else "rubric", "judge": judge.provenance(),
        "rubric_version": rubric.RUBRIC_VERSION, "dimensions": list(rubric.DIMENSION_NAMES), "scale": "0-3",
        "retries": cfg.retries, "samples": samples, "samples_sha256": {n: file_sha256(p) for n, p in files.items()},
        **({"references": cfg.references, "references_sha256": _hashes(cfg.references)} if cfg.references else {}),
        **({"compare": cfg.compare} if cfg.compare else {}),
        **({"generation": generation} if generation else {}),
        "langs": cfg.langs, "limit": cfg.limit,
        "cache": {"path": str(cache.path), "hits": cache.hits, "misses": cache.misses},
        "notes": notes, "packages": package_versions(), "started": started, "finished": now(),
    }
    document = {"results": results, **extra, "provenance": provenance}
    (out / "results.json").write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    for note in notes:
        log.warning(note)
    return document


def _wanted_langs(langs: list[str] | None) -> set[str] | None:
    if not langs:
        return None
    return {langtable.get(code).code if "-" not in code else code for code in langs}


def _select(items: list[Any], wanted: set[str] | None, limit: int | None) -> list[Any]:
    """Items of the wanted languages, the first ``limit`` per (task, language) in index order."""
    kept, seen = [], {}
    for item in items:
        if wanted is not None and item.lang not in wanted:
            continue
        key = (getattr(item, "task", ""), item.lang)
        seen[key] = seen.get(key, 0) + 1
        if limit is None or seen[key] <= limit:
            kept.append(item)
    return kept


def _absolute(cfg: JudgeConfig, judge: Any, cache: ReplyCache, items: list[JudgeItem],
              notes: list[str]) -> tuple[list[dict[str, Any]], dict[str, Any], dict[str, Any]]:
    pairs = [(item, dim) for item in items for dim in rubric.DIMENSIONS]
    conversations = [rubric.score_messages(dim, instruction=item.instruction, response=item.response,
                                           reference=item.reference, language=response_language(item.lang))
                     for item, dim in pairs]
    answers = ask_all(judge, cache, conversations, parse=parse_score, follow_up=rubric.retry_message,
                      retries=cfg.retries, label="rubric judgments")
    judged: dict[str, dict[str, Any]] = {}
    for (item, dim), answer in zip(pairs, answers):
        record = judged.setdefault(item.id, {"id": item.id, "task": item.task, "lang": item.lang,
                                             "category": item.category, "scores": {}, "replies": {}})
        record["scores"][dim.name] = answer.value
        record["replies"][dim.name] = answer.replies
    records = list(judged.values())
    results: dict[str, dict[str, Any]] = {}
    for (task, lang), group in aggregate.group(records, "task", "lang").items():
        results.setdefault(task, {})[lang] = aggregate.score_metrics(group)
    by_category: dict[str, dict[str, Any]] = {}
    for (task, category), group in aggregate.group(records, "task", "category").items():
        if category is not None:
            by_category.setdefault(task, {})[category] = aggregate.score_metrics(group)
    unread = sum(1 for a in answers if a.value is None)
    if unread:
        notes.append(f"{unread} of {len(answers)} judgments unparseable after {cfg.retries} retries: "
                     "left out of the means (counted in `unparseable`)")
    return records, results, {"by_category": by_category}


def _pairwise(cfg: JudgeConfig, judge: Any, cache: ReplyCache, items: list[JudgeItem],
              notes: list[str]) -> tuple[list[dict[str, Any]], dict[str, Any], dict[str, Any]]:
    others = {item.id: item for item in read_sample_items(cfg.compare or "")[0]}
    both = [(item, others[item.id]) for item in items if item.id in others]
    if len(both) < len(items):
        notes.append(f"{len(items) - len(both)} responses have no counterpart in --compare (by id): not compared")
    if not both:
        raise InputError("no response ids in common with --samples", where=cfg.compare)
    conversations = []
    for a, b in both:
        shared = {"instruction": a.instruction, "reference": a.reference, "language": response_language(a.lang)}
        conversations.append(rubric.pairwise_messages(first=a.response, second=b.response, **shared))
        conversations.append(rubric.pairwise_messages(first=b.response, second=a.response, **shared))

    def follow_up(reply: str) -> list[dict[str, str]]:
        return [{"role": "assistant", "content": reply}, {"role": "user", "content": rubric.PAIRWISE_RETRY}]

    answers = ask_all(judge, cache, conversations, parse=parse_verdict, follow_up=follow_up, retries=cfg.retries,
                      label="pairwise judgments")
    records = []
    for k, (a, _) in enumerate(both):
        first, swapped = answers[2 * k], answers[2 * k + 1]
        outcome, consistent = aggregate.combine_orders(first.value, swapped.value)
        records.append({"id": a.id, "task": a.task, "lang": a.lang, "category": a.category,
                        "verdicts": [first.value, swapped.value], "outcome": outcome, "consistent": consistent,
                        "replies": [first.replies, swapped.replies]})
    results: dict[str, dict[str, Any]] = {}
    for (task, lang), group in aggregate.group(records, "task", "lang").items():
        results.setdefault(task, {})[lang] = aggregate.pairwise_metrics(group)
    notes.append("pairwise: outcomes are for --samples (A) against --compare (B); each pair judged in both orders, "
                 "disagreeing orders count as a tie")
    return records, results, {}


def _write_judgments(out: Path, judged: list[dict[str, Any]]) -> None:
    folder = out / "judgments"
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob("*.jsonl"):
        old.unlink()  # rewritten whole from the cache each run
    for (task, lang), group in aggregate.group(judged, "task", "lang").items():
        with (folder / f"{task}_{lang}.jsonl").open("w", encoding="utf-8") as handle:
            for record in group:
                handle.write(dump_json_line(record))


def _hashes(path: str) -> dict[str, str]:
    from polyalign.data.recipe import resolve_path

    resolved = Path(resolve_path(path))
    files = sorted(resolved.glob("*.jsonl")) if resolved.is_dir() else [resolved]
    return {f.name: file_sha256(f) for f in files}
