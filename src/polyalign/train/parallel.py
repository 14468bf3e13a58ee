"""How a launch spreads training over processes: the strategies, the accelerator, the model's wrapping.

``strategy`` (``polyalign train --strategy``):

- ``ddp``: every process holds the whole model; gradients are averaged (torch DDP, set up by accelerate).
- ``fsdp``: weights, gradients and optimizer state sharded per decoder layer with torch's FSDP2
  (``torch.distributed.fsdp.fully_shard``). We apply it ourselves rather than through accelerate,
  because accelerate refuses FSDP without GPUs, while FSDP2 runs over gloo on CPUs too: the sharded
  path is the same on a laptop and on a GPU node. Under ``accelerate launch`` with an FSDP config,
  accelerate has already chosen FSDP and does the wrapping.
- ``zero2`` / ``zero3``: DeepSpeed ZeRO stage 2 / 3 through accelerate's DeepSpeed plugin; on a machine
  without GPUs DeepSpeed's CPU accelerator runs it over gloo (see `recipes/accelerate/README.md`).

Nothing here invents distributed machinery: torch.distributed, accelerate and DeepSpeed do the work.
"""

from __future__ import annotations

import logging
import os
from typing import Any, Callable

from polyalign.errors import InputError

__all__ = ["STRATEGIES", "ZERO", "make_accelerator", "deepspeed_plugin", "prepare", "shard_model", "is_fsdp2",
           "strategy_from_env"]

log = logging.getLogger(__name__)

STRATEGIES = ("ddp", "fsdp", "zero2", "zero3")
"""The values of ``polyalign train --strategy``."""

ZERO = ("zero2", "zero3")
"""The DeepSpeed strategies (always run in launched processes: DeepSpeed needs a process group)."""

STRATEGY_ENV = "POLYALIGN_STRATEGY"
"""Environment variable the launcher sets for its processes (and a user may set under torchrun)."""


def strategy_from_env(strategy: str | None) -> str | None:
    """``strategy`` if given, else ``$POLYALIGN_STRATEGY``; checked against `STRATEGIES`."""
    strategy = strategy or os.environ.get(STRATEGY_ENV) or None
    if strategy is not None and strategy not in STRATEGIES:
        raise InputError(f"--strategy: expected one of {', '.join(STRATEGIES)}, got {strategy!r}")
    return strategy


def make_accelerator(precision: str, strategy: str | None = None, *, max_grad_norm: float = 1.0) -> Any:
    """An `accelerate.Accelerator` for this machine and strategy; in a launched process it joins the group.

    Without CUDA (or with ``ACCELERATE_USE_CPU=true``), several processes talk over gloo on the CPU
    (accelerate needs ``cpu=True`` to pick that rather than assume GPUs).

    Args:
        precision: the recipe's compute precision (auto, fp32, bf16, fp16).
        strategy: one of `STRATEGIES`, or None for accelerate's own choice (one process, DDP, or
            whatever an ``accelerate launch`` config asked for). ZeRO needs a launched process.
        max_grad_norm: gradient clipping for ZeRO, which clips inside DeepSpeed.

    Raises:
        InputError: the strategy cannot run here (DeepSpeed not installed, …).
    """
    import torch
    from accelerate import Accelerator

    from polyalign.models.precision import cpu_bf16_native

    cuda = torch.cuda.is_available() and os.environ.get("ACCELERATE_USE_CPU", "").lower() not in ("1", "true", "yes")
    requested = precision
    if precision == "auto":
        precision = "bf16" if cuda and torch.cuda.is_bf16_supported() else "fp32"
    kwargs: dict[str, Any] = {}
    use_cpu = not cuda
    if strategy in ("zero2", "zero3"):
        try:
            import deepspeed  # noqa: F401 - the `gpu` extra
        except ImportError:
            raise InputError(f"--strategy {strategy} needs DeepSpeed: pip install 'polyalign[gpu]' "
                             "(or pip install deepspeed)") from None
        kwargs["deepspeed_plugin"] = deepspeed_plugin(int(strategy[-1]), max_grad_norm)
        if not cuda:
            # accelerate drops a DeepSpeed plugin when told cpu=True (it would silently train DDP); told
            # cpu=False it runs DeepSpeed, whose CPU accelerator trains over gloo once the process group
            # is set up with that backend (accelerate would otherwise pick none on a machine without GPUs).
            from accelerate import PartialState

            PartialState(cpu=False, backend="gloo")
            use_cpu = False
    try:
        accelerator = Accelerator(mixed_precision={"fp32": "no"}.get(precision, precision), cpu=use_cpu, **kwargs)
        # bf16 autocast with fp32 master weights where the CPU computes bf16 natively (models/precision.py);
        # accelerate's own CPU bf16 setting would apply to the whole process
        accelerator.cpu_bf16_autocast = requested == "auto" and not cuda and cpu_bf16_native()
        return accelerator
    except (RuntimeError, ValueError, ImportError) as err:  # e.g. FSDP without GPUs, DeepSpeed not installed
        first = " ".join(str(err).split())[:300]
        raise InputError(f"cannot set up accelerate for this launch ({type(err).__name__}: {first})") from None


def deepspeed_plugin(stage: int, max_grad_norm: float) -> Any:
    """accelerate's DeepSpeed plugin for ZeRO ``stage`` (2 or 3), as the shipped accelerate configs set it."""
    from accelerate.utils import DeepSpeedPlugin

    return DeepSpeedPlugin(zero_stage=stage, gradient_clipping=max_grad_norm, offload_optimizer_device="none",
                           offload_param_device="none", zero3_init_flag=False,
                           zero3_save_16bit_model=stage == 3)


def is_fsdp2(model: Any) -> bool:
    """Whether ``model`` was sharded with torch's ``fully_shard``."""
    from torch.distributed.fsdp import FSDPModule

    return isinstance(model, FSDPModule)


def shard_model(model: Any) -> Any:
    """Shard ``model`` with FSDP2: each decoder layer its own unit, then the rest (embeddings, norm, head).

    Decoder layers are the classes the model lists in ``_no_split_modules`` (transformers' own
    "keep this block together" list), found through a PEFT wrapper too. Frozen and trainable
    parameters may share a unit (LoRA): FSDP2 keeps ``requires_grad`` per parameter.
    """
    from torch.distributed.fsdp import fully_shard

    base = model.get_base_model() if hasattr(model, "get_base_model") else model
    blocks = set(getattr(base, "_no_split_modules", None) or [])
    layers = [m for m in model.modules() if type(m).__name__ in blocks]
    if not layers:
        raise InputError(f"--strategy fsdp: {type(base).__name__} names no decoder-layer class to shard by "
                         "(_no_split_modules); use --strategy ddp")
    for layer in layers:
        fully_shard(layer)
    fully_shard(model)
    return model


def prepare(accelerator: Any, model: Any, make_optimizer: Callable[[Any], Any], *,
            strategy: str | None) -> tuple[Any, Any, Any]:
    """Wrap ``model`` for the launch and build its optimizer; returns (model, prepared optimizer, raw optimizer).

    The optimizer is built after sharding (FSDP2 replaces parameters by sharded ones); the raw
    optimizer is what the learning-rate schedule drives.
    """
    if strategy == "fsdp" and accelerator.distributed_type.name != "FSDP":
        if accelerator.num_processes > 1:
            model = shard_model(model.to(accelerator.device))
        else:
            log.info("--strategy fsdp with one process: nothing to shard, training unsharded")
            model = model.to(accelerator.device)
        optimizer = make_optimizer(model)
        return model, accelerator.prepare_optimizer(optimizer, device_placement=False), optimizer
    optimizer = make_optimizer(model)
    model, prepared = accelerator.prepare(model, optimizer)
    return model, prepared, optimizer
