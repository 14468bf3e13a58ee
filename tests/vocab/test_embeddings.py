"""New embedding rows: hand-computed initialisations, and old behaviour untouched (tied and untied)."""

from __future__ import annotations

import pytest
import torch

from polyalign.vocab.embeddings import init_rows, resize_and_init


def _matrix() -> torch.Tensor:
    weight = torch.zeros(6, 2)
    weight[:4] = torch.tensor([[1.0, 2.0], [3.0, 6.0], [-2.0, 0.0], [10.0, 8.0]])
    weight[4:] = 99.0  # whatever resizing left there must be overwritten
    return weight


def test_subtoken_mean_hand_computed():
    weight = _matrix()
    init_rows(weight, [4, 5], 4, method="subtoken-mean", components={4: [0, 1], 5: [2]})
    assert weight[4].tolist() == [2.0, 4.0]  # ([1, 2] + [3, 6]) / 2
    assert weight[5].tolist() == [-2.0, 0.0]  # a single piece: its own row
    assert weight[:4].tolist() == _matrix()[:4].tolist()  # old rows untouched


def test_mean_and_fallback_hand_computed():
    weight = _matrix()
    init_rows(weight, [4, 5], 4, method="mean")
    assert weight[4].tolist() == weight[5].tolist() == [3.0, 4.0]  # mean of the four old rows
    weight = _matrix()
    init_rows(weight, [4, 5], 4, method="subtoken-mean", components={4: [3]})
    assert weight[5].tolist() == [3.0, 4.0]  # no pieces known: mean of all old rows


def test_mean_noise_is_seeded_and_small():
    rows = []
    for _ in range(2):
        weight = _matrix()
        init_rows(weight, [4, 5], 4, method="mean-noise", noise_scale=0.01,
                  generator=torch.Generator().manual_seed(3))
        rows.append(weight[4:].clone())
    assert torch.equal(rows[0], rows[1])
    assert not torch.equal(rows[0][0], rows[0][1])
    assert torch.allclose(rows[0], torch.tensor([3.0, 4.0]).expand(2, 2), atol=0.5)


def test_never_overwrites_old_rows():
    with pytest.raises(ValueError):
        init_rows(_matrix(), [3, 4], 4, method="mean")


@pytest.mark.parametrize("tied", [True, False])
def test_old_vocabulary_logits_unchanged(tied):
    from transformers import LlamaConfig, LlamaForCausalLM

    torch.manual_seed(0)
    config = LlamaConfig(vocab_size=50, hidden_size=16, intermediate_size=32, num_hidden_layers=1,
                         num_attention_heads=2, num_key_value_heads=1, tie_word_embeddings=tied)
    model = LlamaForCausalLM(config).eval()
    ids = torch.tensor([[1, 5, 7, 49, 3]])
    with torch.no_grad():
        before = model(ids).logits
    old_in = model.get_input_embeddings().weight.detach().clone()
    old_out = model.get_output_embeddings().weight.detach().clone()
    info = resize_and_init(model, [50, 51, 52], 50, method="subtoken-mean", components={50: [5, 7], 51: [49]})
    assert info["tied"] is tied and info["rows_after"] == 53 and model.config.vocab_size == 53
    emb = model.get_input_embeddings().weight
    out = model.get_output_embeddings().weight
    assert torch.allclose(emb[50], (emb[5] + emb[7]) / 2)
    assert torch.allclose(out[51], out[49])
    assert (emb.data_ptr() == out.data_ptr()) is tied
    with torch.no_grad():
        after = model(ids).logits
    assert after.shape[-1] == 53
    # The old rows are untouched bit for bit; the logits are equal up to rounding only, because a
    # 53-column head may be multiplied with another kernel blocking than a 50-column one (on an
    # AVX-512 EPYC the last bits differ).
    assert torch.equal(emb[:50], old_in) and torch.equal(out[:50], old_out)
    torch.testing.assert_close(after[..., :50], before, rtol=1e-5, atol=1e-6)
