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
* ``pot`` — program of thought (numeric tasks; docs/methods.md): the Alpaca prompt whose instruction is
  the native question, a blank line and the English request for a program that prints the answer,
  exactly the instruction the data builder's ``code`` response style trains
  (`polyalign.data.builders.response_alignment`); the program is executed (`polyalign.eval.programs`).
* ``direct`` / ``rationale`` — commonsense multiple choice (xCSQA): the Alpaca prompt whose
  instruction is the question and an "Answer Choices: (A) ... (B) ..." line, exactly the instruction
  the builder's ``choice`` style trains. The builder trains one instruction for both outputs ("The
  answer is (B)." alone, or after a rationale), so the two variants share the text and differ in
  the generation budget (`MODE_GENERATION`) and in how the letter is read: ``rationale`` reads only
  the final answer statement (`polyalign.eval.scorers.extract_final_choice`).
"""

from __future__ import annotations

import csv
import functools
import string
from pathlib import Path
from typing import Any, Literal

from polyalign import langs
from polyalign.data.builders.response_alignment import ResponseAlignmentOptions, format_choices
from polyalign.data.templates import render_alpaca
from polyalign.eval.benchmarks import BENCHMARKS, TASKS_DIR, get_benchmark
from polyalign.eval.taskspec import Benchmark, split_direction
from polyalign.errors import InputError

__all__ = ["PromptMode", "PROMPT_MODES", "MODE_GENERATION", "POT_INSTRUCTION", "TASKS_DIR",
           "instruction_input", "variant_instruction", "render", "fewshot_prompt", "qa_labels", "check_mode",
           "generation_kwargs", "VARIANTS"]

PromptMode = Literal["paper", "chat", "fewshot", "pot", "direct", "rationale"]
PROMPT_MODES: tuple[str, ...] = ("paper", "chat", "fewshot", "pot", "direct", "rationale")
VARIANTS = ("pot", "direct", "rationale")
"""Variants that only some benchmarks have; a benchmark opts in with ``class: !function utils.Task``
in its template (so the variant's generation settings apply) and ``variants=`` in its folder's
``benchmark.py``."""

POT_INSTRUCTION = ResponseAlignmentOptions().code_instruction
"""Appended to the question after a blank line: the builder's default, so evaluation asks for
exactly what stage II trained."""

# Stops for code: only the Alpaca turn markers. Not "\n\n### " (a Python comment can start a line
# with "### "), and not a fence followed by a blank line, which would end the generation early on
# prose after the program but also cuts an untagged opening fence ("```\n\nx = 3") — SmolLM2-135M
# wrote one in 1 of 30 mGSM outputs. A model trained on the format ends with EOS after the fence.
_POT_STOPS = ["### Instruction", "### Input:", "### Response:"]
MODE_GENERATION: dict[str, dict[str, Any]] = {
    # Trained outputs fit in 512 tokens with their prompt (stage II max length); 768 leaves room
    # for a verbose program from a model not trained on the format.
    "pot": {"until": _POT_STOPS, "max_gen_toks": 768},
    # "The answer is (B)." is 7 tokens; room for a chat model's "The correct answer is (B) ...".
    "direct": {"max_gen_toks": 64},
    # A CSQA-style rationale is one to three sentences; 512 = the training length.
    "rationale": {"max_gen_toks": 512},
}
"""Generation settings a variant puts over its template's ``generation_kwargs`` (`generation_kwargs`)."""

# Few-shot multiple-choice framing of a benchmark that names none: Hendrycks' MMLU wording.
_MC_FEWSHOT = ("The following are multiple choice questions (with answers) about {subject}.\n\n", "Answer: ")


@functools.lru_cache(maxsize=None)
def qa_labels(folder: Path, lang: str) -> dict[str, str]:
    """The row of ``<benchmark folder>/instructions.tsv`` for ``lang`` (instruction and field labels)."""
    path = folder / "instructions.tsv"
    with path.open(encoding="utf-8", newline="") as handle:
        rows = {row["lang"]: row for row in csv.DictReader(handle, delimiter="\t", quoting=csv.QUOTE_NONE)}
    if lang not in rows:
        raise InputError(f"no {folder.name} instruction for language {lang!r}; add a row", where=str(path))
    return rows[lang]


def _options(record: dict[str, Any]) -> str:
    return "\n".join(f"{label}. {text}" for label, text in zip(record["labels"], record["choices"]))


def _answer_choices(record: dict[str, Any]) -> str:
    """The builder's "Answer Choices: (A) x (B) y" line, with the record's own labels if unusual."""
    labels = list(record["labels"])
    if labels == list(string.ascii_uppercase[:len(labels)]):
        return format_choices(list(record["choices"]))
    return "Answer Choices: " + " ".join(f"({label}) {text}" for label, text in zip(labels, record["choices"]))


def check_mode(task: str, mode: str) -> None:
    """Raise `InputError` unless ``task`` has the prompt variant ``mode``."""
    if mode not in PROMPT_MODES:
        raise InputError(f"unknown prompt variant {mode!r}; expected one of {', '.join(PROMPT_MODES)}")
    if mode in VARIANTS and mode not in get_benchmark(task).variants:
        have = sorted(name for name, bench in BENCHMARKS.items() if mode in bench.variants)
        raise InputError(f"task {task} has no --prompt {mode} (it is for {', '.join(have)})")


def generation_kwargs(mode: str | None, base: dict[str, Any] | None) -> dict[str, Any]:
    """A template's ``generation_kwargs`` with the prompt variant's settings put over them."""
    return {**(base or {}), **MODE_GENERATION.get(mode or "", {})}


def instruction_input(bench: Benchmark, key: str, record: dict[str, Any], *,
                      name_mode: str = "english") -> tuple[str, str]:
    """The (instruction, input) pair of the zero-shot prompt of one record: the benchmark's quirk, or its kind's."""
    if bench.instruction_input is not None:
        return bench.instruction_input(key, record, name_mode)
    kind = bench.kind
    if kind == "numeric":
        return record["question"], ""
    if kind == "qa":
        row = qa_labels(bench.folder or TASKS_DIR / bench.name, key)
        body = f"{row['context']}: {record['context']}\n{row['question']}: {record['question']}\n{row['answer']}: "
        return row["instruction"], body
    if kind == "translation":
        src, tgt = split_direction(key)
        names = (langs.language_name(src, name_mode), langs.language_name(tgt, name_mode))  # type: ignore[arg-type]
        return f"Translate the following sentences from {names[0]} to {names[1]}.", record["source"]
    if kind == "choice":
        # GAOKAO-Bench questions carry their options in the text (no separate choices)
        return (f"{record['question']}\n{_options(record)}" if record["choices"] else record["question"]), ""
    raise ValueError(f"unknown kind {kind!r}")


def variant_instruction(mode: str, kind: str, record: dict[str, Any]) -> str:
    """The instruction of the ``pot``, ``direct`` and ``rationale`` prompts (as stage II trains them)."""
    if mode == "pot" and kind == "numeric":
        return f"{record['question']}\n\n{POT_INSTRUCTION}"
    if mode in ("direct", "rationale") and kind == "choice":
        return f"{record['question']}\n{_answer_choices(record)}"
    raise InputError(f"--prompt {mode} is not defined for {kind} tasks")


def render(mode: str, instruction: str, input: str = "") -> str:  # noqa: A002 - Alpaca's field name
    """The prompt text lm-eval's ``doc_to_text`` returns: Alpaca for ``paper`` and the stage-II
    variants (``pot``, ``direct``, ``rationale``), the user turn for ``chat``."""
    if mode in ("paper", "pot", "direct", "rationale"):
        return render_alpaca(instruction, input)
    if mode == "chat":
        return f"{instruction}\n\n{input.rstrip()}" if input.strip() else instruction
    raise ValueError(f"render() handles paper, chat, pot, direct and rationale prompts, not {mode!r}")


def fewshot_prompt(bench: Benchmark, record: dict[str, Any], shots: list[dict[str, Any]]) -> str:
    """Exemplars followed by the question, in the benchmark's plain-text few-shot format."""
    kind = bench.kind
    if kind == "choice":
        header, label = bench.fewshot_header or _MC_FEWSHOT
        slug = record.get("subject", "")
        subject = bench.subject_names(slug) if bench.subject_names else slug.replace("_", " ")
        parts = [header.format(subject=subject).replace(" about .", ".")]
        for shot in shots:
            # the label carries its own separator: "Answer: A" (Hendrycks), "答案：A" (C-Eval)
            parts.append(f"{shot['question']}\n{_options(shot)}\n{label}{shot['gold']}\n\n")
        parts.append(f"{record['question']}\n{_options(record)}\n{label.rstrip()}")
        return "".join(parts)
    if kind == "numeric":
        parts = [f"Question: {shot['question']}\nAnswer: {shot.get('solution', shot['answer'])}\n\n" for shot in shots]
        parts.append(f"Question: {record['question']}\nAnswer:")
        return "".join(parts)
    raise InputError(f"{kind} tasks define no few-shot format; use --prompt paper or chat")
