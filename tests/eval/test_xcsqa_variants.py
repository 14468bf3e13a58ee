"""xCSQA prompt variants: direct and rationale prompts as stage II trains them; final-letter reading."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from polyalign.data.builders.response_alignment import ResponseAlignmentBuilder, ResponseAlignmentOptions
from polyalign.data.templates import render_alpaca
from polyalign.errors import InputError
from polyalign.eval import metrics, prompts
from polyalign.eval.config import EvalConfig
from polyalign.eval.documents import build_docs
from polyalign.eval.lmeval import load_tasks
from polyalign.eval.runner import run_eval
from polyalign.eval.scorers import extract_choice, extract_final_choice

CHOICES = ["tree", "water", "sky", "desk", "car"]


def _data(root: Path, langs: tuple[str, ...] = ("en", "de"), golds: str = "BDA") -> Path:
    stems = {"en": "Where do fish live?", "de": "Wo leben Fische?"}
    for lang in langs:
        path = root / f"xcsqa/{lang}/dev.jsonl"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("".join(json.dumps({"id": f"x{i}", "question": {"stem": f"{stems[lang]} ({i})", "choices": [
            {"label": label, "text": text} for label, text in zip("ABCDE", CHOICES)]}, "answerKey": gold},
            ensure_ascii=False) + "\n" for i, gold in enumerate(golds)), encoding="utf-8")
    return root


@pytest.mark.parametrize("mode", ["direct", "rationale"])
def test_prompt_is_the_prompt_stage_two_trains(tmp_path, mode):
    doc = build_docs("xcsqa", "de", data_dir=_data(tmp_path), prompt=mode)[0]
    for rationale in (False, True):  # one instruction whether or not the training output has a rationale
        builder = ResponseAlignmentBuilder("en", ResponseAlignmentOptions(style="choice", rationale=rationale))
        record = {"question": "Wo leben Fische? (0)", "choices": CHOICES, "answer": "B", "rationale": "Fish swim."}
        (_, sample), = builder.build(record, 0)
        assert doc["prompt"] == render_alpaca(sample.instruction, sample.input)
    assert "\nAnswer Choices: (A) tree (B) water (C) sky (D) desk (E) car\n\n### Response:" in doc["prompt"]


# (output, letter read after a rationale)
FINAL = [
    pytest.param("Fish need water to breathe, (A) and (C) are not places they live.\nThe answer is (B).", "B",
                 id="options-named-in-the-reasoning"),
    pytest.param("The answer is (A)? No: trees are dry.\nThe answer is (B).", "B", id="last-statement-wins"),
    pytest.param("(A) is wrong because fish cannot climb; so the best choice is B", "B", id="no-marker-last-line"),
    pytest.param("(A) is wrong because fish cannot climb.\nSo it must be (D).", "D", id="bracketed-on-last-line"),
    pytest.param("鱼生活在水里，不是（Ａ）树上。\n答案是（Ｂ）。", "B", id="chinese-full-width"),
    pytest.param("Fische leben im Wasser, nicht auf (A).\nDie Antwort ist (B).", "B", id="german-marker"),
    pytest.param("Option (A) tree is wrong.\nFish live in lakes.", None, id="no-final-answer"),
    pytest.param("", None, id="empty"),
    pytest.param("The answer is (B).", "B", id="no-rationale"),
]


@pytest.mark.parametrize("output,letter", FINAL)
def test_final_letter_after_a_rationale(output, letter):
    assert extract_final_choice(output) == letter


def test_the_rationale_reading_differs_from_the_direct_one_where_it_must():
    output = "(A) is wrong because fish cannot climb.\nSo it must be B"
    assert extract_choice(output) == "A"  # a direct answer's rules take the one bracketed letter
    assert extract_final_choice(output) == "B"


def test_metrics_read_the_letter_by_variant():
    doc = {"kind": "choice", "text_lang": "en", "labels": list("ABCDE"), "gold": "B"}
    output = "(A) is wrong because fish cannot climb.\nSo it must be B"
    assert metrics.score_output({**doc, "prompt_mode": "rationale"}, output)[0] == "B"
    assert metrics.score_output({**doc, "prompt_mode": "direct"}, output)[0] == "A"
    assert metrics.process_results({**doc, "prompt_mode": "rationale"}, [output])["acc"] == 1.0


def test_generation_budgets_follow_the_variant(tmp_path):
    data = str(_data(tmp_path))
    budgets = {mode: load_tasks(["pa_xcsqa_gen_en"], {"data_dir": data, **({"prompt": mode} if mode else {})})
               ["pa_xcsqa_gen_en"].config.generation_kwargs["max_gen_toks"] for mode in (None, "direct", "rationale")}
    assert budgets == {None: 64, "direct": 64, "rationale": 512}


def test_rationale_needs_generated_text(tmp_path):
    with pytest.raises(InputError, match="--prompt rationale needs generated text; use --mc-mode generate"):
        load_tasks(["pa_xcsqa_en"], {"data_dir": str(_data(tmp_path)), "prompt": "rationale"})
    # direct + option log-likelihood is a valid combination (the trained prompt, letters scored)
    task = load_tasks(["pa_xcsqa_en"], {"data_dir": str(_data(tmp_path)), "prompt": "direct"})["pa_xcsqa_en"]
    assert task.OUTPUT_TYPE == "multiple_choice"


@pytest.mark.parametrize("task", ["mgsm", "xquad"])
def test_choice_variants_are_for_xcsqa_only(task):
    with pytest.raises(InputError, match=f"task {task} has no --prompt rationale"):
        prompts.check_mode(task, "rationale")


def test_replay_with_the_rationale_variant_gives_exact_accuracy(tmp_path):
    data = _data(tmp_path / "data")  # golds B, D, A
    outputs = {
        0: "Fish breathe in water, (A) is a tree.\nThe answer is (B).",  # right, a wrong letter mentioned first
        1: "(D) is furniture, (E) a vehicle.\nThe answer is (C).",       # wrong: the final letter counts
        2: "Fish live in lakes (B) or in the sea (C).",                  # no final answer: wrong, never guessed
    }
    preds = tmp_path / "p.jsonl"
    preds.write_text("".join(json.dumps({"task": "xcsqa", "lang": lang, "id": f"xcsqa/{lang}/{i}", "output": out})
                             + "\n" for lang in ("en", "de") for i, out in outputs.items()), encoding="utf-8")
    doc = run_eval(EvalConfig(tasks=["xcsqa"], langs=["en", "de"], out=str(tmp_path / "o"), backend="replay",
                              predictions=str(preds), data_dir=str(data), prompt="rationale"))
    assert doc["results"]["xcsqa"]["de"]["acc"] == pytest.approx(1 / 3)
    assert doc["results"]["xcsqa"]["en"]["n"] == 3
    assert doc["provenance"]["decoding"]["tasks"]["xcsqa"]["max_new_tokens"] == 512
    samples = [json.loads(x) for x in (tmp_path / "o/samples/xcsqa_de.jsonl").read_text().splitlines()]
    assert [s["extracted"] for s in samples] == ["B", "C", None]
