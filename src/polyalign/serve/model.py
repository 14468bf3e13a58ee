"""What the server needs from a backend besides ``generate``: prompt rendering and token counts.

The backend is built with ``chat=True``: chat prompts are rendered by the model's chat template,
which already holds BOS and friends, so the backend must not add special tokens again. A raw
``/v1/completions`` prompt, however, should start with BOS exactly as ``tokenizer(text)`` would give
it (Llama-2 expects ``<s>``); we prepend the BOS text when the tokenizer would add one. The one
exception is a proxy backend whose models read prompts in their own formats (``--expert-format chat``
…): each model then wraps the plain prompt itself, so only ``/v1/completions`` is offered. Token counts
(``usage``, ``finish_reason: length``) are measured with the backend's tokenizer when it exposes one
and left out otherwise: a made-up count is worse than none.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

from polyalign.errors import InputError
from polyalign.infer.backends import BACKENDS, BackendOptions
from polyalign.infer.backends.options import with_overrides

__all__ = ["ServedModel", "served_options"]


def served_options(options: BackendOptions, overrides: Sequence[str] = ()) -> BackendOptions:
    """``options`` with ``key=value`` overrides (`with_overrides`), prompts rendered by the chat template.

    The overrides reach every field of `BackendOptions`, including those only one backend reads
    (the proxy backend's ``expert``, ``anti_expert``, ``alpha`` …), without the CLI knowing them.
    """
    options = with_overrides(options, overrides)
    per_model_formats = any(fmt != "plain" for fmt in options.proxy.prompt_formats)
    return dataclasses.replace(options, chat=not per_model_formats)


class ServedModel:
    """A backend plus the helpers the HTTP layer needs."""

    def __init__(self, backend_name: str, options: BackendOptions) -> None:
        if backend_name == "replay":
            raise InputError("the replay backend scores stored outputs; it cannot serve new prompts")
        self.backend_name = backend_name
        self.backend = BACKENDS.get(backend_name)(options)
        self.chat = options.chat
        self.template = self.backend.chat_template() if options.chat else None
        self.tokenizer = getattr(self.backend, "tokenizer", None)
        self._bos = self._bos_text() if options.chat else ""  # without chat the backend adds BOS itself

    def _bos_text(self) -> str:
        tok = self.tokenizer
        if tok is None or tok.bos_token_id is None or not tok.bos_token:
            return ""
        with_special = tok("a", add_special_tokens=True)["input_ids"]
        without = tok("a", add_special_tokens=False)["input_ids"]
        return tok.bos_token if with_special[:1] == [tok.bos_token_id] and without[:1] != [tok.bos_token_id] else ""

    def render_chat(self, messages: list[dict[str, str]]) -> str:
        """The conversation through the chat template, ending with the assistant's turn to speak."""
        if not self.chat:
            raise LookupError("the models read plain prompts in their own formats (proxy prompt formats); "
                              "use /v1/completions")
        if self.template is None:
            raise LookupError("this model has no chat template; use /v1/completions")
        return self.template(messages, add_generation_prompt=True)

    def completion_prompt(self, text: str) -> str:
        return self._bos + text

    def count(self, text: str) -> int | None:
        """Tokens in ``text`` as the model sees it (special tokens in the text count; none are added)."""
        if self.tokenizer is None:
            return None
        return len(self.tokenizer(text, add_special_tokens=False)["input_ids"])

    def provenance(self) -> dict[str, Any]:
        return {"backend": self.backend_name, **self.backend.provenance()}
