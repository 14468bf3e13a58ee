"""Log-likelihoods with shared contexts (polyalign.infer.loglik) equal one sequence per pair."""

from __future__ import annotations

import pytest
import torch
from support.proxy_models import sharpened_tiny

from polyalign.infer.loglik import loglikelihoods, loglikelihoods_per_pair
from polyalign.models import load_model, load_tokenizer

PAIRS = [
    ("Question: how many legs has a cat?\nAnswer:", " four"),
    ("Question: how many legs has a cat?\nAnswer:", " three legs and a tail"),
    ("Question: how many legs has a cat?\nAnswer:", " 4"),
    ("Der schnelle braune Fuchs ", "springt über den Hund"),
    ("", "Hello there"),
    ("小明有 5 个苹果", "，他又买了 3 个"),
    ("Der schnelle braune Fuchs ", "schläft"),
    ("Hi", " there"),
]


@pytest.fixture(scope="module")
def pair(tmp_path_factory):
    path = sharpened_tiny(tmp_path_factory.mktemp("loglik") / "m", seed=5)
    torch.set_num_threads(1)
    return load_model(path, dtype="float32"), load_tokenizer(path)


@pytest.mark.parametrize("batch_size", [1, 2, 8, "auto"])
def test_shared_contexts_equal_per_pair(pair, batch_size) -> None:
    model, tok = pair
    expected = loglikelihoods_per_pair(model, tok, PAIRS, batch_size=3)
    got = loglikelihoods(model, tok, PAIRS, batch_size=batch_size)
    assert [g[0] for g in got] == pytest.approx([e[0] for e in expected], abs=1e-4)
    assert [g[1] for g in got] == [e[1] for e in expected]
    assert len({round(g[0], 3) for g in got}) > 4  # distinct scores: a mixed-up row would show


def test_single_token_continuations_only(pair) -> None:
    model, tok = pair
    pairs = [(ctx, cont) for ctx, cont in PAIRS if len(tok(ctx + cont)["input_ids"]) - len(tok(ctx)["input_ids"]) == 1]
    pairs = pairs or [("Hi", " t")]
    expected = loglikelihoods_per_pair(model, tok, pairs)
    assert [g[0] for g in loglikelihoods(model, tok, pairs)] == pytest.approx([e[0] for e in expected], abs=1e-4)
