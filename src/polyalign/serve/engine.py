"""One worker thread owns the model; HTTP threads hand it requests through a bounded queue.

Why one thread: torch on a CPU already uses every core for one forward pass, and a backend object
(model + KV cache + tokenizer) is not meant to be shared between threads. Why micro-batches: the
``hf`` backend generates a list of prompts in padded batches, so requests that arrive while the
model is busy are answered together in the next pass instead of one by one. Why a bounded queue:
a server that accepts everything answers nothing in time; when the queue is full a request is
refused at once (the HTTP layer turns that into 429) and the client can retry later.
"""

from __future__ import annotations

import logging
import threading
from collections import deque
from collections.abc import Sequence
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any

from polyalign.infer.backends import GenRequest

__all__ = ["Engine", "QueueFull", "Closed"]

log = logging.getLogger(__name__)


class QueueFull(Exception):
    """The queue cannot take the request now (retry later)."""


class Closed(Exception):
    """The engine is shutting down and takes no new work."""


@dataclass
class _Job:
    request: GenRequest
    future: Future


class Engine:
    """Runs ``backend.generate`` on its own thread over micro-batches of queued requests.

    Args:
        backend: any polyalign backend (``generate(list[GenRequest]) -> list[str | None]``).
        max_batch: requests handed to one ``generate`` call (the backend may split them further).
        max_queue: requests allowed to wait; more are refused with `QueueFull`.
    """

    def __init__(self, backend: Any, *, max_batch: int = 8, max_queue: int = 32) -> None:
        if max_batch < 1 or max_queue < 1:
            raise ValueError("max_batch and max_queue must be >= 1")
        self.backend, self.max_batch, self.max_queue = backend, max_batch, max_queue
        self._pending: deque[_Job] = deque()
        self._cond = threading.Condition()
        self._closed = False
        self.batches = 0
        """Number of ``generate`` calls made (micro-batching is visible in tests and logs)."""
        self._worker = threading.Thread(target=self._run, name="polyalign-serve-model", daemon=True)
        self._worker.start()

    def submit(self, requests: Sequence[GenRequest]) -> list[Future]:
        """Queue all of ``requests`` or none (a multi-prompt request is never half accepted)."""
        with self._cond:
            if self._closed:
                raise Closed("the server is shutting down")
            if len(self._pending) + len(requests) > self.max_queue:
                raise QueueFull(f"{len(self._pending)} requests are waiting (limit {self.max_queue})")
            jobs = [_Job(r, Future()) for r in requests]
            self._pending.extend(jobs)
            self._cond.notify()
        return [job.future for job in jobs]

    def waiting(self) -> int:
        with self._cond:
            return len(self._pending)

    def close(self, timeout: float | None = None) -> None:
        """Take no new work, finish what is queued, stop the worker."""
        with self._cond:
            self._closed = True
            self._cond.notify_all()
        self._worker.join(timeout)

    def _next_batch(self) -> list[_Job] | None:
        with self._cond:
            while not self._pending and not self._closed:
                self._cond.wait()
            if not self._pending:
                return None  # closed and drained
            take = min(self.max_batch, len(self._pending))
            return [self._pending.popleft() for _ in range(take)]

    def _run(self) -> None:
        while (batch := self._next_batch()) is not None:
            live = [job for job in batch if job.future.set_running_or_notify_cancel()]
            if not live:
                continue
            self.batches += 1
            try:
                outputs = self.backend.generate([job.request for job in live])
            except BaseException as err:  # noqa: BLE001 - the error belongs to the requests, not the worker
                log.exception("generation failed for %d requests", len(live))
                for job in live:
                    job.future.set_exception(err)
                continue
            for job, output in zip(live, outputs):
                job.future.set_result(output)
