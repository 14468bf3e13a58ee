"""Provenance: what produced a result (docs/methods.md: greedy results move with batch size, padding,
backend and dtype, so every result records them), plus a model fingerprint and package versions."""

from __future__ import annotations

import hashlib
import platform
import sys
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path

__all__ = ["model_fingerprint", "package_versions", "now"]

_PACKAGES = ("polyalign", "torch", "transformers", "lm_eval", "datasets", "sacrebleu", "py3langid", "tokenizers",
             "sentencepiece", "vllm", "unbabel-comet")
_MODEL_FILES = ("*.safetensors", "*.gguf", "config.json", "generation_config.json", "tokenizer.json",
                "tokenizer_config.json", "tokenizer.model", "special_tokens_map.json", "chat_template.jinja")


def model_fingerprint(path: str) -> str | None:
    """sha256 over the weight, config and tokenizer files of a local model (name + content, sorted).

    None for a hub id (not local): its revision is whatever the hub served, which the log records.
    """
    root = Path(path)
    if root.is_file():
        files = [root]
    elif root.is_dir():
        files = sorted({p for pattern in _MODEL_FILES for p in root.glob(pattern)})
    else:
        return None
    digest = hashlib.sha256()
    for file in files:
        digest.update(file.name.encode() + b"\0")
        with file.open("rb") as handle:
            while block := handle.read(1 << 20):
                digest.update(block)
    return digest.hexdigest()


def package_versions() -> dict[str, str]:
    """Installed versions of the packages that can move scores (absent ones left out)."""
    out = {"python": sys.version.split()[0], "platform": platform.platform()}
    for name in _PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return out


def now() -> str:
    """The current UTC time, ISO 8601 with seconds."""
    return datetime.now(timezone.utc).isoformat(timespec="seconds")
