"""Append tokens and merges to a fast tokenizer's ``tokenizer.json`` and rebuild the transformers tokenizer.

Both extension methods end here. New tokens get the ids after the largest id in use (model
vocabulary and added tokens alike), so every old id keeps its string; new merges go after all
existing merges, i.e. they have the lowest priority and fire only where no old merge applies.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from transformers import PreTrainedTokenizerBase

__all__ = ["append_tokens", "rebuild_tokenizer"]

# Files that could compete with tokenizer.json as the description of the vocabulary when reloading.
_STALE = ("tokenizer.model", "vocab.json", "merges.txt", "vocab.txt")


def append_tokens(tok_json: dict[str, Any], tokens: list[str],
                  merges: list[tuple[str, str]]) -> list[int]:
    """Add ``tokens`` to the BPE vocabulary of ``tok_json`` (in place) and append ``merges`` after the old ones.

    Args:
        tok_json: a parsed ``tokenizer.json`` with a BPE model.
        tokens: new token strings (in the tokenizer's own alphabet: ``▁`` pieces or byte-level chars),
            none already in the vocabulary or among the added tokens.
        merges: pairs to append; every pair's parts and result must be in the final vocabulary.

    Returns:
        The ids given to ``tokens``, consecutive from one past the largest id in use.
    """
    model = tok_json["model"]
    vocab: dict[str, int] = model["vocab"]
    added = {entry["content"]: entry["id"] for entry in tok_json.get("added_tokens") or []}
    clash = [t for t in tokens if t in vocab or t in added]
    if clash:
        raise ValueError(f"tokens already in the vocabulary: {clash[:5]}")
    next_id = max([*vocab.values(), *added.values()]) + 1
    ids = list(range(next_id, next_id + len(tokens)))
    vocab.update(zip(tokens, ids))
    for left, right in merges:
        if left not in vocab or right not in vocab or left + right not in vocab:
            raise ValueError(f"merge {left!r} + {right!r}: a part or the result is not in the vocabulary")
    old = model.get("merges") or []
    as_strings = bool(old) and isinstance(old[0], str)  # tokenizers < 0.20 wrote "a b" strings
    model["merges"] = list(old) + [f"{a} {b}" if as_strings else [a, b] for a, b in merges]
    return ids


def rebuild_tokenizer(old: PreTrainedTokenizerBase, tok_json: dict[str, Any],
                      expected_ids: dict[str, int]) -> PreTrainedTokenizerBase:
    """A transformers tokenizer of the same class and settings as ``old`` (special tokens, chat template,
    padding side) with ``tok_json`` as its vocabulary, rebuilt through ``save_pretrained`` +
    ``from_pretrained`` so that it is exactly what a later load of the saved model will see.

    Args:
        old: the original tokenizer.
        tok_json: the extended ``tokenizer.json`` content.
        expected_ids: new token → id; checked after loading.

    Raises:
        RuntimeError: the reloaded tokenizer does not have the new tokens at their ids (a transformers
            conversion that dropped or renumbered them: a bug to report, not bad input).
    """
    from transformers import AutoTokenizer

    with tempfile.TemporaryDirectory(prefix="polyalign-vocab-") as tmp:
        old.save_pretrained(tmp)
        for name in _STALE:
            (Path(tmp) / name).unlink(missing_ok=True)
        (Path(tmp) / "tokenizer.json").write_text(json.dumps(tok_json, ensure_ascii=False), encoding="utf-8")
        new = AutoTokenizer.from_pretrained(tmp)
    if new.pad_token is None and old.pad_token is not None:
        new.pad_token = old.pad_token
    want = len(old) + len(expected_ids)
    wrong = {t: i for t, i in expected_ids.items() if new.convert_tokens_to_ids(t) != i}
    if len(new) != want or wrong:
        raise RuntimeError(f"extended tokenizer reloaded with {len(new):,} tokens (expected {want:,}); "
                           f"{len(wrong)} new tokens at the wrong id, e.g. {list(wrong.items())[:3]}")
    return new
