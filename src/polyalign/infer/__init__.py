"""Inference helpers shared by evaluation and analysis: batched greedy generation and log-likelihoods.

Benchmark-agnostic on purpose (docs/architecture.md: ``infer`` knows no benchmark): these functions take prompt
strings and return texts or scores; prompts, stop strings and limits come from the caller.
"""

from polyalign.infer.generate import generate, generate_naive, truncate_at_stop
from polyalign.infer.loglik import loglikelihoods

__all__ = ["generate", "generate_naive", "truncate_at_stop", "loglikelihoods"]
