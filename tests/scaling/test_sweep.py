"""`polyalign scaling sweep` on the tiny model: rows per (language, size), nested subsets, resume, bad input."""

from __future__ import annotations

import csv
import json
import os
from pathlib import Path

import pytest
import yaml

from support.cli import run_cli
from polyalign.config import load_config
from polyalign.scaling.sweep import SweepConfig, run_sweep

SAMPLES = Path(__file__).resolve().parents[2] / "src/polyalign/assets/samples/qalign-question-pairs"


pytestmark = pytest.mark.usefixtures("offline_one_thread")


@pytest.fixture
def sweep_recipe(tmp_path, tiny_model):
    qtrans = tmp_path / "qtrans-data/qtrans/de-en"
    qtrans.mkdir(parents=True)
    for side in ("de", "en"):  # held-out questions: the last two sample pairs
        lines = (SAMPLES / f"de-en/train.{side}").read_text(encoding="utf-8").splitlines()
        (qtrans / f"test.{side}").write_text("\n".join(lines[-2:]) + "\n", encoding="utf-8")
    train = {"name": "tiny-stage1", "model": tiny_model, "out": str(tmp_path / "unused"), "seed": 1,
             "stages": [{"name": "qa", "type": "sft", "data": "unused.jsonl", "finetune": "lora",
                         "lora": {"r": 4, "alpha": 8, "target_modules": ["q_proj", "v_proj"]},
                         "epochs": 1, "batch_size": 2, "micro_batch_size": 2, "learning_rate": 1e-3,
                         "max_length": 512}]}
    (tmp_path / "train.yaml").write_text(yaml.safe_dump(train), encoding="utf-8")
    sweep = {"name": "tiny", "out": str(tmp_path / "sweep"), "langs": ["de"], "sizes": [4, 2],
             "data": "qalign-stage1", "data_overrides": [f"data_root={SAMPLES}"],
             "train": str(tmp_path / "train.yaml"),
             "eval": {"task": "qtrans", "metric": "chrf++", "lang": "{lang}-en", "data_dir": str(tmp_path / "qtrans-data"),
                      "max_new_tokens": 4, "batch_size": 2}}
    path = tmp_path / "sweep.yaml"
    path.write_text(yaml.safe_dump(sweep), encoding="utf-8")
    return path


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


@pytest.mark.e2e
def test_sweep_writes_one_row_per_run_and_resumes(sweep_recipe):
    csv_path = run_sweep(load_config(SweepConfig, sweep_recipe), progress=False)
    rows = _rows(csv_path)
    assert [(r["lang"], r["n_examples"], r["metric"]) for r in rows] == [
        ("de", "0", "chrf++"), ("de", "2", "chrf++"), ("de", "4", "chrf++")]
    assert all(0.0 <= float(r["value"]) <= 100.0 for r in rows)
    small, large = (Path(r["run_dir"]) / "data/train.jsonl" for r in rows[1:])
    small_ids = [json.loads(line)["id"] for line in small.read_text(encoding="utf-8").splitlines()]
    large_ids = {json.loads(line)["id"] for line in large.read_text(encoding="utf-8").splitlines()}
    assert len(small_ids) == 2 and len(large_ids) == 4 and set(small_ids) <= large_ids  # nested subsets
    model_dir = Path(rows[2]["run_dir"]) / "train"
    stamp = {p: p.stat().st_mtime_ns for p in model_dir.rglob("*") if p.is_file()}
    # a rerun finds every row and trains nothing; the CLI prints where the rows are and the next step
    result = run_cli("scaling", "sweep", str(sweep_recipe), "--no-progress", env={**os.environ, "OMP_NUM_THREADS": "1"})
    assert result.returncode == 0, result.stderr
    assert "scaling fit" in result.stdout and len(_rows(csv_path)) == 3
    assert {p: p.stat().st_mtime_ns for p in model_dir.rglob("*") if p.is_file()} == stamp


@pytest.mark.e2e
@pytest.mark.parametrize("override,message", [
    ("sizes=[0,2]", "sizes: expected distinct whole numbers > 0"),
    ("langs=[xx]", "unknown language"),
    ("train_stage=3", "train_stage 3: the train recipe has 1 stage"),
    ("data=nope", "no shipped data recipe"),
])
def test_bad_sweep_recipes_fail_before_training(sweep_recipe, override, message):
    result = run_cli("scaling", "sweep", str(sweep_recipe), override)
    assert result.returncode == 2 and message in result.stderr, result.stderr


@pytest.mark.e2e
def test_a_sweep_folder_refuses_rows_from_other_recipes(sweep_recipe):
    assert run_cli("scaling", "sweep", str(sweep_recipe), "sizes=[2]", "baseline=false").returncode == 0
    result = run_cli("scaling", "sweep", str(sweep_recipe), "sizes=[2]", "baseline=false", "eval.limit=1")
    assert result.returncode == 2 and "holds a sweep run with other recipes or eval settings" in result.stderr
