"""The request handler of `polyalign.serve.server.ModelServer`: routing, body limits, answers.

Every failure becomes an `ApiError` and leaves as a JSON body in OpenAI's shape; an unexpected one is
logged and answered 500, and the server keeps running.
"""

from __future__ import annotations

import hmac
import json
import logging
import uuid
from concurrent.futures import Future
from http.server import BaseHTTPRequestHandler
from typing import Any, Callable

from polyalign.infer.backends import GenRequest
from polyalign.serve import protocol as proto
from polyalign.serve.engine import Closed, QueueFull
from polyalign.serve.protocol import ApiError
from polyalign.serve.server import ModelServer

__all__ = ["Handler"]

log = logging.getLogger("polyalign.serve.server")


class Handler(BaseHTTPRequestHandler):
    server: ModelServer
    protocol_version = "HTTP/1.0"  # one request per connection: a thread is never parked on an idle client
    server_version = "polyalign-serve"

    def setup(self) -> None:
        self.timeout = self.server.limits.read_timeout  # slow or stalled clients cannot hold a slot forever
        super().setup()

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base class's name
        log.debug("%s %s", self.address_string(), format % args)

    def do_GET(self) -> None:
        self._dispatch(self._get, read_body=False)

    def do_POST(self) -> None:
        self._dispatch(self._post, read_body=True)

    def _dispatch(self, handler: Callable[[bytes], None], *, read_body: bool) -> None:
        try:
            # The body is read before any refusal: closing a socket with unread data makes the kernel
            # send a reset, and the client might then never see our answer.
            body = self._read_body() if read_body else b""
            if self.path.rstrip("/") != "/health":
                self._check_key()
            handler(body)
        except ApiError as err:
            self.server.count("refused" if err.status in (429, 503) else "errors")
            retry = {"Retry-After": "1"} if err.status in (429, 503) else {}
            self._send_json(err.status, proto.error_body(err), retry)
        except Exception as err:  # noqa: BLE001 - any bug becomes a 500 JSON answer, the server lives on
            log.exception("internal error on %s", self.path)
            self.server.count("errors")
            self._send_json(500, proto.error_body(ApiError(500, f"internal error: {type(err).__name__}: {err}",
                                                           type="server_error")))

    def _check_key(self) -> None:
        key = self.server.api_key
        if key is None:
            return
        given = self.headers.get("Authorization", "")
        if not hmac.compare_digest(given.encode(), f"Bearer {key}".encode()):
            raise ApiError(401, "invalid or missing API key (Authorization: Bearer ...)",
                           type="authentication_error", code="invalid_api_key")

    def _get(self, body: bytes) -> None:
        path = self.path.split("?", 1)[0].rstrip("/")
        name = self.server.served_name
        if path == "/health":
            counts = dict(self.server.counts)
            self._send_json(200, {"status": "shutting_down" if self.server.closing.is_set() else "ok",
                                  "waiting": self.server.engine.waiting(), "batches": self.server.engine.batches,
                                  **counts})
        elif path == "/v1/models":
            self._send_json(200, proto.models_body(name, self.server.started))
        elif path.startswith("/v1/models/"):
            asked = path[len("/v1/models/"):]
            if asked != name:
                raise ApiError(404, f"The model '{asked}' does not exist", code="model_not_found", param="model")
            self._send_json(200, proto.models_body(name, self.server.started)["data"][0])
        else:
            raise ApiError(404, f"no such endpoint: GET {path}", code="not_found")

    def _read_body(self) -> bytes:
        if self.headers.get("Transfer-Encoding"):
            raise ApiError(411, "send the body with a Content-Length (chunked bodies are not accepted)")
        raw = self.headers.get("Content-Length")
        if raw is None:
            raise ApiError(411, "a Content-Length header is required")
        try:
            length = int(raw)
        except ValueError:
            raise ApiError(400, f"bad Content-Length {raw!r}") from None
        limit = self.server.limits.max_body_bytes
        if length > limit:
            self._drain(length)
            raise ApiError(413, f"request body of {length} bytes exceeds the limit of {limit} bytes",
                           code="request_too_large")
        return self.rfile.read(length)

    def _drain(self, length: int) -> None:
        """Read (and drop) a refused body, so the client gets our 413 rather than a connection reset."""
        left = min(length, 64 * self.server.limits.max_body_bytes)
        self.connection.settimeout(2.0)
        try:
            while left > 0 and (chunk := self.rfile.read(min(left, 1 << 16))):
                left -= len(chunk)
        except OSError:
            pass

    def _post(self, raw: bytes) -> None:
        path = self.path.split("?", 1)[0].rstrip("/")
        if path not in ("/v1/chat/completions", "/v1/completions"):
            raise ApiError(404, f"no such endpoint: POST {path}", code="not_found")
        try:
            body = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, ValueError) as err:
            raise ApiError(400, f"malformed JSON body: {err}") from None
        limits, model = self.server.limits, self.server.model
        common = {"default_max_tokens": limits.default_max_tokens, "max_tokens_limit": limits.max_tokens_limit}
        chat = path == "/v1/chat/completions"
        if chat:
            req = proto.parse_chat(body, self.server.served_name, **common)
            try:
                prompts = [model.render_chat(req.messages)]
            except LookupError as err:
                raise ApiError(400, str(err)) from None
            except Exception as err:  # noqa: BLE001 - a template may reject a conversation (roles, order)
                raise ApiError(400, f"the chat template rejected the messages: {err}", param="messages") from None
        else:
            req = proto.parse_completion(body, self.server.served_name, max_prompts=limits.max_prompts, **common)
            prompts = [model.completion_prompt(p) for p in req.prompts]
        texts = self._generate(prompts, req)
        prompt_tokens = _sum([model.count(p) for p in prompts])
        tokens = [model.count(t) for t in texts]
        # Counted before the answer is written, like refusals and errors: a client that reads /health
        # right after its answer arrives must already see it counted.
        self.server.count("answered")
        if chat and req.stream:
            self._send_events(proto.chat_stream_events(req, texts[0], prompt_tokens, tokens[0]))
        elif chat:
            self._send_json(200, proto.chat_response(req, texts[0], prompt_tokens, tokens[0]))
        elif req.stream:
            self._send_events(proto.completion_stream_events(req, texts, prompt_tokens, tokens))
        else:
            self._send_json(200, proto.completion_response(req, texts, prompt_tokens, tokens))

    def _generate(self, prompts: list[str], req: proto.Completion) -> list[str]:
        if self.server.closing.is_set():
            raise ApiError(503, "the server is shutting down", type="server_error", code="shutting_down")
        requests = [GenRequest(uuid.uuid4().hex, p, req.stop, req.max_tokens) for p in prompts]
        try:
            futures: list[Future] = self.server.engine.submit(requests)
        except QueueFull as err:
            raise ApiError(429, f"the server is busy ({err}); retry later", type="rate_limit_error",
                           code="queue_full") from None
        except Closed:
            raise ApiError(503, "the server is shutting down", type="server_error", code="shutting_down") from None
        outputs = [f.result() for f in futures]
        if any(o is None for o in outputs):
            raise ApiError(500, "the backend returned no output", type="server_error")
        return [str(o) for o in outputs]

    def _send_json(self, status: int, payload: dict[str, Any], headers: dict[str, str] | None = None) -> None:
        data = json.dumps(payload, ensure_ascii=False).encode("utf-8")
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            for key, value in (headers or {}).items():
                self.send_header(key, value)
            self.end_headers()
            self.wfile.write(data)
        except OSError:
            log.debug("client went away before the %d response", status)

    def _send_events(self, events: list[bytes]) -> None:
        try:
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream; charset=utf-8")
            self.send_header("Cache-Control", "no-cache")
            self.end_headers()
            for event in events:
                self.wfile.write(event)
                self.wfile.flush()
        except OSError:
            log.debug("client went away during the stream")


def _sum(values: list[int | None]) -> int | None:
    return None if any(v is None for v in values) else sum(v for v in values if v is not None)
