"""Training data: JSONL records → token ids with the number of leading untrained (prompt) tokens.

sft (instruction tuning) follows the papers' Alpaca ``finetune.py`` (x-LLaMA, QAlign): the prompt and
prompt + completion are tokenised with the tokenizer's special tokens, an end-of-sequence token is
appended (the data stores none, docs/architecture.md), the result is cut at ``max_length``, and the first
``len(prompt tokens)`` tokens carry no loss. cpt (further pretraining) trains on every token of
``text`` + EOS; a document longer than ``max_length`` is split into pieces that overlap by one token,
each trained as its own sequence (positions restart, no attention across pieces), so every token but
the document's first is predicted exactly once.

Token ids live in one flat int32 array with offsets, so 100M-token mixtures fit in memory.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

import numpy as np

from polyalign.io import iter_jsonl
from polyalign.errors import InputError

__all__ = ["TokenizedData", "tokenize_file", "read_records"]

log = logging.getLogger(__name__)
_BATCH = 1000
_FIELDS = {"sft": ("prompt", "completion"), "cpt": ("text",)}


@dataclass
class TokenizedData:
    """Tokenised examples: ``tokens[offsets[i]:offsets[i + 1]]`` is example i.

    Attributes:
        tokens: all token ids, concatenated.
        offsets: start of each example in ``tokens`` and the end of the last (length n + 1).
        prompt_lengths: leading tokens of each example that are context only (no loss).
        dropped: examples left out because no target token survived truncation.
        truncated: examples cut at ``max_length`` (sft) or split into pieces (cpt).
    """

    tokens: np.ndarray
    offsets: np.ndarray
    prompt_lengths: np.ndarray
    dropped: int = 0
    truncated: int = 0
    ids: list[str] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.offsets) - 1

    @property
    def lengths(self) -> np.ndarray:
        """Tokens per example."""
        return np.diff(self.offsets)

    @property
    def target_counts(self) -> np.ndarray:
        """Tokens per example that are predicted and scored (all but the context, and never the first)."""
        return self.lengths - np.maximum(self.prompt_lengths, 1)

    def example(self, index: int) -> tuple[np.ndarray, int]:
        """``(token ids, prompt length)`` of one example."""
        return self.tokens[self.offsets[index]:self.offsets[index + 1]], int(self.prompt_lengths[index])


def read_records(path: str | Path, kind: str) -> Iterator[tuple[str, dict[str, Any]]]:
    """Yield ``(id, record)`` for each line, checking the fields a stage of this kind needs.

    Raises:
        InputError: missing file, bad JSON, a line without the needed string fields, or no lines.
    """
    needed = _FIELDS[kind]
    count = 0
    for number, record in iter_jsonl(path):
        missing = [f for f in needed if not isinstance(record.get(f), str)]
        if missing:
            hint = ""
            if kind == "sft" and isinstance(record.get("text"), str):
                hint = "; this is pretraining text: use a stage of type cpt"
            elif kind == "cpt" and isinstance(record.get("prompt"), str):
                hint = "; this is instruction data: use a stage of type sft"
            raise InputError(f"missing or non-string field(s) {', '.join(missing)} (a {kind} stage reads "
                             f"{' and '.join(needed)}){hint}", where=f"{path}:{number}")
        count += 1
        yield str(record.get("id", f"{Path(path).name}:{number}")), record
    if count == 0:
        raise InputError("no examples (the file is empty)", where=str(path))


def tokenize_file(path: str | Path, kind: str, tokenizer: Any, max_length: int) -> TokenizedData:
    """Read and tokenise a training file for a ``cpt`` or ``sft`` stage.

    Args:
        path: JSONL with ``prompt``/``completion`` (sft) or ``text`` (cpt).
        kind: "sft" or "cpt".
        tokenizer: a Hugging Face tokenizer with an end-of-sequence token.
        max_length: tokens per training sequence.

    Raises:
        InputError: bad file or fields, no EOS token, or no example with a target token left.
    """
    eos = tokenizer.eos_token_id
    if eos is None:
        raise InputError("the tokenizer has no end-of-sequence token; training needs one to mark the end of "
                         "each completion", where=str(getattr(tokenizer, "name_or_path", "tokenizer")))
    pieces: list[np.ndarray] = []
    prompt_lengths: list[int] = []
    ids: list[str] = []
    data = TokenizedData(np.zeros(0, np.int32), np.zeros(1, np.int64), np.zeros(0, np.int32))
    batch: list[tuple[str, dict[str, Any]]] = []
    for item in read_records(path, kind):
        batch.append(item)
        if len(batch) == _BATCH:
            _tokenize_batch(batch, kind, tokenizer, eos, max_length, pieces, prompt_lengths, ids, data)
    _tokenize_batch(batch, kind, tokenizer, eos, max_length, pieces, prompt_lengths, ids, data)
    if not pieces:
        raise InputError(f"no example has a target token within max_length {max_length} "
                         f"({data.dropped} dropped: the prompt alone fills it)", where=str(path))
    if data.dropped:
        log.warning("%s: dropped %d examples whose prompt fills max_length %d (nothing to train on)",
                    path, data.dropped, max_length)
    lengths = np.fromiter((len(p) for p in pieces), dtype=np.int64, count=len(pieces))
    data.tokens = np.concatenate(pieces).astype(np.int32)
    data.offsets = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
    data.prompt_lengths = np.asarray(prompt_lengths, dtype=np.int32)
    data.ids = ids
    return data


def _tokenize_batch(batch: list[tuple[str, dict[str, Any]]], kind: str, tokenizer: Any, eos: int, max_length: int,
                    pieces: list[np.ndarray], prompt_lengths: list[int], ids: list[str], data: TokenizedData) -> None:
    if not batch:
        return
    if kind == "cpt":
        encoded = tokenizer([r["text"] for _, r in batch], add_special_tokens=True)["input_ids"]
        for (record_id, _), tokens in zip(batch, encoded):
            tokens = list(tokens) + [eos]
            if len(tokens) > max_length:
                data.truncated += 1
            # Pieces overlap by one token: a piece's first token is only context (the last token of
            # the previous piece), so every token but the document's first is predicted exactly once.
            stride = max_length - 1
            for number, start in enumerate(range(0, len(tokens) - 1, stride)):
                pieces.append(np.asarray(tokens[start:start + max_length], dtype=np.int32))
                prompt_lengths.append(0)
                ids.append(record_id if number == 0 else f"{record_id}#{number}")
    else:
        # As the papers' finetune.py: tokenise the prompt and the whole example, mask len(prompt) tokens.
        prompts = tokenizer([r["prompt"] for _, r in batch], add_special_tokens=True)["input_ids"]
        fulls = tokenizer([r["prompt"] + r["completion"] for _, r in batch], add_special_tokens=True)["input_ids"]
        for (record_id, _), prompt, full in zip(batch, prompts, fulls):
            tokens = list(full) + [eos]
            if len(tokens) > max_length:
                data.truncated += 1
                tokens = tokens[:max_length]
            if len(prompt) >= len(tokens):
                data.dropped += 1
                continue
            pieces.append(np.asarray(tokens, dtype=np.int32))
            prompt_lengths.append(len(prompt))
            ids.append(record_id)
    batch.clear()
