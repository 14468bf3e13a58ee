"""The report's pieces: Markdown conversion, HTML tables, run discovery, figures drawn in memory."""

from __future__ import annotations

import json

from polyalign.report.charts import before_after_png, loss_curve_png
from polyalign.report.discover import detect_kinds, find_runs
from polyalign.report.html import Cell, slug, table
from polyalign.report.markdown import markdown_to_html, split_row


def test_markdown_headings_paragraphs_lists_code_and_escaping():
    text = ("# Title <x>\nfirst line with `a<b>` and **bold**\nsecond line\n\n- item <1>\n- item 2\n"
            "  continued\n\n```\n<raw> & code\n```\n### Deep\n")
    html = markdown_to_html(text, heading_offset=3)
    assert "<h4>Title &lt;x&gt;</h4>" in html
    assert "<p>first line with <code>a&lt;b&gt;</code> and <strong>bold</strong> second line</p>" in html
    assert "<ul><li>item &lt;1&gt;</li><li>item 2 continued</li></ul>" in html
    assert "<pre>&lt;raw&gt; &amp; code</pre>" in html
    assert "<h6>Deep</h6>" in html  # capped at h6
    assert "[link](http://x)" in markdown_to_html("see [link](http://x)")  # links stay text


def test_markdown_tables_keep_alignment_and_detect_numbers():
    html = markdown_to_html("| lang | n | note |\n|---|---|---|\n| de | 12 | a \\| b |\n| zh | – | <i> |\n")
    assert '<th>lang</th><th class="num">n</th><th>note</th>' in html
    assert '<td>de</td><td class="num">12</td><td>a | b</td>' in html
    assert '<td class="num">–</td><td>&lt;i&gt;</td>' in html
    aligned = markdown_to_html("| a | b |\n|---:|:---|\n| x | 1 |\n")
    assert '<td class="num">x</td><td>1</td>' in aligned
    assert split_row("| a | b\\|c |") == ["a", "b|c"]


def test_table_cells_group_header_and_row_classes():
    html = table(["lang", "v"], [["de", Cell("<b>+1</b>", "num good", "better")], ["avg", "2.0"]],
                 group_header=[("", 1), ("scores & more", 1)], row_classes=["", "avg"])
    assert '<td class="num good" title="better"><b>+1</b></td>' in html
    assert '<tr class="avg"><td>avg</td><td class="num">2.0</td></tr>' in html
    assert "<th>scores &amp; more</th>" in html
    taken: set[str] = set()
    assert [slug("eval before › qtrans", taken), slug("eval-before qtrans", taken), slug("", taken)] == \
        ["eval-before-qtrans", "eval-before-qtrans-2", "section"]


def test_detect_kinds_by_files_not_names(tmp_path, writers):
    ev = writers.eval(tmp_path / "train")  # named like a training run, holds an evaluation
    assert detect_kinds(ev) == ("eval",)  # its run.json (the resume marker) has no stages
    tr = writers.train(tmp_path / "x")
    assert detect_kinds(tr) == ("train",)
    assert detect_kinds(writers.train(tmp_path / "y", finished=False)) == ("train",)
    assert detect_kinds(writers.scaling(tmp_path / "s")) == ("scaling",)
    other = tmp_path / "other"
    other.mkdir()
    (other / "results.csv").write_text("a,b\n1,2\n", encoding="utf-8")  # some other CSV
    (other / "quickstart.json").write_text(json.dumps({"kind": "something-else"}), encoding="utf-8")
    (other / "config.yaml").write_text("x: 1\n", encoding="utf-8")
    assert detect_kinds(other) == ()


def test_find_runs_walks_down_in_pipeline_order_skipping_bulk_folders(tmp_path, writers):
    root = tmp_path / "sweep"
    writers.scaling(root)
    writers.eval(root / "runs" / "de-n16" / "eval")
    writers.train(root / "runs" / "de-n16" / "train")
    writers.eval(root / "runs" / "de-n16" / "train" / "sft" / "model")  # inside a model folder: not looked at
    writers.eval(root / "a" / "b" / "c" / "d" / "e")  # deeper than max_depth
    runs, extra = find_runs(root)
    assert [(r.path.relative_to(root).as_posix(), r.kinds, r.depth) for r in runs] == [
        (".", ("scaling",), 0), ("runs/de-n16/train", ("train",), 3), ("runs/de-n16/eval", ("eval",), 3)]
    assert extra == 0
    runs, extra = find_runs(root, limit=1)
    assert len(runs) == 1 and extra == 2


def test_charts_are_pngs_and_none_without_data():
    records = [{"step": s, "loss": 3.0 - 0.1 * s} for s in range(1, 6)] + [{"step": 5, "eval_loss": 2.9}]
    png = loss_curve_png([("a", records), ("b", records)], "loss")
    assert png is not None and png[:8] == b"\x89PNG\r\n\x1a\n"
    assert loss_curve_png([("a", [{"step": 1, "loss": None}])], "loss") is None
    assert before_after_png(["de", "zh"], [1.0, None], [2.0, -1.0], title="t", ylabel="y")[:4] == b"\x89PNG"
    assert before_after_png(["de"], [None], [None], title="t", ylabel="y") is None


def test_loss_curve_offsets_later_stages(monkeypatch):
    """Stage 2's steps continue after stage 1's last step (one x axis for the whole run)."""
    from matplotlib.axes import Axes

    drawn: list[tuple] = []
    original = Axes.plot

    def spy(self, *args, **kwargs):
        drawn.append((tuple(args[0]) if args else (), kwargs.get("label")))
        return original(self, *args, **kwargs)

    monkeypatch.setattr(Axes, "plot", spy)
    first = [{"step": s, "loss": 1.0} for s in (1, 2, 3)]
    second = [{"step": s, "loss": 1.0} for s in (1, 2)]
    loss_curve_png([("one", first), ("two", second)], "t")
    assert drawn[0] == ((1, 2, 3), "one: train loss") and drawn[1] == ((4, 5), "two: train loss")
