import json

import pytest

from polyalign.data.readers import detect_format, get_field, read_rows
from polyalign.errors import InputError


def rows(**kw):
    return [(r.data, r.where, r.index) for r in read_rows(**kw)]


def test_jsonl_skips_blank_lines_and_keeps_source_positions(tmp_path):
    path = tmp_path / "a.jsonl"
    path.write_text('{"a": 1}\n\n{"a": "ü"}\n', encoding="utf-8")
    assert rows(path=str(path)) == [({"a": 1}, f"{path}:1", 0), ({"a": "ü"}, f"{path}:3", 1)]


def test_json_list_and_squad_in_document_order(tmp_path):
    squad = {"data": [{"title": "T", "paragraphs": [
        {"context": "C1", "qas": [{"id": "q1", "question": "Q1", "answers": [{"text": "A", "answer_start": 0}]},
                                  {"id": "q2", "question": "Q2", "answers": []}]},
        {"context": "C2", "qas": [{"id": "q3", "question": "Q3", "answers": [{"text": "B", "answer_start": 1}]}]}]}]}
    path = tmp_path / "xquad.de.json"
    path.write_text(json.dumps(squad), encoding="utf-8")
    got = list(read_rows(path=str(path)))
    assert [r.data["id"] for r in got] == ["q1", "q2", "q3"]
    assert [r.index for r in got] == [0, 1, 2]
    assert got[2].data == {"id": "q3", "title": "T", "context": "C2", "question": "Q3", "answers": ["B"],
                           "answer_starts": [1]}
    listed = tmp_path / "alpaca.json"
    listed.write_text('[{"instruction": "i", "output": "o"}]', encoding="utf-8")
    assert rows(path=str(listed))[0][0] == {"instruction": "i", "output": "o"}


def test_tsv_without_header_keeps_quotes(tmp_path):
    path = tmp_path / "mgsm_de.tsv"
    path.write_text('"Wie" viele?\t18\nZwei\t3\n', encoding="utf-8")
    got = rows(path=str(path), columns=["question", "answer"])
    assert [d for d, _, _ in got] == [{"question": '"Wie" viele?', "answer": "18"}, {"question": "Zwei", "answer": "3"}]


def test_csv_with_header_and_bad_column_count(tmp_path):
    path = tmp_path / "a.csv"
    path.write_text('q,a\n"x, y",1\nz\n', encoding="utf-8")
    reader = read_rows(path=str(path))
    assert next(reader).data == {"q": "x, y", "a": "1"}
    with pytest.raises(InputError, match=r"a.csv:3: expected 2 columns \(q, a\), found 1"):
        next(reader)


def test_parallel_text_rows_and_length_mismatch(tmp_path):
    (tmp_path / "t.de").write_text("eins\nzwei\n", encoding="utf-8")
    (tmp_path / "t.en").write_text("one\ntwo\nthree\n", encoding="utf-8")
    reader = read_rows(parallel={"de": str(tmp_path / "t.de"), "en": str(tmp_path / "t.en")})
    assert next(reader).data == {"de": "eins", "en": "one"}
    assert next(reader).data == {"de": "zwei", "en": "two"}
    with pytest.raises(InputError, match=r"t.de has 2 lines, .*t.en has more \(line 3 has no partner\)"):
        next(reader)


def test_text_one_document_per_line(tmp_path):
    path = tmp_path / "zh.txt"
    path.write_text("\ufeff第一\n\n第二\r\n", encoding="utf-8")
    assert [d["text"] for d, _, _ in rows(path=str(path))] == ["第一", "第二"]


def test_malformed_json_line_and_non_utf8(tmp_path):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"a": 1}\n{"a": \n', encoding="utf-8")
    with pytest.raises(InputError, match=r"bad.jsonl:2: malformed JSON"):
        rows(path=str(bad))
    raw = tmp_path / "raw.jsonl"
    raw.write_bytes(b'{"a": 1}\n{"a": "\xff"}\n')
    with pytest.raises(InputError, match=r"raw.jsonl:2: not valid UTF-8: byte 0xff at column 8"):
        rows(path=str(raw))
    scalar = tmp_path / "scalar.jsonl"
    scalar.write_text("[1]\n", encoding="utf-8")
    with pytest.raises(InputError, match="expected a JSON object per line, got list"):
        rows(path=str(scalar))


def test_format_detection_and_nested_fields(tmp_path):
    assert detect_format("hf:openai/gsm8k", None) == "hf"
    assert detect_format("x.ndjson", None) == "jsonl"
    with pytest.raises(InputError, match="cannot tell the format"):
        detect_format("x.parquet", None)
    assert get_field({"translation": {"de": "Hallo"}}, "translation.de") == "Hallo"
    with pytest.raises(KeyError):
        get_field({"translation": {}}, "translation.de")


def test_hf_dataset_from_a_local_save_to_disk_folder(tmp_path):
    import datasets

    datasets.Dataset.from_list([{"query": "q", "response": "r"}]).save_to_disk(str(tmp_path / "ds"))
    assert rows(path=str(tmp_path / "ds"))[0][0] == {"query": "q", "response": "r"}
