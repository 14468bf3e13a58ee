"""Micro-batch tensors: packed rows (positions restarting per example) or padded rows, with next-token targets.

Packed (default): the micro-batch's examples are concatenated into a few balanced rows of at most
``max_length`` tokens (`batching.pack_rows`), and ``position_ids`` restart at 0 for each example.
With no attention mask, transformers 5 (`masking_utils.find_packed_sequence_indices`) reads the
restarts as sequence boundaries and builds a block-diagonal causal mask for sdpa/eager/flex
attention, and flash-attention takes its varlen path: examples never attend to each other, and
little compute or memory goes to padding (only to even out the rows).

Padded: examples are right-padded to the longest one with an attention mask (the classic layout,
for models whose attention does not understand packed position ids).

Targets are shifted here, per example: position j is scored on token j + 1 only when j + 1 is a
target token of the *same* example. So the last token of one packed example never learns to predict
the first token of the next, and prompt tokens are never targets. Only scored positions get logits
(``logits_to_keep`` with a boolean mask), which skips the vocabulary projection for prompts.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from polyalign.train.batching import pack_rows

__all__ = ["MicroBatch", "collate_packed", "collate_padded", "empty_batch", "scored_positions"]


@dataclass
class MicroBatch:
    """The tensors of one forward pass."""

    input_ids: torch.Tensor
    """Token ids, (rows, length)."""
    position_ids: torch.Tensor
    """Position of each token inside its own example, (rows, length)."""
    attention_mask: torch.Tensor | None
    """1 for tokens, 0 for padding (padded batches only; None lets packed rows be detected)."""
    scored: torch.Tensor
    """Boolean (rows, length): positions whose next token is a target."""
    targets: torch.Tensor
    """The next token at each scored position, in row-major order, (n_scored,)."""

    def to(self, device: Any) -> MicroBatch:
        """The same batch on ``device``."""
        names = ("input_ids", "position_ids", "attention_mask", "scored", "targets")
        return MicroBatch(**{k: getattr(self, k).to(device) if getattr(self, k) is not None else None for k in names})

    def model_inputs(self) -> dict[str, Any]:
        """Keyword arguments for a transformers causal LM forward pass (no cache, logits only where scored)."""
        inputs = {"input_ids": self.input_ids, "position_ids": self.position_ids, "use_cache": False,
                  "logits_to_keep": self.scored}
        if self.attention_mask is not None:
            inputs["attention_mask"] = self.attention_mask
        return inputs


def scored_positions(length: int, prompt_length: int) -> slice:
    """Positions of an example whose next token is a target: from the last context token to the second-to-last."""
    return slice(max(prompt_length, 1) - 1, length - 1)


def collate_packed(examples: list[tuple[np.ndarray, int]], *, capacity: int | None = None,
                   pad_id: int = 0) -> MicroBatch:
    """Examples back to back in rows of at most ``capacity`` tokens, positions restarting per example.

    Args:
        examples: ``(token ids, prompt length)`` pairs, as `TokenizedData.example` gives them.
        capacity: row length limit (`batching.pack_rows`); None puts everything in one row.
        pad_id: fills the end of rows shorter than the longest (those positions form their own
            never-scored sequence: positions restart at 0, so no example attends to them).
    """
    lengths = [len(tokens) for tokens, _ in examples]
    rows = pack_rows(lengths, capacity or sum(lengths))
    width = max(sum(lengths[i] for i in row) for row in rows)
    ids = np.full((len(rows), width), pad_id, dtype=np.int64)
    positions = np.zeros((len(rows), width), dtype=np.int64)
    scored = np.zeros((len(rows), width), dtype=bool)
    targets = []
    for r, row in enumerate(rows):
        start = 0
        for i in row:
            tokens, prompt_length = examples[i]
            ids[r, start:start + len(tokens)] = tokens
            positions[r, start:start + len(tokens)] = np.arange(len(tokens))
            span = scored_positions(len(tokens), prompt_length)
            scored[r, start + span.start:start + span.stop] = True
            targets.append(tokens[span.start + 1:span.stop + 1])
            start += len(tokens)
        positions[r, start:] = np.arange(width - start)
    return MicroBatch(input_ids=torch.from_numpy(ids), position_ids=torch.from_numpy(positions), attention_mask=None,
                      scored=torch.from_numpy(scored),
                      targets=torch.from_numpy(np.concatenate(targets).astype(np.int64)))


def collate_padded(examples: list[tuple[np.ndarray, int]], pad_id: int) -> MicroBatch:
    """One row per example, right-padded with ``pad_id`` to the longest, with an attention mask."""
    width = max(len(tokens) for tokens, _ in examples)
    ids = np.full((len(examples), width), pad_id, dtype=np.int64)
    mask = np.zeros((len(examples), width), dtype=np.int64)
    scored = np.zeros((len(examples), width), dtype=bool)
    targets = []
    for row, (tokens, prompt_length) in enumerate(examples):
        ids[row, :len(tokens)] = tokens
        mask[row, :len(tokens)] = 1
        span = scored_positions(len(tokens), prompt_length)
        scored[row, span] = True
        targets.append(tokens[span.start + 1:span.stop + 1])
    positions = np.broadcast_to(np.arange(width), ids.shape).copy()
    return MicroBatch(input_ids=torch.from_numpy(ids), position_ids=torch.from_numpy(positions),
                      attention_mask=torch.from_numpy(mask), scored=torch.from_numpy(scored),
                      targets=torch.from_numpy(np.concatenate(targets).astype(np.int64)))


def empty_batch(pad_id: int) -> MicroBatch:
    """A one-token batch with nothing scored: the forward/backward pass a process runs when a partial
    last step leaves it no examples, so that data-parallel processes stay in lockstep."""
    return MicroBatch(input_ids=torch.tensor([[pad_id]]), position_ids=torch.tensor([[0]]), attention_mask=None,
                      scored=torch.zeros((1, 1), dtype=torch.bool), targets=torch.zeros(0, dtype=torch.long))
