"""The ``polyalign judge`` settings as a typed config (saved with every run as ``OUT/config.yaml``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from polyalign.errors import InputError
from polyalign.infer.backends import ProxyOptions
from polyalign.judge.clients import is_endpoint

__all__ = ["JudgeConfig"]


@dataclass
class JudgeConfig:
    """What to judge, with which judge, and where the results go."""

    judge: str
    """The judge: an OpenAI-compatible base URL (http://host:port/v1) or a local model (zoo name, folder, hub id)."""
    out: str
    """Output folder: results.json, judgments/, config.yaml, cache.sqlite (and samples/ when generating)."""
    samples: str | None = None
    """Responses to judge: a samples folder (or file) written by `polyalign eval` or an earlier judge run."""
    model: str | None = None
    """Generate the responses first with this model (needs `instructions`)."""
    instructions: str | None = None
    """Open-ended set (LLM-Eval-style JSONL, a folder of them, or builtin:samples/open-ended)."""
    references: str | None = None
    """Open-ended set whose instruction, reference answer and category replace the samples', joined on id."""
    compare: str | None = None
    """Second system's samples: judge pairwise (both orders) instead of scoring on the 0–3 rubric."""
    judge_model: str | None = None
    """Model name sent to an endpoint judge (default: the endpoint's only model)."""
    judge_backend: str = "hf"
    """Backend of a local judge."""
    judge_options: list[str] = field(default_factory=list)
    """key=value backend options of a local judge."""
    api_key_env: str = "OPENAI_API_KEY"
    """Name of the environment variable holding the endpoint's API key (the key is never stored)."""
    backend: str = "hf"
    """Backend that generates the responses (with `model`)."""
    backend_options: list[str] = field(default_factory=list)
    """key=value backend options for generating the responses."""
    proxy: ProxyOptions = field(default_factory=ProxyOptions)
    """Proxy backend generating the responses: expert, anti-expert, alpha, prompt formats (``model`` is the base)."""
    prompt: Literal["auto", "chat", "alpaca"] = "auto"
    """Prompt for generating responses: the chat template when the model has one, else Alpaca."""
    max_new_tokens: int = 512
    """Response length limit when generating."""
    batch_size: int = 8
    """Prompts per forward pass of a local model (responses and local judge)."""
    dtype: str = "float32"
    device: str = "cpu"
    seed: int = 0
    langs: list[str] | None = None
    """Only these languages (or directions)."""
    limit: int | None = None
    """Only the first N responses of each task and language."""
    retries: int = 2
    """Extra attempts after an unreadable judge reply (then it counts as unparseable)."""
    judge_max_tokens: int = 64
    """Reply length limit of the judge."""
    concurrency: int = 4
    """Parallel requests to an endpoint judge."""
    timeout: float = 120.0
    """Seconds per endpoint request."""
    cache: str | None = None
    """Reply cache file (default OUT/cache.sqlite; share one across runs to never pay twice)."""

    def validate(self) -> None:
        if (self.samples is None) == (self.model is None):
            raise InputError("give --samples (responses to judge) or --model (generate them first), not both")
        if self.model is not None and self.instructions is None:
            raise InputError("--model needs --instructions (an open-ended set, e.g. builtin:samples/open-ended)")
        if self.model is None and self.instructions is not None:
            raise InputError("--instructions is for generating responses with --model; to add references to "
                             "existing samples use --references")
        if self.compare is not None and self.model is not None:
            raise InputError("--compare judges two existing sample sets; generate each with --model first")
        for name in ("max_new_tokens", "batch_size", "judge_max_tokens", "concurrency"):
            if getattr(self, name) < 1:
                raise InputError(f"{name} must be >= 1")
        if self.retries < 0 or self.limit is not None and self.limit < 1 or self.timeout <= 0:
            raise InputError("retries must be >= 0, limit >= 1 and timeout > 0")
        self.proxy.check_backend(self.backend)
        if self.judge_model is not None and not is_endpoint(self.judge):
            raise InputError("--judge-model names the model of an endpoint judge; for a local judge --judge is "
                             "the model")
