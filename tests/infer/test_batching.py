"""Batch size auto (polyalign.infer.batching): widest batches within a memory budget, longest first."""

from __future__ import annotations

import pytest

from polyalign.infer.batching import AUTO, MAX_PADDING, MIN_BATCH, auto_batches, memory_budget, parse_batch_size, per_row_bytes
from polyalign.infer.generate import FALLBACK_BATCH, length_batches
from polyalign.models import load_model


@pytest.fixture(scope="module")
def model(tiny_model):
    return load_model(tiny_model)


def test_parse_batch_size() -> None:
    assert parse_batch_size("auto") == AUTO and parse_batch_size("AUTO") == AUTO
    assert parse_batch_size("12") == 12
    for bad in ("0", "-3", "many"):
        with pytest.raises(ValueError):
            parse_batch_size(bad)


def test_budget_bounds_the_batch_and_every_index_appears_once(model) -> None:
    lengths = [5, 50, 7, 300, 12, 40, 40, 3, 90, 1]
    row = per_row_bytes(model, 300 + 16, 300)
    batches = auto_batches(lengths, max_new_tokens=16, model=model, budget_bytes=3 * row)
    assert sorted(i for b in batches for i in b) == list(range(len(lengths)))
    assert batches[0][0] == 3  # the longest request first: out-of-memory shows at once
    for batch in batches:
        longest = max(lengths[i] for i in batch)
        assert len(batch) * per_row_bytes(model, longest + 16, longest) <= 3 * row or len(batch) == 1
        assert [lengths[i] for i in batch] == sorted((lengths[i] for i in batch), reverse=True)
    assert len(batches[0]) <= 3


def test_padding_limits_widening_beyond_the_minimum(model) -> None:
    # 8 long prompts then 40 short ones: the long batch keeps the minimum width, the short ones share wide batches
    lengths = [500] * 2 + [100] * 6 + [40] * 40
    batches = auto_batches(lengths, max_new_tokens=16, model=model, budget_bytes=10**12)
    assert [len(b) for b in batches] == [MIN_BATCH, 40]
    uneven = [100 - k for k in range(40)]
    for batch in auto_batches(uneven, max_new_tokens=16, model=model, budget_bytes=10**12):
        real = sum(uneven[i] for i in batch)
        assert len(batch) == MIN_BATCH or max(uneven[i] for i in batch) * len(batch) <= MAX_PADDING * real


def test_more_memory_fewer_batches_up_to_the_cap(model) -> None:
    lengths = list(range(1, 200))
    small = auto_batches(lengths, max_new_tokens=8, model=model, budget_bytes=per_row_bytes(model, 220) * 4)
    large = auto_batches([100] * 120, max_new_tokens=8, model=model, budget_bytes=10**12, max_batch=50)
    assert len(large) < len(small) and max(len(b) for b in large) == 50


def test_per_row_bytes_grows_with_length(model) -> None:
    assert per_row_bytes(model, 200) > per_row_bytes(model, 100) > 0


def test_memory_budget_from_environment(monkeypatch) -> None:
    monkeypatch.setenv("POLYALIGN_BATCH_MEMORY_MB", "64")
    assert memory_budget() == 64 << 20
    monkeypatch.delenv("POLYALIGN_BATCH_MEMORY_MB")
    assert 0 < memory_budget() <= 4 << 30


def test_length_batches_auto_without_a_model_falls_back() -> None:
    batches = length_batches([3] * 20, "auto")
    assert [len(b) for b in batches] == [FALLBACK_BATCH, FALLBACK_BATCH, 20 - 2 * FALLBACK_BATCH]
