"""Response alignment, QAlign stage II (docs/methods.md): English task data → instruction data.

Styles, by the shape of the source:
- ``metamath``: MetaMathQA ``query`` → instruction, ``response`` → output, unchanged.
- ``gsm8k``: GSM8K ``question`` / ``answer``; the calculator annotations ``<<48/2=24>>`` are removed
  and the final ``#### 72`` becomes MetaMath's "The answer is: 72" (both configurable), so that the
  chain of thought reads as text and ends the way the evaluation's last-number rule expects.
- ``code``: ``question`` + a Python program → a fenced ``python`` block that prints the answer
  (program-of-thought; the evaluation executes it).
- ``choice``: commonsense multiple choice: ``question``, ``choices`` (a list, or HF's
  ``{"label": [...], "text": [...]}``), ``answer`` (a letter or a 0-based index), optional
  ``rationale``; output "The answer is (B)." after the rationale when there is one.
"""

from __future__ import annotations

import re
import string
from dataclasses import dataclass
from typing import Any, Iterator, Literal

from polyalign.data.builders.base import Builder, Instruction, Sample, clean
from polyalign.errors import InputError

__all__ = ["ResponseAlignmentBuilder", "ResponseAlignmentOptions", "format_choices"]

_CALCULATOR = re.compile(r"<<[^<>]*>>")
_GSM8K_FINAL = re.compile(r"\n?####\s*(.+?)\s*$")
_FIELDS = {
    "metamath": (["query", "response"], []),
    "gsm8k": (["question", "answer"], []),
    "code": (["question", "code"], []),
    "choice": (["question", "choices", "answer"], ["rationale"]),
}


@dataclass
class ResponseAlignmentOptions:
    style: Literal["metamath", "gsm8k", "code", "choice"] = "metamath"
    """The shape of the source data (see the module doc)."""
    calculator_annotations: Literal["strip", "keep"] = "strip"
    """gsm8k: remove or keep ``<<a*b=c>>`` annotations."""
    final_answer: Literal["metamath", "keep"] = "metamath"
    """gsm8k: rewrite ``#### N`` as "The answer is: N" (metamath) or leave it."""
    code_instruction: str = "Write a Python program that solves the problem and prints the final answer."
    """code: appended to the question after a blank line."""
    rationale: bool = True
    """choice: put the rationale (when the record has one) before the answer."""


def format_choices(choices: list[str]) -> str:
    """``Answer Choices: (A) x (B) y …`` – the usual CSQA chain-of-thought layout."""
    return "Answer Choices: " + " ".join(f"({letter}) {text}" for letter, text in zip(string.ascii_uppercase, choices))


class ResponseAlignmentBuilder(Builder):
    name = "response_alignment"
    version = "1"
    Options = ResponseAlignmentOptions
    options: ResponseAlignmentOptions

    def fields(self) -> tuple[list[str], list[str]]:
        required, optional = _FIELDS[self.options.style]
        return list(required), list(optional)

    def build(self, record: dict[str, Any], index: int) -> Iterator[tuple[str, Sample]]:
        sample = getattr(self, f"_{self.options.style}")(record)
        if sample is not None and sample.instruction and sample.output:
            yield "", sample

    def _metamath(self, record: dict[str, Any]) -> Instruction:
        return Instruction(clean(record["query"]), "", clean(record["response"]))

    def _gsm8k(self, record: dict[str, Any]) -> Instruction:
        answer = clean(record["answer"])
        if self.options.calculator_annotations == "strip":
            answer = _CALCULATOR.sub("", answer)
        if self.options.final_answer == "metamath":
            answer = _GSM8K_FINAL.sub(lambda m: f"\nThe answer is: {m.group(1)}", answer)
        return Instruction(clean(record["question"]), "", answer.strip())

    def _code(self, record: dict[str, Any]) -> Instruction:
        code = str(record["code"] or "").strip("\n")
        if not code.strip():
            return Instruction("", "", "")
        question = clean(record["question"])
        instruction = f"{question}\n\n{self.options.code_instruction}" if self.options.code_instruction else question
        return Instruction(instruction, "", f"```python\n{code}\n```")

    def _choice(self, record: dict[str, Any]) -> Instruction:
        choices = record["choices"]
        if isinstance(choices, dict):  # HF commonsense_qa: {"label": ["A", ...], "text": [...]}
            choices = choices.get("text", [])
        if isinstance(choices, list) and choices and all(isinstance(c, dict) for c in choices):
            choices = [c.get("text", "") for c in choices]  # X-CSR release files: [{"label": "A", "text": ...}]
        if not isinstance(choices, list) or not 2 <= len(choices) <= 26:
            raise InputError(f"'choices' must be a list of 2 to 26 options, got {choices!r}")
        letter = _answer_letter(record["answer"], len(choices))
        output = f"The answer is ({letter})."
        rationale = clean(record.get("rationale"))
        if self.options.rationale and rationale:
            output = f"{rationale}\n{output}"
        return Instruction(f"{clean(record['question'])}\n{format_choices([clean(c) for c in choices])}", "", output)


def _answer_letter(answer: Any, n: int) -> str:
    letters = string.ascii_uppercase[:n]
    if isinstance(answer, int) and not isinstance(answer, bool) and 0 <= answer < n:
        return letters[answer]
    text = clean(answer).upper().strip("()")
    if len(text) == 1 and text in letters:
        return text
    raise InputError(f"'answer' must be one of {', '.join(letters)} or an index 0–{n - 1}, got {answer!r}")
