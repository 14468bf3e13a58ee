"""Tokenizer efficiency per language: characters per token, fertility, continued words, byte fallbacks, premium.

The measures of LLaMA beyond English (Zhao et al. 2024, tokenizer analysis): stock LLaMA reads
Chinese at 0.69 characters per token with 45% of the tokens byte fallbacks; the extended tokenizer
at 1.38; English is unchanged at 3.36. Definitions, per language:

- **characters per token**: Unicode code points / tokens (no special tokens);
- **fertility**: tokens per word, where words are whitespace-separated; for languages written
  without spaces (``langs.get(code).spaces`` is False: zh, ja, th) tokens per non-space character;
- **continued-word share**: share of those units (words or characters) covered by ≥ 2 tokens, from
  the tokenizer's character offsets (whitespace-only tokens such as ``▁`` belong to no word);
- **byte-fallback share**: share of tokens that are bytes (`kinds.is_byte_token`);
- **token premium**: tokens(X) / tokens(English) summed over aligned lines of parallel files (None
  when there is no English file or the line counts differ).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

from polyalign import langs
from polyalign.errors import InputError
from polyalign.vocab.kinds import Kind, is_byte_token, token_bytes, tokenizer_kind

if TYPE_CHECKING:
    from transformers import PreTrainedTokenizerBase

__all__ = ["LangStats", "measure_language", "tokenizer_report", "format_table"]

_BATCH = 256


@dataclass
class LangStats:
    """Token counts of one language's text under one tokenizer, and the ratios built from them."""

    lang: str
    lines: int
    chars: int
    units: int
    """Words (space-separated languages) or non-space characters (the others)."""
    unit: str
    """``word`` or ``character``."""
    tokens: int
    continued_units: int
    """Units covered by two or more tokens."""
    byte_tokens: int
    premium_vs_en: float | None = None

    @property
    def chars_per_token(self) -> float:
        return self.chars / self.tokens if self.tokens else 0.0

    @property
    def fertility(self) -> float:
        return self.tokens / self.units if self.units else 0.0

    @property
    def continued_share(self) -> float:
        return self.continued_units / self.units if self.units else 0.0

    @property
    def byte_fallback_share(self) -> float:
        return self.byte_tokens / self.tokens if self.tokens else 0.0

    def to_dict(self) -> dict[str, Any]:
        """Counts plus the derived ratios (rounded to 4 decimals), JSON-ready."""
        out = asdict(self)
        for name in ("chars_per_token", "fertility", "continued_share", "byte_fallback_share"):
            out[name] = round(getattr(self, name), 4)
        if self.premium_vs_en is not None:
            out["premium_vs_en"] = round(self.premium_vs_en, 4)
        return out


def _units(line: str, spaced: bool) -> list[tuple[int, int]]:
    """Character spans of the words (spaced) or non-space characters (unspaced) of a line."""
    spans: list[tuple[int, int]] = []
    start = None
    for i, char in enumerate(line):
        if char.isspace():
            if start is not None:
                spans.append((start, i))
                start = None
        elif not spaced:
            spans.append((i, i + 1))
        elif start is None:
            start = i
    if start is not None:
        spans.append((start, len(line)))
    return spans


def _is_blank(token: str, kind: Kind) -> bool:
    raw = token_bytes(token, kind)
    return raw is not None and raw.strip() == b"" and len(raw) > 0


def _continued(spans: list[tuple[int, int]], offsets: list[tuple[int, int]], blank: list[bool]) -> int:
    """How many spans overlap two or more (non-blank, non-empty) token offsets; both lists are sorted."""
    count, first = 0, 0
    for start, end in spans:
        while first < len(offsets) and offsets[first][1] <= start:
            first += 1
        hits, j = 0, first
        while j < len(offsets) and offsets[j][0] < end and hits < 2:
            if offsets[j][1] > start and offsets[j][1] > offsets[j][0] and not blank[j]:
                hits += 1
            j += 1
        count += hits >= 2
    return count


def measure_language(tokenizer: PreTrainedTokenizerBase, lang: str, lines: list[str],
                     kind: Kind | None = None) -> tuple[LangStats, list[int]]:
    """Measure one language's lines; also returns tokens per line (for the premium).

    Args:
        tokenizer: a fast (tokenizers-backed) tokenizer, used without special tokens.
        lang: language code (decides words vs characters as the unit).
        lines: the text, one sentence per line (blank lines count as 0 tokens).
        kind: `tokenizer_kind` of the tokenizer (computed when None).
    """
    kind = kind or tokenizer_kind(tokenizer)
    spaced = langs.get(lang).spaces
    stats = LangStats(lang, sum(1 for x in lines if x), 0, 0, "word" if spaced else "character", 0, 0, 0)
    per_line: list[int] = []
    blank_cache: dict[int, bool] = {}
    byte_cache: dict[int, bool] = {}
    for begin in range(0, len(lines), _BATCH):
        batch = lines[begin:begin + _BATCH]
        enc = tokenizer(batch, add_special_tokens=False, return_offsets_mapping=True)
        for line, ids, offsets in zip(batch, enc["input_ids"], enc["offset_mapping"]):
            per_line.append(len(ids))
            if not line:
                continue
            tokens = tokenizer.convert_ids_to_tokens(ids)
            for tid, tok in zip(ids, tokens):
                if tid not in byte_cache:
                    byte_cache[tid] = is_byte_token(tok, kind)
                    blank_cache[tid] = _is_blank(tok, kind)
            spans = _units(line, spaced)
            stats.chars += len(line)
            stats.tokens += len(ids)
            stats.units += len(spans)
            stats.byte_tokens += sum(byte_cache[t] for t in ids)
            stats.continued_units += _continued(spans, [tuple(o) for o in offsets], [blank_cache[t] for t in ids])
    return stats, per_line


def tokenizer_report(tokenizer: PreTrainedTokenizerBase, texts: dict[str, list[str]], *,
                     name: str) -> dict[str, Any]:
    """Statistics of one tokenizer over every language's text, with the premium against English.

    Args:
        tokenizer: the tokenizer to measure.
        texts: lines per language code; an ``en`` entry enables the premium for languages whose
            files have the same number of lines (taken as line-aligned parallel text).
        name: how the tokenizer is named in tables and plots.

    Returns:
        ``{"tokenizer", "kind", "vocab_size", "languages": {lang: LangStats.to_dict()}, "notes"}``.

    Raises:
        InputError: a slow (pure-Python) tokenizer, which has no character offsets.
    """
    if getattr(tokenizer, "backend_tokenizer", None) is None:
        raise InputError(f"{name}: statistics need a tokenizers-backed (fast) tokenizer, "
                         f"got {type(tokenizer).__name__}")
    kind = tokenizer_kind(tokenizer)
    measured = {lang: measure_language(tokenizer, lang, lines, kind) for lang, lines in texts.items()}
    notes: list[str] = []
    if "en" in measured:
        en_counts = measured["en"][1]
        for lang, (stats, counts) in measured.items():
            if len(counts) != len(en_counts):
                notes.append(f"no premium for {lang}: {len(counts)} lines vs {len(en_counts)} English lines "
                             "(not line-aligned)")
                continue
            en_tokens = sum(en_counts)
            stats.premium_vs_en = sum(counts) / en_tokens if en_tokens else None
    else:
        notes.append("no premium: no English text among the inputs")
    return {"tokenizer": name, "kind": kind, "vocab_size": len(tokenizer),
            "languages": {lang: stats.to_dict() for lang, (stats, _) in measured.items()}, "notes": notes}


def format_table(reports: list[dict[str, Any]]) -> str:
    """A plain-text table: one row per tokenizer and language."""
    header = ("tokenizer", "lang", "lines", "chars/tok", "fertility", "unit", "continued", "bytes", "premium")
    rows = [header]
    for report in reports:
        for lang, s in report["languages"].items():
            premium = s.get("premium_vs_en")
            rows.append((report["tokenizer"], lang, f"{s['lines']:,}", f"{s['chars_per_token']:.3f}",
                         f"{s['fertility']:.3f}", f"tok/{s['unit'][:4]}", f"{100 * s['continued_share']:.1f}%",
                         f"{100 * s['byte_fallback_share']:.1f}%", "—" if premium is None else f"{premium:.2f}x"))
    widths = [max(len(str(row[i])) for row in rows) for i in range(len(header))]
    lines = ["  ".join(str(cell).ljust(w) if i < 2 else str(cell).rjust(w) for i, (cell, w) in
                       enumerate(zip(row, widths))) for row in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)
