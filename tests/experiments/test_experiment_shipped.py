"""The shipped experiments: every one plans completely with --dry-run (references resolve, every arm has its
steps and a cost line), says what it reproduces and the paper's numbers, and follows the naming rule."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from support.cli import run_cli
from polyalign.experiments.graph import judged_arms, scored_arms
from polyalign.experiments.plan import format_plan, make_plan
from polyalign.experiments.spec import find_experiment, list_experiments, load_experiment

SHIPPED = [name for name, _ in list_experiments()]
PAPER_KEYS = ("x-llama-", "m-llama-", "qalign-", "beyond-english-")


def test_the_papers_experiments_ship():
    assert {"x-llama-7b", "m-llama-7b", "qalign-math-llama2-7b", "qalign-code-llama2-7b",
            "qalign-commonsense-llama2-7b", "qalign-proxy-llama2-70b", "beyond-english-vocab-llama2-7b",
            "beyond-english-cpt-scale-llama2-7b", "beyond-english-sft-scale-llama2-7b",
            "beyond-english-bactrian-x-llama2-7b", "vocab-smollm2"} <= set(SHIPPED)
    for name in SHIPPED:
        assert name.endswith("-smollm2") or name.startswith(PAPER_KEYS), name


@pytest.mark.parametrize("name", SHIPPED)
def test_dry_run_plans_every_shipped_experiment(name, tmp_path):
    cfg, path = load_experiment(name)
    assert cfg.reproduces and cfg.paper, "say which table or figure it reproduces and the paper's numbers"
    assert Path(path).read_text(encoding="utf-8").startswith("# ")  # the `experiment list` summary line
    steps = make_plan(cfg, tmp_path / "out", costs=True)
    kinds = {(s.arm, s.kind) for s in steps}
    for arm, spec in cfg.arms.items():
        assert (arm, "eval") in kinds
        assert ((arm, "build") in kinds) == (spec.train is not None)
    assert {a for a, k in kinds if k == "judge"} == set(judged_arms(cfg))
    assert {a for a, k in kinds if k == "perplexity"} == set(scored_arms(cfg))
    assert all(s.cost is not None for s in steps if s.kind != "perplexity")
    for step in steps:  # a trained arm's recipe really resolved: its stages read files inside the arm or named ones
        if step.kind == "build":
            assert step.resolved.train.out == str(tmp_path / "out" / step.arm / "train")
            for i, build in enumerate(step.resolved.arm.data):
                if build.stage is not None:
                    assert step.resolved.train.stages[build.stage].data.startswith(str(tmp_path / "out" / step.arm))
    text = format_plan(cfg, steps, tmp_path / "out")
    assert text.count("\narm ") == len(cfg.arms) and "to do:" in text
    assert all(f"compare {c.name}:" in text for c in cfg.comparisons)
    assert not (tmp_path / "out").exists()  # a dry run writes nothing


@pytest.mark.e2e
def test_cpu_edition_dry_run_on_the_command_line_prices_the_run(tmp_path):
    done = run_cli("experiment", "run", "vocab-smollm2", "--dry-run", "--out", str(tmp_path / "v"))
    assert done.returncode == 0, done.stderr
    assert "arm original:" in done.stdout and "arm extended:" in done.stdout and "vocab +1000 zh" in done.stdout
    # the suite is the shipped starter set: 2 languages × 20 items × ≤ 160 new tokens per arm
    assert "40 items, ≤ 6,400 tokens to generate" in done.stdout
    listed = run_cli("experiment", "list")
    assert listed.returncode == 0 and all(name in listed.stdout for name in SHIPPED)


def test_the_vocabulary_arms_train_identically():
    """Like-for-like: the two arms of the vocabulary comparison share recipe and data, and differ by the extension."""
    for name in ("vocab-smollm2", "beyond-english-vocab-llama2-7b"):
        document = yaml.safe_load(find_experiment(name).read_text(encoding="utf-8"))
        original, extended = document["arms"]["original"], document["arms"]["extended"]
        assert original["train"] == extended["train"] and original["data"] == extended["data"]
        assert "vocab" in extended and "vocab" not in original
