"""The lean greedy loop (polyalign.infer.decode) equals transformers' greedy ``generate`` on tiny models."""

from __future__ import annotations

import pytest
from support.proxy_models import PROMPTS, sharpened_tiny

from polyalign.infer.batching import auto_batches
from polyalign.infer.decode import greedy_decode, greedy_token_ids
from polyalign.infer.generate import eos_ids, generate
from polyalign.models import load_model, load_tokenizer


pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.fixture(scope="module")
def sharp(tmp_path_factory) -> str:
    return sharpened_tiny(tmp_path_factory.mktemp("decode") / "m", seed=3)


def _pair(path: str):
    return load_model(path, dtype="float32"), load_tokenizer(path, padding_side="left")


@pytest.mark.parametrize("batch_size", [1, 3, 8])
def test_greedy_equals_generate(sharp: str, batch_size: int) -> None:
    model, tok = _pair(sharp)
    prompts = PROMPTS * 2
    expected = generate(model, tok, prompts, max_new_tokens=24, batch_size=batch_size)
    got = greedy_decode(model, tok, prompts, max_new_tokens=24, batch_size=batch_size)
    assert got == expected
    assert len(set(got)) > 1  # context-dependent outputs, so a wrong position or cache would show


def test_greedy_equals_generate_with_stops_and_eos(sharp: str) -> None:
    model, tok = _pair(sharp)
    reference = generate(model, tok, PROMPTS, max_new_tokens=24, batch_size=8)
    # a stop string taken from an actual output, so at least one row stops early
    piece = next(text[3:5] for text in reference if len(text.strip()) > 6)
    expected = generate(model, tok, PROMPTS, max_new_tokens=24, batch_size=8, stop=[piece])
    got = greedy_decode(model, tok, PROMPTS, max_new_tokens=24, batch_size=8, stop=[piece])
    assert got == expected
    assert any(len(g) < len(r) for g, r in zip(got, reference))


def test_rows_leave_at_eos(sharp: str) -> None:
    model, tok = _pair(sharp)
    encoded = [tok(p)["input_ids"] for p in PROMPTS]
    free = greedy_token_ids(model, tok, encoded, max_new_tokens=12, batch_size=8)
    # make the second token each row emitted its end of sequence: every row must end right there
    model.generation_config.eos_token_id = sorted({row[1] for row in free})
    ids = greedy_token_ids(model, tok, encoded, max_new_tokens=12, batch_size=8)
    eos = set(eos_ids(model, tok))
    for row, full in zip(ids, free):
        cut = next(k for k, t in enumerate(full) if t in eos)
        assert row == full[:cut + 1]


def test_explicit_batches_match_sized_batches(tiny_model: str) -> None:
    model, tok = _pair(tiny_model)
    encoded = [tok(p)["input_ids"] for p in PROMPTS]
    batches = auto_batches([len(e) for e in encoded], max_new_tokens=8, model=model, budget_bytes=10**9)
    assert sorted(i for b in batches for i in b) == list(range(len(PROMPTS)))
    assert greedy_token_ids(model, tok, encoded, max_new_tokens=8, batch_size=batches) == \
        greedy_token_ids(model, tok, encoded, max_new_tokens=8, batch_size=1)
