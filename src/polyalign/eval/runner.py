"""``polyalign eval``: plan → load tasks (lm-eval) → build the backend → score every example → results.

Reads top to bottom (docs/architecture.md, style rule 2). Examples are processed in fixed chunks of the source
order and each finished chunk is appended to ``samples/`` at once, so rerunning the same command
after an interruption skips finished chunks and recomputes an unfinished one exactly as an
uninterrupted run would have batched it: the final results.json is the same. ``results.json`` is
always computed from the samples files, never from memory.
"""

from __future__ import annotations

import json
import logging
import shutil
from dataclasses import MISSING, asdict, fields, replace
from pathlib import Path
from typing import Any

from polyalign.config import save_config
from polyalign.errors import InputError
from polyalign.eval import metrics, protocols
from polyalign.eval.aggregate import aggregate
from polyalign.eval.averages import averages
from polyalign.infer.backends import BACKENDS, Backend, BackendOptions, GenRequest, ProxyOptions
from polyalign.eval.benchmarks import BENCHMARKS
from polyalign.eval.config import EvalConfig
from polyalign.eval.lmeval import build_context, build_requests, load_tasks, task_version
from polyalign.eval.plan import PlanItem, plan
from polyalign.provenance import now, package_versions
from polyalign.runfiles import append_samples, read_samples, samples_path, write_tables
from polyalign.eval.taskgen import task_name

__all__ = ["run_eval", "CHUNK"]

log = logging.getLogger(__name__)

BACKENDS.register("replay", "polyalign.eval.replay:ReplayBackend")  # scores a predictions file, no model

CHUNK = 64
"""Examples per checkpoint (rounded up to whole batches)."""


def run_eval(cfg: EvalConfig, *, overwrite: bool = False, backend: Backend | None = None) -> dict[str, Any]:
    """Run (or resume) an evaluation; writes OUT/results.json, samples/, tables/ and returns results.json.

    Args:
        cfg: the run's settings.
        overwrite: discard samples of an earlier run in ``cfg.out``.
        backend: an already-built backend (e.g. one model loaded once for several runs); None builds
            ``cfg.backend`` from ``cfg``. A given backend's own provenance is what results.json records.
    """
    cfg.validate()
    started = now()
    items = plan(cfg)  # resolves and hashes every data file: fails before a model loads
    out = Path(cfg.out)
    resolved = {f"{item.task}/{item.lang}": {"files": list(item.files), "fewshot_files": list(item.fewshot_files),
                                             "name_mode": item.name_mode} for item in items}
    metadata = {"data_dir": cfg.data_dir, "name_mode": cfg.name_mode, "protocol": cfg.protocol, "resolved": resolved,
                **({"prompt": cfg.prompt} if cfg.prompt else {}),
                **({"num_fewshot": cfg.num_fewshot} if cfg.num_fewshot is not None else {})}
    names = {item: task_name(item.task, item.lang, item.mc_mode) for item in items}
    tasks = load_tasks(list(names.values()), metadata)  # reads the data: fails before a model loads
    docs = {item: list(tasks[names[item]].eval_docs)[:cfg.limit] for item in items}
    chat = any(item.prompt == "chat" for item in items)
    options = BackendOptions(model=cfg.model, batch_size=cfg.batch_size, dtype=cfg.dtype, device=cfg.device,
                             seed=cfg.seed, chat=chat, predictions=cfg.predictions, proxy=cfg.proxy)
    if backend is None:
        backend = BACKENDS.get(cfg.backend)(options)
    elif isinstance(getattr(backend, "options", None), BackendOptions):
        # a shared backend serves this run's prompt style and batch size (both read at call time)
        backend.options = replace(backend.options, chat=chat, batch_size=cfg.batch_size)
    if hasattr(backend, "check_ids"):
        sizes = {(item.task, item.lang): len(tasks[names[item]].eval_docs) for item in items}
        ignored = backend.check_ids(sizes, {name: bench.langs for name, bench in BENCHMARKS.items()})
        if ignored:
            log.info("%d predictions are for tasks/languages not evaluated here: ignored", ignored)
    chat_template = backend.chat_template() if chat else None
    if chat and chat_template is None and cfg.backend != "replay":
        raise InputError(f"model {cfg.model!r} has no chat template; use --prompt paper")
    backend_info = backend.provenance()
    _prepare_out(out, cfg, tasks, names, backend_info, overwrite)

    for item in items:
        _run_item(item, tasks[names[item]], docs[item], backend, chat_template, out, cfg)

    results: dict[str, dict[str, Any]] = {}
    grouped: dict[tuple[str, str], list[str]] = {}  # (task, note) -> languages, to state each note once
    for item in items:
        done = read_samples(samples_path(out, item.task, item.lang))
        finished = [done[d["id"]] for d in docs[item] if d["id"] in done]
        values, item_notes = aggregate(tasks[names[item]], finished, expected=len(docs[item]))
        results.setdefault(item.task, {})[item.lang] = values
        if values.get("skipped"):
            item_notes.append(f"{values['skipped']} examples skipped (no output), not scored")
        for note in item_notes:
            grouped.setdefault((item.task, note), []).append(item.lang)
    notes = [f"{task} {', '.join(keys)}: {note}" for (task, note), keys in grouped.items()]
    if chat and chat_template is None:
        notes.append("prompts in samples/ are the chat user turns without a template (the backend has none)")
    document = {"results": results, "averages": averages(results), "protocol": cfg.protocol,
                "provenance": _provenance(cfg, items, tasks, names, backend_info, notes, started)}
    (out / "results.json").write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(write_tables(results, out))
    for note in notes:
        log.warning(note)
    return document


def _prepare_out(out: Path, cfg: EvalConfig, tasks: dict[str, Any], names: dict[PlanItem, str],
                 backend_info: dict[str, Any], overwrite: bool) -> None:
    """Guard resumption: samples in OUT must come from the same settings (else --overwrite)."""
    settings = {k: v for k, v in asdict(cfg).items() if k not in ("tasks", "langs", "limit", "out", "data_dir")}
    settings.update(_proxy_settings(settings.pop("proxy")))
    settings["model_sha256"] = backend_info.get("model_sha256") or backend_info.get("predictions_sha256")
    settings["task_versions"] = {n: task_version(tasks[n]) for n in sorted(set(names.values()))}
    marker = out / "run.json"
    if overwrite:
        for part in ("samples", "tables", "results.json", "tables.md", "run.json"):
            path = out / part
            shutil.rmtree(path) if path.is_dir() else path.unlink(missing_ok=True)
    elif marker.exists():
        before = json.loads(marker.read_text(encoding="utf-8"))
        old_versions = before.pop("task_versions", {})
        new_versions = settings["task_versions"]
        # A setting added after a run started is compared with its default, which the run used.
        defaults = {f.name: f.default for f in fields(EvalConfig) if f.default is not MISSING}
        defaults.update(_proxy_settings(asdict(ProxyOptions())))
        for key in sorted(set(before) | set(settings) - {"task_versions"}):
            if before.get(key, defaults.get(key)) != settings.get(key):
                raise InputError(f"holds samples of a run with {key}={before.get(key)!r}, not {settings.get(key)!r}; "
                                 "use another --out or --overwrite", where=str(out))
        for name, version in new_versions.items():
            if name in old_versions and old_versions[name] != version:
                raise InputError(f"holds samples of {name} version {old_versions[name]}, now {version}; "
                                 "use another --out or --overwrite", where=str(out))
        settings["task_versions"] = {**old_versions, **new_versions}
    out.mkdir(parents=True, exist_ok=True)
    marker.write_text(json.dumps(settings, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    save_config(cfg, out)


def _proxy_settings(proxy: dict[str, Any]) -> dict[str, Any]:
    """The proxy options as run.json has always recorded them: one key per command-line flag."""
    formats = proxy.pop("prompt_formats")
    return {**proxy, "base_format": formats[0], "expert_format": formats[1], "anti_expert_format": formats[2]}


def _run_item(item: PlanItem, task: Any, docs: list[dict[str, Any]], backend: Any, chat_template: Any,
              out: Path, cfg: EvalConfig) -> None:
    path = samples_path(out, item.task, item.lang)
    done = read_samples(path)
    width = cfg.batch_size if isinstance(cfg.batch_size, int) else 1  # auto batches within each chunk
    chunk = -(-CHUNK // width) * width
    for start in range(0, len(docs), chunk):
        part = docs[start:start + chunk]
        if all(d["id"] in done for d in part):
            continue
        # The whole chunk is recomputed so its batches are exactly those of an uninterrupted run.
        contexts = [build_context(task, d, chat_template) for d in part]
        requests = [build_requests(task, d, c, chat_template is not None) for d, c in zip(part, contexts)]
        if task.OUTPUT_TYPE == "generate_until":
            outputs = backend.generate([GenRequest(d["id"], r[0][0], *_limits(item, r[0][1], cfg.max_new_tokens))
                                        for d, r in zip(part, requests)])
            results = [None if o is None else [o] for o in outputs]
        else:  # multiple_choice: one log-likelihood request per option
            flat = backend.loglikelihood([args for r in requests for args in r])
            results, at = [], 0
            for r in requests:
                results.append(flat[at:at + len(r)])
                at += len(r)
        metrics.prepare(part, results, skip=done)  # e.g. run a batch's pot programs in parallel
        records = [_sample(task, d, c, res) for d, c, res in zip(part, contexts, results)
                   if d["id"] not in done and res is not None]
        append_samples(path, records)
        done.update((r["id"], r) for r in records)
        log.info("%s %s: %d/%d", item.task, item.lang, min(start + chunk, len(docs)), len(docs))


def _limits(item: PlanItem, gen: dict[str, Any], max_new_tokens: int | None) -> tuple[tuple[str, ...], int]:
    """(stop strings, token limit) of a request: the task's, the protocol's, then ``--max-new-tokens``."""
    until, limit = protocols.generation(item.task, item.protocol, tuple(gen.get("until") or ()),
                                        int(gen.get("max_gen_toks", 256)))
    return until, max_new_tokens or limit


def _sample(task: Any, doc: dict[str, Any], context: str, result: list[Any]) -> dict[str, Any]:
    scores = task.process_results(doc, result)
    generated = isinstance(result[0], str)
    if generated:
        extracted = metrics.score_output(doc, result[0])[0]
    else:
        extracted = metrics.score_loglik(doc, result)[0]
    target = {"numeric": doc.get("answer"), "qa": doc.get("answers")}.get(doc["kind"], doc["target"])
    record = {"id": doc["id"], "task": doc["task"], "lang": doc["lang"], "index": doc["index"], "prompt": context,
              "output": result[0] if generated else None, "target": target, "extracted": extracted,
              "metrics": {k: v for k, v in scores.items() if not isinstance(v, (list, tuple))},
              "protocol": doc.get("protocol", protocols.DEFAULT_PROTOCOL)}
    corpus = {k: list(v) for k, v in scores.items() if isinstance(v, (list, tuple))}
    if corpus:
        record["corpus_items"] = corpus
    if not generated:
        record["options"] = list(doc["labels"])
        record["loglikelihoods"] = [float(r[0]) for r in result]
    return record


def _provenance(cfg: EvalConfig, items: list[PlanItem], tasks: dict[str, Any], names: dict[PlanItem, str],
                backend_info: dict[str, Any], notes: list[str], started: str) -> dict[str, Any]:
    data_files: dict[str, dict[str, dict[str, str]]] = {}
    decoding: dict[str, Any] = {"strategy": "greedy", "seed": cfg.seed, "tasks": {}}
    signatures: dict[str, dict[str, Any]] = {}
    for item in items:
        task = tasks[names[item]]
        data_files.setdefault(item.task, {})[item.lang] = item.file_hashes()
        gen = task.config.generation_kwargs or {}
        if task.OUTPUT_TYPE == "generate_until":
            until, limit = _limits(item, gen, cfg.max_new_tokens)
            decoding["tasks"][item.task] = {"max_new_tokens": limit, "until": list(until)}
        if item.kind == "translation":
            signatures.setdefault(item.task, {})[item.lang] = metrics.signatures(item.tgt, item.protocol)
    return {
        "backend": cfg.backend, **backend_info, "protocol": cfg.protocol, "batch_size": cfg.batch_size, "seed": cfg.seed,
        "decoding": decoding,
        "prompt": {i.task: i.prompt for i in items},
        "mc_mode": {i.task: i.mc_mode for i in items if i.mc_mode},
        "num_fewshot": cfg.num_fewshot, "limit": cfg.limit, "name_mode": cfg.name_mode,
        "task_versions": {i.task: task_version(tasks[names[i]]) for i in items},
        "lm_eval_tasks": {i.task: sorted({names[j] for j in items if j.task == i.task}) for i in items},
        "data_files": data_files, "metric_signatures": signatures, "notes": notes,
        "packages": package_versions(), "started": started, "finished": now(),
    }
