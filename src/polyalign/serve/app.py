"""``polyalign serve`` from top to bottom: load the backend → start the worker → serve → shut down.

SIGINT and SIGTERM both mean "stop cleanly": the listening socket closes, requests already accepted
are finished (queued generations included), then the process exits 0. A second signal while
draining falls back to the default behaviour (immediate stop).
"""

from __future__ import annotations

import logging
import signal
import sys
import threading
from typing import Any, TextIO

from polyalign.errors import InputError
from polyalign.infer.backends import BackendOptions
from polyalign.serve._handler import Handler
from polyalign.serve.engine import Engine
from polyalign.serve.model import ServedModel
from polyalign.serve.server import ModelServer, ServerLimits

__all__ = ["run_server", "start_server", "stop_server"]

log = logging.getLogger(__name__)


def start_server(model: ServedModel, *, served_name: str, host: str = "127.0.0.1", port: int = 8000,
                 max_batch: int = 8, max_queue: int = 32, limits: ServerLimits = ServerLimits(),
                 api_key: str | None = None) -> ModelServer:
    """Bind the socket and start the model worker; the caller runs ``serve_forever``."""
    engine = Engine(model.backend, max_batch=max_batch, max_queue=max_queue)
    try:
        return ModelServer((host, port), Handler, model, engine, served_name, limits, api_key)
    except OSError as err:
        engine.close()
        raise InputError(f"cannot listen on {host}:{port}: {err.strerror or err}") from None


def stop_server(server: ModelServer, timeout: float | None = None) -> None:
    """After ``serve_forever`` returned: finish queued work, join every handler thread, close."""
    server.closing.set()
    server.engine.close(timeout)
    server.server_close()


def run_server(backend: str, options: BackendOptions, *, served_name: str | None = None, host: str = "127.0.0.1",
               port: int = 8000, max_batch: int = 8, max_queue: int = 32, limits: ServerLimits = ServerLimits(),
               api_key: str | None = None, out: TextIO = sys.stdout) -> dict[str, Any]:
    """Serve until SIGINT/SIGTERM; returns the request counts."""
    model = ServedModel(backend, options)
    name = served_name or options.model or backend
    server = start_server(model, served_name=name, host=host, port=port, max_batch=max_batch,
                          max_queue=max_queue, limits=limits, api_key=api_key)
    bound_host, bound_port = server.server_address[:2]
    previous = _install_signals(server)
    try:
        print(f"polyalign serve: {name} ({backend}) on http://{bound_host}:{bound_port}/v1", file=out, flush=True)
        if model.template is None:
            log.warning("%s: no chat template in use: /v1/chat/completions will answer 400", name)
        if host not in ("127.0.0.1", "localhost", "::1") and api_key is None:
            log.warning("listening on %s without an API key (--api-key-env): anyone who can reach it can use it", host)
        server.serve_forever(poll_interval=0.2)
    finally:
        print("polyalign serve: stopping (finishing accepted requests)", file=out, flush=True)
        stop_server(server)
        _restore_signals(previous)
    counts = dict(server.counts, batches=server.engine.batches)
    print(f"polyalign serve: stopped; answered {counts['answered']}, refused {counts['refused']}, "
          f"errors {counts['errors']}, {counts['batches']} generate calls", file=out, flush=True)
    return counts


def _install_signals(server: ModelServer) -> dict[int, Any]:
    if threading.current_thread() is not threading.main_thread():
        return {}  # signals can only be handled on the main thread (tests run servers in threads)
    previous: dict[int, Any] = {}

    def stop(signum: int, frame: Any) -> None:
        log.info("received %s: shutting down", signal.Signals(signum).name)
        _restore_signals(previous)  # a second signal stops at once
        server.begin_shutdown()

    for signum in (signal.SIGINT, signal.SIGTERM):
        previous[signum] = signal.signal(signum, stop)
    return previous


def _restore_signals(previous: dict[int, Any]) -> None:
    for signum, handler in previous.items():
        signal.signal(signum, handler)
