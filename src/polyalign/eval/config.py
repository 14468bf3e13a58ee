"""`EvalConfig`: the typed settings of one ``polyalign eval`` run (the plan it expands to: `polyalign.eval.plan`)."""

from __future__ import annotations

from dataclasses import dataclass, field

from polyalign.errors import InputError
from polyalign.eval.prompts import PROMPT_MODES
from polyalign.eval.protocols import check_protocol
from polyalign.infer.backends import ProxyOptions

__all__ = ["EvalConfig", "MC_MODES"]

MC_MODES = ("loglik", "generate")


@dataclass
class EvalConfig:
    """Settings of an evaluation run (saved as ``OUT/config.yaml``)."""

    tasks: list[str]
    """Benchmarks to run (``mgsm``, ``xquad``, ...)."""
    out: str
    """Output folder: results.json, samples/, tables/."""
    model: str | None = None
    """Zoo name, local folder or hub id; optional for ``replay``."""
    langs: list[str] | None = None
    """Languages (or translation directions); None = every language of each task."""
    backend: str = "hf"
    """``hf``, ``vllm``, ``replay`` (or any registered backend)."""
    predictions: str | None = None
    """Replay: JSONL with task, lang, id, output."""
    limit: int | None = None
    """First N examples of each language, in source order."""
    data_dir: str | None = None
    """Benchmark data root (upstream file names in a folder per task)."""
    batch_size: int | str = "auto"
    """Prompts per forward pass, or auto (widest batches a memory budget allows; moves greedy results slightly: recorded)."""
    max_new_tokens: int | None = None
    """Generation limit; None = each task's own (600 mGSM, 300 mSVAMP, ...)."""
    prompt: str | None = None
    """``paper``, ``chat`` or ``fewshot``; None = each task's default."""
    num_fewshot: int | None = None
    """Exemplars in ``fewshot`` mode; None = 5 (MMLU/C-Eval) or 8 (GSM8K)."""
    mc_mode: str | None = None
    """Multiple choice: ``loglik`` or ``generate``; None = each task's default."""
    seed: int = 0
    """Random seed (decoding is greedy; recorded for provenance)."""
    dtype: str = "auto"
    """Model dtype: auto (bf16 where the CPU computes it natively, else float32), float32, bfloat16, float16."""
    device: str = "cpu"
    """``cpu``, ``cuda``, ``auto`` (device_map) ..."""
    name_mode: str = "english"
    """Language names in translation prompts: ``english`` or ``paper`` (the iso639 names)."""
    protocol: str = "polyalign"
    """``polyalign`` (corrected scoring) or ``paper`` (each benchmark as its paper's released code scores it)."""
    proxy: ProxyOptions = field(default_factory=ProxyOptions)
    """Proxy backend: expert, anti-expert, alpha, prompt formats, small-model dtype/device (``model`` is the base)."""

    def validate(self) -> None:
        if not self.tasks:
            raise InputError("no task given (--tasks mgsm,xquad,...)")
        if self.batch_size != "auto" and (not isinstance(self.batch_size, int) or self.batch_size < 1):
            raise InputError(f"--batch-size must be at least 1 or auto, got {self.batch_size}")
        if self.limit is not None and self.limit < 1:
            raise InputError(f"--limit must be at least 1, got {self.limit}")
        if self.max_new_tokens is not None and self.max_new_tokens < 1:
            raise InputError(f"--max-new-tokens must be at least 1, got {self.max_new_tokens}")
        if self.num_fewshot is not None and self.num_fewshot < 0:
            raise InputError(f"--num-fewshot must be >= 0, got {self.num_fewshot}")
        if self.prompt is not None and self.prompt not in PROMPT_MODES:
            raise InputError(f"unknown --prompt {self.prompt!r}; expected one of {', '.join(PROMPT_MODES)}")
        if self.mc_mode is not None and self.mc_mode not in MC_MODES:
            raise InputError(f"unknown --mc-mode {self.mc_mode!r}; expected one of {', '.join(MC_MODES)}")
        if self.name_mode not in ("english", "paper"):
            raise InputError(f"unknown --lang-names {self.name_mode!r}; expected english or paper")
        check_protocol(self.protocol)
        self.proxy.check_backend(self.backend)
        if self.backend == "proxy":
            self.proxy.check_models(self.model)  # before any data is read
        if self.backend != "replay" and not self.model:
            raise InputError(f"backend {self.backend} needs --model")
