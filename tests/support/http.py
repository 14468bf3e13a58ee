"""Talk to a `polyalign serve` subprocess the way a client would (serve and judge tests)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any


def serve_process(model: str, *extra: str, log: Path) -> tuple[subprocess.Popen, str]:
    """Start `polyalign serve --port 0` and return (process, base URL) once it listens."""
    proc = subprocess.Popen([sys.executable, "-m", "polyalign.cli.main", "serve", "--model", model, "--port", "0",
                             *extra], stdout=subprocess.PIPE, stderr=log.open("w"), text=True,
                            env={**os.environ, "TOKENIZERS_PARALLELISM": "false"})
    deadline = time.monotonic() + 180
    assert proc.stdout is not None
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            raise AssertionError(f"server exited ({proc.wait()}): {log.read_text()[-2000:]}")
        if " on http://" in line:
            return proc, line.split(" on ", 1)[1].strip()
    proc.kill()
    raise AssertionError("server did not start in time")


def stop_process(proc: subprocess.Popen, sig: int = signal.SIGTERM) -> tuple[int, str]:
    proc.send_signal(sig)
    out, _ = proc.communicate(timeout=60)
    return proc.returncode, out


def call(base: str, path: str, body: Any = None, *, raw: bytes | None = None,
         headers: dict[str, str] | None = None) -> tuple[int, Any, dict[str, str]]:
    """(status, parsed JSON or text, headers) of one request; HTTP errors are returned, not raised."""
    data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
    request = urllib.request.Request(base + path, data=data, method="POST" if data is not None else "GET",
                                     headers={"Content-Type": "application/json", **(headers or {})})
    try:
        with urllib.request.urlopen(request, timeout=120) as response:
            status, text, head = response.status, response.read().decode(), dict(response.headers)
    except urllib.error.HTTPError as err:
        status, text, head = err.code, err.read().decode(), dict(err.headers)
    try:
        return status, json.loads(text), head
    except ValueError:
        return status, text, head


def assert_openai_error(status: int, body: Any, expected: int, code: str | None = None) -> None:
    assert status == expected, body
    assert set(body) == {"error"} and set(body["error"]) == {"message", "type", "param", "code"}, body
    assert body["error"]["message"]
    if code is not None:
        assert body["error"]["code"] == code
