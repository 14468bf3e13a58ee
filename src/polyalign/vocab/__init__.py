"""Vocabulary: tokenizer efficiency statistics and vocabulary extension (LLaMA beyond English, Zhao et al. 2024).

- `stats`: characters per token, fertility, continued-word share, byte-fallback share, token premium;
- `spm_extend`: SentencePiece BPE tokenizers (LLaMA-1/2), pieces appended as Chinese-LLaMA did;
- `bpe_extend`: byte-level BPE tokenizers (GPT-2, Llama-3, SmolLM2), continued BPE with new merges
  after the old ones;
- `embeddings`: resizing and initialising the new rows; `extend`: the whole recipe.

Importing this package is light: torch, transformers and sentencepiece load inside the functions.
"""

from polyalign.vocab.checks import ENGLISH_PROBES, ROUND_TRIP_TEXTS, verify_extension
from polyalign.vocab.embeddings import INIT_METHODS, init_rows, resize_and_init, subtoken_components
from polyalign.vocab.extend import ExtendConfig, extend_vocabulary
from polyalign.vocab.kinds import is_byte_token, load_any_tokenizer, tokenizer_kind
from polyalign.vocab.stats import LangStats, format_table, measure_language, tokenizer_report
from polyalign.vocab.texts import TextFile, group_by_language, language_from_name, parse_text_spec

__all__ = [
    "ENGLISH_PROBES", "ROUND_TRIP_TEXTS", "verify_extension",
    "INIT_METHODS", "init_rows", "resize_and_init", "subtoken_components",
    "ExtendConfig", "extend_vocabulary",
    "is_byte_token", "load_any_tokenizer", "tokenizer_kind",
    "LangStats", "format_table", "measure_language", "tokenizer_report",
    "TextFile", "group_by_language", "language_from_name", "parse_text_spec",
]
