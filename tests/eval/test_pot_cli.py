"""`polyalign eval --prompt pot` end to end: replay of program outputs, resume, the tiny model, lm-eval settings."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from support.cli import run_cli

from polyalign.cli.main import main
from polyalign.eval import programs, prompts
from polyalign.eval.config import EvalConfig
from polyalign.eval.lmeval import load_tasks
from polyalign.eval.runner import run_eval

GOLDS = [18, 3, 70000, 5, 0]
LANGS = ["en", "de", "zh"]
# One output per gold, each with a known fate; the first prints its answer in the question's language.
FIRST = {"en": "print('The answer is', 9 * 2)", "de": "print(f'Die Antwort ist {9 * 2}')", "zh": "print('答案是', 9 * 2)"}
OTHERS = [
    "```python\nprint(2 + 2)\n```",                 # ok, wrong (3)
    "```python\ntotal = 70000\nprint(total / 0)\n```",  # error (ZeroDivisionError)
    "I think the answer is 5.",                     # no_code: the right number in prose is not an answer here
    "```python\nanswer = 0\n```",                   # no_number (printed nothing); gold 0
]
EXPECTED = {"acc": 0.2, "acc_paper": 0.4, "pot_ok": 0.4, "pot_no_code": 0.2, "pot_no_number": 0.2, "pot_error": 0.2,
            "pot_timeout": 0.0, "pot_memory": 0.0, "pot_blocked": 0.0, "n": 5}
STATUSES = ["ok", "ok", "error", "no_code", "no_number"]


def _data(root: Path) -> Path:
    for lang in LANGS:
        path = root / f"mgsm/mgsm_{lang}.tsv"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("".join(f"Question {i} ({lang})?\t{g}\n" for i, g in enumerate(GOLDS)), encoding="utf-8")
    gsm = root / "gsm8k/test.jsonl"
    gsm.parent.mkdir(parents=True, exist_ok=True)
    gsm.write_text("".join(json.dumps({"question": f"Q{i}", "answer": f"... #### {g}"}) + "\n"
                           for i, g in enumerate(GOLDS)), encoding="utf-8")
    return root


def _predictions(path: Path) -> Path:
    lines = []
    for task, task_langs in (("mgsm", LANGS), ("gsm8k", ["en"])):
        for lang in task_langs:
            outputs = [f"Here is the program:\n```python\n{FIRST[lang]}\n```\n\nIt prints 18."] + OTHERS
            lines += [{"task": task, "lang": lang, "id": f"{task}/{lang}/{i}", "output": out}
                      for i, out in enumerate(outputs)]
    path.write_text("".join(json.dumps(x, ensure_ascii=False) + "\n" for x in lines), encoding="utf-8")
    return path


@pytest.mark.e2e
def test_replay_of_program_outputs_gives_exact_accuracy_and_status_counts(tmp_path):
    data, out = _data(tmp_path / "data"), tmp_path / "out"
    preds = _predictions(tmp_path / "preds.jsonl")
    proc = run_cli("eval", "--backend", "replay", "--predictions", str(preds), "--tasks", "mgsm,gsm8k",
                   "--langs", ",".join(LANGS), "--prompt", "pot", "--data-dir", str(data), "--out", str(out),
                   env={"HF_HUB_OFFLINE": "1"})
    assert proc.returncode == 0, proc.stderr
    doc = json.loads((out / "results.json").read_text())
    for task, task_langs in (("mgsm", LANGS), ("gsm8k", ["en"])):
        for lang in task_langs:
            values = {k: v for k, v in doc["results"][task][lang].items() if not k.startswith("lang_")}
            assert values == pytest.approx(EXPECTED), (task, lang)
    prov = doc["provenance"]
    assert prov["prompt"] == {"mgsm": "pot", "gsm8k": "pot"}
    assert prov["decoding"]["tasks"]["mgsm"] == {"max_new_tokens": prompts.MODE_GENERATION["pot"]["max_gen_toks"],
                                                 "until": prompts.MODE_GENERATION["pot"]["until"]}
    samples = [json.loads(x) for x in (out / "samples/mgsm_zh.jsonl").read_text().splitlines()]
    assert [s["extracted"]["status"] for s in samples] == STATUSES
    assert samples[0]["extracted"]["printed"] == "答案是 18" and samples[0]["extracted"]["number"] == 18
    assert samples[2]["extracted"]["detail"].startswith("ZeroDivisionError")
    assert samples[0]["prompt"].endswith("Question 0 (zh)?\n\nWrite a Python program that solves the problem "
                                         "and prints the final answer.\n\n### Response:")
    header = (out / "tables/mgsm.csv").read_text().splitlines()[0].split(",")
    assert {"acc", "pot_ok", "pot_no_code", "pot_no_number", "pot_error", "pot_timeout"} <= set(header)
    assert "pot_error %" in proc.stdout


def test_paper_prompt_on_the_same_outputs_has_no_status_columns(tmp_path):
    data = _data(tmp_path / "data")
    doc = run_eval(EvalConfig(tasks=["gsm8k"], out=str(tmp_path / "o"), backend="replay", data_dir=str(data),
                              predictions=str(_predictions(tmp_path / "p.jsonl"))))
    values = doc["results"]["gsm8k"]["en"]
    assert not any(k.startswith("pot_") for k in values)
    # Read as text, "It prints 18." and "the answer is 5" score: the variant decides what an output means.
    assert values["acc"] == pytest.approx(0.4)


def test_a_resumed_run_never_reexecutes_finished_programs(tmp_path, monkeypatch):
    data, preds = _data(tmp_path / "data"), _predictions(tmp_path / "preds.jsonl")
    executed: list[str] = []
    real = programs.run_programs

    def counting(codes, **kwargs):
        codes = list(codes)
        executed.extend(codes)
        return real(codes, **kwargs)

    monkeypatch.setattr(programs, "run_programs", counting)

    def config(out: str, limit: int | None) -> EvalConfig:
        return EvalConfig(tasks=["mgsm"], langs=["de"], out=str(tmp_path / out), backend="replay",
                          predictions=str(preds), data_dir=str(data), prompt="pot", limit=limit)

    straight = run_eval(config("straight", None))["results"]
    assert len(executed) == 4  # four outputs hold a program (example 3 has none)
    executed.clear()
    programs.clear_cache()  # a new process: nothing cached
    run_eval(config("resumed", 2))
    assert len(executed) == 2
    executed.clear()
    programs.clear_cache()
    resumed = run_eval(config("resumed", None))["results"]
    assert executed == ["total = 70000\nprint(total / 0)\n", "answer = 0\n"]  # examples 0 and 1 were finished
    assert resumed == straight


@pytest.mark.e2e
def test_pot_on_the_tiny_model_through_the_cli(tiny_model, tmp_path):
    data, out = _data(tmp_path / "data"), tmp_path / "out"
    proc = run_cli("eval", "--model", tiny_model, "--tasks", "mgsm", "--langs", "de", "--prompt", "pot",
                   "--limit", "2", "--max-new-tokens", "8", "--batch-size", "2", "--data-dir", str(data),
                   "--out", str(out), env={"HF_HUB_OFFLINE": "1"})
    assert proc.returncode == 0, proc.stderr
    values = json.loads((out / "results.json").read_text())["results"]["mgsm"]["de"]
    assert values["n"] == 2
    assert sum(values[f"pot_{s}"] for s in programs.STATUSES) == pytest.approx(1.0)
    samples = [json.loads(x) for x in (out / "samples/mgsm_de.jsonl").read_text().splitlines()]
    assert all(s["extracted"]["status"] in programs.STATUSES for s in samples)
    assert all(s["prompt"].endswith("prints the final answer.\n\n### Response:") for s in samples)


def test_lm_eval_tasks_take_the_variants_generation_settings(tmp_path):
    """The same settings reach `lm_eval --include_path ... --metadata '{"prompt": "pot"}'`."""
    data = str(_data(tmp_path / "data"))
    default = load_tasks(["pa_mgsm_de"], {"data_dir": data})["pa_mgsm_de"].config.generation_kwargs
    pot = load_tasks(["pa_mgsm_de"], {"data_dir": data, "prompt": "pot"})["pa_mgsm_de"].config.generation_kwargs
    assert (default["max_gen_toks"], default["until"]) == (600, ["### Instruction", "\n\n### "])
    assert (pot["max_gen_toks"], pot["until"]) == (768, prompts.MODE_GENERATION["pot"]["until"])
    assert pot["do_sample"] is False


@pytest.mark.parametrize("task,path,content", [
    ("xquad", "xquad/xquad.en.json", json.dumps({"data": [{"paragraphs": [{"context": "Paris is in France.", "qas": [
        {"id": "q", "question": "Where is Paris?", "answers": [{"text": "France", "answer_start": 12}]}]}]}]})),
    ("xcsqa", "xcsqa/en/dev.jsonl", json.dumps({"id": "a", "question": {"stem": "Where?", "choices": [
        {"label": label, "text": label.lower()} for label in "ABCDE"]}, "answerKey": "B"}) + "\n"),
])
def test_pot_on_a_task_without_numbers_exits_2_with_one_line(tmp_path, capsys, task, path, content):
    (tmp_path / path).parent.mkdir(parents=True)
    (tmp_path / path).write_text(content, encoding="utf-8")
    (tmp_path / "p.jsonl").write_text("")
    code = main(["eval", "--backend", "replay", "--predictions", str(tmp_path / "p.jsonl"), "--tasks", task,
                 "--langs", "en", "--prompt", "pot", "--data-dir", str(tmp_path), "--out", str(tmp_path / "o")])
    err = capsys.readouterr().err.strip()
    assert code == 2 and err == f"polyalign: error: task {task} has no --prompt pot (it is for gsm8k, mgsm, msvamp, svamp)"
