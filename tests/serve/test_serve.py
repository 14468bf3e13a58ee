"""`polyalign serve` as a user runs it: a subprocess on 127.0.0.1 with the tiny model.

Outputs are checked against the hf backend run directly (the server must add nothing but HTTP),
every refusal must be a 4xx/5xx JSON error in OpenAI's shape, and a burst of 50 concurrent requests
must be answered or refused with 429/503 — each one accounted for by the client and by the server.
"""

from __future__ import annotations

import http.client
import json
import signal
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from support.http import assert_openai_error, call, serve_process, stop_process


@pytest.fixture(scope="module")
def server(tiny_model, tmp_path_factory):
    log = tmp_path_factory.mktemp("serve") / "stderr.txt"
    proc, base = serve_process(tiny_model, "--batch-size", "4", "--max-queue", "8", "--max-connections", "16",
                               "--max-body-bytes", "65536", "--max-tokens-limit", "32", log=log)
    yield {"base": base, "proc": proc, "model": tiny_model, "log": log}
    if proc.poll() is None:
        stop_process(proc, signal.SIGKILL)


@pytest.fixture(scope="module")
def direct(tiny_model):
    """The hf backend in this process: what the server must reproduce."""
    from polyalign.infer.backends import BACKENDS, BackendOptions

    return BACKENDS.get("hf")(BackendOptions(model=tiny_model, chat=True))


@pytest.mark.e2e
def test_models_lists_the_served_model(server):
    status, body, _ = call(server["base"], "/models")
    assert status == 200 and [m["id"] for m in body["data"]] == [server["model"]]
    status, body, _ = call(server["base"], "/models/nope")
    assert_openai_error(status, body, 404, "model_not_found")


@pytest.mark.e2e
def test_chat_completion_applies_the_chat_template_and_matches_the_backend(server, direct):
    from polyalign.infer.backends import GenRequest

    messages = [{"role": "user", "content": "Wie viel ist 12 mal 7?"}]
    status, body, _ = call(server["base"], "/chat/completions",
                           {"model": server["model"], "messages": messages, "max_tokens": 6, "temperature": 0.7})
    assert status == 200, body
    prompt = direct.chat_template()(messages)
    assert prompt.startswith("<|im_start|>user\n")
    expected = direct.generate([GenRequest("x", prompt, (), 6)])[0]
    choice = body["choices"][0]
    assert body["object"] == "chat.completion" and choice["message"] == {"role": "assistant", "content": expected}
    assert body["usage"]["prompt_tokens"] == len(direct.tokenizer(prompt, add_special_tokens=False)["input_ids"])
    assert choice["finish_reason"] in ("stop", "length")


@pytest.mark.e2e
def test_completions_take_a_list_of_prompts_and_stream(server, direct):
    from polyalign.infer.backends import GenRequest

    prompts = ["Der schnelle braune Fuchs", "敏捷的棕色狐狸"]
    status, body, _ = call(server["base"], "/completions", {"model": server["model"], "prompt": prompts,
                                                             "max_tokens": 5})
    assert status == 200, body
    expected = direct.generate([GenRequest(str(i), p, (), 5) for i, p in enumerate(prompts)])
    assert [c["text"] for c in sorted(body["choices"], key=lambda c: c["index"])] == expected

    status, text, head = call(server["base"], "/chat/completions",
                              {"model": server["model"], "messages": [{"role": "user", "content": "Hallo"}],
                               "max_tokens": 5, "stream": True})
    assert status == 200 and head["Content-Type"].startswith("text/event-stream")
    events = [line[len("data: "):] for line in text.split("\n") if line.startswith("data: ")]
    assert events[-1] == "[DONE]"
    chunks = [json.loads(e) for e in events[:-1]]
    streamed = "".join(c["choices"][0]["delta"].get("content", "") for c in chunks if c["choices"])
    status, plain, _ = call(server["base"], "/chat/completions",
                            {"model": server["model"], "messages": [{"role": "user", "content": "Hallo"}],
                             "max_tokens": 5})
    assert streamed == plain["choices"][0]["message"]["content"]
    assert chunks[-1]["choices"][0]["finish_reason"] in ("stop", "length")


@pytest.mark.e2e
def test_bad_requests_get_json_errors(server):
    base, model = server["base"], server["model"]
    status, body, _ = call(base, "/chat/completions", raw=b'{"model": "x", "messages": [')
    assert_openai_error(status, body, 400)
    assert "malformed JSON" in body["error"]["message"]
    hello = [{"role": "user", "content": "hi"}]
    status, body, _ = call(base, "/chat/completions", {"model": "gpt-4", "messages": hello})
    assert_openai_error(status, body, 404, "model_not_found")
    status, body, _ = call(base, "/chat/completions", raw=json.dumps(
        {"model": model, "messages": [{"role": "user", "content": "x" * 100_000}]}).encode())
    assert_openai_error(status, body, 413, "request_too_large")
    for bad in ({"model": model}, {"model": model, "messages": [{"role": "robot", "content": "hi"}]},
                {"model": model, "messages": [{"role": "user", "content": "hi"}], "n": 2},
                {"model": model, "messages": [{"role": "user", "content": "hi"}], "max_tokens": 33}):
        status, body, _ = call(base, "/chat/completions", bad)
        assert_openai_error(status, body, 400)
    status, body, _ = call(base, "/completions", {"model": model, "prompt": [1, 2, 3]})
    assert_openai_error(status, body, 400)
    status, body, _ = call(base, "/embeddings", {"model": model, "input": "hi"})
    assert_openai_error(status, body, 404)
    host, port = base.split("//")[1].split("/")[0].split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=30)  # no Content-Length at all
    conn.putrequest("POST", "/v1/completions")
    conn.endheaders()
    response = conn.getresponse()
    assert_openai_error(response.status, json.loads(response.read()), 411)


@pytest.mark.e2e
def test_fifty_concurrent_requests_are_all_answered_or_refused(server):
    base, model = server["base"], server["model"]
    _, before, _ = call(base.removesuffix("/v1"), "/health")
    start = threading.Barrier(50)

    def one(i: int) -> tuple[int, Any, dict[str, str]]:
        start.wait()
        return call(base, "/chat/completions", {"model": model, "max_tokens": 8,
                                                "messages": [{"role": "user", "content": f"Request {i}"}]})

    with ThreadPoolExecutor(max_workers=50) as pool:
        results = list(pool.map(one, range(50)))
    statuses = [status for status, _, _ in results]
    assert len(statuses) == 50 and set(statuses) <= {200, 429, 503}, statuses
    for status, body, head in results:
        if status == 200:
            assert isinstance(body["choices"][0]["message"]["content"], str)
        else:
            assert_openai_error(status, body, status)
            assert head.get("Retry-After")
    assert statuses.count(200) >= 1
    _, after, _ = call(base.removesuffix("/v1"), "/health")
    served = {k: after[k] - before[k] for k in ("answered", "refused", "errors")}
    assert served == {"answered": statuses.count(200), "refused": 50 - statuses.count(200), "errors": 0}
    assert after["batches"] - before["batches"] < statuses.count(200)  # requests were batched together
    assert server["proc"].poll() is None
    status, body, _ = call(base, "/chat/completions", {"model": model, "max_tokens": 2,
                                                       "messages": [{"role": "user", "content": "still there?"}]})
    assert status == 200, body


@pytest.mark.e2e
def test_unusable_settings_exit_2_with_one_line(tiny_model):
    from support.cli import run_cli

    result = run_cli("serve", "--model", tiny_model, "--backend-option", "alpah=2", "--port", "0")
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert result.stderr.strip().splitlines()[-1].startswith("polyalign: error: backend options: unknown field 'alpah'")
    result = run_cli("serve", "--model", tiny_model, "--backend", "replay", "--port", "0")
    assert result.returncode == 2 and "cannot serve" in result.stderr


def test_proxy_options_pass_through_and_per_model_formats_disable_chat(tiny_model):
    from polyalign.infer.backends import GenRequest
    from polyalign.infer.backends import BackendOptions, ProxyOptions
    from polyalign.serve import ServedModel, served_options

    options = BackendOptions(model=tiny_model, proxy=ProxyOptions(expert=tiny_model))
    plain = ServedModel("proxy", served_options(options, ["alpha=0.5", f"anti_expert={tiny_model}"]))
    assert plain.chat and plain.backend.options.proxy.alpha == 0.5
    assert plain.render_chat([{"role": "user", "content": "hi"}]).startswith("<|im_start|>user")
    formats = ServedModel("proxy", served_options(options, [f"proxy.anti_expert={tiny_model}",
                                                            "prompt_formats=[plain, chat, chat]"]))
    assert not formats.chat and formats.backend.options.proxy.prompt_formats == ("plain", "chat", "chat")
    with pytest.raises(LookupError, match="use /v1/completions"):
        formats.render_chat([{"role": "user", "content": "hi"}])
    assert isinstance(formats.backend.generate([GenRequest("0", formats.completion_prompt("Hallo"), (), 2)])[0], str)


@pytest.mark.e2e
def test_sigterm_stops_the_server_cleanly(server):
    """Last in this file: it stops the module's server (which it starts itself when run alone)."""
    code, out = stop_process(server["proc"], signal.SIGTERM)
    assert code == 0, server["log"].read_text()[-2000:]
    assert "stopping (finishing accepted requests)" in out and "stopped; answered" in out
