"""What this machine can run: torch build, GPUs, native bf16, optional engines, a browser — and the fix
for each missing piece. `polyalign doctor` prints these checks; none of them changes anything.

Optional packages are looked up by their installed metadata, never imported (importing vllm or
deepspeed takes seconds and may probe drivers); torch is imported because the build and devices are
the point of the check.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import platform
import shutil
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

__all__ = ["Check", "run_checks", "cpu_bf16_flags", "BROWSERS"]

BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "chrome")
"""Executables that can render report.html headless for the report checks."""


@dataclass
class Check:
    """One line of the doctor's answer."""

    name: str
    ok: bool
    detail: str
    fix: str | None = None
    """What to do when ``ok`` is false (None when nothing needs doing)."""

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def cpu_bf16_flags(cpuinfo: str) -> list[str]:
    """The CPU flags that give native bf16 arithmetic (AVX512_BF16 dot products, AMX tiles) in ``/proc/cpuinfo``."""
    flags: set[str] = set()
    for line in cpuinfo.splitlines():
        if line.startswith("flags"):
            flags.update(line.split(":", 1)[-1].split())
    return [flag for flag in ("avx512_bf16", "amx_bf16") if flag in flags]


def _version(distribution: str) -> str | None:
    try:
        return importlib.metadata.version(distribution)
    except importlib.metadata.PackageNotFoundError:
        return None


def _package(name: str, distribution: str, module: str, purpose: str, fix: str) -> Check:
    version = _version(distribution)
    if version and importlib.util.find_spec(module) is not None:
        return Check(name, True, f"{distribution} {version} ({purpose})")
    return Check(name, False, f"not installed ({purpose})", fix)


def _torch_checks() -> list[Check]:
    import torch

    checks = []
    build = f"CUDA {torch.version.cuda}" if torch.version.cuda else (
        f"ROCm {torch.version.hip}" if getattr(torch.version, "hip", None) else "CPU only")
    nvidia = shutil.which("nvidia-smi") is not None or Path("/proc/driver/nvidia").exists()
    wrong_build = build == "CPU only" and nvidia
    checks.append(Check("torch", not wrong_build, f"torch {torch.__version__}, {build} build",
                        "an NVIDIA driver is present but torch is a CPU build: install the CUDA build of torch that "
                        "matches the driver (PyTorch's install page gives the pip command)" if wrong_build else None))
    if torch.cuda.is_available():
        names = [torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count())]
        memory = torch.cuda.get_device_properties(0).total_memory / 1024 ** 3
        bf16 = torch.cuda.is_bf16_supported()
        checks.append(Check("gpus", True, f"{len(names)} × {names[0]} ({memory:.0f} GiB), "
                                          f"{'ROCm' if torch.version.hip else 'CUDA'}"))
        checks.append(Check("gpu bf16", bf16, "native bf16" if bf16 else "no bf16 (pre-Ampere GPU)",
                            None if bf16 else "use precision: fp16 or fp32 in the recipe (bf16 needs Ampere or newer)"))
    else:
        checks.append(Check("gpus", False, "no CUDA/ROCm device visible to torch",
                            "training and evaluation run on the CPU (tiny and 135M models); for the 7B/13B recipes "
                            "use a GPU machine with a CUDA or ROCm build of torch (docs/gpu.md)"))
    cpuinfo = Path("/proc/cpuinfo").read_text(encoding="utf-8", errors="replace") if Path("/proc/cpuinfo").exists() else ""
    flags = cpu_bf16_flags(cpuinfo)
    capability = torch.backends.cpu.get_cpu_capability()
    checks.append(Check("cpu bf16", bool(flags), f"{', '.join(flags) or 'no AVX512_BF16/AMX'}; torch CPU kernels: "
                                                 f"{capability} ({platform.machine()})",
                        None if flags else "this CPU emulates bf16: --dtype auto uses fp32 here (correct, "
                                           "just slower than a CPU with AVX512_BF16 or AMX)"))
    return checks


def run_checks() -> list[Check]:
    """Every check, in the order `polyalign doctor` prints them."""
    checks = _torch_checks()
    cuda = any(c.name == "gpus" and c.ok for c in checks)
    checks.append(_package("flash-attn", "flash-attn", "flash_attn", "attn_implementation: flash_attention_2",
                           "pip install 'polyalign[gpu]' on a CUDA machine (needs a matching torch and nvcc); "
                           "without it the sdpa kernel is used" if cuda else
                           "needs an NVIDIA GPU; sdpa attention is used instead (nothing to do on a CPU)"))
    checks.append(_package("vllm", "vllm", "vllm", "eval --backend vllm",
                           "pip install 'polyalign[vllm]' (Linux with an NVIDIA GPU; docs/gpu.md lists the "
                           "resolved versions); elsewhere use --backend hf"))
    checks.append(_package("deepspeed", "deepspeed", "deepspeed", "train with ZeRO-2/3 configs",
                           "pip install 'polyalign[gpu]' (or pip install deepspeed); FSDP needs no extra"))
    checks.append(_package("comet", "unbabel-comet", "comet", "translation metric comet",
                           "pip install 'polyalign[comet]' and have the wmt22-comet-da checkpoint in the HF cache"))
    browser = next((path for path in map(shutil.which, BROWSERS) if path), None)
    checks.append(Check("browser", browser is not None, browser or "no chromium/chrome on PATH (report checks)",
                        None if browser else "apt-get install chromium (renders report.html headless for the "
                                             "report checks; reports themselves need no browser)"))
    return checks
