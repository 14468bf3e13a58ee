"""The backend interface callers talk to, and the request it answers (options: `polyalign.infer.backends.options`)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

__all__ = ["Backend", "GenRequest", "ChatTemplate"]

ChatTemplate = Callable[..., str]
"""lm-eval's chat-template hook: ``(messages, add_generation_prompt=True) -> prompt text``."""


@dataclass(frozen=True)
class GenRequest:
    """One generation: the example id (replay looks outputs up by it), the prompt and its limits."""

    id: str
    prompt: str
    until: tuple[str, ...]
    max_new_tokens: int


class Backend(Protocol):
    """What evaluation, ``polyalign generate``, the server and the judge need from a backend.

    A backend that replays stored outputs may also define ``check_ids(sizes, known_tasks) -> int``
    (evaluation's ``replay``); the evaluation runner calls it before scoring. A
    backend whose ``generate`` honours ``BackendOptions.temperature``/``top_p`` sets the class
    attribute ``sampling = True`` (``polyalign generate`` refuses to sample with any other).
    """

    name: str

    def generate(self, requests: Sequence[GenRequest]) -> list[str | None]:
        """Greedy outputs in request order; None = no output for this example (counted as skipped)."""
        ...

    def loglikelihood(self, pairs: Sequence[tuple[str, str]]) -> list[tuple[float, bool]]:
        """(log-likelihood of continuation given context, is greedy) per pair."""
        ...

    def chat_template(self) -> ChatTemplate | None:
        """The model's chat template as lm-eval's hook, or None when there is none."""
        ...

    def provenance(self) -> dict[str, Any]:
        """Model path/id and hash, dtype, device, batch size and anything else that moves results."""
        ...
