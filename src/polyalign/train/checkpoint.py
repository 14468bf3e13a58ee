"""Resumable checkpoints: trainable weights, optimizer, scheduler, RNG and position, written atomically.

A checkpoint is a folder ``checkpoints/step-000120/`` holding

- ``trainable.safetensors``: the parameters being trained (all weights for full fine-tuning, the
  adapter and trainable token rows for LoRA), never pickled (docs/architecture.md);
- ``optimizer.pt``: the optimizer state (tensors and numbers only; loaded with ``weights_only=True``,
  which refuses anything but tensors and plain containers);
- ``scheduler.json`` and ``state.json`` (step, epoch, tokens seen, …), written last;
- ``rng-<process>.pt``: each process's torch/CUDA/Python/NumPy generator states (dropout masks).

It is written into ``.step-000120.tmp`` and renamed into place, so a kill -9 mid-write leaves either
the previous complete checkpoint or the new one, never a torn one. The data order needs no saving: it
is a pure function of the seed and the epoch (`batching`).

When the weights are sharded across processes the first two files are replaced by a sharded format:

- ``dcp/`` under ``--strategy fsdp`` (torch FSDP2): the trainable weights and the optimizer state
  written by ``torch.distributed.checkpoint``, each process its own shards. DCP reshards on load,
  so such a checkpoint also resumes on another number of processes. (Its small ``.metadata`` index is
  pickled by torch; the tensors are plain byte storage.)
- ``accelerate/`` when accelerate owns the sharding (DeepSpeed ZeRO, or FSDP from an ``accelerate
  launch`` config): accelerate's ``save_state`` output, in each engine's own format.
"""

from __future__ import annotations

import json
import random
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import torch

from polyalign.errors import InputError
from polyalign.train.parallel import is_fsdp2

__all__ = ["save_checkpoint", "load_checkpoint", "latest_checkpoint", "checkpoint_dir", "is_sharded"]

_DCP, _ENGINE = "dcp", "accelerate"

_STATE = "state.json"


def checkpoint_dir(root: str | Path, step: int) -> Path:
    """Where the checkpoint of ``step`` lives."""
    return Path(root) / f"step-{step:06d}"


def latest_checkpoint(root: str | Path) -> Path | None:
    """The newest complete checkpoint under ``root`` (temporary folders of torn writes are ignored)."""
    root = Path(root)
    done = [p for p in root.glob("step-*") if (p / _STATE).is_file()] if root.is_dir() else []
    return max(done, key=lambda p: int(p.name.split("-")[1]), default=None)


def is_sharded(accelerator: Any) -> bool:
    """Whether accelerate shards weights and optimizer state across processes (its FSDP, DeepSpeed)."""
    return accelerator.distributed_type.name in ("FSDP", "DEEPSPEED")


def _raw(optimizer: Any) -> Any:
    return getattr(optimizer, "optimizer", optimizer)  # accelerate's wrapper holds the torch optimizer


def _dcp_options(strict: bool = True) -> Any:
    from torch.distributed.checkpoint.state_dict import StateDictOptions

    # Only what trains: for LoRA the adapter, not the frozen base model (it is reloaded from its source).
    # Loading is then non-strict about the frozen weights only: dcp.load itself fails on any trainable
    # weight the checkpoint lacks.
    return StateDictOptions(ignore_frozen_params=True, strict=strict)


def save_checkpoint(accelerator: Any, model: Any, optimizer: Any, scheduler: Any, root: str | Path, step: int,
                    state: dict[str, Any], keep: int) -> Path:
    """Write a checkpoint for ``step`` (collective: every process must call it) and keep the newest ``keep``.

    Args:
        accelerator: the run's `accelerate.Accelerator`.
        model: the prepared model.
        optimizer: the prepared optimizer.
        scheduler: the learning-rate scheduler (not prepared: stepped once per optimizer step).
        root: the stage's checkpoints folder.
        step: optimizer steps done.
        state: JSON-ready training position (step, epoch, tokens seen, …).
        keep: how many checkpoints to keep.
    """
    final = checkpoint_dir(root, step)
    tmp = final.parent / f".{final.name}.tmp"
    if accelerator.is_main_process:
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir(parents=True)
    accelerator.wait_for_everyone()
    if is_sharded(accelerator):
        accelerator.save_state(str(tmp / _ENGINE), safe_serialization=True)
    elif is_fsdp2(model):
        import torch.distributed.checkpoint as dcp
        from torch.distributed.checkpoint.state_dict import get_state_dict

        weights, optim = get_state_dict(model, _raw(optimizer), options=_dcp_options())
        dcp.save({"model": weights, "optimizer": optim}, checkpoint_id=str(tmp / _DCP))
    elif accelerator.is_main_process:
        from safetensors.torch import save_file

        trainable = {name: p.detach().contiguous().cpu() for name, p in
                     accelerator.unwrap_model(model).named_parameters() if p.requires_grad}
        save_file(trainable, str(tmp / "trainable.safetensors"), metadata={"format": "pt"})
        torch.save(optimizer.state_dict(), tmp / "optimizer.pt")
    torch.save(_rng_state(), tmp / f"rng-{accelerator.process_index}.pt")
    accelerator.wait_for_everyone()
    if accelerator.is_main_process:
        (tmp / "scheduler.json").write_text(json.dumps(scheduler.state_dict()), encoding="utf-8")
        (tmp / _STATE).write_text(json.dumps(state, indent=1), encoding="utf-8")
        shutil.rmtree(final, ignore_errors=True)
        tmp.rename(final)
        done = sorted((p for p in Path(root).glob("step-*") if (p / _STATE).is_file()),
                      key=lambda p: int(p.name.split("-")[1]))
        for old in done[:-keep]:
            shutil.rmtree(old, ignore_errors=True)
    accelerator.wait_for_everyone()
    return final


def load_checkpoint(accelerator: Any, model: Any, optimizer: Any, scheduler: Any, path: str | Path) -> dict[str, Any]:
    """Restore weights, optimizer, scheduler and this process's RNG from a checkpoint; return its state.

    Raises:
        RuntimeError: the checkpoint's parameters do not match the model's trainable ones (a
            different recipe wrote it; the caller compares recipes first, so this is a bug).
    """
    path = Path(path)
    if (path / _ENGINE).is_dir():
        accelerator.load_state(str(path / _ENGINE))
    elif (path / _DCP).is_dir():
        import torch.distributed.checkpoint as dcp
        from torch.distributed.checkpoint.state_dict import get_state_dict, set_state_dict

        weights, optim = get_state_dict(model, _raw(optimizer), options=_dcp_options())
        state = {"model": weights, "optimizer": optim}
        dcp.load(state, checkpoint_id=str(path / _DCP))
        set_state_dict(model, _raw(optimizer), model_state_dict=state["model"], optim_state_dict=state["optimizer"],
                       options=_dcp_options(strict=False))
    elif is_fsdp2(model):
        raise InputError(f"{path}: this checkpoint was written without sharding; resume it with the strategy the "
                         "run started with (not --strategy fsdp)")
    else:
        from safetensors.torch import load_file

        saved = load_file(str(path / "trainable.safetensors"))
        params = dict(accelerator.unwrap_model(model).named_parameters())
        trainable = {n for n, p in params.items() if p.requires_grad}
        if set(saved) != trainable:
            raise RuntimeError(f"{path}: checkpoint parameters differ from the model's trainable ones "
                               f"({len(set(saved) ^ trainable)} names differ)")
        with torch.no_grad():
            for name, tensor in saved.items():
                params[name].copy_(tensor)
        optimizer.load_state_dict(torch.load(path / "optimizer.pt", map_location="cpu", weights_only=True))
    scheduler.load_state_dict(json.loads((path / "scheduler.json").read_text(encoding="utf-8")))
    rng_file = path / f"rng-{accelerator.process_index}.pt"
    if rng_file.is_file():  # a run resumed on a different number of processes keeps its fresh RNG
        _set_rng_state(torch.load(rng_file, weights_only=True))
    return json.loads((path / _STATE).read_text(encoding="utf-8"))


def _rng_state() -> dict[str, Any]:
    kind, keys, pos, has_gauss, gauss = np.random.get_state()
    return {"torch": torch.get_rng_state(),
            "cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else [],
            "python": random.getstate(),
            "numpy": [kind, torch.from_numpy(np.asarray(keys).copy()), pos, has_gauss, gauss]}


def _set_rng_state(state: dict[str, Any]) -> None:
    torch.set_rng_state(state["torch"])
    if state["cuda"] and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])
    random.setstate(state["python"])
    kind, keys, pos, has_gauss, gauss = state["numpy"]
    np.random.set_state((kind, keys.numpy(), pos, has_gauss, gauss))
