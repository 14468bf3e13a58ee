"""Named GPUs: memory and dense bf16 tensor throughput (vendors' published datasheet numbers).

Throughput is the dense (no structured sparsity) bf16 figure with fp32 accumulation, which is what
training kernels run; time estimates scale it by a model FLOPs utilisation (MFU) the user states.
"""

from __future__ import annotations

from dataclasses import dataclass

from polyalign.errors import InputError

__all__ = ["GpuSpec", "GPU_TABLE", "gpu_spec", "gpu_names"]


@dataclass(frozen=True)
class GpuSpec:
    """One GPU model."""

    name: str
    """Short name used on the command line (``--gpu``)."""
    memory_gb: float
    """Memory in GiB as the driver reports it (what ``--gpu-memory`` means)."""
    bf16_tflops: float
    """Dense bf16 tensor-core TFLOP/s (fp32 accumulate)."""
    description: str
    """Full product name."""


GPU_TABLE: dict[str, GpuSpec] = {spec.name: spec for spec in (
    GpuSpec("A100-40", 40, 312, "NVIDIA A100 SXM4 40 GB"),
    GpuSpec("A100-80", 80, 312, "NVIDIA A100 SXM4 80 GB"),
    GpuSpec("H100-80", 80, 989, "NVIDIA H100 SXM5 80 GB"),
    GpuSpec("H100-PCIe", 80, 756, "NVIDIA H100 PCIe 80 GB"),
    GpuSpec("L40S", 48, 362, "NVIDIA L40S 48 GB"),
    GpuSpec("A10", 24, 125, "NVIDIA A10 / A10G 24 GB"),
    GpuSpec("RTX-4090", 24, 165, "NVIDIA GeForce RTX 4090 24 GB (fp32 accumulate)"),
    GpuSpec("RTX-3090", 24, 71, "NVIDIA GeForce RTX 3090 24 GB (fp32 accumulate)"),
)}
"""The GPUs `polyalign plan` knows by name."""


def gpu_names() -> list[str]:
    """Names accepted by ``--gpu``."""
    return list(GPU_TABLE)


def gpu_spec(name: str) -> GpuSpec:
    """The GPU called ``name`` (case and ``-``/``_``/space insensitive: ``a100_80`` works)."""
    wanted = name.lower().replace("_", "-").replace(" ", "-").replace("gb", "")
    for spec in GPU_TABLE.values():
        if spec.name.lower() == wanted:
            return spec
    raise InputError(f"unknown GPU (known: {', '.join(GPU_TABLE)})", where=f"--gpu {name}")
