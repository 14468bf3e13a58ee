"""What kind of tokenizer this is, how its tokens map to bytes, and loading bare SentencePiece files.

Vocabulary extension has one method per tokenizer family (appending pieces, as in LLaMA beyond
English, Zhao et al. 2024, works only for SentencePiece tokenizers; byte-level BPE needs new merges), and
the byte-fallback statistic means different things in each: a ``<0xE6>`` piece in SentencePiece, a
token whose bytes are not valid UTF-8 on their own in byte-level BPE.
"""

from __future__ import annotations

import json
import re
import shutil
import tempfile
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from polyalign.errors import InputError
from polyalign.models.loading import load_tokenizer

if TYPE_CHECKING:
    from transformers import PreTrainedTokenizerBase

__all__ = ["Kind", "tokenizer_kind", "byte_level_alphabet", "token_bytes", "is_byte_token", "load_any_tokenizer",
           "read_sp_proto", "tokenizer_json"]

Kind = Literal["byte-level-bpe", "sentencepiece-bpe", "other"]
_SP_BYTE = re.compile(r"^<0x([0-9A-Fa-f]{2})>$")


def tokenizer_json(tokenizer: PreTrainedTokenizerBase) -> dict[str, Any]:
    """The tokenizers-library description (``tokenizer.json`` content) of a fast tokenizer.

    Raises:
        InputError: the tokenizer has no tokenizers backend (a slow, pure-Python tokenizer).
    """
    backend = getattr(tokenizer, "backend_tokenizer", None)
    if backend is None:
        raise InputError(f"unsupported tokenizer type {type(tokenizer).__name__}: no tokenizers backend "
                         "(tokenizer.json)")
    return json.loads(backend.to_str())


def tokenizer_kind(tokenizer: PreTrainedTokenizerBase) -> Kind:
    """``byte-level-bpe`` (GPT-2, Llama-3, SmolLM2), ``sentencepiece-bpe`` (LLaMA-1/2, Mistral: BPE with
    byte fallback and ``▁`` for spaces) or ``other`` (WordPiece, Unigram, character BPE, …)."""
    backend = getattr(tokenizer, "backend_tokenizer", None)
    if backend is None:
        return "other"
    model = backend.model
    if type(model).__name__ != "BPE":
        return "other"
    parts = f"{backend.pre_tokenizer!r} {backend.decoder!r}"
    if "ByteLevel" in parts:
        return "byte-level-bpe"
    if getattr(model, "byte_fallback", False) and ("Metaspace" in parts or "▁" in f"{backend.normalizer!r}"
                                                   or "▁" in parts):
        return "sentencepiece-bpe"
    return "other"


@lru_cache(maxsize=1)
def byte_level_alphabet() -> dict[str, int]:
    """GPT-2's printable stand-ins for the 256 byte values (``Ġ`` = space), as char → byte.

    Printable Latin-1 bytes stand for themselves; the other 68 are shifted to U+0100 onwards. Same
    table as GPT-2's ``bytes_to_unicode`` and the tokenizers library's ByteLevel pre-tokenizer.
    """
    keep = list(range(ord("!"), ord("~") + 1)) + list(range(0xA1, 0xAD)) + list(range(0xAE, 0x100))
    chars = {b: chr(b) for b in keep}
    shift = 0
    for b in range(256):
        if b not in chars:
            chars[b] = chr(256 + shift)
            shift += 1
    return {c: b for b, c in chars.items()}


def token_bytes(token: str, kind: Kind) -> bytes | None:
    """The bytes a token stands for, or None when that is not defined (a special token's text)."""
    if kind == "byte-level-bpe":
        table = byte_level_alphabet()
        if not all(c in table for c in token):
            return None
        return bytes(table[c] for c in token)
    match = _SP_BYTE.match(token)
    if match:
        return bytes([int(match.group(1), 16)])
    return token.replace("▁", " ").encode("utf-8")


def is_byte_token(token: str, kind: Kind) -> bool:
    """A byte-fallback token: ``<0x..>`` in SentencePiece; in byte-level BPE a token whose bytes are not
    valid UTF-8 text by themselves (a piece of a multi-byte character)."""
    if _SP_BYTE.match(token):
        return True
    if kind != "byte-level-bpe":
        return False
    raw = token_bytes(token, kind)
    if raw is None:
        return False
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        return True
    return False


def read_sp_proto(path: str | Path) -> Any:
    """Parse a SentencePiece ``.model`` file into its protobuf (``sentencepiece_model_pb2.ModelProto``).

    Raises:
        InputError: the file is missing or not a SentencePiece model.
    """
    from google.protobuf.message import DecodeError
    from sentencepiece import sentencepiece_model_pb2 as model_pb2

    proto = model_pb2.ModelProto()
    try:
        proto.ParseFromString(Path(path).read_bytes())
    except FileNotFoundError:
        raise InputError("file not found", where=str(path)) from None
    except DecodeError:
        raise InputError("not a SentencePiece model (protobuf does not parse)", where=str(path)) from None
    if not proto.pieces:
        raise InputError("not a SentencePiece model (no pieces)", where=str(path))
    return proto


def load_any_tokenizer(spec: str) -> PreTrainedTokenizerBase:
    """`polyalign.models.load_tokenizer`, plus bare SentencePiece ``.model`` files (LLaMA's ``tokenizer.model``).

    A ``.model`` file is loaded as a LLaMA tokenizer through ``from_pretrained`` on a temporary folder:
    transformers 5's ``LlamaTokenizer(vocab_file=...)`` silently builds an empty 3-token tokenizer, so
    the vocabulary size is checked against the file's piece count.

    Raises:
        InputError: anything that cannot be loaded, or a conversion that lost pieces.
    """
    path = Path(spec).expanduser()
    if not (path.is_file() and path.suffix == ".model"):
        return load_tokenizer(spec)
    proto = read_sp_proto(path)
    with tempfile.TemporaryDirectory(prefix="polyalign-spm-") as tmp:
        shutil.copyfile(path, Path(tmp) / "tokenizer.model")
        config: dict[str, Any] = {"tokenizer_class": "LlamaTokenizer"}
        if proto.trainer_spec.eos_id >= 0:  # pad = eos, as load_tokenizer would set it (without its notice)
            config["pad_token"] = proto.trainer_spec.eos_piece
        (Path(tmp) / "tokenizer_config.json").write_text(json.dumps(config))
        tokenizer = load_tokenizer(tmp)
    if len(tokenizer) != len(proto.pieces):
        raise InputError(f"SentencePiece model has {len(proto.pieces):,} pieces but loaded as a tokenizer of "
                         f"{len(tokenizer):,} tokens (is protobuf installed?)", where=str(path))
    return tokenizer
