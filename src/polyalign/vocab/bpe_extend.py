"""Vocabulary extension for byte-level BPE tokenizers (GPT-2, Llama-3, SmolLM2): continued BPE training.

The Chinese-LLaMA recipe used by LLaMA beyond English (Zhao et al. 2024) appends SentencePiece
pieces, which works only for SentencePiece tokenizers; byte-level BPE needs new merges. Here BPE
training simply continues where the original stopped: the target corpus is pre-tokenized and
segmented by the *old* tokenizer, and the most frequent adjacent pair is merged again and again,
exactly as BPE training does. The learned merges are appended after all existing merges, so:

- old ids keep their strings (new tokens get the ids after the largest id in use);
- an old merge always beats a new one, so new merges only fire on what the old tokenizer leaves
  unmerged, and no old merge can involve a new token: text whose old segmentation has no new-merge
  pair adjacent (every old token's own string, in particular) tokenises exactly as before;
- by default a merge is kept only if its result contains a non-ASCII byte, so *any* ASCII text
  (English prose, code, numbers) tokenises exactly as before; ``allow_ascii=True`` lifts this for
  Latin-script targets such as Swahili or Indonesian, at the price of changing some English.
"""

from __future__ import annotations

import heapq
from collections import Counter, defaultdict
from dataclasses import dataclass
from typing import TYPE_CHECKING, Iterable

from polyalign.errors import InputError
from polyalign.vocab.hf_tokenizer import append_tokens, rebuild_tokenizer
from polyalign.vocab.kinds import byte_level_alphabet, tokenizer_json

if TYPE_CHECKING:
    from tokenizers import Tokenizer
    from transformers import PreTrainedTokenizerBase

__all__ = ["BpeExtension", "learn_merges", "extend_byte_level_bpe"]


@dataclass
class BpeExtension:
    """The result of `extend_byte_level_bpe`."""

    tokenizer: PreTrainedTokenizerBase
    tokens: list[str]
    """New tokens in the byte-level alphabet (``Ġ`` = space), in merge order."""
    ids: list[int]
    merges: list[tuple[str, str]]


def _has_non_ascii(token: str) -> bool:
    table = byte_level_alphabet()
    return any(table.get(c, 0x80) >= 0x80 for c in token)


_SHIFT = 32  # a pair of symbol ids (a, b) is the one int a << 32 | b: cheap to hash, compare and heap


def _merge_word(seq: list[int], a: int, b: int, merged: int, freq: int, delta: dict[int, int],
                fresh: list[int]) -> list[int]:
    """Merge every occurrence of (a, b) in ``seq`` left to right (as the tokenizers library applies a
    merge) and record in ``delta`` how the word's pair counts change — only pairs next to a merge
    change, so words are not recounted — and in ``fresh`` the new pairs (those with ``merged``)."""
    out: list[int] = []
    i, n, last_end = 0, len(seq), -2
    while True:
        try:
            j = seq.index(a, i)  # jump to the next candidate at C speed
        except ValueError:
            break
        if j + 1 >= n or seq[j + 1] != b:
            out.extend(seq[i:j + 1])
            i = j + 1
            continue
        out.extend(seq[i:j])
        if j > 0:
            if last_end != j - 1:  # else the previous merge already removed this pair
                key = seq[j - 1] << _SHIFT | a
                delta[key] = delta.get(key, 0) - freq
            key = out[-1] << _SHIFT | merged
            delta[key] = delta.get(key, 0) + freq
            fresh.append(key)
        key = a << _SHIFT | b
        delta[key] = delta.get(key, 0) - freq
        if j + 2 < n:
            key = b << _SHIFT | seq[j + 2]
            delta[key] = delta.get(key, 0) - freq
            if not (j + 3 < n and seq[j + 2] == a and seq[j + 3] == b):  # else the next merge adds it
                key = merged << _SHIFT | seq[j + 2]
                delta[key] = delta.get(key, 0) + freq
                fresh.append(key)
        out.append(merged)
        last_end = j + 1
        i = j + 2
    out.extend(seq[i:])
    return out


def learn_merges(backend: Tokenizer, lines: Iterable[str], n: int, *, allow_ascii: bool = False,
                 min_frequency: int = 2) -> list[tuple[str, str]]:
    """Learn up to ``n`` new merges on ``lines``, continuing BPE from the old tokenizer's segmentation.

    Args:
        backend: the old tokenizer's tokenizers-library object (normalizer, pre-tokenizer, BPE model).
        lines: target-language text.
        n: how many merges (= new tokens) to learn at most.
        allow_ascii: also learn merges whose result is pure ASCII (changes some English tokenisation).
        min_frequency: stop when the most frequent remaining pair occurs fewer times.

    Returns:
        Merges in learning order; each result is a string not in the old vocabulary.
    """
    words: Counter[str] = Counter()
    for line in lines:
        if line:
            text = backend.normalizer.normalize_str(line) if backend.normalizer else line
            words.update(piece for piece, _ in backend.pre_tokenizer.pre_tokenize_str(text))
    known = set(backend.get_vocab(with_added_tokens=True))
    ids: dict[str, int] = {}  # symbol string → id
    seqs: list[list[int]] = []
    for word in words:
        seqs.append([ids.setdefault(t.value, len(ids)) for t in backend.model.tokenize(word)])
    names = sorted(ids, key=ids.get)  # symbol id → string; merged symbols are appended
    freqs = list(words.values())
    counts: dict[int, int] = defaultdict(int)
    where: dict[int, set[int]] = defaultdict(set)
    for i, seq in enumerate(seqs):
        for x, y in zip(seq, seq[1:]):
            counts[x << _SHIFT | y] += freqs[i]
            where[x << _SHIFT | y].add(i)
    # Max-heap of (count, pair) with lazy deletion: an entry is live only while its count is current.
    # Ties go to the pair of the earliest-seen symbols, so runs are deterministic.
    heap = [(-c, key) for key, c in counts.items()]
    heapq.heapify(heap)
    merges: list[tuple[str, str]] = []
    mask = (1 << _SHIFT) - 1
    banned: set[int] = set()
    while heap and len(merges) < n:
        neg, key = heapq.heappop(heap)
        if counts.get(key, 0) != -neg or key in banned:
            continue
        if -neg < min_frequency:
            break
        a, b = key >> _SHIFT, key & mask
        text = names[a] + names[b]
        if text in known or not (allow_ascii or _has_non_ascii(text)):
            banned.add(key)  # never learnable
            continue
        merges.append((names[a], names[b]))
        known.add(text)
        merged = len(names)
        names.append(text)
        delta: dict[int, int] = {}
        for i in where.pop(key, ()):
            fresh: list[int] = []
            seqs[i] = _merge_word(seqs[i], a, b, merged, freqs[i], delta, fresh)
            for pair in fresh:
                where[pair].add(i)
        for pair, change in delta.items():
            counts[pair] += change
            if counts[pair] > 0:
                heapq.heappush(heap, (-counts[pair], pair))
            else:
                del counts[pair]
    return merges


def extend_byte_level_bpe(tokenizer: PreTrainedTokenizerBase, lines: list[str], n: int, *,
                          allow_ascii: bool = False) -> BpeExtension:
    """Add up to ``n`` target-language tokens to a byte-level BPE tokenizer (see the module docstring).

    Raises:
        InputError: the BPE model uses word prefixes/suffixes (not plain byte-level BPE), or the
            corpus yields no new merge.
    """
    tok_json = tokenizer_json(tokenizer)
    model = tok_json["model"]
    if model.get("continuing_subword_prefix") or model.get("end_of_word_suffix"):
        raise InputError("unsupported tokenizer type: BPE with word prefixes/suffixes "
                         f"({model.get('continuing_subword_prefix')!r}/{model.get('end_of_word_suffix')!r})")
    backend = tokenizer.backend_tokenizer
    if backend.pre_tokenizer is None:
        raise InputError("unsupported tokenizer type: byte-level BPE without a pre-tokenizer")
    merges = learn_merges(backend, lines, n, allow_ascii=allow_ascii)
    if not merges:
        raise InputError("the corpus yields no new token: every frequent pair is already in the vocabulary "
                         "(a larger or more target-language corpus is needed)")
    tokens = [a + b for a, b in merges]
    ids = append_tokens(tok_json, tokens, merges)
    new = rebuild_tokenizer(tokenizer, tok_json, dict(zip(tokens, ids)))
    return BpeExtension(new, tokens, ids, merges)
