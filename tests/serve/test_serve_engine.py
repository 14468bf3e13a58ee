"""The server's bounds made deterministic: a backend that blocks until the test lets it go.

With the model held, the test can fill the queue exactly and see the next request refused (429),
see queued requests answered together in one generate call (micro-batching), and see a shutdown
finish every accepted request before the server stops.
"""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from support.http import assert_openai_error, call

from polyalign.serve import Closed, Engine, QueueFull, ServerLimits, start_server, stop_server


class GatedBackend:
    """Answers each prompt reversed, but only after ``gate`` is set."""

    name = "gated"

    def __init__(self) -> None:
        self.gate = threading.Event()
        self.entered = threading.Event()
        self.calls: list[int] = []

    def generate(self, requests):
        self.entered.set()
        assert self.gate.wait(30), "the test never opened the gate"
        self.calls.append(len(requests))
        if any(r.prompt == "boom" for r in requests):
            raise RuntimeError("backend failure")
        return [r.prompt[::-1] for r in requests]


class StubModel:
    """What the HTTP layer needs from `ServedModel`, over the gated backend."""

    def __init__(self) -> None:
        self.backend = GatedBackend()

    def render_chat(self, messages):
        return messages[-1]["content"]

    def completion_prompt(self, text):
        return text

    def count(self, text):
        return None


def _wait_for(predicate, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "condition not reached"
        time.sleep(0.01)


@pytest.fixture
def gated():
    model = StubModel()
    server = start_server(model, served_name="stub", port=0, max_batch=8, max_queue=3,
                          limits=ServerLimits(max_connections=16))
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{server.server_address[1]}/v1"
    yield server, model.backend, base
    model.backend.gate.set()
    if not server.closing.is_set():
        server.begin_shutdown()
        thread.join(10)
        stop_server(server, timeout=10)


def _complete(base: str, prompt: str):
    return call(base, "/completions", {"model": "stub", "prompt": prompt, "max_tokens": 4})


def test_a_full_queue_refuses_with_429_then_queued_requests_are_batched(gated):
    server, backend, base = gated
    with ThreadPoolExecutor(max_workers=4) as pool:
        first = pool.submit(_complete, base, "first")  # taken by the worker, held at the gate
        _wait_for(backend.entered.is_set)
        queued = [pool.submit(_complete, base, f"q{i}") for i in range(3)]
        _wait_for(lambda: server.engine.waiting() == 3)
        status, body, head = _complete(base, "one too many")
        assert_openai_error(status, body, 429, "queue_full")
        assert head["Retry-After"] == "1"
        backend.gate.set()
        assert first.result()[1]["choices"][0]["text"] == "tsrif"
        assert sorted(f.result()[1]["choices"][0]["text"] for f in queued) == ["0q", "1q", "2q"]
    assert backend.calls == [1, 3]  # the three waiting requests went through one generate call


def test_a_multi_prompt_request_is_accepted_whole_or_not_at_all(gated):
    server, backend, base = gated
    status, body, _ = call(base, "/completions", {"model": "stub", "prompt": ["a", "b", "c", "d"]})
    assert_openai_error(status, body, 429)  # 4 prompts never fit a queue of 3
    assert server.engine.waiting() == 0
    backend.gate.set()
    status, body, _ = call(base, "/completions", {"model": "stub", "prompt": ["ab", "cd", "ef"]})
    assert status == 200 and [c["text"] for c in body["choices"]] == ["ba", "dc", "fe"]


def test_a_backend_error_is_a_500_and_the_server_lives_on(gated):
    _, backend, base = gated
    backend.gate.set()
    status, body, _ = _complete(base, "boom")
    assert_openai_error(status, body, 500)
    status, body, _ = _complete(base, "fine")
    assert status == 200 and body["choices"][0]["text"] == "enif"
    assert "usage" not in body  # no tokenizer: no invented counts


def test_shutdown_finishes_accepted_requests_then_refuses_connections(gated):
    server, backend, base = gated
    with ThreadPoolExecutor(max_workers=3) as pool:
        # one request held by the worker first, then two queued: submitted together, all three may
        # be taken as one micro-batch and none would be waiting
        accepted = [pool.submit(_complete, base, "r0")]
        _wait_for(backend.entered.is_set)
        accepted += [pool.submit(_complete, base, f"r{i}") for i in (1, 2)]
        _wait_for(lambda: server.engine.waiting() == 2)
        server.begin_shutdown()
        stopper = threading.Thread(target=stop_server, args=(server,), kwargs={"timeout": 30})
        stopper.start()
        backend.gate.set()
        stopper.join(30)
        assert not stopper.is_alive()
        assert [f.result()[0] for f in accepted] == [200, 200, 200]
    with pytest.raises(OSError):
        _complete(base, "after")


def test_engine_submit_after_close_and_when_full():
    backend = GatedBackend()
    engine = Engine(backend, max_batch=2, max_queue=2)
    from polyalign.infer.backends import GenRequest

    held = engine.submit([GenRequest("0", "x", (), 1)])
    _wait_for(backend.entered.is_set)
    engine.submit([GenRequest("1", "ab", (), 1), GenRequest("2", "cd", (), 1)])
    with pytest.raises(QueueFull):
        engine.submit([GenRequest("3", "y", (), 1)])
    backend.gate.set()
    engine.close(timeout=10)
    assert held[0].result() == "x" and backend.calls == [1, 2]
    with pytest.raises(Closed):
        engine.submit([GenRequest("4", "z", (), 1)])
