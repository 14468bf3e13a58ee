"""A training recipe's plan: memory per GPU, tokens per step, steps and time, per stage.

`plan_recipe` is what `polyalign plan` prints; `check_fits` is what `polyalign train` calls before it
loads anything, refusing (exit 2) a run the plan says will not fit unless the user passes ``--force``.
Steps need the number of training examples: read from the stage's data file when it exists, else
given by the caller (``--examples``); tokens per example default to the recipe's max_length (packed
rows are filled up to it), an upper bound that ``--mean-tokens`` replaces with the data's own mean.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field
from pathlib import Path

from polyalign.errors import InputError
from polyalign.scaleout.architecture import Architecture, architecture_for
from polyalign.scaleout.hardware import GpuSpec
from polyalign.scaleout.memory import GIB, Compute, MemoryEstimate, Strategy, estimate_memory
from polyalign.train.config import StageConfig, TrainRecipe

__all__ = ["StagePlan", "TrainPlan", "plan_recipe", "check_fits", "count_examples", "DEFAULT_MFU"]

log = logging.getLogger(__name__)

DEFAULT_MFU = 0.35
"""Model FLOPs utilisation assumed for time estimates: typical of Hugging Face + FSDP/DeepSpeed runs
of 7B-13B models at 512 tokens (published runs report 0.3-0.5); state your own with --mfu."""


@dataclass
class StagePlan:
    """One stage's numbers on one process."""

    name: str
    finetune: str
    examples: int | None
    """Training examples (None: unknown, steps and time are then unknown too)."""
    steps: int | None
    tokens_per_step: int
    """Tokens in one optimizer step over all processes (batch_size × tokens per example)."""
    micro_batch_tokens: int
    accumulation: int
    """Micro-batches per process per optimizer step."""
    memory: MemoryEstimate
    flops_per_token: float
    hours: float | None
    """Estimated wall-clock hours at the plan's MFU on the named GPU (None without a GPU or steps)."""


@dataclass
class TrainPlan:
    """A recipe's plan for ``gpus`` processes with ``strategy``."""

    recipe: str
    model: str
    arch: Architecture
    strategy: Strategy
    gpus: int
    offload: bool
    gpu: GpuSpec | None
    gpu_memory_gb: float | None
    mfu: float
    cuda: bool
    stages: list[StagePlan] = field(default_factory=list)

    @property
    def peak(self) -> int:
        """Bytes per device of the most demanding stage."""
        return max(stage.memory.total for stage in self.stages)

    @property
    def fits(self) -> bool | None:
        """Whether the peak fits the device memory (None when no memory was given)."""
        return None if self.gpu_memory_gb is None else self.peak <= self.gpu_memory_gb * GIB

    @property
    def hours(self) -> float | None:
        """Estimated hours for the whole recipe (None when any stage is unknown)."""
        hours = [stage.hours for stage in self.stages]
        return None if any(h is None for h in hours) else sum(hours)  # type: ignore[misc]


def count_examples(path: str | Path) -> int | None:
    """Non-empty lines of a JSONL data file, or None when it is not there."""
    path = Path(path)
    if not path.is_file():
        return None
    with path.open("rb") as handle:
        return sum(1 for line in handle if line.strip())


def _weight_bytes(recipe: TrainRecipe, arch: Architecture) -> int:
    return {"float32": 4, "bfloat16": 2, "float16": 2}.get(recipe.model_dtype, arch.dtype_bytes)


def _compute(recipe: TrainRecipe, strategy: Strategy, weight_bytes: int, cuda: bool) -> Compute:
    # Mirrors train.recipe.make_accelerator: "auto" is bf16 on GPUs and fp32 on CPUs.
    mixed = recipe.precision in ("bf16", "fp16") or (recipe.precision == "auto" and cuda)
    if strategy in ("zero2", "zero3") or weight_bytes == 2:
        return "bf16" if mixed or weight_bytes == 2 else "fp32"
    return "autocast" if mixed else "fp32"


def _flops_per_token(arch: Architecture, stage: StageConfig, checkpointing: bool) -> float:
    # PaLM's accounting (Chowdhery et al. 2022, app. B): 6N + 12·L·h·s per token for a full update; LoRA
    # skips the frozen weights' gradients (4N); checkpointing recomputes the forward pass (+2N + 4·L·h·s).
    n, attention = arch.matmul_params, arch.layers * arch.hidden * stage.max_length
    flops = (6 if stage.finetune == "full" else 4) * n + 12 * attention
    return flops + (2 * n + 4 * attention if checkpointing else 0)


def plan_recipe(recipe: TrainRecipe, *, gpus: int = 1, strategy: Strategy | None = None,
                gpu: GpuSpec | None = None, gpu_memory_gb: float | None = None, mfu: float = DEFAULT_MFU,
                examples: dict[str, int] | int | None = None, mean_tokens: int | None = None,
                offload: bool = False, cuda: bool = True, arch: Architecture | None = None) -> TrainPlan:
    """Plan every stage of ``recipe`` on ``gpus`` processes.

    Args:
        recipe: the training recipe.
        gpus: data-parallel processes (GPUs over all nodes).
        strategy: ddp, fsdp, zero2 or zero3; None means one process without sharding (``single``)
            for 1 GPU, else ddp.
        gpu: a named GPU (time estimates need its throughput; its memory is the default limit).
        gpu_memory_gb: memory per device in GiB (overrides the named GPU's).
        mfu: model FLOPs utilisation for time estimates, in (0, 1].
        examples: training examples per stage name (or one number for every stage) when the data
            files are not on this machine.
        mean_tokens: mean tokens per example (default: each stage's max_length, an upper bound).
        offload: ZeRO offload to host memory (zero2: optimizer; zero3: optimizer and weights).
        cuda: plan for GPUs (adds the CUDA runtime; precision auto = bf16) rather than this CPU.
        arch: the model shape (default: looked up from ``recipe.model``).
    """
    if gpus < 1:
        raise InputError("--gpus must be ≥ 1")
    if not 0 < mfu <= 1:
        raise InputError(f"--mfu must be in (0, 1], got {mfu}")
    if offload and strategy not in ("zero2", "zero3"):
        raise InputError("--offload needs --strategy zero2 or zero3 (DeepSpeed offload)")
    chosen: Strategy = strategy or ("single" if gpus == 1 else "ddp")
    arch = arch or architecture_for(recipe.model)
    weight_bytes = _weight_bytes(recipe, arch)
    compute = _compute(recipe, chosen, weight_bytes, cuda)
    memory_gb = gpu_memory_gb if gpu_memory_gb is not None else (gpu.memory_gb if gpu else None)
    plan = TrainPlan(recipe.name, recipe.model, arch, chosen, gpus, offload, gpu, memory_gb, mfu, cuda)
    for stage in recipe.stages:
        micro_tokens = stage.micro_batch_size * stage.max_length
        per_example = min(mean_tokens or stage.max_length, stage.max_length)
        n = examples.get(stage.name) if isinstance(examples, dict) else examples
        n = count_examples(stage.data) if n is None else n
        steps = stage.max_steps or (stage.epochs * math.ceil(n / stage.batch_size) if n else None)
        flops = _flops_per_token(arch, stage, recipe.gradient_checkpointing)
        tokens_per_step = stage.batch_size * per_example
        hours = None
        if gpu is not None and steps is not None:
            hours = steps * tokens_per_step * flops / (gpus * gpu.bf16_tflops * 1e12 * mfu) / 3600
        memory = estimate_memory(arch, finetune=stage.finetune, lora=stage.lora, strategy=chosen, processes=gpus,
                                 micro_batch_tokens=micro_tokens, weight_bytes=weight_bytes, compute=compute,
                                 checkpointing=recipe.gradient_checkpointing, offload=offload, cuda=cuda)
        plan.stages.append(StagePlan(stage.name, stage.finetune, n, steps, tokens_per_step, micro_tokens,
                                     max(1, math.ceil(stage.batch_size / (stage.micro_batch_size * gpus))),
                                     memory, flops, hours))
    return plan


def check_fits(recipe: TrainRecipe, *, processes: int, strategy: Strategy | None,
               gpu_memory_gb: float | None) -> TrainPlan | None:
    """Refuse (InputError) a run whose plan does not fit ``gpu_memory_gb``; None when there is nothing to check.

    With no ``gpu_memory_gb``, the first CUDA device's memory is used; on a machine without CUDA nothing
    is checked (CPU runs are never refused: the operating system's memory is not the plan's business).
    """
    cuda = gpu_memory_gb is not None
    if gpu_memory_gb is None:
        import torch

        if not torch.cuda.is_available():
            return None
        gpu_memory_gb = torch.cuda.get_device_properties(0).total_memory / GIB
        cuda = True
    try:
        arch = architecture_for(recipe.model)
    except InputError as err:  # a hub model outside the table: no estimate, so no reason to refuse
        log.warning("no memory plan for %s (%s); starting without the fit check", recipe.model, err)
        return None
    plan = plan_recipe(recipe, gpus=processes, strategy=strategy, gpu_memory_gb=gpu_memory_gb,
                       examples=0, cuda=cuda, arch=arch)
    if plan.fits is False:
        worst = max(plan.stages, key=lambda s: s.memory.total)
        raise InputError(
            f"the plan says stage {worst.name!r} needs {worst.memory.total / GIB:.1f} GiB per device, more than "
            f"{gpu_memory_gb:g} GiB ({plan.strategy}, {processes} process(es)); lower micro_batch_size, set "
            "gradient_checkpointing: true, shard (--strategy fsdp|zero3) or add processes — see "
            f"'polyalign plan {recipe.name}' — or pass --force to start anyway", where=recipe.name)
    return plan
