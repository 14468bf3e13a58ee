"""Grouped prefill into one preallocated cache, and bucketed decode attention, decode what ``generate`` decodes."""

from __future__ import annotations

import functools
import random
from types import SimpleNamespace

import pytest
import torch
from support.proxy_models import PROMPTS, sharpened_tiny
from transformers.integrations.sdpa_attention import sdpa_attention_forward

from polyalign.infer import lockstep
from polyalign.infer.attention import bucketed_sdpa, buckets
from polyalign.infer.batching import padded_runs
from polyalign.infer.decode import greedy_decode
from polyalign.infer.generate import generate
from polyalign.infer.kvcache import InPlaceKV
from polyalign.models import load_model, load_tokenizer


pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.fixture(scope="module")
def sharp(tmp_path_factory) -> str:
    return sharpened_tiny(tmp_path_factory.mktemp("inplace") / "m", seed=5)


def _uneven_prompts() -> list[str]:
    """Prompts from a few tokens to ~15x longer, so prefill runs and attention buckets differ."""
    return [PROMPTS[i % len(PROMPTS)] * (1 + (i * 7) % 15) for i in range(13)]


def test_padded_runs_cover_every_row_once_and_bound_padding() -> None:
    rng = random.Random(0)
    for _ in range(200):
        lengths = sorted((rng.randint(1, 300) for _ in range(rng.randint(1, 40))), reverse=True)
        runs = padded_runs(lengths, min_rows=4, max_padding=1.3)
        assert [i for a, b in runs for i in range(a, b)] == list(range(len(lengths)))
        for a, b in runs:
            run = lengths[a:b]
            assert len(run) <= 4 or max(run) * len(run) <= 1.3 * sum(run)


def test_buckets_start_at_each_runs_earliest_real_column() -> None:
    starts = [0, 0, 2, 3, 50, 51, 52, 55, 56, 90, 91, 95]
    runs = buckets(starts, 100)
    assert [i for a, b, _ in runs for i in range(a, b)] == list(range(len(starts)))
    assert all(s == min(starts[a:b]) for a, b, s in runs)
    assert len(runs) > 1 and runs[-1][2] > 0  # the short rows do not read the long rows' columns


def test_bucketed_attention_equals_sdpa() -> None:
    torch.manual_seed(0)
    rows, heads, kv_heads, width, dim = 12, 6, 2, 40, 16
    module = SimpleNamespace(num_key_value_groups=heads // kv_heads, is_causal=True)
    query = torch.randn(rows, heads, 1, dim)
    key, value = torch.randn(rows, kv_heads, width, dim), torch.randn(rows, kv_heads, width, dim)
    starts = sorted(random.Random(1).randint(0, width - 1) for _ in range(rows))
    mask = (torch.arange(width)[None, :] >= torch.tensor(starts)[:, None])[:, None, None, :]
    expected, _ = sdpa_attention_forward(module, query, key, value, mask, scaling=dim ** -0.5)
    got, _ = bucketed_sdpa(module, query, key, value, mask, scaling=dim ** -0.5)
    torch.testing.assert_close(got, expected, atol=1e-6, rtol=1e-5)


def _spy_forwards(model, monkeypatch) -> list[tuple[int, int]]:
    shapes: list[tuple[int, int]] = []
    forward = model.forward

    @functools.wraps(forward)
    def spy(*args, **kwargs):
        shapes.append(tuple(kwargs["input_ids"].shape))
        return forward(*args, **kwargs)

    monkeypatch.setattr(model, "forward", spy)
    return shapes


def test_grouped_prefill_and_wide_decode_equal_generate(sharp: str, monkeypatch) -> None:
    model, tok = load_model(sharp, dtype="float32"), load_tokenizer(sharp, padding_side="left")
    assert InPlaceKV.supports(model)
    prompts = _uneven_prompts()
    expected = [generate(model, tok, [p], max_new_tokens=16, batch_size=1)[0] for p in prompts]
    shapes = _spy_forwards(model, monkeypatch)
    got = greedy_decode(model, tok, prompts, max_new_tokens=16, batch_size="auto")
    assert got == expected
    assert len(set(got)) > 1
    prefills = [rows for rows, width in shapes if width > 1]
    steps = [rows for rows, width in shapes if width == 1]
    assert len(prefills) > 1 and sum(prefills) == len(prompts)  # prefilled in runs of similar length
    assert steps[0] == len(prompts)  # then decoded as one batch


def test_the_stock_cache_path_decodes_the_same(sharp: str, monkeypatch) -> None:
    model, tok = load_model(sharp, dtype="float32"), load_tokenizer(sharp, padding_side="left")
    prompts = _uneven_prompts()
    in_place = greedy_decode(model, tok, prompts, max_new_tokens=12, batch_size=6)
    monkeypatch.setattr(lockstep.InPlaceKV, "supports", staticmethod(lambda model: False))
    assert greedy_decode(model, tok, prompts, max_new_tokens=12, batch_size=6) == in_place


def test_a_decode_window_selects_rows_and_crops_in_its_store(tiny_model: str) -> None:
    model = load_model(tiny_model, dtype="float32")
    kv = InPlaceKV(model, rows=3, capacity=8)
    decode = kv.window(0, 3, 0)
    layer = decode.layers[0]
    keys = torch.arange(3 * 2 * 5 * 4, dtype=torch.float32).reshape(3, 2, 5, 4)
    layer.update(keys, -keys)
    decode.batch_select_indices(torch.tensor([2, 0]))
    torch.testing.assert_close(layer.keys, keys[[2, 0]])
    torch.testing.assert_close(kv.window(0, 2, 0, length=5).layers[0].values, -keys[[2, 0]])
    layer.crop(-2)
    assert layer.get_seq_length() == 3 and layer.keys.shape[2] == 3
    with pytest.raises(RuntimeError, match="whole batch"):
        kv.window(0, 1, 0).batch_select_indices(torch.tensor([0]))
