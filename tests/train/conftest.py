"""Fixtures for the training tests: toy data sets and recipe files on the session's tiny model."""

from __future__ import annotations

import json
import os
import random
from pathlib import Path

import pytest
import yaml

@pytest.fixture(scope="module", autouse=True)
def one_thread():
    """Tiny models train ~30× faster on one thread than on two busy shared cores; subprocesses inherit it."""
    import torch

    threads, env = torch.get_num_threads(), os.environ.get("OMP_NUM_THREADS")
    torch.set_num_threads(1)
    os.environ["OMP_NUM_THREADS"] = "1"
    yield
    torch.set_num_threads(threads)
    if env is None:
        os.environ.pop("OMP_NUM_THREADS", None)
    else:
        os.environ["OMP_NUM_THREADS"] = env


WORDS = ["apple", "banana", "cherry", "dog", "egg", "fish", "grape", "house", "Apfel", "猫", "книга", "casa"]


def toy_examples(n: int, seed: int = 0) -> list[dict]:
    """A learnable instruction task (repeat the words, twice) with prompts and completions of varying length."""
    rng = random.Random(seed)
    examples = []
    for i in range(n):
        words = " ".join(rng.choice(WORDS) for _ in range(rng.randint(1, 4)))
        examples.append({"id": f"toy/{seed}/{i}", "lang": "en", "source": "toy",
                         "prompt": f"Repeat twice: {words}\n### Response:", "completion": f" {words} {words}"})
    return examples


@pytest.fixture
def toy_data(tmp_path):
    """Write ``n`` toy examples to a JSONL file and return its path; ``kind="cpt"`` writes text records."""
    def write(name: str = "train.jsonl", n: int = 32, seed: int = 0, kind: str = "sft") -> str:
        path = tmp_path / name
        with path.open("w", encoding="utf-8") as handle:
            for ex in toy_examples(n, seed):
                record = ex if kind == "sft" else {"id": ex["id"], "lang": "en", "source": "toy",
                                                     "text": ex["prompt"] + ex["completion"]}
                handle.write(json.dumps(record, ensure_ascii=False) + "\n")
        return str(path)
    return write


@pytest.fixture
def write_recipe(tmp_path, tiny_model):
    """Write a training recipe on the tiny model (stages as dicts) and return its path."""
    def write(stages: list[dict], name: str = "recipe.yaml", **fields) -> str:
        recipe = {"name": "toy", "model": tiny_model, "out": str(tmp_path / "run"), "seed": 7, **fields,
                  "stages": stages}
        path = tmp_path / name
        path.write_text(yaml.safe_dump(recipe, sort_keys=False, allow_unicode=True), encoding="utf-8")
        return str(path)
    return write


@pytest.fixture(scope="session")
def tiny_tokenizer(tiny_model):
    from polyalign.models.loading import load_tokenizer

    return load_tokenizer(tiny_model)


def sft_stage(path: str, **fields) -> dict:
    """A small full fine-tuning sft stage on ``path`` (override anything, even ``data``, with keyword arguments)."""
    return {"name": "sft", "type": "sft", "data": path, "epochs": 1, "batch_size": 4, "micro_batch_size": 2,
            "learning_rate": 1e-3, "warmup_ratio": 0.0, **fields}


@pytest.fixture
def stage():
    return sft_stage


def metrics_of(run: str | Path, stage_name: str) -> list[dict]:
    return [json.loads(line) for line in (Path(run) / stage_name / "metrics.jsonl").read_text().splitlines()]


@pytest.fixture
def read_metrics():
    return metrics_of
