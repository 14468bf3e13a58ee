"""`polyalign judge` against `polyalign serve`, both as subprocesses on 127.0.0.1, as a user runs them.

The tiny random model generates the responses and also serves as the judge: it answers garbage, which
must be retried and then counted as unparseable (never scored 0), and a rerun must send nothing.
"""

from __future__ import annotations

import json
import signal

import pytest
from support.cli import run_cli
from support.http import call, serve_process, stop_process

from polyalign.judge import DIMENSION_NAMES, parse_score


@pytest.fixture(scope="module")
def judge_server(tiny_model, tmp_path_factory):
    log = tmp_path_factory.mktemp("judge-serve") / "stderr.txt"
    proc, base = serve_process(tiny_model, "--max-tokens-limit", "16", log=log)
    yield base
    code, _ = stop_process(proc, signal.SIGTERM)
    assert code == 0, log.read_text()[-2000:]


def _answered(base: str) -> int:
    return call(base.removesuffix("/v1"), "/health")[1]["answered"]


def _check_judgments(out, langs):
    """Every judgment is either a score read from its last reply, or None after all its attempts."""
    results = json.loads((out / "results.json").read_text(encoding="utf-8"))
    asked = 0
    for lang in langs:
        records = [json.loads(line) for line in
                   (out / "judgments" / f"open-ended_{lang}.jsonl").read_text(encoding="utf-8").splitlines()]
        unread = 0
        for record in records:
            for dim in DIMENSION_NAMES:
                replies, score = record["replies"][dim], record["scores"][dim]
                asked += len(replies)
                if score is None:
                    unread += 1
                    assert len(replies) == 2 and all(parse_score(r) is None for r in replies)  # 1 + --retries 1
                else:
                    assert parse_score(replies[-1]) == score
        metrics = results["results"]["open-ended"][lang]
        assert metrics["n"] == len(records) == 1 and metrics["unparseable"] == unread
        assert (metrics["avg_0-3"] is None) == any(metrics[f"{d}_0-3"] is None for d in DIMENSION_NAMES)
    return results, asked


@pytest.mark.e2e
def test_judge_generates_responses_and_scores_them_through_the_server(judge_server, tiny_model, tmp_path):
    out = tmp_path / "run"
    before = _answered(judge_server)
    args = ("judge", "--model", tiny_model, "--instructions", "builtin:samples/open-ended", "--langs", "zh,sw",
            "--limit", "1", "--max-new-tokens", "4", "--judge", judge_server, "--judge-max-tokens", "4",
            "--retries", "1", "--out", str(out))
    result = run_cli(*args)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "| open-ended | zh |" in result.stdout
    samples = [json.loads(line) for line in (out / "samples" / "open-ended_sw.jsonl").read_text("utf-8").splitlines()]
    assert [s["id"] for s in samples] == ["open-ended/sw/0"] and samples[0]["category"] == "knowledge"
    assert samples[0]["prompt"].startswith("<|im_start|>user\nKwa nini")  # the responder's chat template
    results, asked = _check_judgments(out, ["zh", "sw"])
    assert _answered(judge_server) - before == asked  # one HTTP request per judge reply, none lost
    assert results["provenance"]["judge"]["kind"] == "endpoint"
    assert results["provenance"]["cache"]["misses"] == asked

    rerun = run_cli(*args)
    assert rerun.returncode == 0, rerun.stderr[-2000:]
    again = json.loads((out / "results.json").read_text(encoding="utf-8"))
    assert again["results"] == results["results"] and again["provenance"]["cache"]["misses"] == 0
    assert _answered(judge_server) - before == asked  # the rerun cost nothing

    pairwise = run_cli("judge", "--samples", str(out / "samples"), "--compare", str(out / "samples"),
                       "--judge", judge_server, "--judge-max-tokens", "4", "--retries", "0")
    assert pairwise.returncode == 0, pairwise.stderr[-2000:]
    compared = json.loads((out / "judge-pairwise" / "results.json").read_text(encoding="utf-8"))
    assert set(compared["results"]["open-ended"]) == {"zh", "sw"}
    assert compared["provenance"]["mode"] == "pairwise"


@pytest.mark.e2e
def test_a_judge_model_the_server_does_not_serve_is_one_clear_error(judge_server, tmp_path):
    samples = tmp_path / "s.jsonl"
    samples.write_text(json.dumps({"id": "open-ended/en/0", "task": "open-ended", "lang": "en", "index": 0,
                                   "prompt": "Hi", "output": "Hello"}) + "\n", encoding="utf-8")
    result = run_cli("judge", "--samples", str(samples), "--judge", judge_server, "--judge-model", "gpt-4o",
                     "--out", str(tmp_path / "j"))
    assert result.returncode == 2 and "Traceback" not in result.stderr
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("polyalign: error: judge endpoint") and "HTTP 404" in last and "gpt-4o" in last


@pytest.mark.e2e
@pytest.mark.slow
def test_smollm2_served_as_the_judge(tmp_path):
    """The real small instruct model behind `polyalign serve` judges its own answers (plumbing, not quality)."""
    log = tmp_path / "stderr.txt"
    proc, base = serve_process("smollm2-135m-instruct", "--max-tokens-limit", "64", log=log)
    try:
        out = tmp_path / "run"
        result = run_cli("judge", "--model", "smollm2-135m-instruct", "--instructions", "builtin:samples/open-ended",
                         "--langs", "en", "--limit", "1", "--max-new-tokens", "48", "--judge", base,
                         "--judge-max-tokens", "16", "--retries", "1", "--out", str(out))
        assert result.returncode == 0, result.stderr[-2000:]
        results, asked = _check_judgments(out, ["en"])
        response = json.loads((out / "samples" / "open-ended_en.jsonl").read_text("utf-8").splitlines()[0])
        assert response["output"].strip()
        print(f"smollm2 judge: {asked} replies, metrics {results['results']['open-ended']['en']}")
    finally:
        code, _ = stop_process(proc, signal.SIGTERM)
    assert code == 0, log.read_text()[-2000:]
