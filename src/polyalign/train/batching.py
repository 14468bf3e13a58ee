"""Which examples go into which optimizer step and micro-batch: seeded, resumable, length-grouped.

An epoch is a seeded permutation of the examples cut into steps of ``batch_size`` examples (the last
step of an epoch may be smaller, as with Hugging Face Trainer's default ``drop_last=False``). Each
step's examples are then sorted by length and dealt into ``processes × accumulation`` micro-batches
of ``micro_batch_size`` examples: long examples share micro-batches with long ones (little padding
when batches are padded, predictable memory), and micro-batches alternate between processes so
they get similar work.

Grouping by length *inside* a step leaves the optimisation unchanged: the loss of a step is the
mean over all its target tokens however they are split (see `loop`), so the gradient is the same
as for any other split. (Hugging Face's ``group_by_length`` instead regroups examples *across*
steps, which changes which examples are averaged together.)

Everything here is a pure function of (number of examples, lengths, seed, epoch), so a resumed run
rebuilds exactly the same order and every process computes the same plan without talking.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

__all__ = ["epoch_steps", "deal", "StepPlan", "plan_step", "steps_per_epoch", "pack_rows"]


def steps_per_epoch(n_examples: int, batch_size: int) -> int:
    """Optimizer steps in one pass over ``n_examples`` (the last step may be partial)."""
    return math.ceil(n_examples / batch_size)


def epoch_steps(n_examples: int, batch_size: int, seed: int, epoch: int) -> list[np.ndarray]:
    """The example indices of each step of one epoch, in a seeded random order."""
    order = np.random.default_rng([seed, epoch]).permutation(n_examples)
    return [order[start:start + batch_size] for start in range(0, n_examples, batch_size)]


def pack_rows(lengths: list[int] | np.ndarray, capacity: int) -> list[list[int]]:
    """Assign examples (by position) to the fewest rows of at most ``capacity`` tokens, balanced.

    Longest first, each into the currently shortest row (LPT scheduling), with the smallest row count
    that keeps every row within ``capacity``. Balanced rows need little padding to stack, and short
    rows keep attention cheap: with a packed mask, sdpa/eager attention still costs row length²
    (flash-attention's varlen kernel does not), so one long row would waste more than padding saves.
    """
    lengths = [int(n) for n in lengths]
    order = sorted(range(len(lengths)), key=lambda i: -lengths[i])
    for count in range(max(1, math.ceil(sum(lengths) / capacity)), len(lengths) + 1):
        rows: list[list[int]] = [[] for _ in range(count)]
        loads = [0] * count
        for i in order:
            k = loads.index(min(loads))
            rows[k].append(i)
            loads[k] += lengths[i]
        if max(loads) <= capacity:
            return rows
    return [[i] for i in order]  # only when an example is longer than capacity


def deal(step: np.ndarray, lengths: np.ndarray, micro_batch_size: int, processes: int,
         accumulation: int) -> list[list[np.ndarray]]:
    """Split one step's examples into micro-batches for every process, grouped by length.

    Args:
        step: example indices of the step (at most ``micro_batch_size × processes × accumulation``).
        lengths: tokens per example (indexed by example).
        micro_batch_size: examples per micro-batch.
        processes: data-parallel processes.
        accumulation: micro-batches per process per step.

    Returns:
        ``plan[process][k]``: indices of micro-batch k on that process; every process gets exactly
        ``accumulation`` micro-batches (some empty in a partial last step: every process must run
        the same number of forward/backward passes for data-parallel training to stay in lockstep).
    """
    if len(step) > micro_batch_size * processes * accumulation:
        raise ValueError("step holds more examples than the micro-batches can take")
    # Longest first (stable, so equal lengths keep the seeded order): memory peaks at the first micro-batch.
    ordered = step[np.argsort(-lengths[step], kind="stable")]
    plan: list[list[np.ndarray]] = [[] for _ in range(processes)]
    for k in range(processes * accumulation):
        plan[k % processes].append(ordered[k * micro_batch_size:(k + 1) * micro_batch_size])
    return plan


@dataclass(frozen=True)
class StepPlan:
    """One optimizer step: this process's micro-batches and the step's global token counts."""

    micro_batches: list[np.ndarray]
    """Example indices of each of this process's micro-batches."""
    examples: int
    """Examples in the step, over all processes."""
    tokens: int
    """Real (non-padding) tokens in the step, over all processes."""
    target_tokens: int
    """Scored tokens in the step, over all processes: the loss normaliser."""
    padded_tokens: int
    """Tensor positions the step computes over all processes (tokens + padding)."""


def plan_step(step: np.ndarray, lengths: np.ndarray, target_counts: np.ndarray, *, micro_batch_size: int,
              processes: int, accumulation: int, process_index: int, packing: bool, capacity: int) -> StepPlan:
    """Deal a step and count its tokens; every process computes the same counts from the same inputs.

    ``capacity`` is the packed row length (`pack_rows`); padded batches use one row per example.
    """
    plan = deal(step, lengths, micro_batch_size, processes, accumulation)
    padded = 0
    for micro_batches in plan:
        for batch in micro_batches:
            if len(batch) == 0:
                continue
            sizes = lengths[batch]
            if packing:
                rows = pack_rows(sizes, capacity)
                padded += len(rows) * max(int(sizes[row].sum()) for row in rows)
            else:
                padded += int(sizes.max()) * len(batch)
    return StepPlan(micro_batches=plan[process_index], examples=len(step), tokens=int(lengths[step].sum()),
                    target_tokens=int(target_counts[step].sum()), padded_tokens=padded)
