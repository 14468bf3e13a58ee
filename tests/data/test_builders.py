"""Golden tests: every builder's output, byte for byte, through the Alpaca template."""

import pytest

from polyalign.data.builders import BUILDERS, Instruction, Text
from polyalign.data.builders.question_alignment import QuestionAlignmentOptions
from polyalign.data.builders.response_alignment import ResponseAlignmentOptions
from polyalign.data.builders.translation import TRANSLATION_INSTRUCTIONS, TranslationOptions
from polyalign.data.templates import ALPACA_PROMPT_INPUT, ALPACA_PROMPT_NO_INPUT, render_alpaca
from polyalign.errors import InputError


def build(name, lang, options, record, index=0, mode="english"):
    cls = BUILDERS.get(name)
    return list(cls(lang, options if options is not None else cls.Options(), mode).build(record, index))


def test_alpaca_templates_are_stanford_alpacas_strings():
    assert render_alpaca("Do X.") == (
        "Below is an instruction that describes a task. Write a response that appropriately completes the request."
        "\n\n### Instruction:\nDo X.\n\n### Response:")
    assert render_alpaca("Do X.", "with Y") == (
        "Below is an instruction that describes a task, paired with an input that provides further context. "
        "Write a response that appropriately completes the request.\n\n### Instruction:\nDo X.\n\n### Input:\n"
        "with Y\n\n### Response:")
    assert ALPACA_PROMPT_NO_INPUT.endswith("### Response:") and ALPACA_PROMPT_INPUT.count("{") == 2


def test_question_alignment_matches_the_qalign_format():
    [(suffix, sample)] = build("question_alignment", "sw", QuestionAlignmentOptions(),
                               {"sw": "  Natalia aliuza klipu?\n", "en": "How many clips did Natalia sell? "},
                               mode="paper")
    assert suffix == ""
    assert sample == Instruction("Translate the following sentences from Swahili (macrolanguage) to English. "
                                 "Natalia aliuza klipu?", "", "How many clips did Natalia sell?")
    assert render_alpaca(sample.instruction, sample.input) == (
        "Below is an instruction that describes a task. Write a response that appropriately completes the request."
        "\n\n### Instruction:\nTranslate the following sentences from Swahili (macrolanguage) to English. "
        "Natalia aliuza klipu?\n\n### Response:")
    [(_, plain)] = build("question_alignment", "sw", None, {"sw": "a", "en": "b"})
    assert plain.instruction == "Translate the following sentences from Swahili to English. a"
    assert build("question_alignment", "de", None, {"de": " ", "en": "x"}) == []


def test_translation_pool_is_deterministic_by_index_and_paper_mode_uses_the_first():
    assert len(TRANSLATION_INSTRUCTIONS) >= 20 and len(set(TRANSLATION_INSTRUCTIONS)) == len(TRANSLATION_INSTRUCTIONS)
    record = {"en": "Hello.", "zh": "你好。"}
    [(suffix, first)] = build("translation", "zh", TranslationOptions(), record, index=0)
    assert suffix == "en-zh"
    assert first == Instruction("Translate the following sentences from English to Chinese.", "Hello.", "你好。")
    [(_, second)] = build("translation", "zh", TranslationOptions(), record, index=1)
    assert second.instruction == "Please provide the Chinese translation for the following sentences."
    [(_, wrapped)] = build("translation", "zh", TranslationOptions(), record, index=len(TRANSLATION_INSTRUCTIONS) + 1)
    assert wrapped == second
    [(_, paper)] = build("translation", "el", TranslationOptions(instructions="first"), {"en": "Hi", "el": "Γεια"},
                         index=5, mode="paper")
    assert paper.instruction == "Translate the following sentences from English to Modern Greek (1453-)."
    both = build("translation", "zh", TranslationOptions(direction="both"), record, index=0)
    assert [(s, i.input, i.output) for s, i in both] == [("en-zh", "Hello.", "你好。"), ("zh-en", "你好。", "Hello.")]
    assert both[1][1].instruction == "Translate the following sentences from Chinese to English."


def test_instructions_keep_input_and_skip_empty():
    [(_, sample)] = build("instructions", "de", None, {"instruction": " Übersetze ", "input": "cat", "output": "Katze"})
    assert sample == Instruction("Übersetze", "cat", "Katze")
    [(_, no_input)] = build("instructions", "de", None, {"instruction": "a", "output": "b"})
    assert no_input.input == ""
    assert build("instructions", "de", None, {"instruction": "a", "input": "x", "output": ""}) == []


def test_response_alignment_metamath_and_gsm8k():
    [(_, mm)] = build("response_alignment", "en", ResponseAlignmentOptions(style="metamath"),
                      {"query": "What is 2+2?", "response": "2+2=4.\nThe answer is: 4"})
    assert mm == Instruction("What is 2+2?", "", "2+2=4.\nThe answer is: 4")
    gsm = {"question": "Natalia sold 48 clips...", "answer": "Natalia sold 48/2 = <<48/2=24>>24 clips in May.\n"
                                                             "She sold 48+24 = <<48+24=72>>72 clips.\n#### 72"}
    [(_, g)] = build("response_alignment", "en", ResponseAlignmentOptions(style="gsm8k"), gsm)
    assert g.output == "Natalia sold 48/2 = 24 clips in May.\nShe sold 48+24 = 72 clips.\nThe answer is: 72"
    [(_, raw)] = build("response_alignment", "en",
                       ResponseAlignmentOptions(style="gsm8k", calculator_annotations="keep", final_answer="keep"), gsm)
    assert raw.output == gsm["answer"]


def test_response_alignment_code_and_choice():
    [(_, code)] = build("response_alignment", "en", ResponseAlignmentOptions(style="code"),
                        {"question": "What is 6*7?", "code": "print(6 * 7)\n"})
    assert code == Instruction("What is 6*7?\n\nWrite a Python program that solves the problem and prints the final "
                               "answer.", "", "```python\nprint(6 * 7)\n```")
    hf_style = {"question": "Where do fish live?", "choices": {"label": ["A", "B", "C"], "text": ["sea", "sky", "car"]},
                "answer": "a"}
    [(_, choice)] = build("response_alignment", "en", ResponseAlignmentOptions(style="choice"), hf_style)
    assert choice == Instruction("Where do fish live?\nAnswer Choices: (A) sea (B) sky (C) car", "",
                                 "The answer is (A).")
    [(_, reasoned)] = build("response_alignment", "en", ResponseAlignmentOptions(style="choice"),
                            {"question": "Q", "choices": ["x", "y"], "answer": 1, "rationale": "Because."})
    assert reasoned.output == "Because.\nThe answer is (B)."
    with pytest.raises(InputError, match="'answer' must be one of A, B"):
        build("response_alignment", "en", ResponseAlignmentOptions(style="choice"),
              {"question": "Q", "choices": ["x", "y"], "answer": "E"})


def test_pretraining_text():
    assert build("pretraining", "zh", None, {"text": " 你好 "}) == [("", Text("你好"))]
    assert build("pretraining", "zh", None, {"text": "  "}) == []


def test_translation_instructions_file_is_applied_by_line_index_as_x_llama_does(tmp_path):
    pool = tmp_path / "pool.txt"
    pool.write_text("Translate from {source_lang} to {target_lang}.\n\nGive the {tgt} version.\n", encoding="utf-8")
    options = TranslationOptions(instructions_file=str(pool))
    record = {"en": "Hello.", "zh": "你好。"}
    got = [build("translation", "zh", options, record, index=i)[0][1].instruction for i in range(3)]
    assert got == ["Translate from English to Chinese.", "Give the Chinese version.", "Translate from English to Chinese."]
    bad = tmp_path / "bad.txt"
    bad.write_text("Translate to {language}.\n", encoding="utf-8")
    with pytest.raises(InputError, match="bad.txt:1"):
        build("translation", "zh", TranslationOptions(instructions_file=str(bad)), record, index=0)
