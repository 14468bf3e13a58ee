"""A finished stage's outputs in Hugging Face format: the model (merged or fully trained) and the adapter.

- ``model/``: safetensors weights + config + tokenizer; loads with plain
  ``AutoModelForCausalLM.from_pretrained`` and with `polyalign.models.load_model` (hence with
  ``polyalign eval --model``). For LoRA it is the adapter merged into the stage's base model.
- ``adapter/`` (LoRA): PEFT's ``adapter_config.json`` + ``adapter_model.safetensors`` (+ tokenizer),
  loadable with ``PeftModel.from_pretrained(base, adapter/)``; its config names the base model.

Both are written into a temporary sibling and renamed into place. Under FSDP/DeepSpeed the full
weights are first gathered onto the main process (torch's ``get_model_state_dict`` for FSDP2,
``accelerator.get_state_dict`` for the engines accelerate wraps); merging reloads
the base model from disk on the main process, so it works the same however training was sharded.
"""

from __future__ import annotations

import shutil
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator

from polyalign.models.loading import load_model, save_model
from polyalign.train.checkpoint import is_sharded
from polyalign.train.lora import merge_adapter
from polyalign.train.parallel import is_fsdp2

__all__ = ["save_full_model", "save_adapter", "save_merged"]


@contextmanager
def _staged(final: Path) -> Iterator[Path]:
    tmp = final.parent / f".{final.name}.tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    yield tmp
    shutil.rmtree(final, ignore_errors=True)
    tmp.rename(final)


def _gathered_state(accelerator: Any, model: Any) -> dict[str, Any] | None:
    """The full state dict when it is sharded across processes (collective), else None (use the module's own)."""
    if is_fsdp2(model):
        from torch.distributed.checkpoint.state_dict import StateDictOptions, get_model_state_dict

        # Gathered shard by shard into CPU memory of the main process only (the others get nothing).
        state = get_model_state_dict(model, options=StateDictOptions(full_state_dict=True, cpu_offload=True))
    elif is_sharded(accelerator):
        state = accelerator.get_state_dict(model)
    else:
        return None
    # Tied weights (embeddings = output head) come back as separate copies: keep the first name, as
    # save_pretrained does for an unsharded model, so the files are the same however training ran.
    seen: set[int] = set()
    for name, param in accelerator.unwrap_model(model).named_parameters(remove_duplicate=False):
        if id(param) in seen and state:
            state.pop(name, None)
        seen.add(id(param))
    return state


def save_full_model(accelerator: Any, model: Any, tokenizer: Any, out: str | Path) -> Path:
    """Save a fully fine-tuned model and its tokenizer (collective: every process calls it)."""
    state = _gathered_state(accelerator, model)
    out = Path(out)
    if accelerator.is_main_process:
        unwrapped = accelerator.unwrap_model(model)
        with _staged(out) as tmp:
            if state is None:
                save_model(unwrapped, tokenizer, tmp)
            else:
                unwrapped.save_pretrained(tmp, state_dict=state, safe_serialization=True)
                tokenizer.save_pretrained(tmp)
    accelerator.wait_for_everyone()
    return out


def save_adapter(accelerator: Any, model: Any, tokenizer: Any, out: str | Path) -> Path:
    """Save a PEFT model's adapter (and the tokenizer) in PEFT's format (collective)."""
    state = _gathered_state(accelerator, model)
    out = Path(out)
    if accelerator.is_main_process:
        with _staged(out) as tmp:
            kwargs = {"state_dict": state} if state is not None else {}
            accelerator.unwrap_model(model).save_pretrained(tmp, safe_serialization=True, **kwargs)
            tokenizer.save_pretrained(tmp)
    accelerator.wait_for_everyone()
    return out


@contextmanager
def _unpartitioned_loading() -> Iterator[None]:
    """Load a whole model in this process alone, even while DeepSpeed ZeRO-3 trains.

    Under ZeRO-3 transformers builds every model inside DeepSpeed's ``zero.Init`` (partitioned across
    processes: a collective), which hangs when only the main process loads. Its switch is the module
    global that accelerate's DeepSpeed plugin sets; it is cleared here and restored afterwards.
    """
    try:
        from transformers.integrations import deepspeed as hf_deepspeed
    except ImportError:  # pragma: no cover - transformers without the integration
        yield
        return
    saved = hf_deepspeed._hf_deepspeed_config_weak_ref
    hf_deepspeed.unset_hf_deepspeed_config()
    try:
        yield
    finally:
        hf_deepspeed._hf_deepspeed_config_weak_ref = saved


def save_merged(base: str, adapter_dir: str | Path, tokenizer: Any, out: str | Path, *, dtype: str,
                trust_remote_code: bool) -> Path:
    """Reload ``base``, fold the saved adapter into it and save a plain model (main process only)."""
    out = Path(out)
    with _unpartitioned_loading():
        model = merge_adapter(load_model(base, dtype=dtype, trust_remote_code=trust_remote_code), adapter_dir)
    with _staged(out) as tmp:
        save_model(model, tokenizer, tmp)
    return out
