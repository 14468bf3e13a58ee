"""An evaluation run (``polyalign eval``): per-task tables, example outputs, provenance and config.

Tables have the rows of ``tables.md`` (languages, then the averages of `polyalign.runfiles.task_rows`) and
the same scales (shares as percentages, BLEU/chrF as sacrebleu reports them); the response-language
columns (``lang_*``) are grouped apart from the task's scores because they measure something else:
whether the model answered in the prompt's language, not whether it answered well. Samples files are
only read, never repaired (``polyalign eval`` repairs a torn last line when it resumes).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from polyalign.report.html import details, esc, json_block, kv_list, note, pre, table, warn
from polyalign.report.sections.common import clip, config_block
from polyalign.runfiles import PERCENT_SCALE, RESULTS_FILE, head_samples, load_json, samples_path, task_rows

__all__ = ["render", "task_table", "examples", "EXAMPLES_PER_LANG"]

EXAMPLES_PER_LANG = 2
"""Example outputs shown per task and language (the samples files hold them all)."""


def _cell(metric: str, value: Any) -> str:
    if not isinstance(value, (int, float)) or isinstance(value, bool):
        return "–"
    if metric in ("n", "skipped"):
        return str(int(value))
    return f"{value:.1f}" if metric in PERCENT_SCALE else f"{100 * value:.1f}"


def _label(metric: str) -> str:
    return metric if metric in PERCENT_SCALE or metric == "n" else f"{metric} %"


def task_table(per_lang: dict[str, dict[str, Any]]) -> str:
    """One task's table: rows = languages + averages, scores then response-language columns then n."""
    columns, rows = task_rows(per_lang)
    scores = [c for c in columns if c != "n" and not c.startswith("lang_")]
    language = [c for c in columns if c.startswith("lang_")]
    order = scores + language + ["n"]
    group = None
    if language:
        group = [("", 1), ("scores", len(scores)), ("response language", len(language)), ("", 1)]
        group = [g for g in group if g[1]]
    return table(["lang"] + [_label(c) for c in order],
                 [[label] + [_cell(c, values.get(c)) for c in order] for label, values in rows],
                 align=["left"] + ["right"] * len(order), group_header=group,
                 row_classes=["avg" if label.startswith("avg") else "" for label, _ in rows])


def _text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def _sample(record: dict[str, Any]) -> str:
    scores = record.get("metrics") if isinstance(record.get("metrics"), dict) else {}
    score_text = ", ".join(f"{k} {v:.3g}" if isinstance(v, (int, float)) else f"{k} {v}" for k, v in scores.items())
    parts = [f'<div class="sample"><div><strong>{esc(record.get("id", "?"))}</strong>'
             f'{(" — " + esc(score_text)) if score_text else ""}</div>']
    short = []
    for key, label in (("prompt", "prompt"), ("output", "output"), ("target", "reference"),
                       ("extracted", "extracted answer")):
        if record.get(key) is None:
            continue
        text = _text(record[key])
        if key in ("target", "extracted") and len(text) <= 160 and "\n" not in text:
            short.append((label, text))  # one line is enough for a number or a short answer
        else:
            parts.append(f'<div class="label">{label}</div>{pre(clip(text))}')
    if record.get("options") is not None:
        parts.append(f'<div class="label">options (log-likelihoods)</div>'
                     f'{pre(clip(_text(list(zip(record["options"], record.get("loglikelihoods") or [])))))}')
    return "".join(parts) + kv_list(short) + "</div>"


def examples(folder: Path, task: str, keys: list[str], per_lang: int = EXAMPLES_PER_LANG) -> str:
    """The first outputs of each language of ``task`` from ``samples/``, collapsed."""
    blocks = []
    for key in keys:
        records = head_samples(samples_path(folder, task, key), per_lang)
        if records:
            blocks.append(f"<h5>{esc(task)} · {esc(key)}</h5>" + "".join(_sample(r) for r in records))
    if not blocks:
        return ""
    return details(f"Example outputs ({task}: first {per_lang} per language, of samples/{task}_<lang>.jsonl)",
                   "".join(blocks))


def _facts(prov: dict[str, Any]) -> str:
    sha = prov.get("model_sha256") or prov.get("predictions_sha256")
    prompt = prov.get("prompt")
    return kv_list([
        ("model", prov.get("model") or prov.get("predictions")), ("sha256", sha[:16] + "…" if sha else None),
        ("backend", prov.get("backend")), ("dtype / device", " / ".join(str(prov[k]) for k in ("dtype", "device")
                                                                       if prov.get(k)) or None),
        ("prompt", ", ".join(f"{k}: {v}" for k, v in prompt.items()) if isinstance(prompt, dict) else prompt),
        ("limit per language", prov.get("limit")), ("batch size / seed", f"{prov.get('batch_size')} / "
                                                                         f"{prov.get('seed')}"),
        ("run", f"{prov.get('started', '?')} → {prov.get('finished', '?')}"),
    ])


def render(folder: Path) -> str:
    """The HTML of an evaluation run folder."""
    doc, problem = load_json(folder / RESULTS_FILE)
    if problem or not isinstance(doc, dict) or not isinstance(doc.get("results"), dict):
        return warn(problem or "results.json has no \"results\" object") + config_block(folder)
    prov = doc.get("provenance") if isinstance(doc.get("provenance"), dict) else {}
    parts = [_facts(prov)]
    versions = prov.get("task_versions") or {}
    for task, per_lang in doc["results"].items():
        version = f" (version {versions[task]})" if task in versions else ""
        parts.append(f"<h4>{esc(task)}{esc(version)}</h4>")
        if not isinstance(per_lang, dict) or not all(isinstance(v, dict) for v in per_lang.values()):
            parts.append(warn(f"results.json: {task} is not a mapping of language to metrics"))
            continue
        parts.append(task_table(per_lang))
        parts.append(examples(folder, task, list(per_lang)))
    notes = prov.get("notes") or []
    if notes:
        parts.append("<p><strong>Notes</strong></p><ul>" + "".join(f"<li>{esc(n)}</li>" for n in notes) + "</ul>")
    parts.append(note("Shares are percentages; BLEU, chrF++ and spBLEU on sacrebleu's 0–100 scale; averages are "
                      "unweighted means over languages (as in tables.md)."))
    if prov:
        parts.append(details("Provenance (results.json)", json_block(prov)))
    parts.append(config_block(folder))
    return "".join(parts)
