"""`polyalign report`: the HTML of each run kind, escaping, self-containedness, nesting and bad input."""

from __future__ import annotations

import argparse
import base64
import json
import re
from pathlib import Path

import pytest

from polyalign.cli import report as report_cmd
from polyalign.errors import InputError
from polyalign.report import build_report


def run(*argv: str) -> int:
    parser = argparse.ArgumentParser(prog="polyalign")
    report_cmd.register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["report", *argv])
    return args.func(args)


def html_of(folder: Path, tmp_path: Path) -> str:
    return build_report(folder, tmp_path / "out" / f"{folder.name}.html").read_text(encoding="utf-8")


def table_with(doc, first_cell: str) -> list[list[str]]:
    """The first table having a row that starts with ``first_cell``."""
    for rows in doc.tables:
        if any(row and row[0] == first_cell for row in rows):
            return rows
    raise AssertionError(f"no table with a row {first_cell!r}: {[t[:2] for t in doc.tables]}")


def test_eval_tables_have_languages_averages_and_grouped_language_columns(runs, tmp_path, parse):
    doc = parse(html_of(runs["eval"], tmp_path))
    mgsm = table_with(doc, "avg (no en)")
    assert mgsm[0] == ["", "scores", "response language", ""]
    assert mgsm[1] == ["lang", "acc %", "acc_paper %", "lang_match %", "lang_none %", "n"]
    rows = {row[0]: row[1:] for row in mgsm[2:]}
    assert list(rows) == ["en", "de", "zh", "avg", "avg (no en)"]
    assert rows["de"] == ["50.0", "25.0", "50.0", "25.0", "4"]
    assert rows["avg"][0] == "50.0" and rows["avg (no en)"][0] == "37.5" and rows["avg"][-1] == "12"
    flores = {row[0]: row[1:] for row in table_with(doc, "avg en→X")[2:]}
    assert flores["en-zh"][:2] == ["3.5", "20.0"]  # BLEU / chrF++ stay on sacrebleu's scale
    assert set(flores) == {"en-zh", "zh-en", "avg", "avg en→X", "avg X→en"}
    headings = [text for _, text in doc.headings]
    assert "mgsm (version 1.0)" in headings and "flores (version 2.0)" in headings


def test_eval_samples_are_escaped_and_provenance_collapsed(runs, tmp_path, writers):
    html = html_of(runs["eval"], tmp_path)
    assert "<script" not in html.lower()
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &lt;b&gt;bold&lt;/b&gt;" in html
    assert "mgsm/de/0" in html and "mgsm/de/1" in html and "mgsm/de/2" not in html  # first 2 per language
    assert re.search(r"<details><summary>Provenance \(results\.json\)</summary>", html)
    assert "https://example.org/spm.model" in html  # provenance text kept, but never as a link
    assert 'href="http' not in html


def test_every_kind_is_self_contained(runs, tmp_path, parse):
    for kind, folder in runs.items():
        html = html_of(folder, tmp_path)
        doc = parse(html)
        assert not re.search(r"""(src|href)\s*=\s*["']?\s*(https?:|//)""", html, re.I), kind
        assert not re.search(r"<(script|link|iframe|object|embed)\b|@import|url\(", html, re.I), kind
        assert all(link.startswith("#") for link in doc.links), kind
        for src in doc.images:
            assert src.startswith("data:image/png;base64,"), kind
            assert base64.b64decode(src.split(",", 1)[1])[:8] == b"\x89PNG\r\n\x1a\n"
        anchors = set(re.findall(r'<section id="([^"]+)"', html))
        assert {link[1:] for link in doc.links} == anchors, kind  # the nav points at every section
        assert doc.tags.count("nav") == 1


def test_train_section_has_stages_and_loss_curve(runs, tmp_path, parse):
    doc = parse(html_of(runs["train"], tmp_path))
    stages = table_with(doc, "cpt")
    assert stages[0][:4] == ["stage", "type / finetune", "status", "steps"]
    assert stages[1][:5] == ["cpt", "cpt / full", "done", "6", "48"]
    assert stages[2][1:3] == ["sft / lora", "done"] and stages[2][6:8] == ["1.8000", "2.2000"]
    assert len(doc.images) == 1  # one loss curve for both stages


def test_unfinished_training_run_is_reported_from_its_metrics(tmp_path, parse, writers):
    folder = writers.train(tmp_path / "unfinished", finished=False)
    html = html_of(folder, tmp_path)
    doc = parse(html)
    assert "has not finished" in html
    rows = table_with(doc, "cpt")
    assert rows[1][2] == "in progress" and rows[1][3] == "6" and rows[1][6] == "2.2000"
    assert len(doc.images) == 1


def test_analysis_embeds_manifest_figures_and_converts_markdown(tmp_path, parse, writers):
    folder = writers.analysis(tmp_path / "analysis", missing_figure=True)
    html = html_of(folder, tmp_path)
    doc = parse(html)
    assert len(doc.images) == 1
    assert "Solid: translations &lt;vs&gt; dashed" in html
    assert "figure gone.png listed in figures.json is missing" in html
    layers = table_with(doc, "layer")
    assert layers == [["layer", "de", "zh"], ["0", "0.210 (-0.002)", "0.119 (-0.002)"],
                      ["1", "0.265 (-0.003)", "a | b"]]
    assert ("0.210 (-0.002)", "num") in doc.cell_classes and ("0", "") in doc.cell_classes  # md alignment kept
    assert "<code>raw</code>" in html and "Resolved config (alignment_config.yaml)" in html


def test_scaling_pivots_results_and_shows_fits_and_plans(runs, tmp_path, parse):
    doc = parse(html_of(runs["scaling"], tmp_path))
    pivot = table_with(doc, "de")
    assert pivot[0] == ["lang", "0", "16", "64"] and pivot[1] == ["de", "10.0", "12.0", "18.0"]
    plan = next(t for t in doc.tables if t[0] == ["lang", "allocated", "predicted", "uniform", "uniform predicted"])
    assert plan[1:] == [["de", "600", "21.500", "500", "21.000"], ["zh", "400", "14.250", "500", "14.500"]]
    assert len(doc.images) == 1
    html = html_of(runs["scaling"], tmp_path)
    assert "chosen law log: y = a·log(x + b) + c" in html


def test_quickstart_headline_then_nested_runs_in_its_order(runs, tmp_path, parse):
    html = html_of(runs["quickstart"], tmp_path)
    doc = parse(html)
    assert "<dt>examples per language</dt><dd>train 64, translate 12</dd>" in html
    assert "<dt>time taken</dt><dd>7 min 55 s</dd>" in html
    head = table_with(doc, "de")
    assert head[0] == ["", "X→en translation, chrF++", "reference loss"]
    rows = {row[0]: row[1:] for row in head[2:]}
    assert list(rows) == ["en", "de", "zh", "avg"]
    assert rows["de"] == ["20.0", "25.5", "+5.5", "2.00", "1.50", "-0.50"]
    assert rows["en"][:3] == ["–", "–", "–"]
    assert rows["avg"][:3] == ["15.0", "16.8", "+1.8"]
    classes = dict((text, cls) for text, cls in doc.cell_classes if text.startswith(("+", "-")))
    assert classes["+5.5"] == "num good" and classes["-2.0"] == "num bad"  # chrF: higher is better
    assert classes["-0.50"] == "num good" and classes["+0.50"] == "num bad"  # loss: lower is better
    sections = re.findall(r'<h2>(.*?)<span class="kind">', html)
    assert sections == ["quickstart", "eval before › qtrans", "eval after › qtrans", "train", "analysis after"]
    # two bar charts (one per metric) + the train's loss curve + the analysis figure
    assert len(doc.images) == 2 + 1 + 1


def test_default_output_and_cli(runs, capsys):
    assert run(str(runs["eval"])) == 0
    target = runs["eval"] / "report.html"
    assert target.is_file() and f"wrote {target}" in capsys.readouterr().out
    assert run(str(runs["eval"])) == 0  # a report already there is replaced, and is no run itself


def test_bad_input_is_an_input_error(tmp_path, runs):
    empty = tmp_path / "empty"
    (empty / "sub").mkdir(parents=True)
    (empty / "notes.txt").write_text("hello", encoding="utf-8")
    with pytest.raises(InputError, match=re.escape(f"no polyalign run found in {empty} (looked for results.json, "
                                                   "run.json, figures.json, quickstart.json, results.csv)")):
        run(str(empty))
    with pytest.raises(InputError, match="no such directory"):
        run(str(tmp_path / "missing"))
    with pytest.raises(InputError, match="is a directory"):
        run(str(runs["eval"]), "--out", str(tmp_path))


def test_exit_code_2_through_the_entry_point(tmp_path, capsys):
    from polyalign.cli import main as cli_main

    assert cli_main.main(["report", str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("polyalign: error: no polyalign run found in")


def test_broken_files_cost_their_part_only(runs, tmp_path, writers):
    (runs["eval"] / "results.json").write_text("{not json", encoding="utf-8")
    folder = tmp_path / "both"
    writers.train(folder)
    (folder / "results.json").write_text(json.dumps({"results": {"mgsm": ["not", "a", "mapping"]}}),
                                         encoding="utf-8")
    html = html_of(runs["eval"], tmp_path)
    assert "results.json is not readable JSON" in html
    html = html_of(folder, tmp_path)
    assert "mgsm is not a mapping of language to metrics" in html and "Loss curve" in html
