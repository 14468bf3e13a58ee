"""`polyalign analyze perplexity`: bits per character and per byte, per language (and per model).

Inputs (``--texts``): ``lang=path`` items, or paths whose language comes from ``--langs`` (in the
same order), from the file's suffix (``train.de``, ``wiki.zh.txt``) or, for JSON Lines, from each
record's ``lang`` field. A ``.jsonl`` file holds one document per record in its ``text`` field (the
pretraining-data contract); any other file holds one document per non-empty line.

Per language and model the sums over documents give ``bits_per_char`` (Σ NLL / ln 2 / characters),
``bits_per_byte`` (/ UTF-8 bytes), the tokenizer-dependent ``token_perplexity`` (exp of the mean
NLL per token, not comparable across tokenizers) and ``chars_per_token``. What is scored (first
token, long documents) is described in `polyalign.analysis.perplexity.nll`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from polyalign import langs as langtable
from polyalign.analysis.outputs import Figure, fmt, markdown_table, update_manifest, write_json
from polyalign.analysis.perplexity.nll import LN2, TextNLL, document_nll
from polyalign.analysis.plots import plot_grouped_bars
from polyalign.config import save_config, to_dict
from polyalign.data.readers import read_rows
from polyalign.errors import InputError

__all__ = ["PerplexityConfig", "read_documents", "aggregate", "analyze_perplexity"]


@dataclass
class PerplexityConfig:
    """Settings of one perplexity analysis (saved as ``perplexity_config.yaml``)."""

    models: list[str]
    """Models to score (zoo names, folders or hub ids); bits/char compare across their tokenizers."""
    texts: list[str]
    """``lang=path`` items or paths (see the module docstring)."""
    out: str
    """Output folder."""
    langs: list[str] | None = None
    """Languages of the plain ``texts`` paths, in order."""
    limit: int | None = None
    """First N documents per file."""
    max_length: int = 1024
    """Window length in tokens."""
    stride: int | None = None
    """Sliding-window step (default max_length // 2)."""
    truncate: bool = False
    """Score only the first max_length tokens of each document instead of sliding."""
    bos_context: bool = False
    """Prepend BOS (or EOS) so each document's first text token is scored too."""
    dtype: str = "float32"
    """Model weights dtype."""

    def validate(self) -> None:
        if not self.models or not self.texts:
            raise InputError("give at least one --model and one --texts file")
        if self.max_length < 2 or (self.stride is not None and not 1 <= self.stride <= self.max_length):
            raise InputError("need max_length ≥ 2 and 1 ≤ stride ≤ max_length")
        if self.langs is not None and len(self.langs) != sum("=" not in t for t in self.texts):
            raise InputError("--langs must name one language per --texts path given without lang=")


def read_documents(texts: list[str], langs: list[str] | None = None, limit: int | None = None) -> dict[str, list[str]]:
    """Documents per language code, in input order."""
    plain_langs = iter(langs or [])
    docs: dict[str, list[str]] = {}
    for item in texts:
        code, path = item.split("=", 1) if "=" in item and not Path(item).exists() else (None, item)
        if code is None and langs:
            code = next(plain_langs)
        if not Path(path).is_file():
            raise InputError("no such file", where=path)
        jsonl = path.endswith(".jsonl")
        if code is None and not jsonl:
            suffixes = [s[1:] for s in Path(path).suffixes if s[1:] != "txt"]
            code = suffixes[-1] if suffixes else None
            if code is None or code.lower() not in langtable.LANGUAGES:
                raise InputError("cannot tell the language: give lang=path, --langs, or a suffix like .de", where=path)
        count = 0
        for row in read_rows(path=path, fmt="jsonl" if jsonl else "text"):
            text = row.data.get("text")
            if not isinstance(text, str):
                raise InputError("expected a `text` string", where=row.where)
            lang = code or row.data.get("lang")
            if not lang:
                raise InputError("no language: give lang=path or a `lang` field", where=row.where)
            if text.strip():
                docs.setdefault(langtable.get(str(lang)).code, []).append(text)
                count += 1
            if limit is not None and count >= limit:
                break
    if not docs:
        raise InputError("the --texts files hold no documents")
    return docs


def aggregate(scores: list[TextNLL]) -> dict[str, Any]:
    """Sums over documents and the rates derived from them."""
    nll, tokens = sum(s.nll for s in scores), sum(s.tokens for s in scores)
    chars, nbytes = sum(s.chars for s in scores), sum(s.bytes for s in scores)
    return {"documents": len(scores), "tokens_scored": tokens, "chars": chars, "bytes": nbytes, "nll_nats": nll,
            "bits_per_char": nll / LN2 / chars if chars else None,
            "bits_per_byte": nll / LN2 / nbytes if nbytes else None,
            "token_perplexity": math.exp(nll / tokens) if tokens else None,
            "chars_per_token": chars / tokens if tokens else None}


def analyze_perplexity(cfg: PerplexityConfig) -> dict[str, Any]:
    """Score every language with every model; write perplexity.json/.md, a figure and the manifest."""
    from polyalign.models.loading import load_model, load_tokenizer
    from polyalign.models.precision import resolve_dtype

    cfg.validate()
    cfg.dtype = resolve_dtype(cfg.dtype)  # the saved config and settings record what ran, not "auto"
    docs = read_documents(cfg.texts, cfg.langs, cfg.limit)
    results: dict[str, dict[str, Any]] = {}
    for name in cfg.models:
        model, tokenizer = load_model(name, dtype=cfg.dtype), load_tokenizer(name)
        results[name] = {lang: aggregate(document_nll(model, tokenizer, texts, max_length=cfg.max_length,
                                                      stride=cfg.stride, truncate=cfg.truncate,
                                                      bos_context=cfg.bos_context))
                         for lang, texts in docs.items()}
        del model
    data = {"analysis": "perplexity", "version": 1, "settings": to_dict(cfg), "results": results}
    out = Path(cfg.out)
    out.mkdir(parents=True, exist_ok=True)
    save_config(cfg, out, name="perplexity_config.yaml")
    write_json(out / "perplexity.json", data)
    rows = [[name, lang, r["documents"], r["tokens_scored"], r["chars"], fmt(r["bits_per_char"]),
             fmt(r["bits_per_byte"]), fmt(r["chars_per_token"], 2), fmt(r["token_perplexity"], 2)]
            for name, per_lang in results.items() for lang, r in per_lang.items()]
    first = "scored" if cfg.bos_context else "not scored (its characters are not counted)"
    window = f"first {cfg.max_length} tokens" if cfg.truncate else \
        f"sliding window {cfg.max_length} tokens, stride {cfg.stride or cfg.max_length // 2}"
    (out / "perplexity.md").write_text(
        "# Bits per character\n\n" + f"First token of each document {first}; {window}.\n\n"
        + markdown_table(["model", "lang", "docs", "tokens", "chars", "bits/char", "bits/byte", "chars/token",
                          "token ppl"], rows, left=(0, 1)), encoding="utf-8")
    langs = list(docs)
    plot_grouped_bars(langs, {Path(n).name or n: [results[n][lang]["bits_per_char"] or 0.0 for lang in langs]
                              for n in cfg.models}, out / "perplexity_bits_per_char.png",
                      title="Bits per character by language (lower is better)", xlabel="language",
                      ylabel="bits per character")
    update_manifest(out, [Figure(
        "perplexity_bits_per_char.png", "perplexity", "Bits per character by language",
        f"Negative log-likelihood in bits divided by the characters scored, per language and model ({window}; "
        f"first token {first}). Unlike token perplexity this compares models with different tokenizers.")])
    return data
