"""The quickstart's three-arm table in the report: CIs, Δ and p as they are, answer language uncoloured."""

from __future__ import annotations

import json

from polyalign.report.build import build_report


def _arm(acc: float, english: float) -> dict:
    return {"n": 40, "acc": acc, "acc_ci_low": acc - 0.1, "acc_ci_high": acc + 0.1, "answers_in_english": english,
            "answers_in_question_lang": 1 - english}


def _quickstart(folder):
    arms = {"base": {"en": _arm(0.4, 1.0), "de": {**_arm(0.0, 0.0), "gap_to_en": -0.4, "gap_ci_low": -0.55,
                                                   "gap_ci_high": -0.25}},
            "monoreason": {"en": _arm(0.6, 1.0), "de": {**_arm(0.3, 0.5), "gap_to_en": -0.3, "gap_ci_low": -0.45,
                                                         "gap_ci_high": -0.15}},
            "qalign": {"en": _arm(0.6, 1.0), "de": {**_arm(0.2, 0.95), "gap_to_en": -0.4, "gap_ci_low": -0.55,
                                                     "gap_ci_high": -0.25}}}
    rows = [{"comparison": "qalign-vs-monoreason", "task": "arith", "lang": "de", "metric": "acc",
             "system": "qalign", "score": 0.2, "baseline_score": 0.3, "delta": -0.1, "ci_low": -0.25,
             "ci_high": 0.05, "p_value": 0.34, "test": "mcnemar-exact", "n": 40}]
    folder.mkdir(parents=True)
    (folder / "quickstart.json").write_text(json.dumps({
        "kind": "polyalign-quickstart/2", "model": "tiny", "langs": ["de"], "budget_minutes": 15,
        "metrics": {"chrf": {"label": "X→en question translation, chrF++", "higher_is_better": True}},
        "before": {"de": {"chrf": 10.0}}, "after": {"de": {"chrf": 20.0}}, "steps": {}, "dirs": {},
        "comparison": {"task": "arith", "metric": "acc", "rows": rows, "arms": arms}}), encoding="utf-8")
    return folder


def test_the_three_arm_table_comes_first_and_shows_a_loss_as_it_is(tmp_path):
    html = build_report(_quickstart(tmp_path / "qs"), tmp_path / "r.html").read_text(encoding="utf-8")
    assert html.index("Base vs MonoReason vs QAlign") < html.index("Stage-I panel")
    # QAlign below MonoReason in de: the negative Δ, its CI and p are shown, not hidden
    assert ">-10 [-25, +5]<" in html and ">0.34<" in html
    assert ">20 [10, 30]<" in html and ">-40 [-55, -25]<" in html
    assert "answers in English by design" in html
    table = html[html.index("Base vs MonoReason vs QAlign"):html.index("Stage-I panel")]
    assert "num good" not in table and "num bad" not in table  # no better/worse colouring in the arms table


def test_a_quickstart_without_a_comparison_keeps_the_before_after_table(tmp_path):
    folder = _quickstart(tmp_path / "qs")
    data = json.loads((folder / "quickstart.json").read_text(encoding="utf-8"))
    data.pop("comparison")
    (folder / "quickstart.json").write_text(json.dumps(data), encoding="utf-8")
    html = build_report(folder, tmp_path / "r.html").read_text(encoding="utf-8")
    assert "Base vs MonoReason vs QAlign" not in html and "Before and after alignment" in html
