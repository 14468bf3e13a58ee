"""Benchmark data: readers of every upstream format, ids, data resolution, the generated lm-eval task pack."""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import pytest

from polyalign import langs
from polyalign.errors import InputError
from polyalign.eval import taskgen
from polyalign.eval.benchmarks import BENCHMARKS, get_benchmark
from polyalign.eval.datafiles import resolve_files
from polyalign.eval.documents import build_docs
from polyalign.eval.prompts import TASKS_DIR


def _write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def _squad(questions: list[tuple[str, str, list[str]]]) -> str:
    paragraphs = [{"context": ctx, "qas": [{"id": f"q{i}", "question": q,
                                            "answers": [{"text": a, "answer_start": ctx.find(a)} for a in answers]}]}
                  for i, (ctx, q, answers) in enumerate(questions)]
    return json.dumps({"version": "1.1", "data": [{"title": "t", "paragraphs": paragraphs[:1]},
                                                  {"title": "u", "paragraphs": paragraphs[1:]}]})


def test_every_reader_reads_its_upstream_format(tmp_path):
    _write(tmp_path / "mgsm/mgsm_de.tsv", '"Zitat" am Anfang? 2 + 2\t4\n\nWie viel?\t1,234\n')
    _write(tmp_path / "msvamp/test_German.json", '{"m_query": "Wie viel?", "response": "12.5"}\n{"m_query": "Q2", "response": "3"}\n')
    _write(tmp_path / "gsm8k/test.jsonl", json.dumps({"question": "Q?", "answer": "2 + 2 = 4\n#### 1,004"}) + "\n")
    _write(tmp_path / "svamp/SVAMP.json", json.dumps([{"ID": "x", "Body": "Tom has 3 apples.", "Question": "How many?",
                                                      "Answer": 3.0}]))
    _write(tmp_path / "xquad/xquad.zh.json", _squad([("北京是中国的首都。", "首都是哪里？", ["北京"]),
                                                     ("天空是蓝色的。", "天空是什么颜色？", ["蓝色", " 蓝色的 "])]))
    _write(tmp_path / "flores/devtest/eng.devtest", "Hello.\nBye.\n")
    _write(tmp_path / "flores/devtest/deu.devtest", "Hallo.\nTschüss.\n")
    _write(tmp_path / "xcsqa/de/dev.jsonl", json.dumps({"id": "a", "question": {"stem": "Wo?", "choices": [
        {"label": "A", "text": "hier"}, {"label": "B", "text": "dort"}]}, "answerKey": "B"}) + "\n")
    _write(tmp_path / "mmlu/test/virology_test.csv", 'What is "x"?,a,b,c,d,C\n')
    _write(tmp_path / "ceval/val/law_val.csv", "id,question,A,B,C,D,answer\n0,问题？,甲,乙,丙,丁,D\n")

    mgsm = build_docs("mgsm", "de", data_dir=tmp_path)
    assert [d["id"] for d in mgsm] == ["mgsm/de/0", "mgsm/de/1"]  # blank lines do not count
    assert [d["answer"] for d in mgsm] == [4.0, 1234.0] and mgsm[0]["question"].startswith('"Zitat"')
    assert [d["answer"] for d in build_docs("msvamp", "de", data_dir=tmp_path)] == [12.5, 3.0]
    assert build_docs("gsm8k", "en", data_dir=tmp_path)[0]["answer"] == 1004.0
    assert build_docs("svamp", "en", data_dir=tmp_path)[0]["question"] == "Tom has 3 apples. How many?"
    xquad = build_docs("xquad", "zh", data_dir=tmp_path)
    assert [d["id"] for d in xquad] == ["xquad/zh/0", "xquad/zh/1"]  # document order across articles
    assert xquad[1]["answers"] == ["蓝色", "蓝色的"]
    flores = build_docs("flores", "de-en", data_dir=tmp_path)
    assert flores[1]["id"] == "flores/de-en/1" and (flores[1]["source"], flores[1]["reference"]) == ("Tschüss.", "Bye.")
    assert flores[1]["text_lang"] == "en"
    xcsqa = build_docs("xcsqa", "de", data_dir=tmp_path)[0]
    assert (xcsqa["gold"], xcsqa["gold_index"], xcsqa["choices"]) == ("B", 1, ["hier", "dort"])
    assert build_docs("mmlu", "en", data_dir=tmp_path, prompt="paper")[0]["subject"] == "virology"
    assert build_docs("ceval", "zh", data_dir=tmp_path, prompt="chat")[0]["gold"] == "D"


def test_paper_prompts_follow_the_papers(tmp_path):
    _write(tmp_path / "xquad/xquad.zh.json", _squad([("北京是中国的首都。", "首都是哪里？", ["北京"])]))
    _write(tmp_path / "flores/devtest/eng.devtest", "Hello.\n")
    _write(tmp_path / "flores/devtest/ell.devtest", "Γεια.\n")
    # x-LLaMA's XQuAD prompt (NJUNLP/x-LLM data/xquad/xquad.py): native instruction, labelled input
    assert build_docs("xquad", "zh", data_dir=tmp_path)[0]["prompt"] == (
        "Below is an instruction that describes a task, paired with an input that provides further context. "
        "Write a response that appropriately completes the request.\n\n### Instruction:\n请根据以下段落，回答问题"
        "\n\n### Input:\n段落: 北京是中国的首都。\n问题: 首都是哪里？\n答案: \n\n### Response:")
    assert build_docs("xquad", "zh", data_dir=tmp_path, prompt="chat")[0]["prompt"] == (
        "请根据以下段落，回答问题\n\n段落: 北京是中国的首都。\n问题: 首都是哪里？\n答案:")
    assert "from English to Greek." in build_docs("flores", "en-el", data_dir=tmp_path)[0]["prompt"]
    paper_names = build_docs("flores", "en-el", data_dir=tmp_path, name_mode="paper")[0]["prompt"]
    assert "from English to Modern Greek (1453-)." in paper_names


def test_fewshot_uses_the_first_exemplars_of_the_same_subject(tmp_path):
    for subject, n in (("virology", 6), ("law", 2)):
        with (tmp_path / f"{subject}_dev.csv").open("w", newline="") as handle:
            csv.writer(handle).writerows([[f"{subject} ex{i}?", "a", "b", "c", "d", "ABCD"[i % 4]] for i in range(n)])
    (tmp_path / "mmlu/dev").mkdir(parents=True)
    for p in tmp_path.glob("*_dev.csv"):
        p.rename(tmp_path / "mmlu/dev" / p.name)
    _write(tmp_path / "mmlu/test/law_test.csv", "law q?,a,b,c,d,A\n")
    _write(tmp_path / "mmlu/test/virology_test.csv", "vir q?,a,b,c,d,B\n")
    docs = build_docs("mmlu", "en", data_dir=tmp_path)  # MMLU's default prompt: 5-shot
    assert docs[0]["prompt"].startswith("The following are multiple choice questions (with answers) about law.")
    assert docs[0]["prompt"].count("Answer:") == 3 and "virology" not in docs[0]["prompt"]
    assert [f"virology ex{i}?" in docs[1]["prompt"] for i in range(6)] == [True] * 5 + [False]
    assert docs[1]["prompt"].endswith("vir q?\nA. a\nB. b\nC. c\nD. d\nAnswer:")
    with pytest.raises(InputError, match="no few-shot exemplars"):
        build_docs("mgsm", "de", data_dir=tmp_path, prompt="fewshot")


@pytest.mark.parametrize("task,lang,name,content,message", [
    ("mgsm", "de", "mgsm/mgsm_de.tsv", "Frage\tvier\n", r"mgsm_de.tsv:1: expected a number"),
    ("mgsm", "de", "mgsm/mgsm_de.tsv", "Frage\t4\textra\n", r"mgsm_de.tsv:1: expected 2 columns"),
    ("xquad", "de", "xquad/xquad.de.json", '{"data": [', r"xquad.de.json:1: malformed JSON"),
    ("xquad", "de", "xquad/xquad.de.json", '[1, 2]', r"expected an object"),
    ("msvamp", "de", "msvamp/test_German.json", '{"query": "x"}\n', r"test_German.json:1: missing field 'm_query'"),
    ("xcsqa", "de", "xcsqa/de/dev.jsonl", '{"question": {"stem": "x", "choices": []}, "answerKey": "A"}\n',
     r"dev.jsonl:1: answerKey 'A' is not one of the labels"),
    ("gsm8k", "en", "gsm8k/test.jsonl", '{"question": "x", "answer": "4"}\n', r"no '#### N' final line"),
])
def test_malformed_data_names_the_file_and_line(tmp_path, task, lang, name, content, message):
    _write(tmp_path / name, content)
    with pytest.raises(InputError, match=message):
        build_docs(task, lang, data_dir=tmp_path)


def test_missing_files_say_exactly_what_to_put_where(tmp_path):
    with pytest.raises(InputError) as err:
        resolve_files(get_benchmark("flores"), "en-zh", tmp_path)
    text = str(err.value)
    assert f"put {tmp_path}/flores/devtest/eng.devtest, {tmp_path}/flores/devtest/zho_simpl.devtest" in text
    with pytest.raises(InputError, match=r"offline: nothing is downloaded"):
        resolve_files(get_benchmark("mgsm"), "de", tmp_path)  # has a hub mirror, but we are offline
    with pytest.raises(InputError, match="has no language 'xx'|unknown"):
        build_docs("mgsm", "xx", data_dir=tmp_path)


def test_search_order_data_dir_then_env_then_cache(tmp_path, monkeypatch):
    env, cache = tmp_path / "env", tmp_path / "cache"
    monkeypatch.setenv("POLYALIGN_DATA_DIR", str(env))
    monkeypatch.setenv("POLYALIGN_DATA_CACHE", str(cache))
    _write(cache / "mgsm/mgsm_de.tsv", "x\t1\n")
    assert resolve_files(get_benchmark("mgsm"), "de", tmp_path / "none") == [cache / "mgsm/mgsm_de.tsv"]
    _write(env / "mgsm/mgsm_de.tsv", "x\t1\n")
    assert resolve_files(get_benchmark("mgsm"), "de", tmp_path / "none") == [env / "mgsm/mgsm_de.tsv"]


def test_language_lists_come_from_the_language_table():
    assert BENCHMARKS["mgsm"].langs == langs.MGSM_LANGS and BENCHMARKS["xquad"].langs == langs.XQUAD_LANGS
    assert BENCHMARKS["mlqa"].langs == langs.MLQA_LANGS and BENCHMARKS["xcsqa"].langs == langs.XCSQA_LANGS
    assert len(BENCHMARKS["msvamp"].langs) == 10 and "te" not in BENCHMARKS["msvamp"].langs
    assert {"en-zh", "zh-en", "en-ar", "sw-en"} <= set(BENCHMARKS["flores"].langs)


def test_generated_task_files_are_up_to_date(tmp_path):
    assert taskgen.stale_files() == [], "run: python -m polyalign.eval.taskgen"
    copy = tmp_path / "tasks"
    shutil.copytree(TASKS_DIR, copy)
    (copy / "mgsm/pa_mgsm_de.yaml").write_text((copy / "mgsm/pa_mgsm_de.yaml").read_text() + "# edit\n")
    (copy / "mgsm/pa_mgsm_xx.yaml").write_text(taskgen.HEADER + "task: pa_mgsm_xx\n")
    (copy / "xquad/pa_xquad_zh.yaml").unlink()
    assert taskgen.stale_files(copy) == ["mgsm/pa_mgsm_de.yaml", "mgsm/pa_mgsm_xx.yaml", "xquad/pa_xquad_zh.yaml"]
    taskgen.write_files(copy)
    assert taskgen.stale_files(copy) == []


def test_lm_eval_loads_the_pack_from_local_files(tmp_path):
    from lm_eval.tasks import TaskManager

    _write(tmp_path / "mgsm/mgsm_de.tsv", "Wie viel ist 2 + 2?\t4\n")
    _write(tmp_path / "xcsqa/en/dev.jsonl", json.dumps({"question": {"stem": "Where?", "choices": [
        {"label": "A", "text": "here"}, {"label": "B", "text": "there"}]}, "answerKey": "B"}) + "\n")
    manager = TaskManager(include_path=str(TASKS_DIR), include_defaults=False, metadata={"data_dir": str(tmp_path)})
    for bench in BENCHMARKS.values():
        for key in bench.langs:
            assert taskgen.task_name(bench.name, key) in manager.all_subtasks
    assert {"pa_mgsm", "pa_xcsqa", "pa_xcsqa_gen", "pa_flores"} <= set(manager.all_groups)
    tasks = manager.load(["pa_mgsm_de", "pa_xcsqa_en", "pa_xcsqa_gen_en"])["tasks"]
    mgsm = tasks["pa_mgsm_de"]
    doc = mgsm.eval_docs[0]
    assert mgsm.fewshot_context(doc, 0) == build_docs("mgsm", "de", data_dir=tmp_path)[0]["prompt"]
    assert mgsm.config.generation_kwargs["max_gen_toks"] == 600  # QAlign's mGSM setting
    assert mgsm.process_results(doc, ["Die Antwort ist 4."])["acc"] == 1.0
    mc = tasks["pa_xcsqa_en"]
    requests = mc.construct_requests(mc.eval_docs[0], "ctx", metadata=("t", 0, 1))
    assert [r.args for r in requests] == [("ctx", " A"), ("ctx", " B")]
    assert mc.process_results(mc.eval_docs[0], [(-3.0, False), (-1.0, True)]) == {"acc": 1.0}
    gen = tasks["pa_xcsqa_gen_en"]
    assert gen.process_results(gen.eval_docs[0], ["The answer is (A)."])["acc"] == 0.0


def test_shared_data_counts(shared_data):
    for lang in langs.MGSM_LANGS:
        docs = build_docs("mgsm", lang, data_dir=shared_data)
        assert len(docs) == 250 and docs[-1]["id"] == f"mgsm/{lang}/249"
    for lang in langs.XQUAD_LANGS:
        assert len(build_docs("xquad", lang, data_dir=shared_data)) == 1190
    assert len(build_docs("gsm8k", "en", data_dir=shared_data)) == 1319
