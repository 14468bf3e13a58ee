"""Prompt variants for every benchmark: the papers' Alpaca prompt, the model's chat turn, few-shot.

* ``paper`` — zero-shot Alpaca prompt (`polyalign.data.templates.render_alpaca`). mGSM/mSVAMP: the
  native question is the instruction, no input (QAlign ``evaluate/scripts/mgsm_test.py``).
  XQuAD/MLQA: an instruction in the target language and "Context/Question/Answer" labels in that
  language, context and question as the input (x-LLaMA ``data/xquad/xquad.py``; the table is
  ``tasks/<task>/instructions.tsv``). Flores: "Translate the following sentences from {src} to
  {tgt}." with the source as input — the first of x-LLaMA's instructions, which its evaluation uses.
* ``chat`` — the same instruction (and input after a blank line) as one user message; the caller
  applies the model's chat template (lm-eval: ``--apply_chat_template``).
* ``fewshot`` — plain-text exemplars then the question, for benchmarks that define exemplars:
  MMLU/C-Eval (the first k dev questions of the same subject, as Hendrycks' ``evaluate.py`` and the
  C-Eval reference code do) and GSM8K (the first k training problems with their worked solutions).
"""

from __future__ import annotations

import csv
import functools
from pathlib import Path
from typing import Any, Literal

from polyalign import langs
from polyalign.data.templates import render_alpaca
from polyalign.errors import InputError

__all__ = ["PromptMode", "PROMPT_MODES", "TASKS_DIR", "instruction_input", "render", "fewshot_prompt",
           "qa_labels"]

PromptMode = Literal["paper", "chat", "fewshot"]
PROMPT_MODES: tuple[str, ...] = ("paper", "chat", "fewshot")
TASKS_DIR = Path(__file__).resolve().parent / "tasks"
"""The lm-eval task pack shipped in the package (``lm_eval --include_path`` this folder)."""

# Few-shot multiple-choice framing by language: (header with {subject}, answer label). English is
# Hendrycks' MMLU wording; Chinese is the C-Eval reference prompt.
_MC_FEWSHOT = {
    "en": ("The following are multiple choice questions (with answers) about {subject}.\n\n", "Answer:"),
    "zh": ("以下是中国关于{subject}考试的单项选择题，请选出其中的正确答案。\n\n", "答案："),
}


@functools.lru_cache(maxsize=None)
def qa_labels(task: str, lang: str) -> dict[str, str]:
    """The row of ``tasks/<task>/instructions.tsv`` for ``lang`` (instruction and field labels)."""
    path = TASKS_DIR / task / "instructions.tsv"
    with path.open(encoding="utf-8", newline="") as handle:
        rows = {row["lang"]: row for row in csv.DictReader(handle, delimiter="\t", quoting=csv.QUOTE_NONE)}
    if lang not in rows:
        raise InputError(f"no {task} instruction for language {lang!r}; add a row", where=str(path))
    return rows[lang]


def _options(record: dict[str, Any]) -> str:
    return "\n".join(f"{label}. {text}" for label, text in zip(record["labels"], record["choices"]))


def instruction_input(task: str, kind: str, key: str, record: dict[str, Any], *,
                      name_mode: str = "english") -> tuple[str, str]:
    """The (instruction, input) pair of the zero-shot prompt of one record."""
    if kind == "numeric":
        return record["question"], ""
    if kind == "qa":
        row = qa_labels(task, key)
        body = f"{row['context']}: {record['context']}\n{row['question']}: {record['question']}\n{row['answer']}: "
        return row["instruction"], body
    if kind == "translation":
        src, tgt = key.split("-")
        names = (langs.language_name(src, name_mode), langs.language_name(tgt, name_mode))  # type: ignore[arg-type]
        return f"Translate the following sentences from {names[0]} to {names[1]}.", record["source"]
    if kind == "choice":
        return f"{record['question']}\n{_options(record)}", ""
    raise ValueError(f"unknown kind {kind!r}")


def render(mode: str, instruction: str, input: str = "") -> str:  # noqa: A002 - Alpaca's field name
    """The prompt text lm-eval's ``doc_to_text`` returns: Alpaca for ``paper``, the user turn for ``chat``."""
    if mode == "paper":
        return render_alpaca(instruction, input)
    if mode == "chat":
        return f"{instruction}\n\n{input.rstrip()}" if input.strip() else instruction
    raise ValueError(f"render() handles paper and chat prompts, not {mode!r}")


def fewshot_prompt(kind: str, key: str, record: dict[str, Any], shots: list[dict[str, Any]]) -> str:
    """Exemplars followed by the question, in the benchmark's plain-text few-shot format."""
    if kind == "choice":
        header, label = _MC_FEWSHOT.get(key, _MC_FEWSHOT["en"])
        subject = record.get("subject", "").replace("_", " ")
        parts = [header.format(subject=subject).replace(" about .", ".")]
        for shot in shots:
            parts.append(f"{shot['question']}\n{_options(shot)}\n{label} {shot['gold']}\n\n")
        parts.append(f"{record['question']}\n{_options(record)}\n{label}")
        return "".join(parts)
    if kind == "numeric":
        parts = [f"Question: {shot['question']}\nAnswer: {shot.get('solution', shot['answer'])}\n\n" for shot in shots]
        parts.append(f"Question: {record['question']}\nAnswer:")
        return "".join(parts)
    raise InputError(f"{kind} tasks define no few-shot format; use --prompt paper or chat")
