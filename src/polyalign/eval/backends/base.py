"""The backend interface the runner talks to, and the options every backend is built from."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

__all__ = ["Backend", "BackendOptions", "GenRequest", "ChatTemplate"]

ChatTemplate = Callable[..., str]
"""lm-eval's chat-template hook: ``(messages, add_generation_prompt=True) -> prompt text``."""


@dataclass(frozen=True)
class GenRequest:
    """One generation: the example id (replay looks outputs up by it), the prompt and its limits."""

    id: str
    prompt: str
    until: tuple[str, ...]
    max_new_tokens: int


@dataclass(frozen=True)
class BackendOptions:
    """Everything a backend may need; each backend reads the fields it uses."""

    model: str | None = None
    """Zoo name, local folder or hub id (`polyalign.models.resolve_model`)."""
    batch_size: int = 8
    dtype: str = "float32"
    device: str = "cpu"
    seed: int = 0
    chat: bool = False
    """Prompts are rendered by the model's chat template (which already holds BOS and friends)."""
    predictions: str | None = None
    """Replay: the predictions JSONL."""
    temperature: float = 0.0
    """0 = greedy (evaluation always); ``polyalign generate`` may sample with backends that set
    ``sampling = True``."""
    top_p: float = 1.0
    """Nucleus sampling mass (sampling only)."""
    expert: str | None = None
    """Proxy: the small aligned expert (``model`` is the large base)."""
    anti_expert: str | None = None
    """Proxy: the small unaligned anti-expert."""
    alpha: float = 1.0
    """Proxy: scores are ``s_base + alpha * (s_expert - s_anti_expert)``."""
    prompt_formats: tuple[str, str, str] = ("plain", "plain", "plain")
    """Proxy: how base, expert and anti-expert read a prompt: plain, chat or a ``{prompt}`` template."""
    small_dtype: str | None = None
    """Proxy: dtype of the expert and anti-expert; None = ``dtype``."""
    small_device: str | None = None
    """Proxy: device (map) of the expert and anti-expert; None = ``device``."""


class Backend(Protocol):
    """What ``polyalign eval`` needs from a backend.

    A backend that replays stored outputs may also define ``check_ids(sizes, known_tasks) -> int``
    (see `polyalign.eval.backends.replay.ReplayBackend`); the runner calls it before scoring. A
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
