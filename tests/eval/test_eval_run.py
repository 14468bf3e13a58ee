"""`polyalign eval` end to end: tiny-model CLI run, replay scoring, resume after an interruption, bad input."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest
from support.cli import run_cli

from polyalign import langs
from polyalign.cli.main import main
from polyalign.errors import InputError
from polyalign.eval import runner
from polyalign.infer.backends.hf import HFBackend
from polyalign.eval.config import EvalConfig
from polyalign.eval.runner import run_eval

GOLDS = [18, 3, 70000]
# "The answer is N" in each mGSM language; Bengali, Telugu and Thai with native digits.
SENTENCES = {"en": "The answer is {}.", "de": "Die Antwort ist {}.", "fr": "La réponse est {}.",
             "es": "La respuesta es {}.", "ru": "Ответ: {}.", "zh": "答案是{}。", "ja": "答えは{}です。",
             "th": "คำตอบคือ {}", "bn": "উত্তর হল {}।", "sw": "Jibu ni {}.", "te": "సమాధానం {}."}


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def _numeric_data(root: Path, golds: list[float] = GOLDS) -> None:
    """All four numeric benchmarks in their upstream formats, every language, one question per gold."""
    for lang in langs.MGSM_LANGS:
        _write(root / f"mgsm/mgsm_{lang}.tsv", "".join(f"Frage {i} ({lang})?\t{g}\n" for i, g in enumerate(golds)))
        if lang != "te":
            _write(root / f"msvamp/test_{langs.get(lang).name}.json",
                   "".join(json.dumps({"m_query": f"Q{i}", "response": str(g)}) + "\n" for i, g in enumerate(golds)))
    _write(root / "gsm8k/test.jsonl",
           "".join(json.dumps({"question": f"Q{i}", "answer": f"... #### {g}"}) + "\n" for i, g in enumerate(golds)))
    _write(root / "svamp/SVAMP.json", json.dumps([{"Body": "B.", "Question": f"Q{i}?", "Answer": g}
                                                 for i, g in enumerate(golds)]))


def _sentence(lang: str, value: float) -> str:
    text = str(int(value)) if float(value).is_integer() else str(value)
    digits = langs.get(lang).digits
    if digits:
        text = "".join(digits[int(ch)] if ch.isdigit() else ch for ch in text)
    return SENTENCES[lang].format(text)


def _predictions(path: Path, output) -> Path:
    lines = []
    for task, task_langs in (("mgsm", langs.MGSM_LANGS), ("msvamp", [c for c in langs.MGSM_LANGS if c != "te"]),
                             ("gsm8k", ["en"]), ("svamp", ["en"])):
        for lang in task_langs:
            for i, gold in enumerate(GOLDS):
                lines.append({"task": task, "lang": lang, "id": f"{task}/{lang}/{i}", "output": output(lang, gold)})
    path.write_text("".join(json.dumps(line, ensure_ascii=False) + "\n" for line in lines), encoding="utf-8")
    return path


def test_replay_scores_gold_sentences_100_and_empty_outputs_0(tmp_path):
    _numeric_data(tmp_path / "data")
    for name, output, expected in (("gold", _sentence, 1.0), ("empty", lambda lang, gold: "", 0.0)):
        preds = _predictions(tmp_path / f"{name}.jsonl", output)
        cfg = EvalConfig(tasks=["mgsm", "msvamp", "gsm8k", "svamp"], out=str(tmp_path / name), backend="replay",
                         predictions=str(preds), data_dir=str(tmp_path / "data"))
        results = run_eval(cfg)["results"]
        assert sum(len(v) for v in results.values()) == 11 + 10 + 1 + 1
        for task, per_lang in results.items():
            for lang, values in per_lang.items():
                assert (values["acc"], values["acc_paper"], values["n"]) == (expected, expected, 3), (task, lang)
                if name == "empty":
                    assert values["lang_none"] == 1.0
        sample = json.loads((tmp_path / name / "samples/mgsm_bn.jsonl").read_text().splitlines()[2])
        assert sample["id"] == "mgsm/bn/2" and sample["target"] == 70000
        assert sample["extracted"] == (70000 if name == "gold" else None)


def test_replay_reports_missing_predictions_as_skipped(tmp_path):
    _numeric_data(tmp_path / "data")
    preds = tmp_path / "p.jsonl"
    preds.write_text(json.dumps({"task": "gsm8k", "lang": "en", "id": "gsm8k/en/1", "output": "3"}) + "\n")
    doc = run_eval(EvalConfig(tasks=["gsm8k"], out=str(tmp_path / "o"), backend="replay", predictions=str(preds),
                              data_dir=str(tmp_path / "data")))
    assert doc["results"]["gsm8k"]["en"] == {"acc": 1.0, "acc_paper": 1.0, "lang_match": 0.0, "lang_none": 1.0,
                                             "n": 1, "skipped": 2}
    assert "gsm8k en: 2 examples skipped (no output), not scored" in doc["provenance"]["notes"]


def test_a_run_from_before_a_setting_existed_resumes_but_a_changed_setting_is_refused(tmp_path):
    _numeric_data(tmp_path / "data")
    preds = tmp_path / "p.jsonl"
    preds.write_text(json.dumps({"task": "gsm8k", "lang": "en", "id": "gsm8k/en/1", "output": "3"}) + "\n")
    cfg = dict(tasks=["gsm8k"], out=str(tmp_path / "o"), backend="replay", predictions=str(preds),
               data_dir=str(tmp_path / "data"))
    run_eval(EvalConfig(**cfg))
    marker = tmp_path / "o/run.json"
    old = json.loads(marker.read_text(encoding="utf-8"))
    old.pop("alpha"), old.pop("expert")  # settings an older polyalign did not record
    marker.write_text(json.dumps(old), encoding="utf-8")
    assert run_eval(EvalConfig(**cfg))["results"]["gsm8k"]["en"]["n"] == 1
    with pytest.raises(InputError, match="holds samples of a run with seed=0, not 5"):
        run_eval(EvalConfig(**cfg, seed=5))


@pytest.mark.parametrize("line,message", [
    ({"task": "gsm8k", "lang": "en", "id": "gsm8k/en/7", "output": "1"}, "unknown id 'gsm8k/en/7'"),
    ({"task": "gsm8k", "lang": "en", "id": "gsm8k/en/0"}, "missing field 'output'"),
    ({"task": "gsm8k", "lang": "de", "id": "gsm8k/de/0", "output": "1"}, "task gsm8k has no language 'de'"),
    ({"task": "nope", "lang": "en", "id": "nope/en/0", "output": "1"}, "unknown task 'nope'"),
    ({"task": "gsm8k", "lang": "en", "id": "mgsm/en/0", "output": "1"}, "is not gsm8k/en/<index>"),
    ({"task": "gsm8k", "lang": "en", "id": "gsm8k/en/0", "output": 1}, "'output' must be a string"),
])
def test_bad_predictions_exit_2_with_one_line(tmp_path, capsys, line, message):
    _numeric_data(tmp_path / "data")
    preds = tmp_path / "p.jsonl"
    preds.write_text(json.dumps(line) + "\n")
    code = main(["eval", "--backend", "replay", "--predictions", str(preds), "--tasks", "gsm8k",
                 "--data-dir", str(tmp_path / "data"), "--out", str(tmp_path / "o")])
    err = capsys.readouterr().err.strip()
    assert code == 2 and len(err.splitlines()) == 1
    assert message in err and f"{preds}:1" in err


@pytest.mark.parametrize("args,message", [
    (["--tasks", "mgms"], "unknown task 'mgms' (did you mean 'mgsm'?)"),
    (["--tasks", "mgsm", "--langs", "de,qq"], "unknown language code 'qq'"),
    (["--tasks", "xquad", "--langs", "te"], "language 'te' is in none of the selected tasks"),
    (["--tasks", "mgsm", "--prompt", "fewshot"], "mgsm defines no few-shot exemplars"),
    (["--tasks", "mgsm", "--langs", "de", "--limit", "0"], "--limit must be at least 1"),
    (["--tasks", "mlqa", "--langs", "de,zh"], "2 data problems"),
])
def test_bad_usage_exits_2_with_one_line(tmp_path, capsys, args, message):
    code = main(["eval", "--backend", "replay", "--predictions", str(tmp_path / "none.jsonl"),
                 "--data-dir", str(tmp_path), "--out", str(tmp_path / "o"), *args])
    err = capsys.readouterr().err.strip()
    assert code == 2 and len(err.splitlines()) == 1 and message in err, err


def test_malformed_data_file_exits_2(tmp_path, capsys):
    _write(tmp_path / "mgsm/mgsm_de.tsv", "Frage?\t4\nNoch eine?\tvier\n")
    code = main(["eval", "--model", "unused", "--tasks", "mgsm", "--langs", "de", "--data-dir", str(tmp_path),
                 "--out", str(tmp_path / "o")])
    err = capsys.readouterr().err.strip()
    assert code == 2 and len(err.splitlines()) == 1
    assert f"{tmp_path}/mgsm/mgsm_de.tsv:2: expected a number as the answer, got 'vier'" in err


def _choice_data(root: Path, lang_codes: list[str]) -> None:
    for lang in lang_codes:
        _write(root / f"xcsqa/{lang}/dev.jsonl", "".join(json.dumps(
            {"id": f"x{i}", "question": {"stem": f"Question {i}?", "choices": [
                {"label": label, "text": f"option {label}"} for label in "ABCDE"]}, "answerKey": "ABCDE"[i]}) + "\n"
            for i in range(3)))


@pytest.mark.e2e
def test_cli_end_to_end_on_the_tiny_model(tiny_model, tmp_path):
    _numeric_data(tmp_path / "data")
    _choice_data(tmp_path / "data", ["de", "en"])
    out = tmp_path / "out"
    proc = run_cli("eval", "--model", tiny_model, "--tasks", "mgsm,xcsqa", "--langs", "de,en", "--mc-mode", "loglik",
                   "--limit", "2", "--data-dir", str(tmp_path / "data"), "--out", str(out), "--max-new-tokens", "6",
                   "--batch-size", "2", env={"HF_HUB_OFFLINE": "1"})
    assert proc.returncode == 0, proc.stderr
    doc = json.loads((out / "results.json").read_text())
    assert set(doc["results"]) == {"mgsm", "xcsqa"} and set(doc["results"]["mgsm"]) == {"de", "en"}
    assert set(doc["results"]["mgsm"]["de"]) == {"acc", "acc_paper", "lang_match", "lang_none", "n"}
    assert doc["results"]["xcsqa"]["en"]["n"] == 2 and set(doc["results"]["xcsqa"]["en"]) == {"acc", "n"}
    prov = doc["provenance"]
    assert prov["backend"] == "hf" and prov["batch_size"] == 2 and prov["mc_mode"] == {"xcsqa": "loglik"}
    assert prov["model_sha256"] and prov["task_versions"] == {"mgsm": 1.1, "xcsqa": 1.0}
    assert prov["decoding"]["tasks"]["mgsm"] == {"max_new_tokens": 6, "until": ["### Instruction", "\n\n### "]}
    assert all(len(h) == 64 for h in prov["data_files"]["mgsm"]["de"].values())
    lines = [json.loads(x) for x in (out / "samples/mgsm_de.jsonl").read_text().splitlines()]
    assert [x["id"] for x in lines] == ["mgsm/de/0", "mgsm/de/1"]
    assert lines[0]["prompt"].endswith("Frage 0 (de)?\n\n### Response:") and isinstance(lines[0]["output"], str)
    assert {"target", "extracted", "metrics"} <= set(lines[0])
    mc = json.loads((out / "samples/xcsqa_en.jsonl").read_text().splitlines()[0])
    assert len(mc["loglikelihoods"]) == 5 and mc["extracted"] in "ABCDE"
    assert (out / "tables/mgsm.md").is_file() and (out / "tables/xcsqa.csv").read_text().startswith("lang,acc,n\n")
    assert "| avg (no en) |" in proc.stdout


def test_resume_after_an_interruption_gives_the_same_results(tiny_model, tmp_path, monkeypatch):
    _numeric_data(tmp_path / "data", golds=[1, 2, 3, 4, 5])
    monkeypatch.setattr(runner, "CHUNK", 2)

    def config(out: str) -> EvalConfig:
        return EvalConfig(tasks=["mgsm"], langs=["de", "zh"], out=str(tmp_path / out), model=tiny_model,
                          data_dir=str(tmp_path / "data"), batch_size=2, max_new_tokens=6)

    reference = run_eval(config("straight"))
    real_generate, calls = HFBackend.generate, []

    def failing(self, requests):
        calls.append(len(requests))
        if len(calls) == 3:
            raise RuntimeError("simulated crash")
        return real_generate(self, requests)

    monkeypatch.setattr(HFBackend, "generate", failing)
    with pytest.raises(RuntimeError):
        run_eval(config("resumed"))
    partial = (tmp_path / "resumed/samples/mgsm_de.jsonl").read_text()
    assert len(partial.splitlines()) == 4 and not (tmp_path / "resumed/samples/mgsm_zh.jsonl").exists()
    with (tmp_path / "resumed/samples/mgsm_de.jsonl").open("a") as handle:
        handle.write('{"id": "mgsm/de/4", "outp')  # a torn write
    monkeypatch.setattr(HFBackend, "generate", real_generate)
    resumed = run_eval(config("resumed"))
    assert resumed["results"] == reference["results"]
    strip = lambda p: {k: v for k, v in p.items() if k not in ("started", "finished")}  # noqa: E731
    assert strip(resumed["provenance"]) == strip(reference["provenance"])
    for lang in ("de", "zh"):
        assert ((tmp_path / f"resumed/samples/mgsm_{lang}.jsonl").read_text()
                == (tmp_path / f"straight/samples/mgsm_{lang}.jsonl").read_text())
    with pytest.raises(InputError, match="batch_size=2, not 1"):
        cfg = config("resumed")
        cfg.batch_size = 1
        run_eval(cfg)


@pytest.mark.parametrize("backend,message", [
    ("vllm", "backend vllm needs the vllm extra: pip install 'polyalign[vllm]'"),
    ("vlm", "unknown backend 'vlm' (did you mean 'vllm'?)"),
])
def test_backend_errors_exit_2(tmp_path, capsys, backend, message):
    if backend == "vllm" and importlib.util.find_spec("vllm") is not None:
        pytest.skip("vllm is installed here")
    _numeric_data(tmp_path / "data")
    code = main(["eval", "--backend", backend, "--model", "smollm2-135m-instruct", "--tasks", "gsm8k",
                 "--data-dir", str(tmp_path / "data"), "--out", str(tmp_path / "o")])
    err = capsys.readouterr().err.strip()
    assert code == 2 and len(err.splitlines()) == 1 and message in err, err


def test_chat_prompts_use_the_model_template(tiny_model, tmp_path):
    _numeric_data(tmp_path / "data")
    doc = run_eval(EvalConfig(tasks=["mgsm"], langs=["de"], out=str(tmp_path / "o"), model=tiny_model, limit=1,
                              data_dir=str(tmp_path / "data"), prompt="chat", max_new_tokens=3))
    sample = json.loads((tmp_path / "o/samples/mgsm_de.jsonl").read_text())
    assert sample["prompt"] == "<|im_start|>user\nFrage 0 (de)?<|im_end|>\n<|im_start|>assistant\n"
    assert doc["provenance"]["prompt"] == {"mgsm": "chat"}
