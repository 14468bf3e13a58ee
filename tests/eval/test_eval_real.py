"""Slow: SmolLM2-135M-Instruct on real MGSM and XQuAD files, two questions per language, through the CLI."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from polyalign import langs


@pytest.mark.e2e
@pytest.mark.slow
def test_smollm2_on_mgsm_and_xquad(shared_data, tmp_path):
    out = tmp_path / "out"
    # 64 new tokens (XQuAD's own limit; mGSM's is 600) bounds the run to a few minutes on 2 cores
    args = ["eval", "--model", "smollm2-135m-instruct", "--tasks", "mgsm,xquad", "--limit", "2",
            "--data-dir", str(shared_data), "--out", str(out), "--max-new-tokens", "64"]
    proc = subprocess.run([sys.executable, "-m", "polyalign.cli.main", *args], capture_output=True, text=True,
                          env={**os.environ, "HF_HUB_OFFLINE": "1"}, timeout=3600)
    assert proc.returncode == 0, proc.stderr
    print(proc.stdout)  # the per-language tables (pytest -s shows them)
    doc = json.loads((out / "results.json").read_text())
    assert list(doc["results"]["mgsm"]) == list(langs.MGSM_LANGS)
    assert list(doc["results"]["xquad"]) == list(langs.XQUAD_LANGS)
    for task in ("mgsm", "xquad"):
        for values in doc["results"][task].values():
            assert values["n"] == 2 and "skipped" not in values
            assert all(0.0 <= v <= 1.0 for k, v in values.items() if k != "n")
    assert doc["provenance"]["model_sha256"] and doc["provenance"]["prompt"] == {"mgsm": "paper", "xquad": "paper"}
    sample = json.loads((out / "samples/xquad_zh.jsonl").read_text().splitlines()[0])
    assert sample["id"] == "xquad/zh/0" and "请根据以下段落，回答问题" in sample["prompt"] and sample["output"]
    assert "| avg (no en) |" in proc.stdout
