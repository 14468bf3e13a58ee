"""`EvalConfig`: the typed settings of one ``polyalign eval`` run (the plan it expands to: `polyalign.eval.plan`)."""

from __future__ import annotations

from dataclasses import dataclass

from polyalign.errors import InputError
from polyalign.eval.prompts import PROMPT_MODES
from polyalign.eval.protocols import check_protocol
from polyalign.infer.members import check_prompt_format
from polyalign.infer.proxy import check_alpha

__all__ = ["EvalConfig", "check_proxy_fields", "MC_MODES"]

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
    batch_size: int = 8
    """Prompts per forward pass (moves greedy results slightly: recorded)."""
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
    dtype: str = "float32"
    """Model dtype: float32, bfloat16, float16 or auto."""
    device: str = "cpu"
    """``cpu``, ``cuda``, ``auto`` (device_map) ..."""
    name_mode: str = "english"
    """Language names in translation prompts: ``english`` or ``paper`` (the iso639 names)."""
    protocol: str = "polyalign"
    """``polyalign`` (corrected scoring) or ``paper`` (each benchmark as its paper's released code scores it)."""
    expert: str | None = None
    """Proxy backend: the small aligned expert (``model`` is the large base)."""
    anti_expert: str | None = None
    """Proxy backend: the small model without alignment (anti-expert)."""
    alpha: float = 1.0
    """Proxy backend: next-token scores are ``s_base + alpha * (s_expert - s_anti_expert)``."""
    base_format: str = "plain"
    """Proxy backend: how the base reads a prompt: ``plain``, ``chat`` or a template with ``{prompt}``."""
    expert_format: str = "plain"
    """Proxy backend: how the expert reads a prompt (same choices)."""
    anti_expert_format: str = "plain"
    """Proxy backend: how the anti-expert reads a prompt (same choices)."""
    small_dtype: str | None = None
    """Proxy backend: dtype of expert and anti-expert; None = ``dtype``."""
    small_device: str | None = None
    """Proxy backend: device of expert and anti-expert; None = ``device``."""

    def validate(self) -> None:
        if not self.tasks:
            raise InputError("no task given (--tasks mgsm,xquad,...)")
        if self.batch_size < 1:
            raise InputError(f"--batch-size must be at least 1, got {self.batch_size}")
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
        self._validate_proxy()
        if self.backend != "replay" and not self.model:
            raise InputError(f"backend {self.backend} needs --model")

    def _validate_proxy(self) -> None:
        self.alpha = check_proxy_fields(self.backend, model=self.model, expert=self.expert,
                                        anti_expert=self.anti_expert, alpha=self.alpha, base_format=self.base_format,
                                        expert_format=self.expert_format, anti_expert_format=self.anti_expert_format,
                                        small_dtype=self.small_dtype, small_device=self.small_device)


def check_proxy_fields(backend: str, *, model: str | None, expert: str | None, anti_expert: str | None,
                       alpha: object, base_format: str = "plain", expert_format: str = "plain",
                       anti_expert_format: str = "plain", small_dtype: str | None = None,
                       small_device: str | None = None) -> float:
    """Check the proxy-tuning fields (also used by ``polyalign generate``); returns α as a float.

    Raises:
        InputError: proxy fields with another backend; a missing base, expert or anti-expert; α not
            a finite number; a prompt format that is not plain, chat or a ``{prompt}`` template.
    """
    given = {"--expert": expert, "--anti-expert": anti_expert, "--alpha": alpha != 1.0,
             "--base-format": base_format != "plain",
             "--expert-format": expert_format != "plain", "--anti-expert-format": anti_expert_format != "plain",
             "--small-dtype": small_dtype, "--small-device": small_device}
    if backend != "proxy":
        flags = [flag for flag, value in given.items() if value]
        if flags:
            raise InputError(f"{', '.join(flags)}: only for --backend proxy (this run uses {backend})")
        return 1.0
    missing = [flag for flag, value in (("--base (or --model)", model), ("--expert", expert),
                                        ("--anti-expert", anti_expert)) if not value]
    if missing:
        raise InputError(f"backend proxy needs {' and '.join(missing)}: a large base model, a small aligned "
                         "expert and the small model without alignment as anti-expert")
    for flag, fmt in (("--base-format", base_format), ("--expert-format", expert_format),
                      ("--anti-expert-format", anti_expert_format)):
        check_prompt_format(fmt, what=flag)
    return check_alpha(alpha)
