"""Slow: the two shipped CPU editions (vocab-smollm2, qalign-smollm2) end to end on SmolLM2-135M-Instruct
through `polyalign experiment run`, then a second run of the same folder that reuses every finished arm.

Each takes roughly 20–40 minutes on 2 cores. Set POLYALIGN_KEEP_RUNS=DIR to write the runs to DIR/<name>
(which must not exist yet) and keep them for reading; otherwise they go to pytest's tmp_path.
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path

import pytest
from support.cli import run_cli

from polyalign.experiments.spec import load_experiment
from polyalign.models import zoo

MODEL = "smollm2-135m-instruct"
OFFLINE = {"HF_HUB_OFFLINE": "1"}


@pytest.fixture
def needs_model() -> None:
    if not zoo.is_pulled(MODEL):
        pytest.skip(f"{MODEL} is not pulled (polyalign models pull {MODEL})")


def _out(tmp_path: Path, name: str) -> Path:
    keep = os.environ.get("POLYALIGN_KEEP_RUNS")
    if not keep:
        return tmp_path / name
    out = Path(keep) / name
    if out.exists():
        pytest.fail(f"POLYALIGN_KEEP_RUNS: {out} exists; remove it so the experiment runs from scratch")
    return out


def _run_twice(name: str, out: Path, overrides: list[str]) -> dict:
    """Run the experiment from scratch, check every step finished, run it again and check nothing re-ran."""
    cfg, _ = load_experiment(name, overrides)
    first = run_cli("experiment", "run", name, *overrides, "--out", str(out), "--no-progress", env=OFFLINE,
                    timeout=3600)
    assert first.returncode == 0, first.stderr[-4000:]
    print(first.stdout)  # the comparison summaries (pytest -s shows them)
    state = json.loads((out / "experiment.json").read_text(encoding="utf-8"))
    assert set(state["arms"]) == set(cfg.arms)
    steps = {(arm, kind): entry for arm, kinds in state["arms"].items() for kind, entry in kinds.items()}
    assert steps and all(entry["status"] == "done" for entry in steps.values()), steps
    print("seconds per step:", {f"{arm}/{kind}": entry["seconds"] for (arm, kind), entry in steps.items()})
    assert f"{len(steps)} steps, {len(steps)} to run" in first.stderr

    report = out / "report.html"
    assert state["report"] == str(report) and report.stat().st_size > 0
    html = report.read_text(encoding="utf-8")
    assert all(arm in html for arm in cfg.arms)

    trained = {arm: Path(kinds["build"]["model"]) for arm, kinds in state["arms"].items() if "build" in kinds}
    weights = {arm: sorted((p.name, p.stat().st_mtime_ns) for p in model.glob("*.safetensors"))
               for arm, model in trained.items()}
    assert all(weights.values()), weights  # every trained arm saved its weights

    again = run_cli("experiment", "run", name, *overrides, "--out", str(out), "--no-progress", env=OFFLINE)
    assert again.returncode == 0, again.stderr[-4000:]
    assert f"{len(steps)} steps, 0 to run" in again.stderr
    assert "train.stage" not in again.stderr  # no training stage started
    reused = json.loads((out / "experiment.json").read_text(encoding="utf-8"))
    assert reused["arms"] == state["arms"]  # same fingerprints and the first run's timings: nothing re-ran
    assert weights == {arm: sorted((p.name, p.stat().st_mtime_ns) for p in model.glob("*.safetensors"))
                       for arm, model in trained.items()}
    status = run_cli("experiment", "status", name, *overrides, "--out", str(out), env=OFFLINE)
    assert status.returncode == 0, status.stderr
    listed = [line.split()[:2] for line in status.stdout.splitlines() if line.startswith("  ")]
    assert [s for kind, s in listed if kind in ("build", "eval", "perplexity", "judge")] == ["done"] * len(steps)

    _check_comparisons(cfg, out, reused)
    return reused


def _check_comparisons(cfg, out: Path, state: dict) -> None:
    """Every comparison of the file is written, with a row per language and system carrying Δ, its CI and p."""
    assert list(state["comparisons"]) == [c.name for c in cfg.comparisons]
    for index, comparison in enumerate(cfg.comparisons):
        folder = out if index == 0 else out / "comparisons" / comparison.name
        assert state["comparisons"][comparison.name] == str(folder / "comparison.json")
        doc = json.loads((folder / "comparison.json").read_text(encoding="utf-8"))
        assert (folder / "comparison.md").is_file()
        assert doc["baseline"] == comparison.baseline and doc["systems"] == comparison.systems
        rows = {(r["task"], r["lang"], r["metric"], r["system"]): r for r in doc["rows"]}
        for task in cfg.suite.tasks:
            for lang in cfg.suite.langs:
                base = rows[(task, lang, "acc", comparison.baseline)]
                assert base["n"] == cfg.suite.limit and base["delta"] == 0 and base["p_value"] is None
                for system in comparison.systems:
                    row = rows[(task, lang, "acc", system)]
                    assert row["n"] == cfg.suite.limit and 0.0 <= row["score"] <= 1.0
                    assert row["baseline_score"] == pytest.approx(base["score"])
                    assert row["delta"] == pytest.approx(row["score"] - base["score"])
                    assert -1.0 <= row["ci_low"] <= row["ci_high"] <= 1.0
                    assert 0.0 <= row["p_value"] <= 1.0 and row["test"] == "mcnemar-exact"


@pytest.mark.e2e
@pytest.mark.slow
def test_vocab_smollm2_runs_end_to_end_and_then_reuses_its_arms(tmp_path, shared_data, needs_model):
    out = _out(tmp_path, "vocab-smollm2")
    state = _run_twice("vocab-smollm2", out, [f"vars.shared={shared_data}"])
    chars_per_token = {}
    for arm in ("original", "extended"):
        doc = json.loads((out / arm / "perplexity" / "perplexity.json").read_text(encoding="utf-8"))
        (results,) = doc["results"].values()  # one model: the arm's own
        assert set(results) == {"zh", "en"}
        for lang, values in results.items():
            assert values["documents"] == 100 and values["chars"] > 0
            assert math.isfinite(values["bits_per_char"]) and values["bits_per_char"] > 0
        chars_per_token[arm] = results["zh"]["chars_per_token"]
        assert (out / arm / "perplexity" / "perplexity.md").is_file()
    # the extension's merges must reach the trained model's tokenizer: Chinese text takes fewer tokens
    assert chars_per_token["extended"] > chars_per_token["original"]
    assert state["arms"]["extended"]["build"]["model"] != state["arms"]["original"]["build"]["model"]


@pytest.mark.e2e
@pytest.mark.slow
def test_qalign_smollm2_runs_end_to_end_and_then_reuses_its_arms(tmp_path, needs_model):
    _run_twice("qalign-smollm2", _out(tmp_path, "qalign-smollm2"), [])
