"""Judges: any OpenAI-compatible endpoint, or a local model through polyalign's backends.

Both answer ``complete_many(conversations, on_reply)`` with one reply text per conversation and call
``on_reply(i, text)`` as each arrives (the cache stores it at once). Decoding is greedy
(``temperature: 0``), so a judge's verdicts are repeatable and cacheable.

The endpoint's API key is read from an environment variable whose *name* is configurable
(``--api-key-env``, default OPENAI_API_KEY); the key itself never appears in a config, a result, a
log line or an error message. Transport failures (connection refused, timeouts, 429, 5xx) are
retried with exponential backoff a bounded number of times, honouring ``Retry-After``; if the
endpoint still fails the run stops with a clear error, and the replies received so far stay cached.
"""

from __future__ import annotations

import json
import logging
import os
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from polyalign.errors import InputError
from polyalign.infer.backends import BackendOptions, GenRequest
from polyalign.infer.backends.options import flat_fields

__all__ = ["EndpointJudge", "LocalJudge", "is_endpoint", "normalize_base_url"]

log = logging.getLogger(__name__)

Message = dict[str, str]
OnReply = Callable[[int, str], None]


def is_endpoint(spec: str) -> bool:
    return spec.startswith(("http://", "https://"))


def normalize_base_url(url: str) -> str:
    """``http://host:8000`` → ``http://host:8000/v1`` (what OpenAI clients call the base URL)."""
    parts = urllib.parse.urlsplit(url.rstrip("/"))
    path = parts.path if parts.path not in ("", "/") else "/v1"
    return urllib.parse.urlunsplit((parts.scheme, parts.netloc, path, "", ""))


class EndpointJudge:
    """A judge behind ``POST {base_url}/chat/completions``."""

    def __init__(self, base_url: str, model: str | None = None, *, api_key_env: str = "OPENAI_API_KEY",
                 max_tokens: int = 64, concurrency: int = 4, timeout: float = 120.0, attempts: int = 4,
                 backoff: float = 0.5) -> None:
        self.base_url = normalize_base_url(base_url)
        self.api_key_env = api_key_env
        self._api_key = os.environ.get(api_key_env) or None
        self.max_tokens, self.concurrency, self.timeout = max_tokens, concurrency, timeout
        self.attempts, self.backoff = attempts, backoff
        self.model = model or self._only_model()
        self.identity = f"openai:{self.base_url}|{self.model}"
        self.decoding = {"temperature": 0.0, "max_tokens": max_tokens}

    def _request(self, method: str, path: str, body: dict[str, Any] | None) -> tuple[int, Any, float | None]:
        """(status, parsed JSON or the error message, Retry-After seconds)."""
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        if self._api_key:
            headers["Authorization"] = f"Bearer {self._api_key}"
        data = json.dumps(body).encode("utf-8") if body is not None else None
        request = urllib.request.Request(self.base_url + path, data=data, headers=headers, method=method)
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                return response.status, json.loads(response.read().decode("utf-8")), None
        except urllib.error.HTTPError as err:
            raw = err.read().decode("utf-8", "replace")
            try:
                message = json.loads(raw)["error"]["message"]
            except (ValueError, KeyError, TypeError):
                message = raw[:200]
            try:
                wait = float(err.headers.get("Retry-After", ""))
            except ValueError:
                wait = None
            return err.code, message, wait

    def _call(self, method: str, path: str, body: dict[str, Any] | None) -> dict[str, Any]:
        """One API call with bounded retries on transient failures."""
        last, wait = "", None
        for attempt in range(self.attempts):
            if attempt:
                time.sleep(min(30.0, max(wait or 0.0, self.backoff * 2 ** (attempt - 1))))
            try:
                status, payload, wait = self._request(method, path, body)
            except (urllib.error.URLError, OSError, ValueError) as err:
                last, wait = f"{type(err).__name__}: {getattr(err, 'reason', err)}", None
                continue
            if status == 200 and isinstance(payload, dict):
                return payload
            last = f"HTTP {status}: {payload}"
            if status not in (408, 409, 429) and status < 500:
                break  # the request itself is wrong (bad model name, bad key): retrying will not help
        hint = f" (the API key is read from ${self.api_key_env})" if last.startswith("HTTP 401") else ""
        raise InputError(f"judge endpoint {self.base_url}{path} failed after {attempt + 1} attempt(s): {last}{hint}")

    def _only_model(self) -> str:
        models = [m.get("id") for m in self._call("GET", "/models", None).get("data", []) if isinstance(m, dict)]
        if len(models) != 1:
            raise InputError(f"judge endpoint {self.base_url} serves {len(models)} models "
                             f"({', '.join(map(str, models[:5]))}); name one with --judge-model")
        return str(models[0])

    def complete(self, messages: list[Message]) -> str:
        payload = self._call("POST", "/chat/completions",
                             {"model": self.model, "messages": messages, **self.decoding})
        try:
            return payload["choices"][0]["message"]["content"] or ""
        except (KeyError, IndexError, TypeError):
            raise InputError(f"judge endpoint {self.base_url} answered without choices[0].message.content") from None

    def complete_many(self, conversations: Sequence[list[Message]], on_reply: OnReply) -> None:
        def one(i: int) -> None:
            on_reply(i, self.complete(conversations[i]))

        with ThreadPoolExecutor(max_workers=self.concurrency, thread_name_prefix="judge") as pool:
            for future in [pool.submit(one, i) for i in range(len(conversations))]:
                future.result()

    def provenance(self) -> dict[str, Any]:
        return {"kind": "endpoint", "base_url": self.base_url, "model": self.model,
                "api_key_env": self.api_key_env, "api_key_set": self._api_key is not None, **self.decoding}


class LocalJudge:
    """A judge model loaded in this process (its chat template renders the conversation)."""

    def __init__(self, options: BackendOptions, *, backend: str = "hf", max_tokens: int = 64, chunk: int = 32) -> None:
        from polyalign.serve.model import ServedModel

        model = options.model
        self.served = ServedModel(backend, options)
        if self.served.template is None:
            raise InputError(f"judge model {model!r} has no chat template; a judge must be a chat model")
        self.max_tokens, self.chunk = max_tokens, chunk
        info = self.served.provenance()
        self.model = model
        # dtype, device and batch size can move greedy outputs: a reply is reused only under the same ones
        knobs = json.dumps({k: v for k, v in flat_fields(options).items() if k != "model"}, sort_keys=True, default=str)
        self.identity = f"local:{backend}:{info.get('model_sha256') or info.get('model_path') or model}:{knobs}"
        self.decoding = {"temperature": 0.0, "max_tokens": max_tokens}
        self._info = info

    def complete_many(self, conversations: Sequence[list[Message]], on_reply: OnReply) -> None:
        prompts = [self.served.render_chat(c) for c in conversations]
        for start in range(0, len(prompts), self.chunk):
            index = range(start, min(start + self.chunk, len(prompts)))
            outputs = self.served.backend.generate([GenRequest(f"judge/{i}", prompts[i], (), self.max_tokens)
                                                    for i in index])
            for i, output in zip(index, outputs):
                on_reply(i, output or "")

    def provenance(self) -> dict[str, Any]:
        return {"kind": "local", **self._info, **self.decoding}
