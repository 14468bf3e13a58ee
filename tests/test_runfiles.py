"""Run-folder formats: samples written and read back, tables, and the tolerant readers of the report."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from polyalign.errors import InputError
from polyalign.runfiles import (append_samples, csv_header, head_samples, load_bytes, load_csv, load_json, load_jsonl,
                                load_text, load_yaml, read_samples, samples_path, task_rows, to_csv, to_markdown,
                                write_tables)


def test_samples_round_trip_and_a_torn_last_line_is_cut(tmp_path: Path) -> None:
    path = samples_path(tmp_path, "mgsm", "de")
    assert path == tmp_path / "samples" / "mgsm_de.jsonl"
    append_samples(path, [{"id": "mgsm/de/0", "output": "18"}, {"id": "mgsm/de/1", "output": "Zwölf"}])
    with path.open("a", encoding="utf-8") as handle:
        handle.write('{"id": "mgsm/de/2", "out')  # the process died mid-write
    assert head_samples(path, 5) == [{"id": "mgsm/de/0", "output": "18"}, {"id": "mgsm/de/1", "output": "Zwölf"}]
    assert path.read_text(encoding="utf-8").endswith('"out'), "display must not repair the file"
    assert list(read_samples(path)) == ["mgsm/de/0", "mgsm/de/1"]
    assert path.read_text(encoding="utf-8").endswith("}\n"), "resuming cuts the torn line"
    assert head_samples(path, 1) == [{"id": "mgsm/de/0", "output": "18"}]


def test_a_bad_line_inside_a_samples_file_is_input_error(tmp_path: Path) -> None:
    path = tmp_path / "s.jsonl"
    path.write_text('{"id": "a"}\nnot json\n{"id": "b"}\n', encoding="utf-8")
    with pytest.raises(InputError, match="s.jsonl:2"):
        read_samples(path)
    assert read_samples(tmp_path / "missing.jsonl") == {}


def test_tables_average_with_and_without_english() -> None:
    per_lang = {"en": {"acc": 0.8, "acc_paper": 0.8, "n": 10}, "de": {"acc": 0.4, "acc_paper": 0.2, "n": 10},
                "zh": {"acc": 0.2, "acc_paper": 0.2, "n": 10, "skipped": 1}}
    columns, rows = task_rows(per_lang)
    assert columns == ["acc", "acc_paper", "n"]
    labels = dict(rows)
    assert labels["avg"]["acc"] == pytest.approx(1.4 / 3) and labels["avg (no en)"]["acc"] == pytest.approx(0.3)
    assert labels["avg"]["n"] == 30
    md = to_markdown("mgsm", per_lang)
    assert "| lang | acc % | acc_paper % | n |" in md and "| avg (no en) | 30.0 | 20.0 | 20 |" in md
    assert to_csv(per_lang).splitlines()[1] == "en,0.8,0.8,10"
    directions = {"en-zh": {"bleu": 20.0, "n": 3}, "zh-en": {"bleu": 30.0, "n": 3}, "en-de": {"bleu": 40.0, "n": 3}}
    flores_rows = dict(task_rows(directions)[1])
    assert flores_rows["avg en→X"]["bleu"] == pytest.approx(30.0) and flores_rows["avg X→en"]["bleu"] == 30.0
    assert "| en-zh | 20.0 | 3 |" in to_markdown("flores", directions)


def test_write_tables_writes_one_file_per_task_and_the_overview(tmp_path: Path) -> None:
    results = {"mgsm": {"en": {"acc": 0.5, "n": 2}}, "xquad": {"de": {"f1": 0.25, "n": 4}}}
    text = write_tables(results, tmp_path)
    assert sorted(p.name for p in (tmp_path / "tables").iterdir()) == ["mgsm.csv", "mgsm.md", "xquad.csv", "xquad.md"]
    assert (tmp_path / "tables.md").read_text(encoding="utf-8") == text
    assert "| en | 50.0 | 2 |" in text and "| de | 25.0 | 4 |" in text


def test_tolerant_readers_say_what_is_wrong_instead_of_raising(tmp_path: Path) -> None:
    (tmp_path / "ok.json").write_text(json.dumps({"a": 1}), encoding="utf-8")
    (tmp_path / "bad.json").write_text("{", encoding="utf-8")
    assert load_json(tmp_path / "ok.json") == ({"a": 1}, None)
    assert load_json(tmp_path / "none.json") == (None, "none.json not found")
    data, problem = load_json(tmp_path / "bad.json")
    assert data is None and problem.startswith("bad.json is not readable JSON")

    (tmp_path / "m.jsonl").write_text('{"step": 1}\n[1]\n\n{"step": 2}\n{"st', encoding="utf-8")
    assert load_jsonl(tmp_path / "m.jsonl") == [{"step": 1}, {"step": 2}]
    assert load_jsonl(tmp_path / "m.jsonl", limit=1) == [{"step": 1}]
    assert load_jsonl(tmp_path / "none.jsonl") == []

    (tmp_path / "c.yaml").write_text("stages: [{name: sft}]\n", encoding="utf-8")
    (tmp_path / "bad.yaml").write_text("a: [\n", encoding="utf-8")
    assert load_yaml(tmp_path / "c.yaml") == {"stages": [{"name": "sft"}]}
    assert load_yaml(tmp_path / "bad.yaml") is None and load_yaml(tmp_path / "none.yaml") is None

    (tmp_path / "r.csv").write_text("lang,value\nde,0.5\n", encoding="utf-8")
    assert load_csv(tmp_path / "r.csv") == ([{"lang": "de", "value": "0.5"}], None)
    assert csv_header(tmp_path / "r.csv") == ["lang", "value"]
    rows, problem = load_csv(tmp_path / "none.csv")
    assert rows == [] and problem.startswith("none.csv: not readable")
    assert csv_header(tmp_path / "none.csv") == []

    assert load_text(tmp_path / "c.yaml") == "stages: [{name: sft}]\n" and load_text(tmp_path / "x.md") is None
    assert load_bytes(tmp_path / "r.csv") == b"lang,value\nde,0.5\n" and load_bytes(tmp_path / "x.png") is None


def test_very_long_text_is_cut_with_a_note(tmp_path: Path) -> None:
    (tmp_path / "big.md").write_text("x" * 200_005, encoding="utf-8")
    text = load_text(tmp_path / "big.md")
    assert text.startswith("x" * 200_000) and text.endswith("(5 more characters in big.md)")
