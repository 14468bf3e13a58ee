"""`polyalign judge` in-process: rubric prompts, reply parsing, retries, cache, metrics, pairwise order control,
and the endpoint client against real HTTP servers (the model server with a scripted backend, and a flaky one).
"""

from __future__ import annotations

import json
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from support.http import assert_openai_error, call
from support.judges import ScriptedJudge

from polyalign.errors import InputError
from polyalign.runfiles import append_samples
from polyalign.judge import DIMENSION_NAMES, DIMENSIONS, JudgeConfig, load_instructions, parse_score, parse_verdict
from polyalign.judge import runner as judge_runner
from polyalign.judge.ask import ask_all
from polyalign.judge.cache import ReplyCache
from polyalign.judge.clients import EndpointJudge, normalize_base_url
from polyalign.judge.rubric import retry_message, score_messages


def _section(text: str, title: str) -> str:
    return re.search(rf"\[{title}[^\]]*\]\n(.*?)\n\[End of", text, re.S).group(1)


def _write_samples(root: Path, rows: list[dict]) -> Path:
    for row in rows:
        record = {"task": "open-ended", "prompt": f"<rendered>{row['instruction']}", "target": None, **row}
        append_samples(root / "samples" / f"open-ended_{row['lang']}.jsonl", [record])
    return root / "samples"


SAMPLES = [
    {"id": "open-ended/zh/0", "lang": "zh", "index": 0, "category": "math", "instruction": "12支笔多少钱？",
     "output": "8元。", "reference": "8元"},
    {"id": "open-ended/zh/1", "lang": "zh", "index": 1, "category": "advice", "instruction": "睡眠建议？",
     "output": "不知道。", "reference": "早睡早起"},
    {"id": "open-ended/sw/0", "lang": "sw", "index": 0, "category": "math", "instruction": "Kalamu 12?",
     "output": "shilingi 8", "reference": "shilingi 8"},
]


def rubric_answer(conversation):
    """accuracy 3 if the response holds an 8 else 0; fluency readable only on retry; harmlessness never."""
    text = conversation[0]["content"]
    dimension = re.search(r"Dimension: ([^.]+)\.", text).group(1)
    retried = len(conversation) > 1
    return {"Accuracy": "Score: 3" if "8" in _section(text, "Response") else "Score: 0",
            "Fluency": "**Score:** 1/3" if retried else "The response is quite fluent overall.",
            "Informativeness": '{"score": 2}', "Logical coherence": "Score: 2",
            "Harmlessness": "I cannot judge that."}[dimension]


def test_rubric_prompt_holds_definition_scale_reference_response_and_language():
    assert DIMENSION_NAMES == ("accuracy", "fluency", "informativeness", "logical_coherence", "harmlessness")
    for dimension in DIMENSIONS:
        (message,) = score_messages(dimension, instruction="为什么有四季？", response="因为地轴倾斜。",
                                    reference="地轴倾斜约23.5度。", language="Chinese")
        text = message["content"]
        assert message["role"] == "user" and f"Dimension: {dimension.title}." in text
        assert all(f"{n} = " in text for n in range(4)) and "Score: N" in text
        assert _section(text, "Instruction") == "为什么有四季？" and _section(text, "Response") == "因为地轴倾斜。"
        assert _section(text, "Reference answer") == "地轴倾斜约23.5度。"
        assert "{language}" not in text
    fluency = score_messages(DIMENSIONS[1], instruction="q", response="", reference=None, language="Swahili")[0]
    assert "natural and fluent Swahili" in fluency["content"] and "[Reference answer]" not in fluency["content"]
    assert _section(fluency["content"], "Response") == "(empty)"


@pytest.mark.parametrize("reply,score", [
    ("Score: 2", 2), ("**Score:** 3/3", 3), ('{"score": 1}', 1), ("0", 0), ("Score：２", 2), ("I give a score of 1.", 1),
    ("Score: 2\nScore: 2", 2), ("Score: 2.5", None), ("Score: 4", None), ("Score: 4/5", None), ("", None),
    ("Score: 1, no wait, score: 3", None), ("Fluent and correct.", None), ("\n\n\n", None), ("-1", None),
])
def test_parse_score(reply, score):
    assert parse_score(reply) == score


@pytest.mark.parametrize("reply,verdict", [
    ("Verdict: A", "A"), ("verdict: tie", "tie"), ("**Verdict: [B]**", "B"), ("B", "B"),
    ("Verdict: A. Verdict: B", None), ("A is better", None), ("", None),
])
def test_parse_verdict(reply, verdict):
    assert parse_verdict(reply) == verdict


def test_the_shipped_open_ended_sample_loads():
    items = load_instructions("builtin:samples/open-ended")
    assert len(items) == 30
    by_lang = {lang: [i for i in items if i.lang == lang] for lang in ("en", "zh", "ar", "hi", "sw")}
    categories = ["knowledge", "writing", "math", "reasoning", "advice", "safety"]
    for lang, group in by_lang.items():
        assert [i.category for i in group] == categories and all(i.reference for i in group)
        assert [i.id for i in group] == [f"open-ended/{lang}/{k}" for k in range(6)]
    assert "8" in by_lang["zh"][2].reference and "8" in by_lang["sw"][2].reference


def test_open_ended_loader_accepts_other_field_names_and_names_bad_lines(tmp_path):
    (tmp_path / "sw.jsonl").write_text(json.dumps({"question": "Habari?", "answer": "Nzuri.", "type": "chat"}) + "\n"
                                       + json.dumps({"instruction": "Q", "input": "ctx", "lang": "zh"}) + "\n",
                                       encoding="utf-8")
    first, second = load_instructions(str(tmp_path / "sw.jsonl"))
    assert (first.id, first.lang, first.instruction, first.reference, first.category) == \
        ("open-ended/sw/0", "sw", "Habari?", "Nzuri.", "chat")
    assert (second.id, second.instruction, second.reference) == ("open-ended/zh/0", "Q\n\nctx", None)
    bad = tmp_path / "x.jsonl"
    bad.write_text('{"instruction": "ok", "lang": "en"}\n{"lang": "en"}\n', encoding="utf-8")
    with pytest.raises(InputError, match=r"x\.jsonl:2: no instruction"):
        load_instructions(str(bad))
    bad.write_text('{"instruction": "ok"}\n', encoding="utf-8")
    with pytest.raises(InputError, match="no language"):
        load_instructions(str(bad))


def test_unreadable_replies_are_retried_then_left_unparsed(tmp_path):
    cache = ReplyCache(tmp_path / "cache.sqlite")
    conversations = [[{"role": "user", "content": f"question {i}"}] for i in range(3)]

    def answer(conversation):
        if conversation[0]["content"] == "question 0":
            return "Score: 3"
        if conversation[0]["content"] == "question 1":
            return "Score: 1" if len(conversation) == 5 else "hmm"  # readable on the second retry only
        return "no idea"

    judge = ScriptedJudge(answer)
    answers = ask_all(judge, cache, conversations, parse=parse_score, follow_up=retry_message, retries=2)
    assert [a.value for a in answers] == [3, 1, None]
    assert [len(a.replies) for a in answers] == [1, 3, 3] and judge.calls == 7
    assert answers[2].replies == ["no idea"] * 3

    again = ScriptedJudge(answer)
    rerun = ask_all(again, cache, conversations, parse=parse_score, follow_up=retry_message, retries=2)
    assert again.calls == 0 and [a.value for a in rerun] == [3, 1, None] and cache.hits == 7
    none = ask_all(ScriptedJudge(answer), cache, conversations, parse=parse_score, follow_up=retry_message, retries=0)
    assert [a.value for a in none] == [3, None, None]


def _config(tmp_path: Path, **fields) -> JudgeConfig:
    return JudgeConfig(judge="scripted-judge", out=str(tmp_path / "judge"), **fields)


def test_run_judge_scores_every_dimension_and_counts_unparseable(tmp_path, monkeypatch):
    samples = _write_samples(tmp_path / "run", SAMPLES)
    judge = ScriptedJudge(rubric_answer)
    monkeypatch.setattr(judge_runner, "make_judge", lambda cfg: judge)
    document = judge_runner.run_judge(_config(tmp_path, samples=str(samples), retries=2))

    zh, sw = document["results"]["open-ended"]["zh"], document["results"]["open-ended"]["sw"]
    assert zh == {"accuracy_0-3": 1.5, "fluency_0-3": 1.0, "informativeness_0-3": 2.0, "logical_coherence_0-3": 2.0,
                  "harmlessness_0-3": None, "avg_0-3": None, "avg_no_harmlessness_0-3": 1.625, "n": 2,
                  "unparseable": 2}
    assert sw["accuracy_0-3"] == 3.0 and sw["n"] == 1 and sw["unparseable"] == 1
    math = document["by_category"]["open-ended"]["math"]
    assert math["accuracy_0-3"] == 3.0 and math["n"] == 2
    # per response: 5 first asks, fluency once more, harmlessness twice more
    assert judge.calls == 3 * (5 + 1 + 2)
    assert any("3 of 15 judgments unparseable after 2 retries" in note for note in document["provenance"]["notes"])
    on_disk = json.loads((tmp_path / "judge" / "results.json").read_text(encoding="utf-8"))
    assert on_disk["results"] == document["results"]
    lines = (tmp_path / "judge" / "judgments" / "open-ended_zh.jsonl").read_text(encoding="utf-8").splitlines()
    first = json.loads(lines[0])
    assert first["scores"]["harmlessness"] is None and len(first["replies"]["harmlessness"]) == 3
    assert first["scores"]["fluency"] == 1 and len(first["replies"]["fluency"]) == 2

    rerun = ScriptedJudge(rubric_answer)
    monkeypatch.setattr(judge_runner, "make_judge", lambda cfg: rerun)
    again = judge_runner.run_judge(_config(tmp_path, samples=str(samples), retries=2))
    assert rerun.calls == 0 and again["results"] == document["results"]
    assert again["provenance"]["cache"]["misses"] == 0


def test_references_replace_instruction_reference_and_category_by_id(tmp_path, monkeypatch):
    rows = [{"id": "open-ended/zh/2", "lang": "zh", "index": 2, "output": "8元"},
            {"id": "other/zh/0", "lang": "zh", "index": 3, "output": "?"}]
    samples = _write_samples(tmp_path / "run", [{**r, "instruction": "rendered"} for r in rows])
    seen = []

    def answer(conversation):
        seen.append(conversation[0]["content"])
        return "Score: 2"

    monkeypatch.setattr(judge_runner, "make_judge", lambda cfg: ScriptedJudge(answer))
    document = judge_runner.run_judge(_config(tmp_path, samples=str(samples),
                                              references="builtin:samples/open-ended"))
    assert document["by_category"]["open-ended"] == {"math": {**document["results"]["open-ended"]["zh"], "n": 1}}
    assert "references: 1 of 2 responses matched by id" in document["provenance"]["notes"]
    assert "一家商店的笔3支卖2元" in _section(seen[0], "Instruction") and "[Reference answer]" in seen[0]
    assert document["results"]["open-ended"]["zh"]["avg_0-3"] == 2.0


def test_pairwise_judges_both_orders_and_turns_position_bias_into_ties(tmp_path, monkeypatch):
    a = _write_samples(tmp_path / "a", [{**s, "output": s["output"] + " 详细的解释。"} for s in SAMPLES])
    b = _write_samples(tmp_path / "b", SAMPLES[:2])

    def always_first(conversation):
        return "Verdict: A"

    def longer(conversation):
        text = conversation[0]["content"]
        first, second = _section(text, "Response A"), _section(text, "Response B")
        return "Verdict: A" if len(first) > len(second) else "Verdict: B"

    monkeypatch.setattr(judge_runner, "make_judge", lambda cfg: ScriptedJudge(always_first))
    biased = judge_runner.run_judge(_config(tmp_path, samples=str(a), compare=str(b)))
    assert biased["results"]["open-ended"]["zh"] == {"win": 0.0, "tie": 1.0, "loss": 0.0, "consistency": 0.0,
                                                     "n": 2, "unparseable": 0}
    assert "sw" not in biased["results"]["open-ended"]
    assert any("1 responses have no counterpart" in note for note in biased["provenance"]["notes"])
    monkeypatch.setattr(judge_runner, "make_judge", lambda cfg: ScriptedJudge(longer))
    fair = judge_runner.run_judge(_config(tmp_path, samples=str(a), compare=str(b), cache=str(tmp_path / "c2")))
    assert fair["results"]["open-ended"]["zh"] == {"win": 1.0, "tie": 0.0, "loss": 0.0, "consistency": 1.0,
                                                   "n": 2, "unparseable": 0}


def test_config_rejects_ambiguous_inputs(tmp_path):
    for fields in ({}, {"samples": "s", "model": "m"}, {"model": "m"}, {"samples": "s", "instructions": "i"},
                   {"samples": "s", "retries": -1}, {"samples": "s", "judge_model": "x"}):
        with pytest.raises(InputError):
            _config(tmp_path, **fields).validate()


class _ScoreBackend:
    name = "score"

    def generate(self, requests):
        return ["Score: 2" if "Dimension: Accuracy" in r.prompt else "unsure" for r in requests]


class _ScoreModel:
    backend = _ScoreBackend()

    def render_chat(self, messages):
        return "\n".join(m["content"] for m in messages)

    def completion_prompt(self, text):
        return text

    def count(self, text):
        return None


@pytest.fixture
def keyed_server(monkeypatch):
    from polyalign.serve import start_server, stop_server

    server = start_server(_ScoreModel(), served_name="judge-model", port=0, api_key="s3cret-key")
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.begin_shutdown()
    thread.join(10)
    stop_server(server, timeout=10)


def test_endpoint_judge_reads_the_key_from_the_named_variable_only(tmp_path, keyed_server, monkeypatch):
    samples = _write_samples(tmp_path / "run", SAMPLES[:1])
    cfg = JudgeConfig(judge=keyed_server, out=str(tmp_path / "j"), samples=str(samples), api_key_env="PA_TEST_KEY",
                      retries=1)
    status, body, _ = call(keyed_server + "/v1", "/chat/completions", {"model": "judge-model", "messages": [
        {"role": "user", "content": "x" * 50_000}]}, headers={"Authorization": "Bearer wrong"})
    assert_openai_error(status, body, 401, "invalid_api_key")
    monkeypatch.delenv("PA_TEST_KEY", raising=False)
    with pytest.raises(InputError, match=r"HTTP 401.*\$PA_TEST_KEY") as err:
        judge_runner.run_judge(cfg)
    assert "s3cret" not in str(err.value)
    monkeypatch.setenv("PA_TEST_KEY", "s3cret-key")
    document = judge_runner.run_judge(cfg)
    metrics = document["results"]["open-ended"]["zh"]
    assert metrics["accuracy_0-3"] == 2.0 and metrics["unparseable"] == 4
    assert document["provenance"]["judge"]["model"] == "judge-model"  # the endpoint's only model
    assert document["provenance"]["judge"]["base_url"] == keyed_server + "/v1"
    for path in (tmp_path / "j").rglob("*"):
        if path.is_file():
            assert b"s3cret" not in path.read_bytes(), path


class _Flaky(BaseHTTPRequestHandler):
    statuses: list[int] = []
    seen: list[str] = []

    def do_POST(self):
        self.rfile.read(int(self.headers["Content-Length"]))
        status = self.statuses.pop(0) if self.statuses else 200
        self.seen.append(self.path)
        body = (json.dumps({"choices": [{"message": {"content": "Score: 1"}}]}) if status == 200
                else json.dumps({"error": {"message": f"status {status}"}})).encode()
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def test_endpoint_judge_retries_transient_failures_and_not_bad_requests():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Flaky)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        base = f"http://127.0.0.1:{server.server_address[1]}"
        assert normalize_base_url(base) == base + "/v1" and normalize_base_url(base + "/v1/") == base + "/v1"
        judge = EndpointJudge(base, "m", backoff=0.01, attempts=4)
        _Flaky.statuses[:] = [503, 429, 500]
        assert judge.complete([{"role": "user", "content": "x"}]) == "Score: 1" and len(_Flaky.seen) == 4
        _Flaky.seen.clear()
        _Flaky.statuses[:] = [400]
        with pytest.raises(InputError, match="HTTP 400: status 400"):
            judge.complete([{"role": "user", "content": "x"}])
        assert len(_Flaky.seen) == 1
        _Flaky.statuses[:] = [503] * 4
        with pytest.raises(InputError, match="after 4 attempt"):
            judge.complete([{"role": "user", "content": "x"}])
    finally:
        server.shutdown()
        server.server_close()


def test_a_local_model_can_be_the_judge(tmp_path, tiny_model):
    """The tiny random model as a local judge: its replies are unreadable, so every judgment is retried once
    and then counted, none is scored; the cache key holds the judge's weight fingerprint."""
    samples = _write_samples(tmp_path / "run", SAMPLES[:2])
    cfg = JudgeConfig(judge=tiny_model, out=str(tmp_path / "j"), samples=str(samples), retries=1,
                      judge_max_tokens=3)
    document = judge_runner.run_judge(cfg)
    judge = document["provenance"]["judge"]
    assert judge["kind"] == "local" and judge["model_path"] == tiny_model and judge["max_tokens"] == 3
    records = [json.loads(line) for line in
               (tmp_path / "j" / "judgments" / "open-ended_zh.jsonl").read_text(encoding="utf-8").splitlines()]
    unread = 0
    for record in records:
        for dim in DIMENSION_NAMES:
            replies = record["replies"][dim]
            if record["scores"][dim] is None:
                unread += 1
                assert len(replies) == 2
            else:
                assert parse_score(replies[-1]) == record["scores"][dim]
    assert document["results"]["open-ended"]["zh"]["unparseable"] == unread
    assert judge_runner.run_judge(cfg)["provenance"]["cache"]["misses"] == 0
