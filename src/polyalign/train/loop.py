"""The optimisation loop: micro-batches → token-weighted loss → accumulated gradients → optimizer step.

Loss normalisation. The loss of an optimizer step is the mean cross-entropy over *all target tokens
of the effective batch* (every micro-batch on every process), not the mean of per-micro-batch means.
Each micro-batch contributes ``sum of its token losses / target tokens of the whole step``; the
step's token count is known to every process in advance (`batching.plan_step`), so no extra
communication is needed. This makes the gradient independent of how the step is split: 1 micro-batch
of 8 equals 8 micro-batches of 1, and 1 process equals 2 processes with the same effective batch
(tested). Hugging Face Trainer normalises the same way since transformers 4.46
(``num_items_in_batch``); the papers' runs (older Trainer) averaged per-micro-batch means, which
weights tokens of short examples more — a difference of normalisation, not of the objective.

Scaling by ``processes × accumulation`` undoes the two averages the frameworks apply for us:
accelerate (or DeepSpeed) divides the loss by the accumulation steps, and data-parallel gradient
reduction (DDP's all-reduce, FSDP2's and ZeRO's reduce-scatter) averages over processes.

A stage's loop (`stage.run_stage`) calls `train_step` once per optimizer step with a `LoopState`.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from polyalign.errors import InputError
from polyalign.models.precision import training_autocast
from polyalign.train.batching import epoch_steps, plan_step, steps_per_epoch
from polyalign.train.collate import MicroBatch, collate_packed, collate_padded, empty_batch
from polyalign.train.data import TokenizedData

__all__ = ["summed_loss", "make_batch", "Batching", "LoopState", "train_step", "evaluate", "TrainingDiverged"]


class TrainingDiverged(InputError):
    """The loss or gradient became NaN/inf: bad input (exit code 2), not an internal failure (exit code 1).

    Why bad input: divergence comes from what the user chose — a learning rate too high for the model,
    no clipping, broken or degenerate examples — and the same recipe on the same data diverges again
    at the same step (the data order and the initialisation are seeded), so the fix is in the recipe or
    the data, never in rerunning. Exit code 1 stays reserved for faults of the program or the machine
    (a bug, a crashed or killed process, out of memory), where a rerun or a bug report is the fix. The
    message names the stage and the step and says that the checkpoints written before it are intact.
    In launched processes every process diverges at the same step (they share the reduced loss), and
    the launcher reports exit code 2 once.
    """


def summed_loss(model: Any, batch: MicroBatch) -> torch.Tensor:
    """Sum of the next-token cross-entropies over the batch's scored positions (float32)."""
    logits = model(**batch.model_inputs()).logits
    return F.cross_entropy(logits.float().reshape(-1, logits.shape[-1]), batch.targets, reduction="sum")


def make_batch(data: TokenizedData, indices: np.ndarray, *, packing: bool, pad_id: int, capacity: int) -> MicroBatch:
    """The micro-batch of these examples (an empty placeholder batch when there are none)."""
    if len(indices) == 0:
        return empty_batch(pad_id)
    examples = [data.example(int(i)) for i in indices]
    return collate_packed(examples, capacity=capacity, pad_id=pad_id) if packing else collate_padded(examples, pad_id)


@dataclass(frozen=True)
class Batching:
    """How a stage cuts its data into optimizer steps and micro-batches (identical on every process)."""

    batch_size: int
    """Examples per optimizer step, over all processes."""
    micro_batch_size: int
    """Examples per forward pass."""
    seed: int
    """Data-order seed (with the epoch: the same order on every process and after a resume)."""
    packing: bool
    """Padding-free packed rows, or padded rows."""
    capacity: int
    """Packed row length (the stage's max_length)."""
    pad_id: int
    """Padding token id (padded rows and placeholder batches)."""


@dataclass
class LoopState:
    """What the optimisation loop works on: the prepared model, optimizer and schedule, and the data."""

    stage: str
    """Stage name, for logs and errors."""
    model: Any
    """The model, prepared for this launch (plain, DDP or sharded)."""
    optimizer: Any
    """The optimizer over the model's trainable parameters."""
    scheduler: Any
    """The learning-rate schedule, stepped once per optimizer step."""
    data: TokenizedData
    """The tokenised training examples."""
    batching: Batching
    """How steps and micro-batches are cut."""
    total_steps: int
    """Length of the schedule."""
    max_grad_norm: float
    """Gradient clipping threshold (0: no clipping, the norm is still measured)."""
    started: float = field(default_factory=time.perf_counter)
    """When the loop started (for ``elapsed_s``)."""
    _order: tuple[int, list[np.ndarray]] = (-1, [])

    def step_examples(self, step: int) -> np.ndarray:
        """Example indices of optimizer step ``step`` (0-based), from the seeded order of its epoch."""
        epoch, index = divmod(step, steps_per_epoch(len(self.data), self.batching.batch_size))
        if self._order[0] != epoch:
            self._order = (epoch, epoch_steps(len(self.data), self.batching.batch_size, self.batching.seed, epoch))
        return self._order[1][index]


def train_step(accelerator: Any, state: LoopState, step: int) -> dict[str, Any]:
    """Run optimizer step ``step`` (0-based) and return its metrics record.

    Raises:
        TrainingDiverged: the loss or the gradient norm is NaN or infinite.
    """
    model, b = state.model, state.batching
    processes = accelerator.num_processes
    accumulation = b.batch_size // (b.micro_batch_size * processes)
    data = state.data
    plan = plan_step(state.step_examples(step), data.lengths, data.target_counts, micro_batch_size=b.micro_batch_size,
                     processes=processes, accumulation=accumulation, process_index=accelerator.process_index,
                     packing=b.packing, capacity=b.capacity)
    tick = time.perf_counter()
    scale = processes * accumulation / plan.target_tokens
    local = torch.zeros((), dtype=torch.float64, device=accelerator.device)
    for indices in plan.micro_batches:
        batch = make_batch(data, indices, packing=b.packing, pad_id=b.pad_id, capacity=b.capacity).to(accelerator.device)
        with accelerator.accumulate(model):
            with training_autocast(accelerator):  # bf16 compute, fp32 master weights (CPU, native bf16)
                loss_sum = summed_loss(model, batch)
            accelerator.backward(loss_sum * scale)
        local += loss_sum.detach().double()
    loss = accelerator.reduce(local, reduction="sum").item() / plan.target_tokens
    # Divergence is the recipe's or the data's doing, not a fault of the program: see TrainingDiverged.
    if not math.isfinite(loss):
        raise TrainingDiverged(f"stage {state.stage!r} step {step + 1}: the loss is {loss} — lower learning_rate, "
                               "or check the data for broken examples (checkpoints written so far are intact)")
    norm = accelerator.clip_grad_norm_(model.parameters(), state.max_grad_norm if state.max_grad_norm > 0 else math.inf)
    norm = float(norm) if norm is not None else float("nan")
    if math.isinf(norm) or (math.isnan(norm) and accelerator.distributed_type.name != "DEEPSPEED"):
        raise TrainingDiverged(f"stage {state.stage!r} step {step + 1}: the gradient norm is {norm} — lower "
                               "learning_rate, or check the data (checkpoints written so far are intact)")
    lr = state.scheduler.get_last_lr()[0]  # the rate this update uses (logged before the schedule moves on)
    state.optimizer.step()
    state.scheduler.step()
    state.optimizer.zero_grad(set_to_none=True)
    seconds = time.perf_counter() - tick
    return {"stage": state.stage, "step": step + 1,
            "epoch": round((step + 1) / steps_per_epoch(len(data), b.batch_size), 4), "loss": loss,
            "lr": lr, "grad_norm": norm, "examples": plan.examples,
            "tokens": plan.tokens, "target_tokens": plan.target_tokens,
            "tokens_per_s": plan.tokens / seconds if seconds > 0 else None,
            "padding_waste": 1 - plan.tokens / plan.padded_tokens,
            "elapsed_s": round(time.perf_counter() - state.started, 3)}


@torch.no_grad()
def evaluate(accelerator: Any, model: Any, data: TokenizedData, *, micro_batch_size: int, packing: bool,
             pad_id: int, capacity: int) -> dict[str, float]:
    """Mean loss over all target tokens of ``data`` (split across processes), in evaluation mode."""
    processes, rank = accelerator.num_processes, accelerator.process_index
    order = np.argsort(-data.lengths, kind="stable")
    batches = [order[i:i + micro_batch_size] for i in range(0, len(order), micro_batch_size)]
    # every process runs the same number of forward passes (sharded models gather weights in each)
    rounds = math.ceil(len(batches) / processes)
    mine = batches[rank::processes]
    mine += [np.zeros(0, dtype=np.int64)] * (rounds - len(mine))
    model.eval()
    total = torch.zeros((), dtype=torch.float64, device=accelerator.device)
    for indices in mine:
        batch = make_batch(data, indices, packing=packing, pad_id=pad_id, capacity=capacity).to(accelerator.device)
        total += summed_loss(model, batch).double()
    model.train()
    tokens = int(data.target_counts.sum())
    return {"eval_loss": accelerator.reduce(total, reduction="sum").item() / tokens, "eval_tokens": tokens}
