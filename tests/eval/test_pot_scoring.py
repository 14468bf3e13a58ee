"""Program-of-thought scoring: golden outputs → status, printed answer, acc; caching and batching."""

from __future__ import annotations

import pytest

from polyalign.data.builders.response_alignment import ResponseAlignmentBuilder, ResponseAlignmentOptions
from polyalign.data.templates import render_alpaca
from polyalign.eval import metrics, programs, prompts
from polyalign.eval.programs import STATUSES, ExecSettings, score_program

FAST = ExecSettings(timeout=1.0)
"""A short wall limit so the infinite loop costs one second, not five."""


def fenced(code: str, before: str = "", after: str = "") -> str:
    return f"{before}```python\n{code}\n```{after}"


@pytest.fixture(autouse=True)
def _fresh_cache():
    programs.clear_cache()
    yield
    programs.clear_cache()


# (output, gold, expected status, expected number, expected acc)
GOLDEN = [
    pytest.param(fenced("apples = 3 + 4\nprint(apples)"), 7, "ok", 7.0, 1.0, id="right"),
    pytest.param(fenced("print(3 * 4)"), 7, "ok", 12.0, 0.0, id="wrong"),
    pytest.param(fenced("x = [1, 2]\nprint(x[5])"), 7, "error", None, 0.0, id="crash"),
    pytest.param(fenced("print(1 +)"), 7, "error", None, 0.0, id="syntax"),
    pytest.param(fenced("while True:\n    pass"), 7, "timeout", None, 0.0, id="infinite-loop"),
    pytest.param(fenced("x = 7"), 7, "no_number", None, 0.0, id="prints-nothing"),
    pytest.param(fenced("print('seven')"), 7, "no_number", None, 0.0, id="prints-a-word"),
    pytest.param("The answer is 7 apples.", 7, "no_code", None, 0.0, id="no-code-block"),
    pytest.param("", 7, "no_code", None, 0.0, id="empty-output"),
    pytest.param(fenced("print(sum([18, 7, 9]))", before="Let me write a program.\n\n",
                        after="\n\nThe program prints 34."), 34, "ok", 34.0, 1.0, id="fence-inside-prose"),
    pytest.param("```py\nprint(2)\n```\nand the real one:\n```python\nprint(40 + 2)\n```", 42, "ok", 42.0, 1.0,
                 id="last-python-block-wins"),
    pytest.param("```\ntotal = 6 * 7\nprint(total)\n```", 42, "ok", 42.0, 1.0, id="untagged-fence"),
    pytest.param("```python\nprint(6 * 7)", 42, "ok", 42.0, 1.0, id="unclosed-fence-cut-by-the-limit"),
    pytest.param("def solution():\n    return 6 * 7", 42, "ok", 42.0, 1.0, id="bare-solution-gets-a-call"),
    pytest.param(fenced("print('step 1')\nprint(10 - 13)"), -3, "ok", -3.0, 1.0, id="negative-last-line"),
    pytest.param(fenced("print(42)\nprint('done')"), 42, "no_number", None, 0.0, id="answer-not-on-last-line"),
    pytest.param(fenced("print(open('/etc/passwd').read())"), 7, "blocked", None, 0.0, id="reads-host-file"),
    # Multilingual printed answers: the corrected rule reads markers, native digits and separators.
    pytest.param(fenced("print('答案是', 42)"), 42, "ok", 42.0, 1.0, id="chinese-marker"),
    pytest.param(fenced("print(f'Die Antwort ist {9 * 2} Äpfel')"), 18, "ok", 18.0, 1.0, id="german-sentence"),
    pytest.param(fenced("print('উত্তর হল ৪২')"), 42, "ok", 42.0, 1.0, id="bengali-digits"),
    pytest.param(fenced("print('คำตอบคือ ๑๒')"), 12, "ok", 12.0, 1.0, id="thai-digits"),
    pytest.param(fenced("print(f'{1234:,}')"), 1234, "ok", 1234.0, 1.0, id="thousands-comma"),
    pytest.param(fenced("print(f'{1.5:.3f}')"), 1.5, "ok", 1.5, 1.0, id="three-decimals-stay-decimals"),
    pytest.param(fenced("from fractions import Fraction\nprint(Fraction(3, 4))"), 0.75, "ok", 0.75, 1.0,
                 id="fraction"),
]


@pytest.mark.parametrize("output,gold,status,number,acc", GOLDEN)
def test_golden_program_outputs(output, gold, status, number, acc):
    run, values = score_program(output, gold, FAST)
    assert run.status == status, run
    assert run.number == number
    assert values["acc"] == acc
    assert {k: v for k, v in values.items() if k.startswith("pot_")} == {
        f"pot_{s}": float(s == status) for s in STATUSES}
    assert bool(run.detail) == (status != "ok")


def test_paper_rule_on_printed_values_keeps_its_quirks():
    # The papers' rule drops the sign of output and gold alike (QAlign reads the gold through
    # extract_last_num too): 3 for a gold of -3 counts there, not under acc. "Nothing" reads as 0.0.
    _, negative = score_program(fenced("print(-3)"), -3, FAST)
    assert (negative["acc"], negative["acc_paper"]) == (1.0, 1.0)
    _, unsigned = score_program(fenced("print(3)"), -3, FAST)
    assert (unsigned["acc"], unsigned["acc_paper"]) == (0.0, 1.0)
    _, crashed = score_program(fenced("raise SystemExit(3)"), 0, FAST)
    assert (crashed["acc"], crashed["acc_paper"], crashed["pot_error"]) == (0.0, 1.0, 1.0)


def _doc(index: int, gold: float, lang: str = "de") -> dict:
    return {"id": f"mgsm/{lang}/{index}", "index": index, "task": "mgsm", "lang": lang, "kind": "numeric",
            "text_lang": lang, "prompt_mode": "pot", "answer": gold, "target": str(gold)}


def _count_runs(monkeypatch) -> list[int]:
    calls: list[int] = []
    real = programs.run_programs

    def counting(codes, **kwargs):
        codes = list(codes)
        calls.append(len(codes))
        return real(codes, **kwargs)

    monkeypatch.setattr(programs, "run_programs", counting)
    return calls


def test_score_output_runs_each_program_once_and_reports_the_run(monkeypatch):
    calls = _count_runs(monkeypatch)
    doc = _doc(0, 7)
    output = fenced("print(3 + 4)")
    assert metrics.process_results(doc, [output])["acc"] == 1.0
    extracted, values = metrics.score_output(doc, output)  # the runner's second look at the same output
    assert calls == [1]
    assert extracted == {"status": "ok", "printed": "7", "number": 7.0, "detail": ""}
    assert values["pot_ok"] == 1.0 and "lang_match" in values


def test_prepare_runs_a_batch_in_one_parallel_call_and_skips_finished_ids(monkeypatch):
    calls = _count_runs(monkeypatch)
    docs = [_doc(i, i) for i in range(5)]
    outputs = [[fenced(f"print({i})")] for i in range(5)]
    outputs[3] = None  # the backend had no output for this one
    metrics.prepare(docs, outputs, skip={"mgsm/de/4"})
    assert calls == [3]  # 0, 1 and 2: not the missing output, not the finished example
    scored = [metrics.process_results(d, o)["acc"] for d, o in zip(docs[:3], outputs[:3])]
    assert scored == [1.0, 1.0, 1.0] and calls == [3]  # scoring read the cache


def test_prepare_ignores_other_prompt_modes(monkeypatch):
    calls = _count_runs(monkeypatch)
    doc = {**_doc(0, 7), "prompt_mode": "paper"}
    metrics.prepare([doc], [[fenced("print(7)")]])
    assert calls == []
    assert metrics.process_results(doc, ["The answer is 7."])["acc"] == 1.0 and calls == []


def test_pot_prompt_is_the_prompt_stage_two_trains():
    question = "Tom has 3 apples and buys 4 more. How many apples does he have?"
    builder = ResponseAlignmentBuilder("en", ResponseAlignmentOptions(style="code"))
    (_, sample), = builder.build({"question": question, "code": "print(7)"}, 0)
    trained = render_alpaca(sample.instruction, sample.input)
    record = {"question": question}
    assert prompts.render("pot", prompts.variant_instruction("pot", "numeric", record)) == trained
    assert trained.endswith("\n\nWrite a Python program that solves the problem and prints the final answer."
                            "\n\n### Response:")


def test_pot_generation_settings_keep_code_intact():
    gen = prompts.generation_kwargs("pot", {"until": ["### Instruction", "\n\n### "], "max_gen_toks": 600})
    assert gen["max_gen_toks"] > 600
    program = "```python\n### step 1: apples\napples = 3\n\n\n### step 2\nprint(apples + 4)\n```"
    # No stop string fires inside a program or its fences, comment headers and blank lines included.
    assert not any(stop in program for stop in gen["until"])
    assert not any(stop in "```\n\nx = 3\nprint(x)\n```\n\nIt prints 3." for stop in gen["until"])
    assert prompts.generation_kwargs("paper", {"max_gen_toks": 600}) == {"max_gen_toks": 600}
