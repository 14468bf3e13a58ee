"""`polyalign vocab extend`: add target-language tokens to a model's tokenizer and embeddings.

The vocabulary-extension recipe of LLaMA beyond English (Zhao et al. 2024), read top to bottom:
validate → read the corpus → extend the tokenizer (SentencePiece: append pieces; byte-level BPE:
new merges) → check the invariants (old ids, English, round trips) → resize and initialise the
embeddings → save model, tokenizer and config → measure the tokenizer before and after.

The paper's finding to keep in mind: at ≤ tens of billions of further-pretraining tokens extension
does not help and can hurt; the new rows are untrained until a further-pretraining stage runs.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from polyalign import langs
from polyalign.config import save_config
from polyalign.io import staged_output_dir
from polyalign.errors import InputError
from polyalign.models.loading import DTYPES, load_model, load_tokenizer, resolve_model, save_model
from polyalign.vocab.bpe_extend import extend_byte_level_bpe
from polyalign.vocab.checks import ROUND_TRIP_TEXTS, verify_extension
from polyalign.vocab.embeddings import INIT_METHODS, resize_and_init, subtoken_components
from polyalign.vocab.kinds import read_sp_proto, token_bytes, tokenizer_kind
from polyalign.vocab.plot import plot_reports
from polyalign.vocab.spm_extend import extend_sentencepiece
from polyalign.vocab.stats import tokenizer_report
from polyalign.vocab.texts import group_by_language, parse_text_spec, read_text_lines

__all__ = ["ExtendConfig", "extend_vocabulary", "MARKER"]

log = logging.getLogger(__name__)

MARKER = "vocab_extension.json"
"""The summary file; its presence marks a finished extension."""


@dataclass
class ExtendConfig:
    """Settings of one vocabulary extension (saved as ``vocab_config.yaml`` in the output)."""

    model: str
    """Model to extend: zoo name, local folder or hub id (tokenizer included)."""
    corpus: list[str]
    """Target-language text files, one sentence or document per line."""
    lang: str
    """Target language code."""
    new_tokens: int
    """Byte-level BPE: merges (= tokens) to learn; SentencePiece: size of the target-language model."""
    out: str
    """Output folder: the extended model, tokenizer and reports."""
    init: str = "subtoken-mean"
    """New embedding rows: subtoken-mean, mean or mean-noise."""
    seed: int = 0
    """Seeds the noise of mean-noise."""
    noise_scale: float = 0.01
    """mean-noise: noise std as a fraction of each dimension's std over the old rows."""
    eval_texts: list[str] = field(default_factory=list)
    """Extra text files (``lang:path`` or language in the name) measured before and after."""
    sp_model: str | None = None
    """The original SentencePiece model when the model folder has no tokenizer.model."""
    score_mode: str = "zero"
    """SentencePiece scores of appended pieces: zero (Chinese-LLaMA) or lowest (sentencepiece = transformers)."""
    allow_ascii: bool = False
    """Also add pure-ASCII tokens (Latin-script targets); English tokenisation may change."""
    max_lines: int = 1_000_000
    """Read at most this many lines of each corpus file for learning."""
    stats_lines: int = 10_000
    """Lines per language measured before/after."""
    dtype: str = "auto"
    """Model dtype for loading and saving (auto keeps the checkpoint's)."""

    def validate(self) -> None:
        """Raise `InputError` for values no extension can use."""
        if self.new_tokens <= 0:
            raise InputError(f"--new-tokens must be a positive number of tokens, got {self.new_tokens}")
        if self.init not in INIT_METHODS:
            raise InputError(f"--init {self.init!r}: expected one of {', '.join(INIT_METHODS)}")
        if self.score_mode not in ("zero", "lowest"):
            raise InputError(f"--spm-score {self.score_mode!r}: expected zero or lowest")
        if self.dtype not in DTYPES:
            raise InputError(f"--dtype {self.dtype!r}: expected one of {', '.join(DTYPES)}")
        if not self.corpus:
            raise InputError("--corpus: at least one text file is needed")
        if self.max_lines <= 0 or self.stats_lines <= 0:
            raise InputError("--max-lines and --stats-lines must be positive")
        self.lang = langs.get(self.lang).code


def _read_corpus(files: list[str], max_lines: int) -> list[str]:
    lines: list[str] = []
    for name in files:
        if not Path(name).is_file():
            raise InputError("no such file" if not Path(name).exists() else "expected a file", where=name)
        lines += [line for line in read_text_lines(name, max_lines=max_lines) if line.strip()]
    if not lines:
        raise InputError(f"the target corpus is empty: no text lines in {', '.join(files)}")
    return lines


def _extend_tokenizer(cfg: ExtendConfig, old: Any, kind: str, lines: list[str]) -> tuple[Any, list[str], list[int],
                                                                                      Any, dict[str, Any]]:
    """``(new tokenizer, new token strings, ids, extended SentencePiece proto or None, details)``."""
    if kind == "byte-level-bpe":
        ext = extend_byte_level_bpe(old, lines, cfg.new_tokens, allow_ascii=cfg.allow_ascii)
        return ext.tokenizer, ext.tokens, ext.ids, None, {"merges_learned": len(ext.merges)}
    if kind == "sentencepiece-bpe":
        folder = Path(resolve_model(cfg.model))
        sp_path = Path(cfg.sp_model) if cfg.sp_model else folder / "tokenizer.model"
        if not sp_path.is_file():
            raise InputError(f"SentencePiece-style tokenizer but no tokenizer.model in {folder}: pass the "
                             "original SentencePiece model with --sp-model")
        ext = extend_sentencepiece(old, read_sp_proto(sp_path), lines, cfg.new_tokens,
                                   score_mode=cfg.score_mode, allow_ascii=cfg.allow_ascii)
        return ext.tokenizer, ext.tokens, ext.ids, ext.proto, {"target_model_pieces": ext.trained_pieces,
                                                               "score_mode": cfg.score_mode}
    backend = getattr(old, "backend_tokenizer", None)
    what = type(backend.model).__name__ if backend is not None else type(old).__name__
    raise InputError(f"unsupported tokenizer type ({what} in {type(old).__name__}): vocabulary extension supports "
                     "SentencePiece BPE (LLaMA-1/2, Mistral) and byte-level BPE (GPT-2, Llama-3, SmolLM2)",
                     where=cfg.model)


def _check(old: Any, new: Any, allow_ascii: bool) -> dict[str, Any]:
    report = verify_extension(old, new)
    if report["old_ids_changed"] or report["round_trip_broken"]:
        raise RuntimeError(f"extended tokenizer breaks an invariant: {report}")
    if report["ascii_changed"] and not allow_ascii:
        raise RuntimeError(f"extended tokenizer changes ASCII tokenisation: {report['ascii_changed']}")
    if report["english_changed"]:
        log.warning("English tokenisation changed on %d of the probe texts (%s)", len(report["english_changed"]),
                    "--allow-ascii" if report["ascii_changed"] else "typographic characters the old tokenizer "
                    "split into bytes now merge")
    return report


def _display(token: str, kind: str) -> str:
    raw = token_bytes(token, "byte-level-bpe" if kind == "byte-level-bpe" else "sentencepiece-bpe")
    if raw is None:
        return token
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:  # part of a multi-byte character: show the bytes
        return "<" + " ".join(f"0x{b:02X}" for b in raw) + ">"


def extend_vocabulary(cfg: ExtendConfig, *, overwrite: bool = False) -> dict[str, Any]:
    """Run one extension (see the module docstring) and return its summary (also ``OUT/vocab_extension.json``).

    Raises:
        InputError: bad settings, an empty corpus, an unsupported tokenizer, an occupied output folder.
    """
    cfg.validate()
    lines = _read_corpus(cfg.corpus, cfg.max_lines)
    eval_texts = group_by_language([parse_text_spec(s) for s in cfg.eval_texts], max_lines=cfg.stats_lines)
    with staged_output_dir(cfg.out, overwrite=overwrite, marker=MARKER) as stage:
        old = load_tokenizer(cfg.model)
        kind = tokenizer_kind(old)
        new, tokens, ids, proto, details = _extend_tokenizer(cfg, old, kind, lines)
        checks = _check(old, new, cfg.allow_ascii)
        log.info("added %d tokens (ids %d-%d); loading the model", len(ids), ids[0], ids[-1])

        model = load_model(cfg.model, dtype=cfg.dtype)
        components = subtoken_components(old.backend_tokenizer, tokens, ids) if cfg.init == "subtoken-mean" else None
        embeddings = resize_and_init(model, ids, len(old), method=cfg.init, components=components, seed=cfg.seed,
                                     noise_scale=cfg.noise_scale)
        save_model(model, new, stage)
        if proto is not None:  # transformers 5 does not write tokenizer.model: keep it for sentencepiece users
            (stage / "tokenizer.model").write_bytes(proto.SerializeToString())
        reloaded = load_tokenizer(str(stage))
        if len(reloaded) != len(new) or any(reloaded.encode(t) != new.encode(t) for t in ROUND_TRIP_TEXTS):
            raise RuntimeError(f"saved tokenizer reloads differently ({len(reloaded):,} vs {len(new):,} tokens)")

        texts = {cfg.lang: lines[:cfg.stats_lines]}
        stats = {"corpus": [tokenizer_report(old, texts, name="original"),
                            tokenizer_report(new, texts, name="extended")]}
        if eval_texts:
            stats["eval"] = [tokenizer_report(old, eval_texts, name="original"),
                             tokenizer_report(new, eval_texts, name="extended")]
        plot_reports(stats.get("eval", stats["corpus"]), stage / "vocab_stats.png",
                     title=f"{cfg.model}: vocabulary extension for {langs.language_name(cfg.lang)}")
        summary = {
            "model": cfg.model, "kind": kind, "lang": cfg.lang, "old_vocab": len(old), "new_vocab": len(new),
            "added": len(ids), "first_id": ids[0], "last_id": ids[-1],
            "sample_tokens": [_display(t, kind) for t in tokens[:30]], **details,
            "embeddings": embeddings, "checks": checks, "stats": stats,
        }
        (stage / MARKER).write_text(json.dumps(summary, indent=2, ensure_ascii=False), encoding="utf-8")
        save_config(cfg, stage, "vocab_config.yaml")
    summary["out"] = str(cfg.out)
    return summary
