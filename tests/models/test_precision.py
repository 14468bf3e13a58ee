"""--dtype auto (polyalign.models.precision): bf16 on CPUs with native bf16, fp32 elsewhere."""

from __future__ import annotations

import contextlib

import pytest
import torch

from polyalign.models import precision


@pytest.fixture
def flags(monkeypatch):
    def set_flags(*names: str) -> None:
        monkeypatch.setattr(precision, "_cpu_flags", lambda: frozenset(names))
    monkeypatch.delenv("POLYALIGN_NO_BF16", raising=False)
    return set_flags


def test_auto_on_cpu_follows_native_support(flags, monkeypatch) -> None:
    flags("avx512f", "avx512_bf16")
    assert precision.resolve_dtype("auto") == "bfloat16" == precision.resolve_dtype("auto", "cpu")
    flags("amx_bf16", "amx_tile")
    assert precision.resolve_dtype("auto") == "bfloat16"
    flags("avx512f", "avx2")  # emulated bf16 is slower than fp32
    assert precision.resolve_dtype("auto") == "float32"
    flags("avx512_bf16")
    monkeypatch.setenv("POLYALIGN_NO_BF16", "1")
    assert precision.resolve_dtype("auto") == "float32"


def test_explicit_dtypes_and_gpus_are_left_alone(flags) -> None:
    flags("avx512_bf16")
    for name in ("float32", "bfloat16", "float16"):
        assert precision.resolve_dtype(name) == name
    assert precision.resolve_dtype("auto", "cuda") == "auto"
    assert precision.resolve_dtype("auto", {"": 0}) == "auto"


def test_training_autocast_only_when_the_run_asks() -> None:
    class Acc:
        cpu_bf16_autocast = False

    assert isinstance(precision.training_autocast(Acc()), contextlib.nullcontext)
    Acc.cpu_bf16_autocast = True
    weight = torch.randn(4, 4, requires_grad=True)
    with precision.training_autocast(Acc()):
        out = torch.randn(2, 4) @ weight
    assert out.dtype == torch.bfloat16 and weight.dtype == torch.float32  # fp32 master weights
