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
reduction averages over processes.
"""

from __future__ import annotations

import math
import time
from typing import Any, Callable

import numpy as np
import torch
import torch.nn.functional as F
from tqdm import tqdm

from polyalign.errors import InputError
from polyalign.models.precision import training_autocast
from polyalign.train.batching import epoch_steps, plan_step, steps_per_epoch
from polyalign.train.collate import MicroBatch, collate_packed, collate_padded, empty_batch
from polyalign.train.data import TokenizedData
from polyalign.train.metrics import MetricsLog

__all__ = ["summed_loss", "make_batch", "train_steps", "evaluate", "TrainingDiverged"]


class TrainingDiverged(InputError):
    """The loss or gradient became NaN/inf: a hyperparameter or data problem (exit code 2)."""


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


def train_steps(*, accelerator: Any, model: Any, optimizer: Any, scheduler: Any, data: TokenizedData, stage: str,
                batch_size: int, micro_batch_size: int, seed: int, total_steps: int, start_step: int,
                packing: bool, capacity: int, pad_id: int, max_grad_norm: float, logging_steps: int,
                metrics: MetricsLog, on_step_end: Callable[[int, dict[str, Any]], None],
                progress: bool | None) -> dict[str, Any]:
    """Run optimizer steps ``start_step`` … ``total_steps - 1`` and return the last step's record.

    Args:
        accelerator: the run's Accelerator (processes, accumulation, backward, reductions).
        model, optimizer: prepared by the accelerator; scheduler: stepped once per optimizer step.
        data: the tokenised training examples.
        stage: stage name, for logs and errors.
        batch_size: examples per optimizer step over all processes.
        micro_batch_size: examples per forward pass.
        seed: data-order seed (with the epoch: the same order on every process and after a resume).
        total_steps, start_step: the schedule's length and where to start (> 0 when resuming).
        packing: padding-free packed rows, or padded rows.
        capacity: packed row length (the stage's max_length).
        pad_id: padding token id (padded rows and placeholder batches).
        max_grad_norm: gradient clipping threshold (0: no clipping, the norm is still measured).
        logging_steps: write a metrics line every N steps (and at the last step).
        metrics: the metrics log.
        on_step_end: called with (steps done, record) after every step (checkpoints, evaluation).
        progress: show a progress bar (None: only on a terminal).

    Raises:
        TrainingDiverged: the loss or the gradient norm is NaN or infinite.
    """
    processes, rank = accelerator.num_processes, accelerator.process_index
    accumulation = batch_size // (micro_batch_size * processes)
    lengths, target_counts = data.lengths, data.target_counts
    per_epoch = steps_per_epoch(len(data), batch_size)
    order: tuple[int, list[np.ndarray]] = (-1, [])
    bar = tqdm(total=total_steps, initial=start_step, desc=stage, unit="step", dynamic_ncols=True,
               disable=(None if progress is None else not progress) if accelerator.is_main_process else True)
    record: dict[str, Any] = {}
    started = time.perf_counter()
    model.train()
    for step in range(start_step, total_steps):
        epoch, index = divmod(step, per_epoch)
        if order[0] != epoch:
            order = (epoch, epoch_steps(len(data), batch_size, seed, epoch))
        plan = plan_step(order[1][index], lengths, target_counts, micro_batch_size=micro_batch_size,
                         processes=processes, accumulation=accumulation, process_index=rank, packing=packing,
                         capacity=capacity)
        tick = time.perf_counter()
        scale = processes * accumulation / plan.target_tokens
        local = torch.zeros((), dtype=torch.float64, device=accelerator.device)
        for indices in plan.micro_batches:
            batch = make_batch(data, indices, packing=packing, pad_id=pad_id, capacity=capacity).to(accelerator.device)
            with accelerator.accumulate(model):
                with training_autocast(accelerator):  # bf16 compute, fp32 master weights (CPU, native bf16)
                    loss_sum = summed_loss(model, batch)
                accelerator.backward(loss_sum * scale)
            local += loss_sum.detach().double()
        loss = accelerator.reduce(local, reduction="sum").item() / plan.target_tokens
        if not math.isfinite(loss):
            raise TrainingDiverged(f"stage {stage!r} step {step + 1}: the loss is {loss} — lower learning_rate, or "
                                   "check the data for broken examples (checkpoints written so far are intact)")
        norm = accelerator.clip_grad_norm_(model.parameters(), max_grad_norm if max_grad_norm > 0 else math.inf)
        norm = float(norm) if norm is not None else float("nan")
        if math.isinf(norm) or (math.isnan(norm) and accelerator.distributed_type.name != "DEEPSPEED"):
            raise TrainingDiverged(f"stage {stage!r} step {step + 1}: the gradient norm is {norm} — lower "
                                   "learning_rate, or check the data (checkpoints written so far are intact)")
        lr = scheduler.get_last_lr()[0]  # the rate this update uses (logged before the schedule moves on)
        optimizer.step()
        scheduler.step()
        optimizer.zero_grad(set_to_none=True)
        seconds = time.perf_counter() - tick
        record = {"stage": stage, "step": step + 1, "epoch": round((step + 1) / per_epoch, 4), "loss": loss,
                  "lr": lr, "grad_norm": norm, "examples": plan.examples,
                  "tokens": plan.tokens, "target_tokens": plan.target_tokens,
                  "tokens_per_s": plan.tokens / seconds if seconds > 0 else None,
                  "padding_waste": 1 - plan.tokens / plan.padded_tokens,
                  "elapsed_s": round(time.perf_counter() - started, 3)}
        if (step + 1) % logging_steps == 0 or step + 1 == total_steps:
            metrics.log(record)
        bar.set_postfix(loss=f"{loss:.4f}", tok_s=f"{record['tokens_per_s'] or 0:.0f}", refresh=False)
        bar.update(1)
        on_step_end(step + 1, record)
    bar.close()
    return record


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
