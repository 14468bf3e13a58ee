"""Which floating-point format a model computes in: ``--dtype auto`` resolved for this machine.

On a CPU, bf16 halves the bytes every matrix multiply streams, and CPUs with native bf16 dot
products (AVX512_BF16, AMX) also compute it about twice as fast as fp32 (measured by
benchmarks/ceiling.py). Without native support PyTorch emulates bf16 through fp32 conversions, which is slower
than fp32 itself, so ``auto`` means bf16 only where it is native. On GPUs ``auto`` keeps the
checkpoint's own dtype (transformers' meaning), since GPU kernels handle every format natively.

`resolve_dtype` is the one place this choice is made; the result is recorded in provenance.
``POLYALIGN_NO_BF16=1`` forces the fp32 path (to compare, or on a CPU that misreports support).
"""

from __future__ import annotations

import contextlib
import functools
import os
from pathlib import Path
from typing import Any

__all__ = ["cpu_bf16_native", "resolve_dtype", "is_cpu", "training_autocast"]

_FLAGS = ("avx512_bf16", "amx_bf16")


@functools.lru_cache(maxsize=1)
def _cpu_flags() -> frozenset[str]:
    """The CPU feature flags the kernel reports (empty where /proc/cpuinfo does not exist)."""
    try:
        text = Path("/proc/cpuinfo").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return frozenset()
    for line in text.splitlines():
        if line.startswith("flags"):
            return frozenset(line.split(":", 1)[1].split())
    return frozenset()


def cpu_bf16_native() -> bool:
    """True when this CPU computes bf16 dot products in hardware (AVX512_BF16 or AMX-BF16).

    Read from /proc/cpuinfo (Linux). PyTorch's own probe (``torch.ops.mkldnn._is_mkldnn_bf16_supported``)
    also says yes on plain AVX-512, where bf16 is emulated and slower than fp32, so it is not used.
    """
    if os.environ.get("POLYALIGN_NO_BF16", "").strip().lower() in {"1", "true", "yes", "on"}:
        return False
    return any(f in _cpu_flags() for f in _FLAGS)


def is_cpu(device: str | dict | None) -> bool:
    """Whether a ``device``/``device_map`` value places the model on the CPU (None = CPU)."""
    return device is None or (isinstance(device, str) and device.lower() == "cpu")


def resolve_dtype(dtype: str, device: str | dict | None = None) -> str:
    """The concrete dtype name to load in: ``auto`` on CPU → ``bfloat16`` where native, else ``float32``.

    Args:
        dtype: ``float32``, ``bfloat16``, ``float16`` or ``auto``.
        device: the model's device or device map (None or "cpu" = CPU).

    Returns:
        ``dtype`` unchanged unless it is ``auto`` on a CPU; ``auto`` on other devices stays ``auto``
        (the checkpoint's own dtype).
    """
    if dtype != "auto" or not is_cpu(device):
        return dtype
    return "bfloat16" if cpu_bf16_native() else "float32"


def training_autocast(accelerator: Any) -> contextlib.AbstractContextManager:
    """bf16 autocast for a training forward pass when the run asked for it on a native-bf16 CPU, else a no-op.

    The weights, gradients and optimizer state stay fp32 (master weights); only the matrix multiplies
    run in bf16. ``make_accelerator`` sets ``cpu_bf16_autocast`` for ``precision: auto`` on such CPUs
    (accelerate's own CPU mixed precision is process-wide and cannot change between runs of one process).
    """
    if not getattr(accelerator, "cpu_bf16_autocast", False):
        return contextlib.nullcontext()
    import torch

    return torch.autocast("cpu", dtype=torch.bfloat16)
