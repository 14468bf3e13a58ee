"""Prompts and tiny models with context-dependent output, for proxy-tuning tests."""

from __future__ import annotations

from pathlib import Path

import torch

from polyalign.models import load_model, load_tokenizer, save_model
from polyalign.models.tiny import build_tiny_llama

PROMPTS = [
    "Janet has 16 eggs. She eats 3 and bakes 4 into muffins. How many eggs are left?",
    "Der schnelle braune Fuchs",
    "小明有 5 个苹果，他又买了 3 个，现在一共有几个？",
    "Hi",
    "Translate the following sentence into German.",
]


def sharpened_tiny(out: Path, seed: int) -> str:
    """A tiny random Llama with its weights scaled up: random tiny models repeat one token forever,
    scaled ones produce context-dependent text, so a broken cache or position would show."""
    path = build_tiny_llama(out, seed=seed)
    model = load_model(str(path))
    with torch.no_grad():
        for name, param in model.named_parameters():
            if "norm" not in name:
                param.mul_(6.0)
    save_model(model, load_tokenizer(str(path)), path)
    return str(path)
