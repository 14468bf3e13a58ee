"""Open and save checkpoints at a known place: a local folder, a GGUF file or a hub id (no zoo names).

The transformers-facing half of model loading (`polyalign.models.loading` resolves names first). It
sits below both the loader and the zoo: the zoo converts a downloaded GGUF with it, and the loader
opens whatever a name resolved to, so neither needs the other for this.

GGUF checkpoints (a ``.gguf`` file, or a folder holding exactly one ``.gguf`` and no safetensors) are
loaded through transformers' ``gguf_file=`` support, which dequantises them to full precision.
Only safetensors checkpoints are read or written otherwise (no pickle-based checkpoints: loading
one can run arbitrary code).
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from polyalign.errors import InputError
from polyalign.models.gguf import find_gguf, is_gguf_loaded, save_dequantised

if TYPE_CHECKING:  # heavy imports only for type checkers; the functions import transformers lazily
    from transformers import PreTrainedModel, PreTrainedTokenizerBase

__all__ = ["DTYPES", "check_dtype", "open_tokenizer", "open_model", "save_model"]

log = logging.getLogger("polyalign.models.loading")  # one logger for everything model loading says

DTYPES = ("float32", "bfloat16", "float16", "auto")
"""Accepted ``dtype`` names for `open_model` / `polyalign.models.loading.load_model`."""

_TOKENIZER_FILES = ("tokenizer.json", "tokenizer_config.json", "tokenizer.model", "vocab.json")
_OFFLINE_HINT = "no network / HF_HUB_OFFLINE: point at a local folder or a zoo name (polyalign models list)"


def check_dtype(dtype: str) -> None:
    """InputError unless ``dtype`` is one of `DTYPES`."""
    if dtype not in DTYPES:
        raise InputError(f"unknown dtype {dtype!r}; expected one of {', '.join(DTYPES)}")


def open_tokenizer(resolved: str, *, name: str | None = None, **kw: Any) -> PreTrainedTokenizerBase:
    """Load a tokenizer; a missing pad token is set to the end-of-sequence token.

    Args:
        resolved: a local folder or ``.gguf`` file (a GGUF checkpoint's embedded tokenizer), or a hub id.
        name: what the user asked for, for messages (default ``resolved``).
        **kw: passed to ``AutoTokenizer.from_pretrained`` (e.g. ``padding_side="left"``).

    Raises:
        InputError: the folder or file is missing or not a tokenizer, or the hub id is unreachable.
    """
    from transformers import AutoTokenizer  # heavy import, only when a tokenizer is asked for

    name_or_path = name or resolved
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


def open_model(resolved: str, *, name: str | None = None, dtype: str = "float32",
               device_map: str | dict | None = None, trust_remote_code: bool = False) -> PreTrainedModel:
    """Load a causal LM (``AutoModelForCausalLM``) in evaluation mode.

    Args:
        resolved: a local folder or ``.gguf`` file (dequantised), or a hub id.
        name: what the user asked for, for messages (default ``resolved``).
        dtype: one of `DTYPES`; "auto" keeps the checkpoint's own dtype.
        device_map: passed to ``from_pretrained`` (e.g. "auto", "cpu", ``{"": 0}``); None loads on CPU.
        trust_remote_code: allow model code from the checkpoint's repository (off by default:
            it runs arbitrary Python).

    Raises:
        InputError: unknown dtype, missing folder/file, no model weights or config, unreachable hub id.
    """
    check_dtype(dtype)
    import torch  # heavy imports only when a model is loaded
    from transformers import AutoModelForCausalLM

    name_or_path = name or resolved
    source, extra = _source_args(resolved)
    kwargs: dict[str, Any] = {"dtype": dtype if dtype == "auto" else getattr(torch, dtype),
                              "trust_remote_code": trust_remote_code, **extra}
    if device_map is not None:
        kwargs["device_map"] = device_map
    if "gguf_file" not in extra:
        kwargs["use_safetensors"] = True  # never unpickle checkpoints: it can run arbitrary code
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
