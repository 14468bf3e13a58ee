"""Outputs of `polyalign analyze alignment`: alignment.json, alignment.md, three figures, the manifest.

Figures, one per question:
- ``alignment_cosine.png`` — are translations closer than unrelated sentences, and where?
  Matched cosine per layer (solid) with the mismatched-pair baseline (dashed, same colour).
- ``alignment_retrieval.png`` — can a sentence find its translation? Top-1 retrieval per layer
  (mean of both directions) against chance (1/n, dotted).
- ``alignment_pca_layer<L>.png`` — how do the languages lie in the chosen layer? PCA scatter of the
  uncentred vectors (centring would put every language at the origin by construction).
With centring on, the cosine figure has a second, uncentred panel per model (raw similarities, where
translations and unrelated pairs look alike). With a compared model, each figure has a panel (row)
per model.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from polyalign.analysis.alignment.metrics import pca_2d
from polyalign.analysis.outputs import Figure, fmt, markdown_table, update_manifest, write_json
from polyalign.analysis.alignment.parallel_text import ParallelSet
from polyalign.analysis.plots import plot_lines_by_layer, plot_pca
from polyalign.analysis.alignment.config import AlignmentConfig
from polyalign.analysis.alignment.measure import ModelAlignment, pca_groups
from polyalign.config import save_config, to_dict

__all__ = ["alignment_json", "alignment_markdown", "write_alignment_outputs", "pooling"]


def pooling(cfg: AlignmentConfig) -> str:
    """How tokens were pooled, in words."""
    if not cfg.skip_first_token:
        return "all tokens pooled (attention sinks included)"
    if cfg.sink_ratio:
        return f"attention sinks excluded (first token, and tokens with norm > {cfg.sink_ratio:g}x the median)"
    return "first token excluded"


def alignment_json(results: list[ModelAlignment], sets: list[ParallelSet], cfg: AlignmentConfig,
                   plot_layer: int) -> dict[str, Any]:
    """The JSON-ready results: settings, and per model, language and layer every `PairScores`."""
    models = []
    for r in results:
        langs = {}
        for s in sets:
            rows = r.scores[s.lang]
            best = int(np.argmax([(x.retrieval_to_pivot + x.retrieval_from_pivot) / 2 for x in rows]))
            langs[s.lang] = {"pivot": s.pivot, "n": len(s.texts), "source": s.source,
                             "best_layer": r.layers[best],
                             "by_layer": [{"layer": layer, **row.to_dict()} for layer, row in zip(r.layers, rows)]}
        models.append({"label": r.label, "model": r.model, "num_layers": r.num_layers, "hidden_size": r.hidden_size,
                       "capture": r.sinks,
                       "mean_retrieval_by_layer": [float(v) for v in r.mean_retrieval()], "langs": langs})
    return {"analysis": "alignment", "version": 1, "settings": to_dict(cfg), "layers": results[0].layers,
            "plot_layer": plot_layer, "models": models}


def alignment_markdown(results: list[ModelAlignment], sets: list[ParallelSet], cfg: AlignmentConfig) -> str:
    """Per model: cosine (baseline) and retrieval tables by layer, then a best-layer summary."""
    codes = [s.lang for s in sets]
    pivot = sets[0].pivot
    centring = "mean-centred per language" if cfg.center else "not centred"
    how = (f"template `{cfg.template}`, pivot `{pivot}`, {centring}, {pooling(cfg)}; pairs per language: "
           + ", ".join(f"{s.lang} {len(s.texts)}" for s in sets))
    parts = ["# Cross-lingual alignment by layer\n", how + "\n"]
    for r in results:
        parts.append(f"\n## {r.label}\n\n`{r.model}` — {r.num_layers} layers, hidden size {r.hidden_size}")
        if r.sinks.get("extra_sinks"):
            parts.append(f"; besides first tokens, {r.sinks['extra_sinks']} massive-activation position(s) in "
                         f"{r.sinks['sentences_with_extra_sinks']} of {r.sinks['sentences']} distinct inputs were "
                         "left out of the mean")
        parts.append("\n")
        kinds = [("cosine", "baseline", "centred" if cfg.center else "uncentred")]
        kinds += [("raw_cosine", "raw_baseline", "uncentred")] if cfg.center else []
        for matched, base, kind in kinds:
            parts.append(f"\n### Cosine of translations, {kind} (mismatched-pair baseline in brackets)\n\n")
            parts.append(markdown_table(["layer", *codes], [
                [layer, *(f"{fmt(getattr(r.scores[c][i], matched))} ({fmt(getattr(r.scores[c][i], base))})"
                          for c in codes)] for i, layer in enumerate(r.layers)]))
        chance = ", ".join(f"{s.lang} {1 / len(s.texts):.3f}" for s in sets)
        parts.append(f"\n### Top-1 retrieval, X→{pivot} / {pivot}→X (chance: {chance})\n\n")
        parts.append(markdown_table(["layer", *codes, "mean"], [
            [layer, *(f"{fmt(r.scores[c][i].retrieval_to_pivot, 2)} / {fmt(r.scores[c][i].retrieval_from_pivot, 2)}"
                      for c in codes), fmt(float(r.mean_retrieval()[i]), 3)]
            for i, layer in enumerate(r.layers)]))
    parts.append("\n## Best layer per language (by mean top-1 retrieval of both directions)\n\n")
    rows = []
    for r in results:
        for c in codes:
            mean = [(s.retrieval_to_pivot + s.retrieval_from_pivot) / 2 for s in r.scores[c]]
            best = int(np.argmax(mean))
            row = r.scores[c][best]
            rows.append([r.label, c, r.layers[best], fmt(mean[best], 3), fmt(row.cosine), fmt(row.baseline),
                         fmt(row.gap)])
    parts.append(markdown_table(["model", "lang", "best layer", "retrieval", "cosine", "baseline", "gap"], rows,
                                left=(0, 1)))
    return "".join(parts)


def write_alignment_outputs(results: list[ModelAlignment], sets: list[ParallelSet], cfg: AlignmentConfig,
                            out: Path, *, plot_layer: int) -> dict[str, Any]:
    """Write alignment.json, alignment.md, the figures, figures.json and alignment_config.yaml."""
    out.mkdir(parents=True, exist_ok=True)
    save_config(cfg, out, name="alignment_config.yaml")
    data = alignment_json(results, sets, cfg, plot_layer)
    write_json(out / "alignment.json", data)
    (out / "alignment.md").write_text(alignment_markdown(results, sets, cfg), encoding="utf-8")
    pivot, layers = sets[0].pivot, results[0].layers
    setting = (f"{'per-language mean-centred' if cfg.center else 'uncentred'} mean-pooled hidden states, "
               f"{pooling(cfg)}, template {cfg.template}")
    # With centring, a second panel per model shows the uncentred numbers: there translations and
    # unrelated pairs score alike (the reason to centre), which the centred panel alone cannot show.
    kinds = [("cosine", "baseline", "centred" if cfg.center else "")] + \
        ([("raw_cosine", "raw_baseline", "uncentred")] if cfg.center else [])
    panels, baselines = [], []
    for r in results:
        for matched, base, kind in kinds:
            name = f"{r.label} — {kind}" if kind else r.label
            panels.append((name, {c: [getattr(s, matched) for s in rows] for c, rows in r.scores.items()}))
            baselines.append((name, {c: [getattr(s, base) for s in rows] for c, rows in r.scores.items()}))
    plot_lines_by_layer(panels, layers, out / "alignment_cosine.png", dashed=baselines, ncols=len(kinds),
                        sharey=False, title=f"Cosine similarity to the {pivot} translation, by layer",
                        ylabel="mean cosine similarity", solid_label="translation pairs",
                        dashed_label="mismatched pairs (baseline)")
    retrieval = [(r.label, {c: [(s.retrieval_to_pivot + s.retrieval_from_pivot) / 2 for s in rows]
                            for c, rows in r.scores.items()}) for r in results]
    chance = float(np.mean([1 / len(s.texts) for s in sets]))
    plot_lines_by_layer(retrieval, layers, out / "alignment_retrieval.png", ylim=(0, 1.02), hline=chance,
                        hline_label=f"chance (1/n = {chance:.3f})",
                        title=f"Top-1 retrieval of the {pivot} translation, by layer",
                        ylabel="top-1 accuracy (mean of X→pivot and pivot→X)")
    pca_panels = []
    for r in results:
        # Uncentred on purpose: centring puts every language's cloud at the origin by construction,
        # hiding exactly the language offsets this figure is meant to show.
        groups = pca_groups(r, plot_layer, centre=False, pivot=pivot)
        coords, share = pca_2d(np.concatenate(list(groups.values())))
        bounds = np.cumsum([0] + [len(g) for g in groups.values()])
        pca_panels.append((f"{r.label} (PC1 {share[0]:.0%}, PC2 {share[1]:.0%} of variance)",
                           {code: coords[bounds[i]:bounds[i + 1]] for i, code in enumerate(groups)}))
    pca_file = f"alignment_pca_layer{plot_layer}.png"
    plot_pca(pca_panels, out / pca_file, pivot=pivot, title=f"Sentence representations at layer {plot_layer} (PCA)")
    n_text = ", ".join(f"{s.lang} {len(s.texts)}" for s in sets)
    update_manifest(out, [
        Figure("alignment_cosine.png", "alignment", f"Cosine similarity to the {pivot} translation by layer",
               f"Mean cosine similarity between each sentence and its {pivot} translation (solid) and between "
               f"mismatched sentence pairs (dashed, the baseline), per layer; {setting}. Alignment is the gap "
               f"between the two lines, not the height of the solid one"
               + (" (after centring the baseline is near 0 by construction; the uncentred panel shows the raw "
                  "similarities)" if cfg.center else "") + f". Pairs: {n_text}."),
        Figure("alignment_retrieval.png", "alignment", "Top-1 translation retrieval by layer",
               f"Share of sentences whose nearest neighbour (cosine) among the {pivot} sentences is their "
               f"translation, averaged over both directions, per layer; {setting}. Dotted: chance (1/n)."),
        Figure(pca_file, "alignment", f"PCA of sentence representations at layer {plot_layer}",
               f"First two principal components of the sentence vectors at layer {plot_layer} (uncentred, "
               f"{pooling(cfg)}, template {cfg.template}); one "
               f"colour per language, {pivot} (pivot) as black crosses. Separate clouds show a per-language "
               "offset (what mean-centring removes); overlapping clouds mean the layer hardly encodes language."),
    ])
    return data
