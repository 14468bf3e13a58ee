"""The models that decode together: each with its tokenizer, prompt format and device; the shared vocabulary.

Proxy-tuning (QAlign broadened, docs/methods.md) combines next-token scores of models that
must agree on what every id means. Checkpoints of one family still differ in size: fine-tuned LLaMA
adds a ``<pad>`` row at 32,000, and some checkpoints pad their output matrix beyond the tokenizer.
So the shared range is the smallest (tokenizer size, output rows) over the members; token strings
must be identical over it; every member's scores are cut to it, so an id outside it is never emitted.

Each member renders the prompt in its own format (the paper's setting: the aligned expert may expect
its chat template while the base model reads plain text); the generated tokens are shared.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from polyalign.errors import InputError

__all__ = ["Member", "PROMPT_FORMATS", "check_prompt_format", "compare_vocab", "shared_vocab_size"]

log = logging.getLogger(__name__)

PROMPT_FORMATS = ("plain", "chat")
"""Named prompt formats; any other format is a template string containing ``{prompt}``."""


def check_prompt_format(fmt: str, *, what: str = "prompt format") -> str:
    """Return ``fmt`` if it is ``plain``, ``chat`` or a template containing ``{prompt}``; else InputError."""
    if fmt in PROMPT_FORMATS or "{prompt}" in fmt:
        return fmt
    raise InputError(f"{what} must be plain, chat or a template containing {{prompt}}, got {fmt!r}")


@dataclass
class Member:
    """One model of a lockstep decode."""

    name: str
    """Its role in messages and provenance (``base``, ``expert``, ``anti-expert``)."""
    model: Any
    """A transformers causal LM in eval mode (any device; ``device_map`` sharding is fine)."""
    tokenizer: Any
    """Its tokenizer."""
    prompt_format: str = "plain"
    """``plain`` (the prompt as given), ``chat`` (the prompt as one user turn in this tokenizer's chat
    template, generation prompt added) or a template such as ``"### Question: {prompt}\\n### Answer:"``."""
    path: str | None = None
    """Where it was loaded from (messages, provenance)."""

    def __post_init__(self) -> None:
        check_prompt_format(self.prompt_format, what=f"the {self.name} prompt format")
        if self.prompt_format == "chat" and not getattr(self.tokenizer, "chat_template", None):
            raise InputError(f"the {self.name} model has no chat template, so its prompt format cannot be chat",
                             where=self.path)

    def render(self, prompt: str) -> str:
        """The prompt text this member reads."""
        if self.prompt_format == "plain":
            return prompt
        if self.prompt_format == "chat":
            return self.tokenizer.apply_chat_template([{"role": "user", "content": prompt}], tokenize=False,
                                                      add_generation_prompt=True)
        return self.prompt_format.replace("{prompt}", prompt)

    def encode(self, prompt: str, add_special_tokens: bool = True) -> list[int]:
        """Token ids of the rendered prompt (a chat rendering already holds its special tokens)."""
        special = add_special_tokens and self.prompt_format != "chat"
        return list(self.tokenizer(self.render(prompt), add_special_tokens=special)["input_ids"])

    @property
    def input_device(self) -> Any:
        """Where input ids go (the embedding's device; with ``device_map`` the first shard)."""
        return self.model.get_input_embeddings().weight.device

    @property
    def pad_id(self) -> int:
        """Padding id for this member's inputs (masked out, so any valid id works)."""
        tok = self.tokenizer
        for candidate in (tok.pad_token_id, tok.eos_token_id, 0):
            if candidate is not None:
                return int(candidate)
        return 0

    @property
    def rows(self) -> int:
        """Rows of the output matrix (may exceed the tokenizer: padding rows, an added ``<pad>``)."""
        head = self.model.get_output_embeddings()
        return int(head.weight.shape[0]) if head is not None else int(self.model.config.vocab_size)


def compare_vocab(names: Sequence[str], tokenizers: Sequence[Any], size: int) -> None:
    """Token strings of ids ``0..size-1`` must be identical in every tokenizer (the first is the reference).

    Raises:
        InputError: naming the first id that differs and how many differ.
    """
    ids = list(range(size))
    reference = tokenizers[0].convert_ids_to_tokens(ids)
    for name, tok in zip(names[1:], tokenizers[1:]):
        tokens = tok.convert_ids_to_tokens(ids)
        differ = [i for i, (a, b) in enumerate(zip(reference, tokens)) if a != b]
        if differ:
            i = differ[0]
            raise InputError(f"the {name} tokenizer differs from the {names[0]}'s: id {i} is {tokens[i]!r}, "
                             f"not {reference[i]!r} ({len(differ)} of {size} shared ids differ); proxy-tuning "
                             "needs the same vocabulary in every model")


def shared_vocab_size(members: Sequence[Member]) -> int:
    """The id range every member can score and whose token strings agree (see the module docstring).

    Raises:
        InputError: tokenizers that differ over the shared range.
    """
    sizes = [min(len(m.tokenizer), m.rows) for m in members]
    shared = min(sizes)
    compare_vocab([m.name for m in members], [m.tokenizer for m in members], shared)
    for m in members:
        extra = max(len(m.tokenizer), m.rows) - shared
        if extra:
            log.info("%s: %d ids beyond the shared vocabulary (%d) are cut and never emitted", m.name, extra, shared)
    return shared
