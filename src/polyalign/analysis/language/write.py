"""Outputs of `polyalign analyze language`: language.json, language_samples.jsonl, language.md, figures.

One stacked-bar figure per task (``language_<task>.png``): for each prompt language, the shares of
the languages its responses came in ("none" in grey = no language).
"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path
from typing import Any

from polyalign.analysis.outputs import Figure, fmt, markdown_table, update_manifest, write_json
from polyalign.analysis.plots import plot_stacked_shares
from polyalign.analysis.language.run import NONE
from polyalign.config import save_config
from polyalign.io import dump_json_line

__all__ = ["language_markdown", "write_language_outputs"]

_TOP = 4  # response languages spelled out per row in the Markdown table


def _dist(shares: dict[str, float] | dict[str, int], total: int | None = None) -> str:
    items = list(shares.items())[:_TOP]
    cells = [f"{k} {v / total:.2f}" if total else f"{k} {v:.2f}" for k, v in items]
    return ", ".join(cells) + (", …" if len(shares) > _TOP else "")


def language_markdown(data: dict[str, Any]) -> str:
    """Per task: a response-language table and, when there are CoT outputs, a reasoning/answer table."""
    pivot = data["settings"]["pivot"]
    parts = ["# Response language\n\n",
             f"Sentence-level code-switching threshold {data['settings']['threshold']}; shares over all "
             "responses (no-language responses count as not in the prompt language).\n"]
    if data.get("skipped_without_output"):
        parts.append("\nSkipped (no generated output, e.g. log-likelihood scoring): "
                     + ", ".join(f"{name} {n}" for name, n in data["skipped_without_output"].items()) + ".\n")
    for task, groups in data["results"].items():
        parts.append(f"\n## {task}\n\n")
        parts.append(markdown_table(
            ["prompt lang", "n", "in prompt lang", "no language", "code-switched", "response languages"],
            [[key, g["n"], fmt(g["in_prompt_lang"]), fmt(g["no_language"]), fmt(g["code_switched"]),
              _dist(g["response_lang_shares"])] for key, g in groups.items()], left=(0, 5)))
        cot_rows = [[key, g["cot"]["n"], fmt(g["cot"]["reasoning_in_prompt_lang"]), fmt(g["cot"]["reasoning_in_pivot"]),
                     fmt(g["cot"]["final_in_prompt_lang"]), fmt(g["cot"]["reasoning_equals_final"]),
                     _dist(g["cot"]["reasoning_langs"], g["cot"]["n"]), _dist(g["cot"]["final_langs"], g["cot"]["n"])]
                    for key, g in groups.items() if g["cot"]["n"]]
        if cot_rows:
            parts.append("\n### Chain of thought: reasoning vs final answer\n\n")
            parts.append(markdown_table(
                ["prompt lang", "CoT n", "reasoning in prompt lang", f"reasoning in {pivot}", "final in prompt lang",
                 "reasoning = final", "reasoning languages", "final-answer languages"], cot_rows, left=(0, 6, 7)))
    return "".join(parts)


def write_language_outputs(data: dict[str, Any], out: Path) -> list[Path]:
    """Write language.json (without per-sample rows), language_samples.jsonl, language.md, figures, config."""
    out.mkdir(parents=True, exist_ok=True)
    save_config(data["settings"], out, name="language_config.yaml")
    write_json(out / "language.json", {k: v for k, v in data.items() if k != "samples"})
    with (out / "language_samples.jsonl").open("w", encoding="utf-8") as handle:
        for row in data["samples"]:
            handle.write(dump_json_line(row))
    (out / "language.md").write_text(language_markdown(data), encoding="utf-8")
    figures, written = [], []
    for task, groups in data["results"].items():
        keys = list(groups)
        totals: Counter = Counter()
        for g in groups.values():
            totals.update(g["response_langs"])
        labels = sorted(totals, key=lambda lang: (lang == NONE, -totals[lang]))  # most frequent first, none last
        shares = {lang: [groups[k]["response_lang_shares"].get(lang, 0.0) for k in keys] for lang in labels}
        name = f"language_{re.sub(r'[^A-Za-z0-9_.-]+', '_', task)}.png"
        written.append(plot_stacked_shares(
            [f"{k}\n(n={groups[k]['n']})" for k in keys], shares, out / name,
            title=f"{task}: language of the responses per prompt language",
            xlabel="prompt language", ylabel="share of responses", legend_title="response language"))
        figures.append(Figure(name, "language", f"{task}: response language per prompt language",
                              f"For each prompt language of {task}, the share of responses identified as each "
                              "language (whole-response language ID after stripping numbers, code and math; "
                              "'none' = no language: empty, degenerate or too short). The share in the prompt's "
                              "own language is the lang_match metric."))
    update_manifest(out, figures)
    return written
