"""The HTTP layer: a standard-library threading server with three bounds and a clean shutdown.

Bounds, outermost first: (1) at most ``max_connections`` requests are handled at once; more wait in
the kernel's listen backlog (backpressure, not an error); (2) a body larger than ``max_body_bytes``
is answered 413 before it is parsed; (3) generation requests beyond the engine's queue are refused
429 with ``Retry-After``. On shutdown the server stops accepting, answers requests that arrive in
the meantime with 503, finishes every queued generation and joins its threads, so no accepted
request is dropped silently. Every error body has OpenAI's shape (`polyalign.serve.protocol`).
"""

from __future__ import annotations

import json
import logging
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from polyalign.serve import protocol as proto
from polyalign.serve.engine import Engine
from polyalign.serve.protocol import ApiError

__all__ = ["ServerLimits", "ModelServer"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ServerLimits:
    """Request bounds (see the module docstring)."""

    max_body_bytes: int = 1 << 20
    max_connections: int = 64
    max_tokens_limit: int = 2048
    default_max_tokens: int = 256
    max_prompts: int = 16
    read_timeout: float = 30.0


class ModelServer(ThreadingHTTPServer):
    """Serves one model (``served_name``) through `Engine`; ``handler`` answers each request.

    The handler (`polyalign.serve._handler.Handler`: the OpenAI API) is passed in, as to any
    standard-library server, so that it can read this server's state without the two modules
    importing each other.
    """

    daemon_threads = False  # server_close() joins the handler threads: responses are never cut off
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(self, address: tuple[str, int], handler: type[BaseHTTPRequestHandler], model: Any, engine: Engine,
                 served_name: str, limits: ServerLimits = ServerLimits(), api_key: str | None = None) -> None:
        self.model, self.engine, self.served_name, self.limits = model, engine, served_name, limits
        self.api_key = api_key
        self.started = int(time.time())
        self.closing = threading.Event()
        self.counts = {"answered": 0, "refused": 0, "errors": 0}
        self._count_lock = threading.Lock()
        self._slots = threading.BoundedSemaphore(limits.max_connections)
        super().__init__(address, handler)

    def count(self, outcome: str) -> None:
        with self._count_lock:
            self.counts[outcome] += 1

    def begin_shutdown(self) -> None:
        """Stop accepting (non-blocking; safe from a signal handler)."""
        if not self.closing.is_set():
            self.closing.set()
            threading.Thread(target=self.shutdown, name="polyalign-serve-shutdown", daemon=True).start()

    def process_request(self, request: Any, client_address: Any) -> None:
        while not self._slots.acquire(timeout=0.25):  # backpressure: the accept loop waits for a slot
            if self.closing.is_set():
                _refuse_raw(request)
                self.shutdown_request(request)
                return
        try:
            super().process_request(request, client_address)
        except BaseException:
            self._slots.release()
            raise

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        try:
            super().process_request_thread(request, client_address)
        finally:
            self._slots.release()

    def handle_error(self, request: Any, client_address: Any) -> None:
        log.debug("connection from %s ended with an error", client_address, exc_info=True)


def _refuse_raw(sock: Any) -> None:
    body = json.dumps(proto.error_body(ApiError(503, "the server is shutting down", type="server_error",
                                                code="shutting_down"))).encode()
    head = f"HTTP/1.0 503 Service Unavailable\r\nContent-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
    try:
        sock.sendall(head.encode() + body)
    except OSError:
        pass
