"""Invariants an extended tokenizer must keep, checked on every extension before the model is touched.

1. Every old id maps to the same token string (the model's old rows keep their meaning).
2. English tokenises exactly as before (the paper: English unchanged at 3.36 characters per token).
   Guaranteed for ASCII text (no new token is pure ASCII unless asked for); typographic characters
   the old tokenizer split into bytes (“ ” ’ — in a tiny vocabulary) may merge if the target corpus
   uses them too, which is reported, not an error.
3. Every text that round-trips through the old tokenizer (``decode(encode(x)) == x``) still does —
   emoji, ZWJ sequences, rare scripts and all.

A broken invariant is a bug in the extension, not bad input: `verify_extension` reports, the caller
raises.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from transformers import PreTrainedTokenizerBase

__all__ = ["ENGLISH_PROBES", "ROUND_TRIP_TEXTS", "verify_extension"]

ENGLISH_PROBES: tuple[str, ...] = (
    "The quick brown fox jumps over the lazy dog.",
    "Janet’s ducks lay 16 eggs per day. She eats three for breakfast every morning and bakes muffins "
    "for her friends every day with four. How much in dollars does she make every day at the market?",
    "Question: What is 12 times 7? Answer: 84. Let's think step by step: 12 * 7 = 84.",
    "Below is an instruction that describes a task. Write a response that appropriately completes the request.",
    "She said, “It’s a naïve café—isn’t it?” and paid €5.50 (about $6) at 21:30 on 2024-01-05.",
    "def add(a, b):\n    return a + b  # tabs\tand  double  spaces\n",
    "HTTP/1.1 200 OK; e-mail: a.b@example.org; path C:\\Users\\x; 50% off; -17 °C; x² + y² = z².",
)
"""English, code and typography: must tokenise identically after any default extension."""

ROUND_TRIP_TEXTS: tuple[str, ...] = (
    "敏捷的棕色狐狸跳过了懒狗。小明有5个苹果，他又买了3个，现在一共有几个？",
    "繁體中文與日本語の文章：東京は日本の首都です。한국어 문장도 있습니다.",
    "Быстрая коричневая лиса; Γρήγορη καφέ αλεπού; עברית מימין לשמאל; العربية ١٢٣",
    "हिन्दी और বাংলা और தமிழ் और తెలుగు; ภาษาไทยไม่มีช่องว่าง; Tiếng Việt có dấu.",
    "Ge'ez: ሰላም ለዓለም። Cherokee: ᏣᎳᎩ ᎦᏬᏂᎯᏍᏗ. Tibetan: བོད་སྐད་ཡིག། Mongolian: ᠮᠣᠩᠭᠣᠯ",
    "Math: ∀x∈ℝ, ∫₀¹ f(x) dx ≤ ∑ᵢ aᵢ ≠ ∞; 𝔸𝕏 ⊗ ⟨ψ|φ⟩ √2 ≈ 1.414; ℵ₀ < 𝔠.",
    "Emoji: 👩‍👩‍👧‍👦 👨🏽‍💻 🏳️‍🌈 🇺🇳 👍🏿 ❤️‍🔥 🫠 — and a lone 🙂.",
    "Combining: e\u0301 a\u0308 n\u0303; zero-width: a\u200bb\u200dc; rare CJK: 𠀀𪚥; NBSP:\u00a0x.",
    "Mixed 中文 and English with numbers 3.14159 and 「引号」（括号）…… ends here",
    "Line one\nLine two\r\n\ttabbed  two spaces   three spaces",
)
"""A multilingual round-trip set: emoji and ZWJ sequences, rare scripts, math, combining marks."""


def verify_extension(old: PreTrainedTokenizerBase, new: PreTrainedTokenizerBase,
                     english: tuple[str, ...] | list[str] = ENGLISH_PROBES,
                     texts: tuple[str, ...] | list[str] = ROUND_TRIP_TEXTS) -> dict[str, Any]:
    """Check the three invariants of the module docstring.

    Args:
        old: the original tokenizer.
        new: the extended tokenizer.
        english: texts that must tokenise identically.
        texts: texts that must round-trip wherever the old tokenizer round-trips them.

    Returns:
        ``{"old_ids_changed": [ids], "ascii_changed": [texts], "english_changed": [texts],
        "round_trip_broken": [texts], "ok": bool}`` (lists cut at 10 items); ``ok`` ignores changes in
        English texts with non-ASCII characters.
    """
    ids = list(range(len(old)))
    before, after = old.convert_ids_to_tokens(ids), new.convert_ids_to_tokens(ids)
    changed_ids = [i for i, a, b in zip(ids, before, after) if a != b]

    def encode(tok: PreTrainedTokenizerBase, text: str) -> list[int]:
        return tok.encode(text, add_special_tokens=False)

    english_changed = [t for t in english if encode(old, t) != encode(new, t)]
    ascii_changed = [t for t in english_changed if t.isascii()]
    broken = [t for t in texts if old.decode(encode(old, t)) == t and new.decode(encode(new, t)) != t]
    return {"old_ids_changed": changed_ids[:10], "ascii_changed": ascii_changed[:10],
            "english_changed": english_changed[:10], "round_trip_broken": broken[:10],
            "ok": not (changed_ids or ascii_changed or broken)}
