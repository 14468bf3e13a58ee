"""The OpenAI wire format: request bodies → what to generate, outputs → response bodies, errors.

Pure functions, no sockets, so every rule is testable on its own. What is accepted follows the
OpenAI API reference for ``/v1/chat/completions`` and ``/v1/completions``; what polyalign's backends
cannot do is refused with a 400 rather than ignored where ignoring would change the meaning of the
answer (``n > 1``, ``logprobs``, ``echo``, token-id prompts). Sampling parameters (``temperature``,
``top_p``, ``seed`` …) are accepted and ignored: the backends decode greedily, which is what an
evaluation or a judge wants, and many clients send a temperature by default.
"""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import dataclass
from typing import Any

__all__ = ["ApiError", "Completion", "parse_chat", "parse_completion", "error_body", "chat_response",
           "completion_response", "chat_stream_events", "completion_stream_events", "models_body"]

_ROLES = ("system", "user", "assistant", "developer")
_MAX_STOPS = 16


class ApiError(Exception):
    """An HTTP error in OpenAI's shape: ``{"error": {"message", "type", "param", "code"}}``."""

    def __init__(self, status: int, message: str, *, type: str = "invalid_request_error",  # noqa: A002 - OpenAI's name
                 code: str | None = None, param: str | None = None) -> None:
        super().__init__(message)
        self.status, self.message, self.type, self.code, self.param = status, message, type, code, param


@dataclass(frozen=True)
class Completion:
    """A validated request: what to generate and how to answer."""

    model: str
    messages: list[dict[str, str]] | None
    """Chat requests: the conversation (rendered by the model's chat template later)."""
    prompts: list[str]
    """Completion requests: one or more raw prompts (one choice each)."""
    max_tokens: int
    stop: tuple[str, ...]
    stream: bool
    include_usage: bool


def error_body(err: ApiError) -> dict[str, Any]:
    return {"error": {"message": err.message, "type": err.type, "param": err.param, "code": err.code}}


def _common(body: Any, served: str, *, default_max_tokens: int, max_tokens_limit: int) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise ApiError(400, "the request body must be a JSON object")
    model = body.get("model")
    if not isinstance(model, str) or not model:
        raise ApiError(400, "you must provide a model parameter", param="model")
    if model != served:
        raise ApiError(404, f"The model '{model}' does not exist; this server serves '{served}'",
                       code="model_not_found", param="model")
    for name in ("n", "best_of"):
        if body.get(name) not in (None, 1):
            raise ApiError(400, f"{name} > 1 is not supported: generation is greedy, every choice would be the same",
                           param=name)
    for name in ("logprobs", "top_logprobs", "echo", "suffix", "tools", "functions"):
        if body.get(name) not in (None, False, 0, []):
            raise ApiError(400, f"{name} is not supported by this server", param=name)
    limit = body.get("max_completion_tokens", body.get("max_tokens"))
    if limit is None:
        limit = min(default_max_tokens, max_tokens_limit)
    if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
        raise ApiError(400, "max_tokens must be a positive integer", param="max_tokens")
    if limit > max_tokens_limit:
        raise ApiError(400, f"max_tokens {limit} exceeds this server's limit of {max_tokens_limit}",
                       param="max_tokens")
    stop = body.get("stop")
    stops = [stop] if isinstance(stop, str) else stop if stop is not None else []
    if not isinstance(stops, list) or not all(isinstance(s, str) for s in stops) or len(stops) > _MAX_STOPS:
        raise ApiError(400, f"stop must be a string or a list of at most {_MAX_STOPS} strings", param="stop")
    stream = body.get("stream", False)
    if not isinstance(stream, bool):
        raise ApiError(400, "stream must be true or false", param="stream")
    options = body.get("stream_options") or {}
    include_usage = bool(isinstance(options, dict) and options.get("include_usage"))
    return {"model": model, "max_tokens": limit, "stop": tuple(s for s in stops if s), "stream": stream,
            "include_usage": include_usage}


def _content(value: Any, index: int) -> str:
    """Message content: a string, or a list of text parts (images and audio are refused)."""
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        texts = []
        for part in value:
            if not isinstance(part, dict) or part.get("type") != "text" or not isinstance(part.get("text"), str):
                raise ApiError(400, "only text content parts are supported", param=f"messages[{index}].content")
            texts.append(part["text"])
        return "".join(texts)
    raise ApiError(400, "message content must be a string or a list of text parts", param=f"messages[{index}].content")


def parse_chat(body: Any, served: str, *, default_max_tokens: int, max_tokens_limit: int) -> Completion:
    """Validate a ``/v1/chat/completions`` body."""
    common = _common(body, served, default_max_tokens=default_max_tokens, max_tokens_limit=max_tokens_limit)
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        raise ApiError(400, "messages must be a non-empty list", param="messages")
    clean = []
    for i, message in enumerate(messages):
        if not isinstance(message, dict) or message.get("role") not in _ROLES:
            raise ApiError(400, f"each message needs a role ({', '.join(_ROLES)})", param=f"messages[{i}].role")
        role = "system" if message["role"] == "developer" else message["role"]
        clean.append({"role": role, "content": _content(message.get("content"), i)})
    return Completion(messages=clean, prompts=[], **common)


def parse_completion(body: Any, served: str, *, default_max_tokens: int, max_tokens_limit: int,
                     max_prompts: int) -> Completion:
    """Validate a ``/v1/completions`` body (a prompt string or a list of them)."""
    common = _common(body, served, default_max_tokens=default_max_tokens, max_tokens_limit=max_tokens_limit)
    prompt = body.get("prompt")
    prompts = [prompt] if isinstance(prompt, str) else prompt
    if not isinstance(prompts, list) or not prompts or not all(isinstance(p, str) for p in prompts):
        raise ApiError(400, "prompt must be a string or a non-empty list of strings (token ids are not supported)",
                       param="prompt")
    if len(prompts) > max_prompts:
        raise ApiError(400, f"at most {max_prompts} prompts per request", param="prompt")
    return Completion(messages=None, prompts=prompts, **common)


def _usage(prompt_tokens: int | None, completion_tokens: list[int | None]) -> dict[str, int] | None:
    if prompt_tokens is None or any(c is None for c in completion_tokens):
        return None  # the backend exposes no tokenizer: report nothing rather than a guess
    done = sum(c for c in completion_tokens if c is not None)
    return {"prompt_tokens": prompt_tokens, "completion_tokens": done, "total_tokens": prompt_tokens + done}


def _finish(tokens: int | None, limit: int) -> str:
    return "length" if tokens is not None and tokens >= limit else "stop"


def _with_usage(body: dict[str, Any], usage: dict[str, int] | None) -> dict[str, Any]:
    if usage is not None:
        body["usage"] = usage
    return body


def chat_response(req: Completion, text: str, prompt_tokens: int | None, tokens: int | None) -> dict[str, Any]:
    body = {"id": f"chatcmpl-{uuid.uuid4().hex}", "object": "chat.completion", "created": int(time.time()),
            "model": req.model,
            "choices": [{"index": 0, "message": {"role": "assistant", "content": text},
                         "finish_reason": _finish(tokens, req.max_tokens), "logprobs": None}]}
    return _with_usage(body, _usage(prompt_tokens, [tokens]))


def completion_response(req: Completion, texts: list[str], prompt_tokens: int | None,
                        tokens: list[int | None]) -> dict[str, Any]:
    body = {"id": f"cmpl-{uuid.uuid4().hex}", "object": "text_completion", "created": int(time.time()),
            "model": req.model,
            "choices": [{"index": i, "text": t, "finish_reason": _finish(n, req.max_tokens), "logprobs": None}
                        for i, (t, n) in enumerate(zip(texts, tokens))]}
    return _with_usage(body, _usage(prompt_tokens, tokens))


def _sse(payload: dict[str, Any] | str) -> bytes:
    data = payload if isinstance(payload, str) else json.dumps(payload, ensure_ascii=False)
    return f"data: {data}\n\n".encode("utf-8")


def chat_stream_events(req: Completion, text: str, prompt_tokens: int | None, tokens: int | None) -> list[bytes]:
    """Server-sent events of a finished chat completion: role, the text in one delta, the finish, [DONE]."""
    head = {"id": f"chatcmpl-{uuid.uuid4().hex}", "object": "chat.completion.chunk", "created": int(time.time()),
            "model": req.model}
    events = [_sse({**head, "choices": [{"index": 0, "delta": {"role": "assistant", "content": ""},
                                         "finish_reason": None}]}),
              _sse({**head, "choices": [{"index": 0, "delta": {"content": text}, "finish_reason": None}]}),
              _sse({**head, "choices": [{"index": 0, "delta": {}, "finish_reason": _finish(tokens, req.max_tokens)}]})]
    usage = _usage(prompt_tokens, [tokens])
    if req.include_usage and usage is not None:
        events.append(_sse({**head, "choices": [], "usage": usage}))
    return events + [_sse("[DONE]")]


def completion_stream_events(req: Completion, texts: list[str], prompt_tokens: int | None,
                             tokens: list[int | None]) -> list[bytes]:
    head = {"id": f"cmpl-{uuid.uuid4().hex}", "object": "text_completion", "created": int(time.time()),
            "model": req.model}
    events = [_sse({**head, "choices": [{"index": i, "text": t, "finish_reason": _finish(n, req.max_tokens),
                                         "logprobs": None}]}) for i, (t, n) in enumerate(zip(texts, tokens))]
    usage = _usage(prompt_tokens, tokens)
    if req.include_usage and usage is not None:
        events.append(_sse({**head, "choices": [], "usage": usage}))
    return events + [_sse("[DONE]")]


def models_body(served: str, created: int) -> dict[str, Any]:
    return {"object": "list", "data": [{"id": served, "object": "model", "created": created, "owned_by": "polyalign"}]}
