"""Batching plans, run-directory rules, checkpoint discovery and optional loggers."""

from __future__ import annotations

import sys

import numpy as np
import pytest

from polyalign.config import load_config
from polyalign.errors import InputError
from polyalign.train.batching import deal, epoch_steps, pack_rows, plan_step
from polyalign.train.checkpoint import latest_checkpoint
from polyalign.train.config import TrainRecipe
from polyalign.train.metrics import check_reporters
from polyalign.train.rundir import prepare_run_dir


def test_epochs_are_seeded_permutations_cut_into_steps():
    steps = epoch_steps(10, 4, seed=1, epoch=0)
    assert [len(s) for s in steps] == [4, 4, 2]
    assert sorted(np.concatenate(steps).tolist()) == list(range(10))
    again = epoch_steps(10, 4, seed=1, epoch=0)
    assert all((a == b).all() for a, b in zip(steps, again))  # the resume guarantee: same order
    assert not all((a == b).all() for a, b in zip(steps, epoch_steps(10, 4, seed=1, epoch=1)))


def test_deal_groups_by_length_and_keeps_processes_in_lockstep():
    lengths = np.array([5, 50, 7, 48, 6, 49, 8, 47])
    plan = deal(np.arange(8), lengths, micro_batch_size=2, processes=2, accumulation=2)
    assert [len(p) for p in plan] == [2, 2]
    assert sorted(np.concatenate([b for p in plan for b in p]).tolist()) == list(range(8))
    assert set(plan[0][0].tolist()) == {1, 5}  # the two longest share the first micro-batch
    partial = deal(np.array([0, 1, 2]), lengths, micro_batch_size=2, processes=2, accumulation=2)
    assert [len(b) for b in partial[0]] == [2, 0] and [len(b) for b in partial[1]] == [1, 0]


def test_rows_are_balanced_within_capacity():
    lengths = [247, 193, 155, 128, 108, 107, 90, 68]
    rows = pack_rows(lengths, capacity=512)
    loads = [sum(lengths[i] for i in row) for row in rows]
    assert len(rows) == 3 and max(loads) <= 512 and max(loads) - min(loads) < 30
    assert sorted(i for row in rows for i in row) == list(range(8))
    assert pack_rows([5, 5], capacity=100) == [[0, 1]] and pack_rows([9, 9], capacity=10) == [[0], [1]]


def test_step_plan_counts_padding_only_when_padded():
    lengths, targets = np.array([10, 2, 3, 9]), np.array([4, 1, 1, 5])
    common = dict(micro_batch_size=2, processes=1, accumulation=2, process_index=0, capacity=512)
    packed = plan_step(np.arange(4), lengths, targets, packing=True, **common)
    padded = plan_step(np.arange(4), lengths, targets, packing=False, **common)
    assert packed.tokens == padded.tokens == 24 and packed.target_tokens == 11
    assert packed.padded_tokens == 24 and padded.padded_tokens == 2 * 10 + 2 * 3
    narrow = plan_step(np.arange(4), lengths, targets, packing=True, **{**common, "capacity": 10})
    assert narrow.padded_tokens == 2 * 10 + 5  # rows of ≤ 10 tokens: [10], [9 + 1 pad] and [3 + 2]


def test_run_directory_is_never_replaced_silently(tmp_path):
    out = tmp_path / "run"
    config = {"name": "x", "stages": [{"learning_rate": 1e-5}], "report_to": []}
    assert prepare_run_dir(out, config, resume=False, overwrite=False) == "fresh"
    out.mkdir()
    (out / "config.yaml").write_text("name: x\nstages: [{learning_rate: 1.0e-05}]\nreport_to: []\n")
    with pytest.raises(InputError, match="unfinished run; pass --resume"):
        prepare_run_dir(out, config, resume=False, overwrite=False)
    assert prepare_run_dir(out, config, resume=True, overwrite=False) == "resume"
    changed = {**config, "stages": [{"learning_rate": 2e-5}], "report_to": ["wandb"]}
    with pytest.raises(InputError, match=r"stages\.0\.learning_rate differ"):
        prepare_run_dir(out, changed, resume=True, overwrite=False)
    (out / "run.json").write_text("{}")
    with pytest.raises(InputError, match="finished run; pass --overwrite"):
        prepare_run_dir(out, config, resume=False, overwrite=False)
    assert prepare_run_dir(out, config, resume=False, overwrite=True) == "fresh" and not out.exists()
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "notes.txt").write_text("mine")
    with pytest.raises(InputError, match="holds no polyalign run"):
        prepare_run_dir(tmp_path / "other", config, resume=False, overwrite=False)


def test_latest_checkpoint_ignores_torn_writes(tmp_path):
    for name in ("step-000004", "step-000012", ".step-000016.tmp"):
        (tmp_path / name).mkdir()
    (tmp_path / "step-000004" / "state.json").write_text("{}")
    (tmp_path / "step-000012" / "state.json").write_text("{}")
    (tmp_path / ".step-000016.tmp" / "state.json").write_text("{}")
    (tmp_path / "step-000020").mkdir()  # renamed without its state: impossible, but never trusted
    assert latest_checkpoint(tmp_path).name == "step-000012"
    assert latest_checkpoint(tmp_path / "none") is None


def test_missing_logger_is_a_clear_input_error(monkeypatch):
    monkeypatch.setitem(sys.modules, "tensorboard", None)  # import fails as if not installed
    with pytest.raises(InputError, match=r"report_to: tensorboard is not installed.*polyalign\[log\]"):
        check_reporters(["tensorboard"])


@pytest.mark.parametrize("override, message", [
    ("stages.0.micro_batch_size=3", "batch_size 4 must be a multiple of micro_batch_size 3"),
    ("stages.0.continue_adapter=true", "continue_adapter needs finetune: lora"),
    ("stages.0.eval_steps=2", "eval_steps needs eval_data"),
])
def test_recipe_validation_names_the_stage(tmp_path, override, message):
    path = tmp_path / "r.yaml"
    path.write_text("name: r\nmodel: m\nout: o\nstages:\n  - {name: a, type: sft, data: d, batch_size: 4, "
                    "micro_batch_size: 2}\n")
    with pytest.raises(InputError, match=message):
        load_config(TrainRecipe, path, [override])


@pytest.mark.parametrize("kind, record, message", [
    ("sft", '{"id": "a", "text": "t"}',
     r"missing or non-string field\(s\) prompt, completion .*use a stage of type cpt"),
    ("cpt", '{"id": "a", "prompt": "p", "completion": "c"}', r"field\(s\) text .*use a stage of type sft"),
    ("sft", '{"id": "a", "prompt": "p", "completion": 3}', r"f\.jsonl:2: missing or non-string field\(s\) completion"),
])
def test_records_of_the_wrong_kind_name_file_line_and_fix(tmp_path, kind, record, message):
    from polyalign.train.data import read_records

    path = tmp_path / "f.jsonl"
    good = '{"id": "0", "prompt": "p", "completion": "c"}' if kind == "sft" else '{"id": "0", "text": "t"}'
    path.write_text(f"{good}\n{record}\n", encoding="utf-8")
    with pytest.raises(InputError, match=message):
        list(read_records(path, kind))


def test_trainable_tokens_from_trains_every_appended_row(tiny_model):
    from polyalign.models.loading import load_model
    from polyalign.train.config import LoraSettings
    from polyalign.train.lora import add_lora

    model = load_model(tiny_model)
    vocab = model.get_input_embeddings().num_embeddings
    peft_model = add_lora(model, LoraSettings(target_modules=["q_proj"], trainable_tokens_from=vocab - 5))
    deltas = [p for name, p in peft_model.named_parameters() if "token_adapter" in name and p.requires_grad]
    assert deltas and all(p.shape[0] == 5 for p in deltas)
    with pytest.raises(InputError, match="no new rows to train"):
        add_lora(load_model(tiny_model), LoraSettings(target_modules=["q_proj"], trainable_tokens_from=vocab))
