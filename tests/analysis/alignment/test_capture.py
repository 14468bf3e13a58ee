"""Hidden-state capture: pooling over real tokens only, padding invariance, attention-sink exclusion."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from polyalign.analysis.alignment.capture import capture_pooled, masked_mean, massive_positions, pool_mask
from polyalign.analysis.alignment.parallel_text import render_input

SENTENCES = [
    "Janet has 16 eggs.",
    "Der schnelle braune Fuchs springt über den faulen Hund, und danach läuft er noch sehr lange weiter.",
    "猫",
    "¿Cuántos años tienes? Tengo veinticinco años.",
]


def test_masked_mean_divides_by_real_tokens_not_padded_length() -> None:
    hidden = torch.tensor([[[1.0], [3.0], [100.0], [100.0]]])  # two real tokens, two pads
    mask = torch.tensor([[True, True, False, False]])
    assert masked_mean(hidden, mask).item() == pytest.approx(2.0)  # the x-LLaMA bug would give 1.0


def test_masked_mean_ignores_nan_in_padding() -> None:
    hidden = torch.tensor([[[2.0], [float("nan")]]])
    assert masked_mean(hidden, torch.tensor([[True, False]])).item() == pytest.approx(2.0)


def test_pool_mask_skips_first_real_token_on_either_side() -> None:
    left = torch.tensor([[0, 0, 1, 1, 1]])
    right = torch.tensor([[1, 1, 1, 0, 0]])
    assert pool_mask(left, skip_first=True).tolist() == [[False, False, False, True, True]]
    assert pool_mask(right, skip_first=True).tolist() == [[False, True, True, False, False]]
    assert pool_mask(right, skip_first=False).tolist() == [[True, True, True, False, False]]
    # a one-token sequence keeps its only token rather than having no vector
    assert pool_mask(torch.tensor([[0, 0, 1]]), skip_first=True).tolist() == [[False, False, True]]


def test_massive_activation_positions_are_left_out_too() -> None:
    """A second sink (the SmolLM2 "Tim tiene …" case) is found by its norm against the sentence median."""
    hidden = torch.ones(1, 5, 4)
    hidden[0, 0] = float("nan")  # padding may hold anything
    hidden[0, 2] *= 1000.0
    attention = torch.tensor([[0, 1, 1, 1, 1]])
    sinks = massive_positions([torch.ones(1, 5, 4), hidden], attention, 20.0)  # found at any layer
    assert sinks.tolist() == [[False, False, True, False, False]]
    assert pool_mask(attention, skip_first=True, sinks=sinks).tolist() == [[False, False, False, True, True]]
    assert not massive_positions([hidden], attention, 2000.0).any()


@pytest.mark.parametrize("skip_first", [True, False])
def test_padding_amount_does_not_change_pooled_vectors(tiny, skip_first: bool) -> None:
    model, tokenizer = tiny
    alone = np.stack([capture_pooled(model, tokenizer, [s], batch_size=1, skip_first=skip_first)[:, 0]
                      for s in SENTENCES], axis=1)
    for side in ("left", "right"):
        batched = capture_pooled(model, tokenizer, SENTENCES, batch_size=len(SENTENCES), skip_first=skip_first,
                                 padding_side=side)
        np.testing.assert_allclose(batched, alone, atol=2e-5, rtol=1e-4)
    # the short sentence next to a much longer one: lots of padding, same vector
    long = "word " * 200
    padded = capture_pooled(model, tokenizer, [SENTENCES[2], long], batch_size=2, skip_first=skip_first,
                            padding_side="left")
    np.testing.assert_allclose(padded[:, 0], alone[:, 2], atol=2e-5, rtol=1e-4)


def test_capture_matches_a_direct_forward_pass(tiny) -> None:
    """Layer indices follow output_hidden_states; the mean excludes the first token."""
    model, tokenizer = tiny
    ids = tokenizer(SENTENCES[1], return_tensors="pt")["input_ids"]
    with torch.no_grad():
        states = model(ids, output_hidden_states=True).hidden_states
    pooled = capture_pooled(model, tokenizer, [SENTENCES[1]], layers=[0, 2])
    np.testing.assert_allclose(pooled[0, 0], states[0][0, 1:].mean(0).numpy(), atol=1e-5)
    np.testing.assert_allclose(pooled[1, 0], states[2][0, 1:].mean(0).numpy(), atol=1e-5)


def test_question_template_pools_only_the_question_tokens(tiny) -> None:
    model, tokenizer = tiny
    text = "How many eggs are left?"
    prompt, span = render_input(text, "question")
    assert prompt[span[0]:span[1]] == text
    pooled = capture_pooled(model, tokenizer, [prompt], spans=[span], layers=[1], skip_first=False)[0, 0]
    enc = tokenizer(prompt, return_offsets_mapping=True, return_tensors="pt")
    inside = torch.tensor([s < span[1] and e > span[0] for s, e in enc["offset_mapping"][0].tolist()])
    with torch.no_grad():
        states = model(enc["input_ids"], output_hidden_states=True).hidden_states[1][0]
    assert 0 < int(inside.sum()) < len(inside)
    np.testing.assert_allclose(pooled, states[inside].mean(0).numpy(), atol=1e-5)
    whole = capture_pooled(model, tokenizer, [prompt], layers=[1], skip_first=False)[0, 0]
    assert not np.allclose(whole, pooled)


def test_layer_out_of_range_is_input_error(tiny) -> None:
    from polyalign.errors import InputError

    model, tokenizer = tiny
    with pytest.raises(InputError, match="out of range"):
        capture_pooled(model, tokenizer, ["a b c"], layers=[3])
