"""Prompt templates: the papers' Alpaca prompt, and a model's own chat template.

The Alpaca strings are byte-for-byte those of Stanford Alpaca, which x-LLaMA and QAlign train and
evaluate with (QAlign ``finetune.py``: ``PROMPT_DICT``). The response follows ``### Response:``
directly, with no space or newline, exactly as those training scripts concatenate source and target;
the end-of-sequence token is appended at training time, not stored in the data.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from polyalign.errors import InputError

__all__ = ["ALPACA_PROMPT_INPUT", "ALPACA_PROMPT_NO_INPUT", "TemplateName", "render_alpaca", "PromptRenderer"]

ALPACA_PROMPT_INPUT = (
    "Below is an instruction that describes a task, paired with an input that provides further context. "
    "Write a response that appropriately completes the request.\n\n"
    "### Instruction:\n{instruction}\n\n### Input:\n{input}\n\n### Response:"
)
ALPACA_PROMPT_NO_INPUT = (
    "Below is an instruction that describes a task. "
    "Write a response that appropriately completes the request.\n\n"
    "### Instruction:\n{instruction}\n\n### Response:"
)

TemplateName = Literal["alpaca", "chat", "raw"]


def render_alpaca(instruction: str, input: str = "") -> str:  # noqa: A002 - the papers' field name
    """The Alpaca prompt; the no-input variant when ``input`` is empty (as the original code decides)."""
    if input != "":
        return ALPACA_PROMPT_INPUT.format_map({"instruction": instruction, "input": input})
    return ALPACA_PROMPT_NO_INPUT.format_map({"instruction": instruction})


@dataclass
class PromptRenderer:
    """Renders (instruction, input) into the prompt string of the chosen template.

    ``alpaca``: the papers' prompt. ``chat``: the tokenizer's chat template with one user turn holding
    the instruction (and the input after a blank line) and the generation prompt appended; note that
    some templates (SmolLM2's) insert a default system message when none is given. ``raw``: the
    instruction and input joined by a blank line, no wrapping.
    """

    template: TemplateName = "alpaca"
    tokenizer: Any = None
    system_prompt: str | None = None

    def __post_init__(self) -> None:
        if self.template == "chat":
            if self.tokenizer is None:
                raise InputError("template 'chat' needs a tokenizer (set `tokenizer`)")
            if not getattr(self.tokenizer, "chat_template", None):
                raise InputError(f"tokenizer {getattr(self.tokenizer, 'name_or_path', '?')!r} has no chat template; "
                                 "use template: alpaca")

    def __call__(self, instruction: str, input: str = "") -> str:  # noqa: A002
        if self.template == "alpaca":
            return render_alpaca(instruction, input)
        user = f"{instruction}\n\n{input}" if input else instruction
        if self.template == "raw":
            return user
        messages = [{"role": "system", "content": self.system_prompt}] if self.system_prompt else []
        messages.append({"role": "user", "content": user})
        return self.tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
