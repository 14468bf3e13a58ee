"""`polyalign doctor`: every check answers, missing pieces come with a fix, exit code 0."""

from __future__ import annotations

import importlib.metadata
import json

from support.cli import run_cli

from polyalign.scaleout import doctor

CPUINFO = """processor\t: 0
flags\t\t: fpu sse2 avx2 avx512f avx512_bf16 avx512_vnni
processor\t: 1
flags\t\t: fpu sse2 avx2 avx512f avx512_bf16 avx512_vnni amx_tile amx_bf16
"""


def test_cpu_bf16_flags_read_from_cpuinfo() -> None:
    assert doctor.cpu_bf16_flags(CPUINFO) == ["avx512_bf16", "amx_bf16"]
    assert doctor.cpu_bf16_flags("flags\t: fpu sse2 avx2 avx512f\n") == []
    assert doctor.cpu_bf16_flags("") == []


def test_missing_package_comes_with_its_fix(monkeypatch) -> None:
    real = importlib.metadata.version

    def version(name: str) -> str:
        if name in ("vllm", "deepspeed"):
            raise importlib.metadata.PackageNotFoundError(name)
        return real(name)

    monkeypatch.setattr(importlib.metadata, "version", version)
    monkeypatch.setattr(doctor.shutil, "which", lambda name: None)
    checks = {c.name: c for c in doctor.run_checks()}
    assert not checks["vllm"].ok and "polyalign[vllm]" in checks["vllm"].fix
    assert not checks["deepspeed"].ok and "deepspeed" in checks["deepspeed"].fix
    assert not checks["browser"].ok and "chromium" in checks["browser"].fix
    assert all(c.fix for c in checks.values() if not c.ok)


def test_doctor_command_text_and_json() -> None:
    done = run_cli("doctor", "--json")
    assert done.returncode == 0, done.stderr
    checks = {c["name"]: c for c in json.loads(done.stdout)["checks"]}
    assert {"torch", "gpus", "cpu bf16", "flash-attn", "vllm", "deepspeed", "comet", "browser"} <= set(checks)
    assert all(c["fix"] for c in checks.values() if not c["ok"])
    assert "torch" in checks["torch"]["detail"]
    text = run_cli("doctor")
    assert text.returncode == 0 and "cpu bf16" in text.stdout
