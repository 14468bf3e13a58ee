"""Text inputs of `polyalign vocab`: language from the file name or LANG:PATH, TSV first column."""

from __future__ import annotations

import pytest

from polyalign.errors import InputError
from polyalign.vocab.texts import group_by_language, language_from_name, parse_text_spec, read_text_lines


@pytest.mark.parametrize("name, lang", [
    ("flores.zh.txt", "zh"), ("train.zh", "zh"), ("mgsm_de.tsv", "de"), ("train.de-en.de", "de"),
    ("dev.eng", "en"), ("wiki-zho.txt", "zh"), ("corpus.JA.txt", "ja"),
])
def test_language_from_file_name(name, lang):
    assert language_from_name(name) == lang


def test_unnamed_language_is_a_clear_error(tmp_path):
    path = tmp_path / "corpus.txt"
    path.write_text("hello\n", encoding="utf-8")
    with pytest.raises(InputError, match="LANG:PATH"):
        parse_text_spec(str(path))


def test_lang_prefix_and_tsv_first_column(tmp_path):
    path = tmp_path / "questions.tsv"
    path.write_text("第一题\t3\n\n第二题\t4\n", encoding="utf-8")
    item = parse_text_spec(f"zh:{path}")
    assert item.lang == "zh" and item.path == path
    assert read_text_lines(path) == ["第一题", "", "第二题"]  # blank lines kept: parallel files stay aligned


def test_group_by_language_keeps_order_and_checks_langs(tmp_path):
    (tmp_path / "a.en").write_text("one\ntwo\n", encoding="utf-8")
    (tmp_path / "b.en").write_text("three\n", encoding="utf-8")
    (tmp_path / "a.de").write_text("eins\n", encoding="utf-8")
    files = [parse_text_spec(str(tmp_path / n)) for n in ("a.en", "a.de", "b.en")]
    assert group_by_language(files) == {"en": ["one", "two", "three"], "de": ["eins"]}
    assert list(group_by_language(files, only=["de", "en"])) == ["de", "en"]
    assert group_by_language(files, max_lines=1)["en"] == ["one", "three"]
    with pytest.raises(InputError, match="--langs zh"):
        group_by_language(files, only=["zh"])


def test_missing_file(tmp_path):
    with pytest.raises(InputError, match="no such file"):
        parse_text_spec(f"zh:{tmp_path / 'nope.txt'}")
