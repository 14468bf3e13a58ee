"""Golden test of `analyze language` on hand-written responses in 10 languages, code-switched ones included."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from polyalign.analysis.language.response import analyze_response
from polyalign.analysis.language.run import analyze_samples, expected_lang
from polyalign.errors import InputError

# (output, intended response language or None, code-switched?) — each written to be unambiguous.
SAMPLES: dict[str, list[str]] = {
    "mgsm_de": [
        "Janet hat 16 Eier. Sie isst 3 und backt mit 4 Muffins. Also bleiben 16 - 3 - 4 = 9 Eier übrig. "
        "Die Antwort ist 9.",
        "Janet has 16 eggs. She eats 3 and bakes 4 into muffins. So she has 16 - 3 - 4 = 9 eggs left. The answer is 9.",
        "Janet hat 16 Eier und verkauft die restlichen auf dem Markt. She sells the remaining eggs for two dollars "
        "each. Die Antwort ist 18.",  # de / en / de: code-switched
        "1111111111",  # no language
    ],
    "mgsm_fr": [
        "Jean a cinq pommes et il en mange deux. Il lui reste donc trois pommes. La réponse est 3.",
        "Jean a cinq pommes et il en mange deux. He has three apples left after that. The answer is 3.",  # fr + en
    ],
    "mgsm_es": [
        "María tiene diez caramelos y regala cuatro a su hermano. Le quedan seis caramelos. La respuesta es 6.",
        "Maria has ten candies and gives four of them to her brother. She has six candies left. The answer is 6.",
    ],
    "mgsm_ru": [
        "У Маши было пять яблок, и она съела два яблока. Значит, у неё осталось три яблока. Ответ: 3.",
        "Masha had five apples and ate two of them. So she has three apples left. The answer is 3.",
    ],
    "mgsm_zh": [
        "小明有五个苹果，他吃了两个。所以他还剩下三个苹果。答案是3。",
        "Xiaoming has five apples and eats two of them. So he has three apples left. 答案是3。",  # en + zh answer
        "Xiaoming has five apples and eats two of them. So he has three apples left. The answer is 3.",
    ],
    "mgsm_ja": [
        "太郎はりんごを五個持っています。二個食べたので、残りは三個です。答えは3です。",
        "合計三個。太郎はりんごを五個持っていて、二個食べました。答えは3です。",  # kanji-only sentence: still ja
    ],
    "mgsm_th": [
        "สมชายมีแอปเปิ้ลห้าลูก เขากินไปสองลูก ดังนั้นเขาเหลือแอปเปิ้ลสามลูก คำตอบคือ 3",
        "Somchai has five apples and eats two of them. So he has three apples left. คำตอบคือ 3",  # en + th
    ],
    "mgsm_sw": [
        "Juma ana machungwa matano na anakula mawili. Kwa hivyo amebaki na machungwa matatu. Jibu ni 3.",
        "Juma has five oranges and he eats two of them. So he has three oranges left. The answer is 3.",
    ],
    "mgsm_bn": [
        "রহিমের পাঁচটি আপেল আছে। সে দুটি আপেল খেয়েছে। তাই তার কাছে তিনটি আপেল আছে। উত্তর হল 3।",
        "",
    ],
    "flores_en-zh": [
        "敏捷的棕色狐狸跳过了懒狗。",
        "The quick brown fox jumps over the lazy dog.",
    ],
}


def write_samples(folder: Path) -> Path:
    samples = folder / "samples"
    samples.mkdir(parents=True)
    for name, outputs in SAMPLES.items():
        task, key = name.rsplit("_", 1)
        with (samples / f"{name}.jsonl").open("w", encoding="utf-8") as handle:
            for i, output in enumerate(outputs):
                record = {"id": f"{task}/{key}/{i}", "prompt": "…", "output": output, "target": "3"}
                handle.write(json.dumps(record, ensure_ascii=False) + "\n")
    return folder


@pytest.fixture(scope="module")
def golden(tmp_path_factory) -> dict:
    return analyze_samples([write_samples(tmp_path_factory.mktemp("run"))])


def test_golden_response_language_shares(golden) -> None:
    r = golden["results"]["mgsm"]
    de = r["de"]
    assert de["n"] == 4 and de["response_langs"] == {"de": 2, "en": 1, "none": 1}
    assert (de["in_prompt_lang"], de["no_language"], de["code_switched"]) == (0.5, 0.25, 0.25)
    assert de["code_switch_sets"] == {"de+en": 1} and de["code_switched_ids"] == ["mgsm/de/2"]
    for key in ("es", "ru", "sw"):  # one answer in the language, one in English, no mixing
        assert r[key]["response_langs"] == {key: 1, "en": 1}
        assert (r[key]["in_prompt_lang"], r[key]["code_switched"]) == (0.5, 0.0)
    assert r["fr"]["code_switched"] == 0.5 and r["fr"]["code_switch_sets"] == {"en+fr": 1}
    assert r["zh"]["response_langs"] == {"en": 2, "zh": 1} and r["zh"]["in_prompt_lang"] == pytest.approx(1 / 3)
    assert r["zh"]["code_switched"] == pytest.approx(1 / 3)
    assert r["ja"]["response_langs"] == {"ja": 2} and r["ja"]["code_switched"] == 0.0  # 合計三個。 is Japanese
    assert r["th"]["response_langs"] == {"en": 1, "th": 1} and r["th"]["code_switched"] == 0.5
    assert r["bn"]["response_langs"] == {"bn": 1, "none": 1} and r["bn"]["no_language"] == 0.5
    flores = golden["results"]["flores"]["en-zh"]  # a direction: the target language is expected
    assert flores["expected_lang"] == "zh" and flores["in_prompt_lang"] == 0.5 and flores["cot"]["n"] == 0


def test_golden_reasoning_vs_final_answer(golden) -> None:
    zh = golden["results"]["mgsm"]["zh"]["cot"]
    assert zh["n"] == 3
    assert zh["reasoning_langs"] == {"en": 2, "zh": 1} and zh["final_langs"] == {"zh": 2, "en": 1}
    assert zh["reasoning_in_prompt_lang"] == pytest.approx(1 / 3)
    assert zh["reasoning_in_pivot"] == pytest.approx(2 / 3)
    assert zh["final_in_prompt_lang"] == pytest.approx(2 / 3)
    assert zh["reasoning_equals_final"] == pytest.approx(2 / 3)
    de = golden["results"]["mgsm"]["de"]["cot"]
    assert de["n"] == 3 and de["reasoning_langs"] == {"de": 2, "en": 1} and de["reasoning_equals_final"] == 1.0
    th = golden["results"]["mgsm"]["th"]["cot"]
    assert th["final_langs"] == {"th": 2} and th["reasoning_langs"] == {"th": 1, "en": 1}


def test_threshold_controls_which_sentences_vote() -> None:
    text = "Jean a cinq pommes et il en mange deux. He has three apples left after that."
    assert analyze_response(text).code_switched
    assert not analyze_response(text, threshold=1.0).code_switched  # no sentence is that certain
    final_only = analyze_response("Five plus one is six. Jibu ni 6.")
    assert final_only.final_marker == "jibu ni" and final_only.final_lang == "sw"  # marker language fallback


@pytest.mark.e2e
def test_language_cli_writes_json_markdown_and_plot(tmp_path, cli) -> None:
    run = write_samples(tmp_path / "run")
    out = tmp_path / "out"
    done = cli("language", "--samples", str(run), "--out", str(out))
    assert done.returncode == 0, done.stderr
    assert "| de | 4 | 0.500 | 0.250 | 0.250 |" in done.stdout
    data = json.loads((out / "language.json").read_text(encoding="utf-8"))
    assert data["results"]["mgsm"]["de"]["in_prompt_lang"] == 0.5
    rows = (out / "language_samples.jsonl").read_text(encoding="utf-8").splitlines()
    assert len(rows) == sum(len(v) for v in SAMPLES.values())
    manifest = json.loads((out / "figures.json").read_text(encoding="utf-8"))
    assert [f["file"] for f in manifest["figures"]] == ["language_flores.png", "language_mgsm.png"]
    assert (out / "language_mgsm.png").read_bytes()[:4] == b"\x89PNG"


def test_bad_samples_are_input_errors(tmp_path) -> None:
    bad = tmp_path / "mgsm_de.jsonl"
    good = '{"id": "x", "output": "Hallo, wie geht es dir heute?"}\n'
    bad.write_text(good + '{"id": "y", "output": 5}\n', encoding="utf-8")
    with pytest.raises(InputError, match=r"mgsm_de.jsonl:2: expected an `output` string"):
        analyze_samples([bad])
    loglik = tmp_path / "mmlu_en.jsonl"  # log-likelihood tasks generate no text: skipped, not an error
    loglik.write_text('{"id": "a", "output": null}\n', encoding="utf-8")
    with pytest.raises(InputError, match="no generated outputs"):
        analyze_samples([loglik])
    bad.write_text(good, encoding="utf-8")
    data = analyze_samples([bad, loglik])
    assert data["skipped_without_output"] == {"mmlu_en.jsonl": 1} and data["results"]["mgsm"]["de"]["n"] == 1
    unnamed = tmp_path / "results.jsonl"
    unnamed.write_text('{"id": "x", "output": "hi"}\n', encoding="utf-8")
    with pytest.raises(InputError, match="<task>_<lang>"):
        analyze_samples([unnamed])
    assert expected_lang("de") == "de" and expected_lang("en-zh") == "zh" and expected_lang("zh-hans") == "zh"
