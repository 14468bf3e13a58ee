"""Load and save causal LMs and tokenizers from anywhere: a zoo name, a local folder, a GGUF file or a hub id.

Every model-facing command goes through these functions so that a name means the same thing
everywhere and failures read the same way: an `InputError` naming what was asked for and what to do
instead (exit code 2), never a transformers traceback.

``name_or_path`` is resolved in this order (`resolve_model`):
1. a zoo name (``polyalign models list``) → its converted local folder, pulled on first use;
2. an existing local path (folder or ``.gguf`` file, ``~`` expanded) → itself;
3. anything else → returned unchanged and treated as a Hugging Face hub id.

What a name resolved to is opened by `polyalign.models.checkpoint` (GGUF dequantised, safetensors
only), which the zoo also uses to convert what it downloads.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

from polyalign.errors import InputError
from polyalign.models import zoo
from polyalign.models.checkpoint import DTYPES, check_dtype, open_model, open_tokenizer, save_model

if TYPE_CHECKING:  # heavy imports only for type checkers; the functions import transformers lazily
    from transformers import PreTrainedModel, PreTrainedTokenizerBase

__all__ = ["resolve_model", "load_tokenizer", "load_model", "save_model", "DTYPES"]

# A hub id is "name" or "owner/name" made of word characters, dots and dashes. Anything else
# (absolute, ~, ./, more than one slash, backslashes) can only have been meant as a local path.
_HUB_ID = re.compile(r"^[A-Za-z0-9][\w.-]*(/[\w.-]+)?$")


def resolve_model(name_or_path: str, *, cache_dir: str | Path | None = None, pull: bool = True) -> str:
    """Turn a zoo name, local path or hub id into what ``from_pretrained`` should be given.

    Args:
        name_or_path: a zoo name, a local folder or ``.gguf`` file, or a hub id.
        cache_dir: zoo cache root (default ``$POLYALIGN_CACHE`` or ``~/.cache/polyalign/models``).
        pull: fetch and convert a zoo model that is not in the cache yet; with False, a missing zoo
            model is an `InputError` telling the user to run ``polyalign models pull``.

    Returns:
        A local path (as a string) or the hub id unchanged.

    Raises:
        InputError: a zoo model cannot be pulled, or the argument can only be a local path and
            does not exist.
    """
    name_or_path = str(name_or_path)
    if name_or_path in zoo.ZOO:
        return str(zoo.ensure(name_or_path, cache_dir=cache_dir, pull=pull))
    path = Path(name_or_path).expanduser()
    if path.exists():
        return str(path)
    if not _HUB_ID.match(name_or_path):
        raise InputError(f"no such file or folder (and not a zoo name: {', '.join(zoo.names())})",
                         where=name_or_path)
    return name_or_path


def load_tokenizer(name_or_path: str, **kw: Any) -> PreTrainedTokenizerBase:
    """Load a tokenizer; a missing pad token is set to the end-of-sequence token.

    Args:
        name_or_path: anything `resolve_model` accepts (a GGUF checkpoint's embedded tokenizer too).
        **kw: passed to ``AutoTokenizer.from_pretrained`` (e.g. ``padding_side="left"``).

    Raises:
        InputError: the folder or file is missing or not a tokenizer, or the hub id is unreachable.
    """
    return open_tokenizer(resolve_model(name_or_path), name=name_or_path, **kw)


def load_model(name_or_path: str, *, dtype: str = "float32", device_map: str | dict | None = None,
               trust_remote_code: bool = False) -> PreTrainedModel:
    """Load a causal LM (``AutoModelForCausalLM``) in evaluation mode.

    Args:
        name_or_path: anything `resolve_model` accepts; GGUF checkpoints are dequantised.
        dtype: one of `DTYPES`; "auto" keeps the checkpoint's own dtype.
        device_map: passed to ``from_pretrained`` (e.g. "auto", "cpu", ``{"": 0}``); None loads on CPU.
        trust_remote_code: allow model code from the checkpoint's repository (off by default:
            it runs arbitrary Python).

    Raises:
        InputError: unknown dtype, missing folder/file, no model weights or config, unreachable hub id.
    """
    check_dtype(dtype)  # before a zoo model is pulled for nothing
    return open_model(resolve_model(name_or_path), name=name_or_path, dtype=dtype, device_map=device_map,
                      trust_remote_code=trust_remote_code)
