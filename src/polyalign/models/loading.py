"""Load and save causal LMs and tokenizers from anywhere: a zoo name, a local folder, a GGUF file or a hub id.

Every model-facing command goes through these functions so that a name means the same thing
everywhere and failures read the same way: an `InputError` naming what was asked for and what to do
instead (exit code 2), never a transformers traceback.

``name_or_path`` is resolved in this order (`resolve_model`):
1. a zoo name (``polyalign models list``) → its converted local folder, pulled on first use;
2. an existing local path (folder or ``.gguf`` file, ``~`` expanded) → itself;
3. anything else → returned unchanged and treated as a Hugging Face hub id.

GGUF checkpoints (a ``.gguf`` file, or a folder holding exactly one ``.gguf`` and no safetensors) are
loaded through transformers' ``gguf_file=`` support, which dequantises them to full precision.
Only safetensors checkpoints are read or written otherwise (docs/architecture.md: no pickle-based checkpoints).
"""

from __future__ import annotations

import logging
import os
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

from polyalign.errors import InputError
from polyalign.models.gguf import find_gguf, is_gguf_loaded, save_dequantised

if TYPE_CHECKING:  # heavy imports only for type checkers; the functions import transformers lazily
    from transformers import PreTrainedModel, PreTrainedTokenizerBase

__all__ = ["resolve_model", "load_tokenizer", "load_model", "save_model", "DTYPES"]

log = logging.getLogger(__name__)

DTYPES = ("float32", "bfloat16", "float16", "auto")
"""Accepted ``dtype`` names for `load_model`."""

# A hub id is "name" or "owner/name" made of word characters, dots and dashes. Anything else
# (absolute, ~, ./, more than one slash, backslashes) can only have been meant as a local path.
_HUB_ID = re.compile(r"^[A-Za-z0-9][\w.-]*(/[\w.-]+)?$")
_TOKENIZER_FILES = ("tokenizer.json", "tokenizer_config.json", "tokenizer.model", "vocab.json")
_OFFLINE_HINT = "no network / HF_HUB_OFFLINE: point at a local folder or a zoo name (polyalign models list)"


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
    from polyalign.models import zoo  # zoo imports this module for conversion; import on use

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
    from transformers import AutoTokenizer  # heavy import, only when a tokenizer is asked for

    resolved = resolve_model(name_or_path)
    source, extra = _source_args(resolved)
    if "gguf_file" not in extra:
        _check_tokenizer_folder(resolved)
    try:
        tokenizer = AutoTokenizer.from_pretrained(source, **extra, **kw)
    except Exception as err:  # OSError, ValueError, hub errors, tokenizer parse errors: all "cannot load"
        raise _load_error("tokenizer", name_or_path, resolved, err) from None
    if tokenizer.pad_token is None:
        if tokenizer.eos_token is None:
            log.warning("tokenizer %s has neither a pad nor an end-of-sequence token", name_or_path)
        else:
            # Batched generation and training need a pad id; padding is masked out, so reusing EOS
            # (as the papers' Alpaca-style code does) changes nothing the model sees.
            log.info("tokenizer %s has no pad token: using the end-of-sequence token %r",
                     name_or_path, tokenizer.eos_token)
            tokenizer.pad_token = tokenizer.eos_token
    return tokenizer


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
    if dtype not in DTYPES:
        raise InputError(f"unknown dtype {dtype!r}; expected one of {', '.join(DTYPES)}")
    import torch  # heavy imports only when a model is loaded
    from transformers import AutoModelForCausalLM

    resolved = resolve_model(name_or_path)
    source, extra = _source_args(resolved)
    kwargs: dict[str, Any] = {"dtype": dtype if dtype == "auto" else getattr(torch, dtype),
                              "trust_remote_code": trust_remote_code, **extra}
    if device_map is not None:
        kwargs["device_map"] = device_map
    if "gguf_file" not in extra:
        kwargs["use_safetensors"] = True  # docs/architecture.md: never unpickle checkpoints
        _check_model_folder(resolved)
    try:
        model = AutoModelForCausalLM.from_pretrained(source, **kwargs)
    except Exception as err:  # noqa: BLE001 - any loader failure means this checkpoint cannot be used
        if isinstance(err, MemoryError) or "out of memory" in str(err).lower():  # resources, not input
            raise
        raise _load_error("model", name_or_path, resolved, err) from None
    model.eval()
    return model


def save_model(model: PreTrainedModel, tokenizer: PreTrainedTokenizerBase | None,
               out_dir: str | Path) -> Path:
    """Save a model (safetensors) and its tokenizer so plain ``from_pretrained(out_dir)`` loads them.

    GGUF-loaded models cannot go through ``save_pretrained`` (transformers refuses "quantized"
    models); their dequantised weights are written directly, without tied copies (``lm_head.weight``
    when embeddings are tied), and their config without the ``quantization_config`` that would
    make transformers look for the GGUF file again.

    Args:
        model: a transformers causal LM.
        tokenizer: its tokenizer (chat template included), or None to save the model only.
        out_dir: output folder, created if needed.

    Returns:
        The output folder.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    if is_gguf_loaded(model):
        save_dequantised(model, out)
    else:
        model.save_pretrained(out)
    if tokenizer is not None:
        tokenizer.save_pretrained(out)
    return out


def _source_args(resolved: str) -> tuple[str, dict[str, str]]:
    """``(from_pretrained first argument, extra kwargs)``: GGUF checkpoints load by folder + file name."""
    path = Path(resolved)
    if not path.exists():
        return resolved, {}
    gguf = find_gguf(path)
    if gguf is None:
        return resolved, {}
    try:  # transformers' own message blames torch too and names no command
        import gguf as _  # noqa: F401
    except ImportError:
        raise InputError(f"{gguf.name} is a GGUF checkpoint, which needs the gguf package: "
                         "pip install 'gguf>=0.10'", where=resolved) from None
    return str(gguf.parent), {"gguf_file": gguf.name}


def _check_tokenizer_folder(resolved: str) -> None:
    path = Path(resolved)
    if path.is_file():
        raise InputError("not a tokenizer: expected a model folder, a .gguf file, a zoo name or a hub id",
                         where=resolved)
    if path.is_dir() and not any((path / f).is_file() for f in _TOKENIZER_FILES):
        raise InputError(f"not a tokenizer folder: none of {', '.join(_TOKENIZER_FILES)}", where=resolved)


def _check_model_folder(resolved: str) -> None:
    path = Path(resolved)
    if path.is_file():
        raise InputError("not a model: expected a model folder, a .gguf file, a zoo name or a hub id",
                         where=resolved)
    if not path.is_dir():
        return  # a hub id: transformers reports what it cannot find
    if not (path / "config.json").is_file():
        raise InputError("not a model folder: no config.json (expected a Hugging Face model folder, "
                         "a .gguf file or a zoo name)", where=resolved)
    if not any(path.glob("*.safetensors")) and not any(path.glob("*.safetensors.index.json")):
        pickled = [p.name for p in path.glob("*.bin")] + [p.name for p in path.glob("*.pt*")]
        what = f"only pickle-based weights ({', '.join(sorted(pickled))}), which polyalign does not load" \
            if pickled else "no model weights"
        raise InputError(f"{what}: expected *.safetensors", where=resolved)


def _load_error(what: str, name: str, resolved: str, err: BaseException) -> InputError:
    # transformers' messages span several lines; keep one line, long enough to say what went wrong
    first = " ".join(str(err).split())[:300] or type(err).__name__
    if Path(resolved).exists():
        return InputError(f"cannot load {what}: {first}", where=resolved)
    if _offline() or "connect" in str(err).lower():
        return InputError(f"cannot load {what} {name!r}: not a local folder or zoo name, and the hub is "
                          f"unreachable ({_OFFLINE_HINT})")
    return InputError(f"cannot load {what} {name!r}: {first} (not a local folder or zoo name; if there is "
                      f"{_OFFLINE_HINT})")


def _offline() -> bool:
    flags = (os.environ.get("HF_HUB_OFFLINE", ""), os.environ.get("TRANSFORMERS_OFFLINE", ""))
    return any(f.strip().lower() in {"1", "true", "yes", "on"} for f in flags)
