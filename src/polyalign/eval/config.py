"""`EvalConfig`: the typed settings of one ``polyalign eval`` run, and the (task, language) plan."""

from __future__ import annotations

from dataclasses import dataclass

from polyalign import langs
from polyalign.errors import InputError
from polyalign.eval.benchmarks import Benchmark, get_benchmark, split_direction
from polyalign.eval.prompts import PROMPT_MODES, check_mode
from polyalign.infer.members import check_prompt_format
from polyalign.infer.proxy import check_alpha

__all__ = ["EvalConfig", "PlanItem", "plan", "check_proxy_fields", "MC_MODES"]

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


@dataclass(frozen=True)
class PlanItem:
    """One (task, language) to evaluate and how."""

    task: str
    lang: str
    prompt: str
    mc_mode: str | None


def _keys_for(bench: Benchmark, spec: str) -> list[str]:
    """The language keys of ``bench`` a ``--langs`` item selects (plain codes expand to both directions)."""
    if bench.kind == "translation":
        if "-" in spec:
            key = "-".join(split_direction(spec))
            return [key] if key in bench.langs else []
        code = langs.get(spec).code
        return [k for k in (f"en-{code}", f"{code}-en") if k in bench.langs]
    try:
        code = langs.get(spec).code
    except InputError:
        if "-" in spec:
            return []  # a direction (en-zh): only translation tasks have it
        raise
    return [code] if code in bench.langs else []


def plan(cfg: EvalConfig) -> list[PlanItem]:
    """Expand tasks x languages; every ``--langs`` item must belong to at least one task.

    Raises:
        InputError: unknown task or language, a language no selected task has, a prompt variant or
            multiple-choice mode a task does not support.
    """
    benches = [get_benchmark(name.strip()) for name in dict.fromkeys(cfg.tasks) if name.strip()]
    items: list[PlanItem] = []
    used: set[str] = set()
    for bench in benches:
        prompt = cfg.prompt or bench.default_prompt
        check_mode(bench.name, prompt)  # before any model loads: e.g. --prompt pot on a task without it
        if prompt == "fewshot" and bench.fewshot_files is None:
            raise InputError(f"task {bench.name} defines no few-shot exemplars; use --prompt paper or chat")
        mc_mode = None
        if bench.kind == "choice":
            mc_mode = cfg.mc_mode or bench.mc_modes[0]
            if mc_mode not in bench.mc_modes:
                raise InputError(f"task {bench.name} supports --mc-mode {', '.join(bench.mc_modes)}, not {mc_mode}")
            if cfg.backend == "replay" and mc_mode != "generate":
                if cfg.mc_mode:
                    raise InputError("the replay backend scores generated text; use --mc-mode generate")
                mc_mode = "generate"
        if cfg.langs is None:
            keys = list(bench.langs)
        else:
            keys = []
            for spec in cfg.langs:
                found = _keys_for(bench, spec.strip())
                if found:
                    used.add(spec)
                keys.extend(k for k in found if k not in keys)
        items.extend(PlanItem(bench.name, key, prompt, mc_mode) for key in keys)
    for spec in cfg.langs or []:
        if spec not in used:
            langs.get(spec.split("-")[0])  # unknown codes get the language table's message
            have = "; ".join(f"{b.name}: {', '.join(b.langs[:12])}{' ...' if len(b.langs) > 12 else ''}"
                             for b in benches)
            raise InputError(f"language {spec!r} is in none of the selected tasks ({have})")
    return items
