"""Small run directories in the formats the commands write, for the report tests (no model needed)."""

from __future__ import annotations

import csv
import io
import json
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

HOSTILE = '<script>alert("x")</script> & <b>bold</b>'
"""A model output that must appear as text, never as markup."""


def _json(path: Path, data: Any) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False), encoding="utf-8")
    return path


def _png(colour: str = "tab:blue") -> bytes:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(2, 1.5), dpi=50)
    FigureCanvasAgg(fig)
    fig.add_subplot().plot([0, 1], [0, 1], color=colour)
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    return buffer.getvalue()


def write_eval(folder: Path, *, chrf: float = 20.0, acc_de: float = 0.5) -> Path:
    """An eval run: mgsm (en, de, zh) and flores (two directions), samples with a hostile output."""
    results = {"mgsm": {"en": {"acc": 0.75, "acc_paper": 0.75, "lang_match": 1.0, "lang_none": 0.0, "n": 4},
                        "de": {"acc": acc_de, "acc_paper": 0.25, "lang_match": 0.5, "lang_none": 0.25, "n": 4},
                        "zh": {"acc": 0.25, "acc_paper": 0.0, "lang_match": 0.0, "lang_none": 1.0, "n": 4}},
               "flores": {"en-zh": {"bleu": 3.5, "chrf++": chrf, "lang_match": 0.5, "lang_none": 0.0, "n": 2},
                          "zh-en": {"bleu": 7.25, "chrf++": chrf + 10, "lang_match": 1.0, "lang_none": 0.0, "n": 2}}}
    provenance = {"backend": "hf", "model": "tiny-model", "model_sha256": "ab" * 32, "dtype": "float32",
                  "device": "cpu", "batch_size": 8, "seed": 0, "limit": 4, "prompt": {"mgsm": "paper"},
                  "task_versions": {"mgsm": 1.0, "flores": 2.0},
                  "notes": ["spbleu not computed: download https://example.org/spm.model by hand"],
                  "started": "2026-01-01T00:00:00+00:00", "finished": "2026-01-01T00:01:00+00:00"}
    _json(folder / "results.json", {"results": results, "provenance": provenance})
    _json(folder / "run.json", {"backend": "hf", "task_versions": {"pa_mgsm_de": 1.0}})  # eval's resume marker
    (folder / "config.yaml").write_text("tasks: [mgsm, flores]\nmodel: tiny-model\n", encoding="utf-8")
    samples = folder / "samples"
    samples.mkdir(parents=True, exist_ok=True)
    lines = [{"id": f"mgsm/de/{i}", "prompt": f"Frage {i}?", "output": HOSTILE if i == 0 else f"Antwort {i}",
              "target": 18, "extracted": "18", "metrics": {"acc": 1.0, "lang_match": 1.0}} for i in range(3)]
    (samples / "mgsm_de.jsonl").write_text("".join(json.dumps(r) + "\n" for r in lines) + '{"torn', encoding="utf-8")
    return folder


def write_train(folder: Path, *, finished: bool = True) -> Path:
    """A two-stage training run (cpt then LoRA sft with evaluation lines)."""
    (folder / "config.yaml").parent.mkdir(parents=True, exist_ok=True)
    (folder / "config.yaml").write_text("name: toy\nstages:\n  - name: cpt\n  - name: sft\n", encoding="utf-8")
    for stage, steps, start in (("cpt", 6, 4.0), ("sft", 4, 3.0)):
        records = [{"stage": stage, "step": s, "epoch": s / steps, "loss": start - 0.3 * s, "lr": 1e-3,
                    "tokens_per_s": 100.0 + s, "elapsed_s": 2.0 * s} for s in range(1, steps + 1)]
        if stage == "sft":
            records.append({"stage": stage, "step": steps, "eval_loss": 2.2, "eval_tokens": 50})
        (folder / stage).mkdir(parents=True, exist_ok=True)
        (folder / stage / "metrics.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    if finished:
        stages = [{"name": "cpt", "type": "cpt", "finetune": "full", "base": "tiny", "model": "model",
                   "adapter": None, "steps": 6, "examples": 48, "train_loss": 2.2, "eval_loss": None},
                  {"name": "sft", "type": "sft", "finetune": "lora", "base": "run/cpt/model", "model": None,
                   "adapter": "adapter", "steps": 4, "examples": 32, "train_loss": 1.8, "eval_loss": 2.2}]
        _json(folder / "run.json", {"name": "toy", "final_model": str(folder / "sft" / "adapter"), "stages": stages,
                                    "polyalign_version": "0.1.0", "finished": "2026-01-01T00:00:00+00:00"})
    return folder


def write_analysis(folder: Path, *, missing_figure: bool = False) -> Path:
    """An alignment analysis: manifest with two figures, alignment.md/.json and the config."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "alignment_cosine.png").write_bytes(_png())
    figures = [{"file": "alignment_cosine.png", "analysis": "alignment", "title": "Cosine by layer",
                "caption": "Solid: translations <vs> dashed: mismatched pairs."}]
    if missing_figure:
        figures.append({"file": "gone.png", "analysis": "alignment", "title": "Gone", "caption": ""})
    _json(folder / "figures.json", {"version": 1, "figures": figures})
    _json(folder / "alignment.json", {"analysis": "alignment", "layers": [0, 1, 2],
                                      "models": [{"label": "tiny", "model": "tiny-model"}]})
    (folder / "alignment.md").write_text(
        "# Cross-lingual alignment by layer\ntemplate `raw`, pivot `en`\n\n## tiny\n\n"
        "| layer | de | zh |\n|:---|---:|---:|\n| 0 | 0.210 (-0.002) | 0.119 (-0.002) |\n"
        "| 1 | 0.265 (-0.003) | a \\| b |\n", encoding="utf-8")
    (folder / "alignment_config.yaml").write_text("model: tiny-model\npivot: en\n", encoding="utf-8")
    return folder


def write_scaling(folder: Path) -> Path:
    """A sweep folder: results.csv, fits.json/.md, a fit plot and an allocation plan."""
    folder.mkdir(parents=True, exist_ok=True)
    with (folder / "results.csv").open("w", newline="", encoding="utf-8") as handle:
        out = csv.writer(handle)
        out.writerow(["lang", "n_examples", "metric", "value", "run_dir"])
        for lang, base in (("de", 10.0), ("zh", 5.0)):
            for size in (0, 16, 64):
                out.writerow([lang, size, "chrf++", base + size / 8, f"runs/{lang}-n{size}"])
    _json(folder / "fits.json", {"format": "polyalign-fits/1", "metric": "chrf++", "languages": {
        "de": {"chosen": "log", "formula": "a·log(x + b) + c", "params": {"a": 1.5, "b": 2.0, "c": 10.0}, "r2": 0.99},
        "zh": {"chosen": None, "warnings": ["cannot fit: 2 sizes"]}}})
    (folder / "fits.md").write_text("Scaling-law fits for chrf++\n\n| lang | chosen | R² |\n|---|---|---|\n"
                                    "| de | log | 0.9900 |\n| zh | – | – |\n", encoding="utf-8")
    (folder / "fit_de.png").write_bytes(_png("tab:green"))
    _json(folder / "plan.json", {"format": "polyalign-allocation/1", "builder": "translation", "unit": "examples",
                                 "budget": 1000, "allocation": {"de": 600, "zh": 400}, "objective": "sum",
                                 "metric": "chrf++", "predicted": {"de": 21.5, "zh": 14.25},
                                 "uniform": {"de": 500, "zh": 500}, "uniform_predicted": {"de": 21.0, "zh": 14.5},
                                 "value": 35.75, "uniform_value": 35.5})
    return folder


QUICKSTART_METRICS = {"chrf": {"label": "X→en translation, chrF++", "higher_is_better": True},
                      "loss": {"label": "reference loss", "higher_is_better": False}}


def write_quickstart(folder: Path) -> Path:
    """A quickstart folder with its sub-runs; chrF rises in de, falls in zh; loss falls in de (better)."""
    dirs = {"eval_before": "eval-before", "eval_after": "eval-after", "train": "train",
            "analysis_before": "analysis-before", "analysis_after": "analysis-after"}
    _json(folder / "quickstart.json", {
        "kind": "polyalign-quickstart/1", "model": "tiny-model", "langs": ["de", "zh"], "budget_minutes": 15,
        "sizes": {"train": 64, "translate": 12}, "trained_model": "train/question-alignment/model",
        "metrics": QUICKSTART_METRICS,
        "before": {"en": {"chrf": None, "loss": 1.0}, "de": {"chrf": 20.0, "loss": 2.0},
                   "zh": {"chrf": 10.0, "loss": 3.0}},
        "after": {"en": {"chrf": None, "loss": 1.0}, "de": {"chrf": 25.5, "loss": 1.5},
                  "zh": {"chrf": 8.0, "loss": 3.5}},
        "steps": {"eval_before": {"seconds": 75.0, "status": "done"}, "train": {"seconds": 400.0, "status": "done"}},
        "dirs": dirs})
    # a nested run folder named like an earlier one in name order, to check the quickstart's order wins
    write_analysis(folder / "analysis-after")
    write_eval(folder / "eval-before" / "qtrans", chrf=20.0)
    write_eval(folder / "eval-after" / "qtrans", chrf=25.5)
    write_train(folder / "train")
    return folder


class Outline(HTMLParser):
    """What a report holds, from its HTML: headings, tables (rows of cell texts), images, links, classes."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.headings: list[tuple[str, str]] = []
        self.tables: list[list[list[str]]] = []
        self.cell_classes: list[tuple[str, str]] = []
        self.images: list[str] = []
        self.links: list[str] = []
        self.tags: list[str] = []
        self._heading: str | None = None
        self._cell: list[str] | None = None
        self._cell_class = ""
        self._text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        self.tags.append(tag)
        if tag in ("h1", "h2", "h3", "h4", "h5", "h6"):
            self._heading, self._text = tag, []
        elif tag == "table":
            self.tables.append([])
        elif tag == "tr" and self.tables:
            self.tables[-1].append([])
        elif tag in ("td", "th"):
            self._cell, self._cell_class = [], values.get("class") or ""
        elif tag == "img":
            self.images.append(values.get("src") or "")
        elif tag == "a":
            self.links.append(values.get("href") or "")

    def handle_endtag(self, tag: str) -> None:
        if tag == self._heading:
            self.headings.append((tag, "".join(self._text).strip()))
            self._heading = None
        elif tag in ("td", "th") and self._cell is not None:
            text = "".join(self._cell).strip()
            self.tables[-1][-1].append(text)
            self.cell_classes.append((text, self._cell_class))
            self._cell = None

    def handle_data(self, data: str) -> None:
        if self._heading:
            self._text.append(data)
        if self._cell is not None:
            self._cell.append(data)


def outline(html: str) -> Outline:
    parser = Outline()
    parser.feed(html)
    return parser


@pytest.fixture
def runs(tmp_path: Path) -> dict[str, Path]:
    """One folder of each kind."""
    return {"eval": write_eval(tmp_path / "eval"), "train": write_train(tmp_path / "train"),
            "analysis": write_analysis(tmp_path / "analysis"), "scaling": write_scaling(tmp_path / "scaling"),
            "quickstart": write_quickstart(tmp_path / "quickstart")}


@pytest.fixture
def parse():
    """``parse(html)`` → `Outline`."""
    return outline


@pytest.fixture
def writers():
    """The fixture-folder writers, for tests that build their own layout."""
    from types import SimpleNamespace

    return SimpleNamespace(eval=write_eval, train=write_train, analysis=write_analysis, scaling=write_scaling,
                           quickstart=write_quickstart, hostile=HOSTILE, png=_png)
