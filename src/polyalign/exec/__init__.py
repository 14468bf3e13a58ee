"""Sandboxed execution of model-written Python programs (reasoning with executable code, docs/methods.md).

``run_program`` runs one program in a separate, limited process; ``run_programs`` runs many in
parallel; ``extract_program``/``solve`` turn a model's output into a program and its printed answer.
What the sandbox does and does not guarantee is in README.md in this folder.
"""

from polyalign.exec.extract import ProgramAnswer, extract_program, last_line, solve, solve_all
from polyalign.exec.pool import run_programs
from polyalign.exec.sandbox import STATUSES, ExecResult, isolation_mode, run_program

__all__ = [
    "STATUSES", "ExecResult", "ProgramAnswer", "extract_program", "isolation_mode", "last_line",
    "run_program", "run_programs", "solve", "solve_all",
]
