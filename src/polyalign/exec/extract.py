"""From a model's output to a program, and from the program's run to a printed answer.

Program-of-thought / PAL outputs come as a fenced block (```python ...```), an untagged fence, or a
bare ``def solution(): ... return x`` with no call. ``extract_program`` picks one; ``solve`` runs it
in the sandbox and returns the last non-empty printed line, which
``polyalign.eval.scorers.numeric.is_correct`` can score like any model answer. Every failure (no
program, syntax error, crash, nothing printed, non-numeric output) is a status, never an exception.
"""

from __future__ import annotations

import ast
import dataclasses
import re
from collections.abc import Iterable
from typing import Any

from polyalign.exec.pool import run_programs
from polyalign.exec.sandbox import ExecResult, run_program

__all__ = ["ProgramAnswer", "extract_program", "last_line", "solve", "solve_all"]

# An opening fence with an optional info string, then the body up to a closing fence or the end of
# the text (generations are often cut off inside the code).
_FENCE = re.compile(r"^[ \t]*```[ \t]*([\w+#.-]*)[^\n]*\n(.*?)(?:^[ \t]*```|\Z)", re.DOTALL | re.MULTILINE)
_PYTHON_TAGS = frozenset({"python", "py", "python3", "py3", "pycon"})
_SOLUTION = re.compile(r"^[ \t]*def[ \t]+solution[ \t]*\(", re.MULTILINE)
_CODE_HINT = re.compile(r"\bprint\s*\(|^\s*(?:def|import|from|for|while|if|class)\b|=", re.MULTILINE)


@dataclasses.dataclass(frozen=True)
class ProgramAnswer:
    """What running a model's program produced.

    Attributes:
        program: The program that was run (after ``extract_program``), or None.
        answer: Last non-empty stdout line of a run with status ``ok``, else None.
        status: ``no_program``, or the run's status (``ok``, ``timeout``, ``memory``, ``blocked``,
            ``error``); ``ok`` with ``answer=None`` means the program printed nothing.
        detail: Why there is no answer, in one line (empty when there is one).
        result: The sandbox result, None when nothing ran.
    """

    program: str | None
    answer: str | None
    status: str
    detail: str
    result: ExecResult | None = None


def extract_program(text: str) -> str | None:
    """The program in a model's output, ready to run, or None.

    Preference: the last ```python (or ```py) block; else the last untagged block that parses and
    looks like code (not a bare output value); else a ``def solution(...)`` function found in the
    text, with the surrounding prose trimmed. A program that defines ``solution`` but never calls
    it gets ``print(solution())`` appended, as PAL-style prompts expect.

    Args:
        text: Model output.

    Returns:
        Python source, or None when the text holds no program.
    """
    blocks = [(tag.lower(), body) for tag, body in _FENCE.findall(text)]
    tagged = [body for tag, body in blocks if tag in _PYTHON_TAGS]
    untagged = [body for tag, body in blocks if not tag and _CODE_HINT.search(body) and _parses(body)]
    if tagged or untagged:
        program = (tagged or untagged)[-1]
    else:
        program = _bare_solution(text)
    if program is None or not program.strip():
        return None
    return _with_call(program.strip("\n") + "\n")


def last_line(stdout: str) -> str | None:
    """The last non-empty line of ``stdout``, stripped; None when there is none."""
    lines = [ln.strip() for ln in stdout.splitlines() if ln.strip()]
    return lines[-1] if lines else None


def solve(text: str, **run_kwargs: Any) -> ProgramAnswer:
    """Extract the program from ``text``, run it in the sandbox and read its printed answer.

    Args:
        text: Model output.
        **run_kwargs: Passed to ``run_program`` (timeout, memory_mb, ...).

    Returns:
        The ``ProgramAnswer``; score it with ``is_correct(ans.answer or "", gold)``.
    """
    program = extract_program(text)
    if program is None:
        return ProgramAnswer(None, None, "no_program", "no code block or solution() in the output")
    return _answer(program, run_program(program, **run_kwargs))


def solve_all(texts: Iterable[str], *, max_workers: int | None = None, progress: bool = False,
              **run_kwargs: Any) -> list[ProgramAnswer]:
    """``solve`` for many outputs, running the programs in parallel; order is preserved."""
    programs = [extract_program(t) for t in texts]
    runnable = [p for p in programs if p is not None]
    results = iter(run_programs(runnable, max_workers=max_workers, progress=progress, **run_kwargs))
    return [
        _answer(p, next(results)) if p is not None
        else ProgramAnswer(None, None, "no_program", "no code block or solution() in the output")
        for p in programs
    ]


def _answer(program: str, result: ExecResult) -> ProgramAnswer:
    if not result.ok:
        return ProgramAnswer(program, None, result.status, result.detail, result)
    answer = last_line(result.stdout)
    return ProgramAnswer(program, answer, "ok", "" if answer else "the program printed nothing", result)


def _parses(source: str) -> bool:
    try:
        ast.parse(source)
    except (SyntaxError, ValueError):
        return False
    return True


def _bare_solution(text: str) -> str | None:
    """``def solution`` with the import lines right above it, cut before the first line that breaks parsing."""
    match = _SOLUTION.search(text)
    if match is None:
        return None
    before = text[: match.start()].splitlines()
    imports = []
    while before and re.match(r"\s*(import|from)\s+\w", before[-1]):
        imports.insert(0, before.pop())
    lines = imports + text[match.start():].splitlines()
    for end in range(len(lines), len(imports), -1):  # longest prefix that is valid Python
        candidate = "\n".join(lines[:end])
        if _parses(candidate):
            return candidate
    return "\n".join(lines)  # nothing parses: run it anyway, the sandbox reports the syntax error


def _with_call(program: str) -> str:
    """Append ``print(solution())`` when ``solution`` is defined at top level but never called."""
    try:
        tree = ast.parse(program)
    except (SyntaxError, ValueError):
        return program
    defines = any(isinstance(n, ast.FunctionDef) and n.name == "solution" for n in tree.body)
    calls = any(
        isinstance(n, ast.Call) and isinstance(n.func, ast.Name) and n.func.id == "solution"
        for stmt in tree.body if not isinstance(stmt, ast.FunctionDef)
        for n in ast.walk(stmt)
    )
    return program + "print(solution())\n" if defines and not calls else program
