"""LoRA dropout with a cheap mask: the rate, per lane of the random words, independence, expectation, wiring."""

from __future__ import annotations

import math

import pytest
import torch

from polyalign.train.dropout import LoraDropout, use_lora_dropout


def _dropped(p: float, shape: tuple[int, ...], seed: int = 0) -> torch.Tensor:
    torch.manual_seed(seed)
    dropout = LoraDropout(p).train()
    return dropout(torch.ones(shape)) == 0


@pytest.mark.parametrize("p", [0.05, 0.1, 0.5])
def test_every_lane_of_the_random_words_drops_at_the_rate(p):
    """Elements i, i+4, i+8, ... come from the same 16-bit lane; a lane stuck at 0 (the top bit of
    torch's default int64 draw) would never drop."""
    dropped = _dropped(p, (1_000, 1_024)).flatten().float()
    n = dropped.numel() // 4
    sigma = math.sqrt(p * (1 - p) / n)
    for lane in range(4):
        assert abs(dropped[lane::4].mean().item() - p) < 5 * sigma, lane


def test_neighbouring_elements_drop_independently():
    dropped = _dropped(0.5, (2_000, 1_000)).flatten().float()
    both = (dropped[:-1] * dropped[1:]).mean().item()
    sigma = math.sqrt(0.25 * 0.75 / dropped.numel())
    assert abs(both - 0.25) < 5 * sigma


def test_the_expectation_and_the_gradient_follow_the_mask():
    torch.manual_seed(1)
    x = torch.full((500, 800), 2.0, requires_grad=True)
    out = LoraDropout(0.2).train()(x)
    out.sum().backward()
    kept = out != 0
    assert torch.allclose(out[kept], torch.tensor(2.0 / 0.8), rtol=1e-4)
    assert abs(out.mean().item() - 2.0) < 0.02
    assert torch.equal(x.grad != 0, kept)
    assert torch.allclose(x.grad[kept], torch.tensor(1 / 0.8), rtol=1e-4)


def test_seeded_masks_repeat_and_evaluation_keeps_everything():
    assert torch.equal(_dropped(0.1, (64, 64), seed=3), _dropped(0.1, (64, 64), seed=3))
    assert not torch.equal(_dropped(0.1, (64, 64), seed=3), _dropped(0.1, (64, 64), seed=4))
    x = torch.randn(8, 16)
    assert torch.equal(LoraDropout(0.3).eval()(x), x)
    assert torch.equal(LoraDropout(0.0).train()(x), x)
    assert not LoraDropout(1.0).train()(x).any()


def test_bf16_inputs_stay_bf16():
    x = torch.randn(32, 64, dtype=torch.bfloat16)
    assert LoraDropout(0.1).train()(x).dtype == torch.bfloat16


def test_lora_layers_get_it_and_nothing_else_changes(tiny_model):
    from polyalign.models.loading import load_model
    from polyalign.train.config import LoraSettings
    from polyalign.train.lora import add_lora

    model = add_lora(load_model(tiny_model), LoraSettings(dropout=0.1, target_modules=["q_proj", "v_proj"]))
    swapped = [m for m in model.modules() if isinstance(m, LoraDropout)]
    assert swapped and all(m.p == 0.1 for m in swapped)
    assert not [m for m in model.modules() if type(m) is torch.nn.Dropout]
    assert use_lora_dropout(model) == 0  # already swapped
    assert all("dropout" not in name for name in model.state_dict())
