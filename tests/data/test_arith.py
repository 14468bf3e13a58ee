"""The `arith` task (assets/arith, written by polyalign.data.arith) is correct, parallel and leak-free."""

from __future__ import annotations

import json
import re
from collections import Counter

import pytest

from polyalign.data import arith

LANGS = ("en", "de", "fr", "es", "ru", "zh", "ja", "sw", "th")
DIGITS = re.compile(r"\d+")
SCRIPT = {
    "ru": re.compile(r"[\u0400-\u04ff]"), "zh": re.compile(r"[\u4e00-\u9fff]"), "ja": re.compile(r"[\u3040-\u30ff]"),
    "th": re.compile(r"[\u0e00-\u0e7f]"),
}
NON_LATIN = re.compile(r"[\u0400-\u04ff\u0e00-\u0e7f\u3040-\u30ff\u4e00-\u9fff]")


def _shipped(split: str) -> list[dict]:
    return [json.loads(line) for line in (arith.ASSET_DIR / f"{split}.jsonl").read_text(encoding="utf-8").splitlines()]


@pytest.fixture(scope="module")
def splits() -> dict[str, list[dict]]:
    return {split: _shipped(split) for split in ("train", "dev", "test")}


def test_sizes_and_every_language(splits):
    assert len(splits["train"]) >= 400 and len(splits["test"]) >= 60 and len(splits["dev"]) >= 40
    for rows in splits.values():
        assert all(set(row["question"]) == set(LANGS) for row in rows)
        assert all(row["question"][lang].strip() for row in rows for lang in LANGS)
        for lang in LANGS:
            assert len({row["question"][lang] for row in rows}) == len(rows), lang  # no duplicates


def test_answers_are_the_arithmetic_of_the_numbers(splits):
    kinds = arith.lexicon()["kinds"]
    for row in splits["train"] + splits["dev"] + splits["test"]:
        expected = eval(kinds[row["kind"]]["answer"], {"__builtins__": {}}, dict(row["numbers"]))  # a + b * c only
        assert row["answer"] == expected > 0, row["id"]


def test_every_language_carries_exactly_the_english_numbers(splits):
    for row in splits["train"] + splits["dev"] + splits["test"]:
        english = Counter(DIGITS.findall(row["question"]["en"]))
        assert english == Counter(str(n) for n in row["numbers"].values()), row["id"]
        for lang in LANGS:
            assert Counter(DIGITS.findall(row["question"][lang])) == english, (row["id"], lang)


def test_scripts(splits):
    for row in splits["train"] + splits["dev"] + splits["test"]:
        for lang in LANGS:
            text = row["question"][lang]
            if lang in SCRIPT:
                assert SCRIPT[lang].search(text), (row["id"], lang)
            else:
                assert not NON_LATIN.search(text), (row["id"], lang)
        assert not SCRIPT["ja"].search(row["question"]["zh"]), row["id"]  # Chinese without kana


def test_held_out_phrasings_never_occur_in_training(splits):
    assert len(arith.lexicon()["phrasings"]) >= 20
    used = {split: {row["phrasing"] for row in rows} for split, rows in splits.items()}
    assert len(used["train"]) >= 18 and used["dev"] and used["test"]
    assert not used["train"] & used["test"] and not used["dev"] & used["test"] and not used["train"] & used["dev"]
    # and no held-out question, in any language, is a training question
    seen = {row["question"][lang] for row in splits["train"] for lang in LANGS}
    for split in ("dev", "test"):
        assert not seen & {row["question"][lang] for row in splits[split] for lang in LANGS}


def test_varied_people_objects_and_operations(splits):
    rows = splits["train"]
    assert len({row["object"] for row in rows}) == len(arith.lexicon()["objects"])
    assert len({row["question"]["en"].split()[0] for row in rows}) >= 10
    kinds = {row["kind"] for row in rows}
    assert {"add", "sub", "mul"} <= kinds and len(kinds) >= 6  # + − × and two-step mixes
    assert max(max(row["numbers"].values()) for row in rows) <= 30  # small numbers


def test_solutions_are_english_chains_of_thought_ending_in_the_answer(splits):
    for row in splits["train"]:
        assert row["solution"].endswith(f"The answer is {row['answer']}.")
        assert DIGITS.findall(row["solution"])[-1] == str(row["answer"])
        assert "=" in row["solution"] and not NON_LATIN.search(row["solution"])


def test_shipped_files_are_the_generators_output(tmp_path):
    arith.write_task(tmp_path)
    for path in sorted(tmp_path.iterdir()):
        assert path.read_bytes() == (arith.ASSET_DIR / path.name).read_bytes(), path.name


def test_eval_layout_lines_up_with_the_records(splits):
    for split in ("dev", "test"):
        for lang in LANGS:
            lines = (arith.ASSET_DIR / f"{split}.{lang}.tsv").read_text(encoding="utf-8").splitlines()
            assert [line.split("\t") for line in lines] == [[r["question"][lang], str(r["answer"])] for r in splits[split]]


def test_russian_numbers_agree_with_their_nouns():
    lex = arith.lexicon()
    text = "{a:obj} / {b:obj} / {c:obj}"
    got = arith.render(text, "ru", names=(0, 1), obj="apple", numbers={"a": 3, "b": 5, "c": 12}, lex=lex)
    assert got == "3 яблока / 5 яблок / 12 яблок"
    assert arith.render("{How:obj}", "es", names=(0, 1), obj="book", numbers={}, lex=lex) == "Cuántos libros"
    assert arith.render("{a:obj}", "th", names=(0, 1), obj="apple", numbers={"a": 8}, lex=lex) == "แอปเปิล 8 ลูก"
    assert arith.render("{a:day}", "ja", names=(0, 1), obj="apple", numbers={"a": 4}, lex=lex) == "4日間"
