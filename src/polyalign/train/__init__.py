"""Training: further pretraining (cpt) and instruction tuning (sft), full or LoRA, in multi-stage recipes.

Thin over transformers, PEFT, accelerate and torch.distributed: `recipe.run_recipe` runs a
`config.TrainRecipe` (stages chained through files), `stage` one stage top to bottom (setup → loop →
save), `loop` the token-weighted optimisation step, `batching` and `collate` the padding-free packed
micro-batches, `checkpoint` the atomic resumable checkpoints, `parallel` the strategies (DDP, FSDP2,
ZeRO) and `launch` the ``--nproc`` launcher.

Importing this package is light (the configs); ``run_recipe`` imports torch and transformers on
first access, so ``polyalign --help`` stays fast.
"""

from typing import Any

from polyalign.train.config import LoraSettings, StageConfig, TrainRecipe

__all__ = ["TrainRecipe", "StageConfig", "LoraSettings", "run_recipe"]


def __getattr__(name: str) -> Any:
    if name == "run_recipe":
        from polyalign.train.recipe import run_recipe

        return run_recipe
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
