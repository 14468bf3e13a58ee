"""`polyalign experiment`: arms run in dependency order on the tiny model, reuse, refusal of changed arms,
failures that name the arm and resume, a kill -9 mid-arm, and bad input that exits 2 with one line."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from support.cli import run_cli
from polyalign.errors import InputError
from polyalign.experiments import runner
from polyalign.experiments.plan import make_plan
from polyalign.experiments.spec import load_experiment


@pytest.fixture(autouse=True)
def _one_thread(monkeypatch):
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # tiny models run far faster on one thread of a busy 2-core machine
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    yield
    torch.set_num_threads(threads)


def _toy_data(path: Path, n: int = 16) -> str:
    rows = [{"id": f"toy/{i}", "lang": "en", "source": "toy", "prompt": f"Repeat: {i}\n### Response:",
             "completion": f" {i} {i}"} for i in range(n)]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return str(path)


def _recipe(tmp_path: Path, model: str, data: str, name: str = "toy-train.yaml", **stage) -> str:
    recipe = {"name": "toy", "model": model, "out": str(tmp_path / "unused"), "seed": 7, "save_steps": 2,
              "stages": [{"name": "sft", "type": "sft", "data": data, "epochs": 1, "batch_size": 4,
                          "micro_batch_size": 2, "learning_rate": 1e-3, "warmup_ratio": 0.0, **stage}]}
    path = tmp_path / name
    path.write_text(yaml.safe_dump(recipe), encoding="utf-8")
    return str(path)


def _experiment(tmp_path: Path, tiny_model: str, *, comparisons: bool = True, **arms_extra) -> Path:
    data = _toy_data(tmp_path / "toy.jsonl")
    arms = {
        "base": {"model": tiny_model},
        "tuned": {"train": _recipe(tmp_path, tiny_model, data), "start_from": "base"},
        "steered": {"proxy": {"base": "base", "expert": "tuned", "anti_expert": "base", "alpha": 1.0}},
        **arms_extra,
    }
    document = {"name": "toy", "out": str(tmp_path / "exp"), "reproduces": "nothing (a test)", "arms": arms,
                "suite": {"tasks": ["starter"], "langs": ["de"], "limit": 2, "max_new_tokens": 3, "batch_size": 2}}
    if comparisons:
        document["comparisons"] = [{"baseline": "base", "systems": ["tuned", "steered"], "metrics": ["acc"]}]
    path = tmp_path / "experiment.yaml"
    path.write_text(yaml.safe_dump(document, sort_keys=False), encoding="utf-8")
    return path


@pytest.fixture
def fake_compare(monkeypatch):
    """The comparison step stands in for polyalign compare: it records what it was given."""
    calls = []

    def compare(cfg, out, comparison, first):
        runs = {name: out / name / comparison.runs for name in [comparison.baseline, *comparison.systems]}
        assert all((run / "results.json").is_file() for run in runs.values())
        calls.append((comparison.name, runs))
        target = out if first else out / "comparisons" / comparison.name
        (target / "comparison.json").write_text(json.dumps({"baseline": comparison.baseline, "rows": []}))
        return target / "comparison.json"

    monkeypatch.setattr(runner, "compare_arms", compare)
    return calls


def test_runs_arms_in_order_then_reuses_and_refuses_a_changed_arm(tmp_path, tiny_model, fake_compare, monkeypatch):
    path = _experiment(tmp_path, tiny_model)
    cfg, _ = load_experiment(str(path))
    out = Path(cfg.out)
    assert [(s.arm, s.kind, s.status) for s in make_plan(cfg, out)] == [
        ("base", "eval", "todo"), ("tuned", "build", "todo"), ("tuned", "eval", "todo"), ("steered", "eval", "todo")]

    state = runner.run_experiment(cfg, out, progress=False)
    trained = state["arms"]["tuned"]["build"]["model"]
    assert Path(trained, "config.json").is_file() and str(out / "tuned" / "train") in trained
    for arm in ("base", "tuned", "steered"):
        results = json.loads((out / arm / "eval" / "results.json").read_text())
        assert results["results"]["starter"]["de"]["n"] == 2
    proxy = json.loads((out / "steered" / "eval" / "results.json").read_text())["provenance"]
    assert proxy["backend"] == "proxy" and trained in json.dumps(proxy)  # the expert is the tuned arm's model
    assert fake_compare[0][0] == "main" and (out / "comparison.json").is_file()
    assert (out / "report.html").stat().st_size > 0

    # Nothing changed: every arm is reused, nothing is trained or evaluated again.
    monkeypatch.setattr(runner, "_run_step", lambda *a, **k: pytest.fail("a finished arm ran again"))
    runner.run_experiment(cfg, out, progress=False)

    # A changed recipe is refused without --rerun, and it names the arm.
    changed, _ = load_experiment(str(path), ["arms.tuned.overrides=[stages.0.learning_rate=0.002]"])
    with pytest.raises(InputError, match=r"tuned \(build\).*changed since it finished.*--rerun"):
        runner.run_experiment(changed, out, progress=False)
    statuses = {(s.arm, s.kind): s.status for s in make_plan(changed, out)}
    assert statuses == {("base", "eval"): "done", ("tuned", "build"): "changed", ("tuned", "eval"): "changed",
                        ("steered", "eval"): "changed"}  # arms using the changed model changed too


def test_rerun_redoes_only_the_changed_arm(tmp_path, tiny_model, fake_compare):
    path = _experiment(tmp_path, tiny_model, comparisons=False)
    cfg, _ = load_experiment(str(path), ["suite.langs=[de]"])
    out = Path(cfg.out)
    runner.run_experiment(cfg, out, only=["tuned"], progress=False)
    assert not (out / "steered").exists()  # --only: the arm and what it needs
    base_results = (out / "base" / "eval" / "results.json").stat().st_mtime_ns
    changed, _ = load_experiment(str(path), ["arms.tuned.overrides=[stages.0.learning_rate=0.002]"])
    state = runner.run_experiment(changed, out, only=["tuned"], rerun=True, progress=False)
    assert state["arms"]["tuned"]["build"]["status"] == "done"
    assert (out / "base" / "eval" / "results.json").stat().st_mtime_ns == base_results
    recipe = yaml.safe_load((out / "tuned" / "train" / "config.yaml").read_text())
    assert recipe["stages"][0]["learning_rate"] == pytest.approx(0.002)


def test_a_failing_arm_stops_the_experiment_names_it_and_a_rerun_resumes(tmp_path, tiny_model, fake_compare):
    missing = tmp_path / "later.jsonl"
    path = _experiment(tmp_path, tiny_model, comparisons=False)
    broken = {"train": _recipe(tmp_path, tiny_model, str(missing), name="broken.yaml")}
    document = yaml.safe_load(path.read_text())
    document["arms"] = {"base": document["arms"]["base"], "broken": broken}
    path.write_text(yaml.safe_dump(document))
    cfg, _ = load_experiment(str(path))
    out = Path(cfg.out)
    with pytest.raises(InputError, match=r"arm 'broken' failed in its build step: .*later\.jsonl.*run again to resume"):
        runner.run_experiment(cfg, out, progress=False)
    state = json.loads((out / "experiment.json").read_text())
    assert state["arms"]["base"]["eval"]["status"] == "done"  # the finished arm is kept
    assert state["arms"]["broken"]["build"]["status"] == "failed"
    kept = (out / "base" / "eval" / "results.json").stat().st_mtime_ns

    _toy_data(missing)  # fix the cause and run again: the experiment resumes at the failed arm
    cfg, _ = load_experiment(str(path))
    state = runner.run_experiment(cfg, out, progress=False)
    assert state["arms"]["broken"]["eval"]["status"] == "done"
    assert (out / "base" / "eval" / "results.json").stat().st_mtime_ns == kept


@pytest.mark.e2e
def test_killed_mid_arm_resumes_from_the_training_checkpoint(tmp_path, tiny_model):
    path = _experiment(tmp_path, tiny_model, comparisons=False)
    document = yaml.safe_load(path.read_text())
    document["arms"] = {"tuned": {"train": _recipe(tmp_path, tiny_model, _toy_data(tmp_path / "long.jsonl", 64),
                                                   epochs=3)}}
    path.write_text(yaml.safe_dump(document))
    out = tmp_path / "exp"
    command = [sys.executable, "-m", "polyalign.cli.main", "experiment", "run", str(path), "--no-progress"]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    checkpoint = out / "tuned" / "train" / "sft" / "checkpoints" / "step-000004"
    deadline = time.monotonic() + 300
    while not checkpoint.is_dir():
        assert process.poll() is None and time.monotonic() < deadline, "the run ended before its second checkpoint"
        time.sleep(0.01)
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    state = json.loads((out / "experiment.json").read_text())
    assert state["arms"]["tuned"]["build"]["status"] == "running"  # killed mid-arm

    done = run_cli("experiment", "run", str(path), "--no-progress")
    assert done.returncode == 0, done.stderr
    assert "resuming after step" in done.stderr  # training continued from its checkpoint
    state = json.loads((out / "experiment.json").read_text())
    assert state["arms"]["tuned"]["eval"]["status"] == "done" and "report" in state
    steps = [json.loads(x)["step"] for x in (out / "tuned" / "train" / "sft" / "metrics.jsonl").read_text().splitlines()
             if "loss" in json.loads(x)]
    assert steps[-1] == 48 and len(set(steps)) == 48  # 64 examples × 3 epochs / 4 per step, none lost


BAD = {
    "unknown arm reference": ({"steered": {"proxy": {"base": "base", "expert": "nobody", "anti_expert": "base"}}},
                              None, r"arm 'steered' proxy\.expert: 'nobody' is not an arm of this experiment"),
    "cycle between arms": ({"a": {"train": "RECIPE", "start_from": "b"}, "b": {"train": "RECIPE", "start_from": "a"}},
                           None, r"arms form a cycle: a → b → a"),
    "different protocols": ({"other": {"model": "MODEL", "eval": ["prompt=chat"]}},
                            [{"baseline": "base", "systems": ["other"]}],
                            r"comparison 'main': arm 'other' is evaluated with prompt 'chat', baseline 'base' with None"),
    "different tasks": ({"other": {"model": "MODEL", "eval": ["tasks=[mgsm]"]}},
                        [{"baseline": "base", "systems": ["other"]}],
                        r"arm 'other' is evaluated with tasks \['mgsm'\], baseline 'base' with \['starter'\]"),
}


@pytest.mark.parametrize("case", sorted(BAD))
@pytest.mark.e2e
def test_bad_input_exits_2_with_one_line(tmp_path, tiny_model, case):
    arms, comparisons, message = BAD[case]
    path = _experiment(tmp_path, tiny_model, comparisons=False)
    document = yaml.safe_load(path.read_text())
    recipe = document["arms"]["tuned"]["train"]
    text = yaml.safe_dump(arms).replace("RECIPE", recipe).replace("MODEL", tiny_model)
    document["arms"] = {"base": {"model": tiny_model}, **yaml.safe_load(text)}
    if comparisons:
        document["comparisons"] = comparisons
    path.write_text(yaml.safe_dump(document))
    for command in (["run", str(path), "--dry-run"], ["run", str(path)], ["status", str(path)]):
        done = run_cli("experiment", *command)
        errors = [line for line in done.stderr.splitlines() if line.strip()]
        assert done.returncode == 2 and len(errors) == 1, done.stderr
        assert __import__("re").search(message, errors[0]), errors[0]
    assert not (tmp_path / "exp").exists()


@pytest.mark.e2e
def test_dry_run_costs_count_training_examples_and_generation(tmp_path, tiny_model):
    path = _experiment(tmp_path, tiny_model)
    cfg, _ = load_experiment(str(path), ["arms.tuned.overrides=[stages.0.epochs=3]"])
    steps = {(s.arm, s.kind): s for s in make_plan(cfg, tmp_path / "exp", costs=True)}
    build = steps["tuned", "build"].cost
    assert (build.examples, build.tokens, build.bound) == (48, 48 * 512, True)  # 16 examples × 3 epochs, ≤ max_length each
    short, _ = load_experiment(str(path), ["arms.tuned.overrides=[stages.0.max_steps=2]"])
    assert make_plan(short, tmp_path / "exp", costs=True)[1].cost.examples == 8  # 2 steps × batch 4
    for arm in ("base", "tuned", "steered"):
        evaluation = steps[arm, "eval"].cost
        assert (evaluation.examples, evaluation.tokens) == (2, 2 * 3)  # limit 2 items × ≤ 3 new tokens
    done = run_cli("experiment", "run", str(path), "--dry-run")
    assert done.returncode == 0, done.stderr
    assert "to do: ≤ 8,192 tokens to train; 6 items and ≤ 18 tokens to generate" in done.stdout
    assert not (tmp_path / "exp").exists()
