"""Optimizer and learning-rate schedule, set up as Hugging Face Trainer sets them up (the papers' trainer).

AdamW (β 0.9/0.999, ε 1e-8) with weight decay on matrices only — biases and normalisation weights
are not decayed — and a schedule with linear warmup over ``ceil(warmup_ratio × steps)`` steps. The
papers use weight decay 0, so the grouping matters only for recipes that set it.
"""

from __future__ import annotations

import math
from typing import Any, Iterable

import torch

__all__ = ["build_optimizer", "build_scheduler"]


def build_optimizer(named_parameters: Iterable[tuple[str, torch.nn.Parameter]], *, lr: float, weight_decay: float,
                    cpu_offload: bool = False) -> torch.optim.Optimizer:
    """AdamW over the trainable parameters, decaying only matrices that are not norms.

    Args:
        named_parameters: ``model.named_parameters()``; frozen ones are skipped.
        lr: peak learning rate.
        weight_decay: decoupled weight decay of the decayed group.
        cpu_offload: DeepSpeed offloads the optimizer to the CPU: use its CPU Adam (DeepSpeed refuses
            a torch optimizer there).
    """
    decay, no_decay = [], []
    for name, param in named_parameters:
        if param.requires_grad:
            (decay if param.ndim >= 2 and "norm" not in name.lower() else no_decay).append(param)
    groups = [{"params": decay, "weight_decay": weight_decay}, {"params": no_decay, "weight_decay": 0.0}]
    if cpu_offload:
        from deepspeed.ops.adam import DeepSpeedCPUAdam  # the `gpu` extra

        return DeepSpeedCPUAdam(groups, lr=lr, adamw_mode=True)
    return torch.optim.AdamW(groups, lr=lr)


def build_scheduler(optimizer: torch.optim.Optimizer, *, name: str, total_steps: int, warmup_ratio: float) -> Any:
    """The named transformers schedule over ``total_steps`` optimizer steps, warmup as Trainer rounds it."""
    from transformers import get_scheduler

    return get_scheduler(name, optimizer, num_training_steps=total_steps,
                         num_warmup_steps=math.ceil(warmup_ratio * total_steps))
