"""The `polyalign train` recipe: a model, an output folder and a list of stages, as typed dataclasses.

A recipe reads top to bottom like the papers describe their training: a base model, then stages
(further pretraining ``cpt``, instruction tuning ``sft``), each starting from the previous stage's
output. QAlign is two ``sft`` stages (question alignment → response alignment, Zhu et al. 2024 §2.1).
Optimisation settings live on each stage (the papers tune them per stage); run-wide infrastructure
(seed, precision, checkpoints, logging) lives on the recipe.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Literal

from polyalign.errors import InputError

__all__ = ["LoraSettings", "StageConfig", "TrainRecipe", "StageType", "Finetune", "Precision", "Reporter"]

StageType = Literal["cpt", "sft"]
Finetune = Literal["full", "lora"]
Precision = Literal["auto", "fp32", "bf16", "fp16"]
Reporter = Literal["tensorboard", "wandb"]
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")


@dataclass
class LoraSettings:
    """Low-rank adapters (PEFT LoRA) for ``finetune: lora`` stages."""

    r: int = 16
    """Rank of the update matrices."""
    alpha: int = 32
    """Scaling numerator: the update is scaled by alpha / r."""
    dropout: float = 0.05
    """Dropout on the adapter's input."""
    target_modules: list[str] = field(default_factory=lambda: ["q_proj", "k_proj", "v_proj", "o_proj"])
    """Module names (last name component) to adapt, or ["all-linear"]."""
    trainable_token_ids: list[int] | None = None
    """Embedding rows trained alongside the adapter (new tokens after vocabulary extension)."""
    trainable_tokens_from: int | None = None
    """Also train every embedding row from this id on (the rows `polyalign vocab extend` appended)."""
    modules_to_save: list[str] | None = None
    """Whole modules trained and saved with the adapter (e.g. [embed_tokens, lm_head])."""

    def validate(self) -> None:
        if self.r < 1 or self.alpha < 1:
            raise InputError("lora.r and lora.alpha must be ≥ 1")
        if not 0 <= self.dropout < 1:
            raise InputError("lora.dropout must be in [0, 1)")
        if not self.target_modules:
            raise InputError("lora.target_modules must name at least one module")
        if any(i < 0 for i in self.trainable_token_ids or []) or (self.trainable_tokens_from or 0) < 0:
            raise InputError("lora.trainable_token_ids and lora.trainable_tokens_from must be ≥ 0")


@dataclass
class StageConfig:
    """One training stage: data, objective and optimisation."""

    name: str
    """Stage name; also its folder in the run directory (letters, digits, . _ -)."""
    type: StageType
    """cpt: causal LM on `text` (further pretraining); sft: loss on `completion` given `prompt`."""
    data: str
    """Training JSONL (written by `polyalign data build`)."""
    eval_data: str | None = None
    """Held-out JSONL of the same kind; its loss is logged every eval_steps and at the end."""
    epochs: int = 3
    """Passes over the data (papers: 3; x-LLaMA 13B: 5)."""
    max_steps: int | None = None
    """Stop after this many optimizer steps (quick runs); the schedule is laid out over them."""
    batch_size: int = 128
    """Effective batch in examples per optimizer step, over all processes (papers: 128)."""
    micro_batch_size: int = 4
    """Examples per forward pass on each process; batch_size / (micro_batch_size × processes) = accumulation."""
    learning_rate: float = 2e-5
    """Peak learning rate (papers: 2e-5; 13B x-LLaMA: 1e-5)."""
    lr_scheduler: Literal["cosine", "linear", "constant", "constant_with_warmup"] = "cosine"
    """Learning-rate schedule after warmup (papers: cosine)."""
    warmup_ratio: float = 0.03
    """Share of the steps spent warming up linearly (papers: 0.03)."""
    weight_decay: float = 0.0
    """AdamW weight decay on matrices, not on biases and norms (papers: 0)."""
    max_grad_norm: float = 1.0
    """Gradient clipping norm (Hugging Face Trainer's default, which the papers used); 0 disables."""
    max_length: int = 512
    """Tokens per example; longer ones are cut at the end (papers: 512). cpt text is split into pieces."""
    finetune: Finetune = "full"
    """full: every weight (papers); lora: low-rank adapters (CPU-sized runs)."""
    lora: LoraSettings = field(default_factory=LoraSettings)
    """Adapter settings when finetune is lora (with continue_adapter the adapter keeps its own)."""
    continue_adapter: bool = False
    """Keep training the previous stage's adapter on its base model instead of starting from its merged model."""
    save_merged: bool = True
    """LoRA: also write the adapter merged into the base model (model/), loadable without PEFT."""
    eval_steps: int | None = None
    """Evaluate on eval_data every N optimizer steps (and always at the end)."""

    def validate(self) -> None:
        if not _NAME.match(self.name):
            raise InputError(f"stage name {self.name!r}: use letters, digits, '.', '_' and '-' (it names a folder)")
        for label, value in (("epochs", self.epochs), ("batch_size", self.batch_size),
                             ("micro_batch_size", self.micro_batch_size), ("max_length", self.max_length)):
            if value < 1:
                raise InputError(f"stage {self.name!r}: {label} must be ≥ 1")
        if self.max_length < 2:
            raise InputError(f"stage {self.name!r}: max_length must be ≥ 2")
        if self.micro_batch_size > self.batch_size:
            raise InputError(f"stage {self.name!r}: micro_batch_size {self.micro_batch_size} exceeds "
                             f"batch_size {self.batch_size}")
        if self.batch_size % self.micro_batch_size:
            raise InputError(f"stage {self.name!r}: batch_size {self.batch_size} must be a multiple of "
                             f"micro_batch_size {self.micro_batch_size}")
        if self.max_steps is not None and self.max_steps < 1:
            raise InputError(f"stage {self.name!r}: max_steps must be ≥ 1")
        if self.learning_rate <= 0 or not 0 <= self.warmup_ratio < 1 or self.weight_decay < 0 or self.max_grad_norm < 0:
            raise InputError(f"stage {self.name!r}: need learning_rate > 0, 0 ≤ warmup_ratio < 1, "
                             "weight_decay ≥ 0, max_grad_norm ≥ 0")
        if self.eval_steps is not None and (self.eval_steps < 1 or self.eval_data is None):
            raise InputError(f"stage {self.name!r}: eval_steps needs eval_data and must be ≥ 1")
        if self.continue_adapter and self.finetune != "lora":
            raise InputError(f"stage {self.name!r}: continue_adapter needs finetune: lora")


@dataclass
class TrainRecipe:
    """A training run: base model → stages → Hugging Face checkpoints, metrics and the resolved recipe."""

    name: str
    """Run name (logged; W&B run name)."""
    model: str
    """Base model: zoo name, local folder, .gguf file or hub id."""
    out: str
    """Run directory: config.yaml, one folder per stage (model/, adapter/, checkpoints/, metrics.jsonl), run.json."""
    stages: list[StageConfig]
    """Stages in order; each starts from the previous one's output."""
    tokenizer: str | None = None
    """Tokenizer when it is not the model's own."""
    model_dtype: Literal["float32", "bfloat16", "float16", "auto"] = "float32"
    """Dtype the weights are loaded in (float32 master weights for full fine-tuning; bfloat16 for LoRA on GPUs)."""
    precision: Precision = "auto"
    """Compute precision: auto = bf16 autocast where the GPU or CPU computes bf16 natively, else fp32 (papers: bf16)."""
    packing: bool = True
    """Packed batches: examples back to back in rows of ≤ max_length tokens, positions restarting per example."""
    attn_implementation: str | None = None
    """Attention kernel (sdpa, eager, flash_attention_2); None keeps the model's default."""
    gradient_checkpointing: bool = False
    """Recompute activations in the backward pass (less memory, ~30% slower)."""
    seed: int = 1234
    """Seed of weight init (LoRA), dropout and data order (QAlign's seed); stage k uses seed + k."""
    save_steps: int = 500
    """Write a resumable checkpoint every N optimizer steps."""
    save_total_limit: int = 2
    """Checkpoints kept per stage (the newest)."""
    keep_checkpoints: bool = False
    """Keep a finished stage's checkpoints (they hold optimizer state: ~3× the model size)."""
    logging_steps: int = 1
    """Write a metrics line every N optimizer steps."""
    report_to: list[Reporter] = field(default_factory=list)
    """Also log to tensorboard and/or wandb (needs the `log` extra)."""
    trust_remote_code: bool = False
    """Allow model code from the checkpoint's repository (runs arbitrary Python)."""

    def validate(self) -> None:
        if not self.stages:
            raise InputError("stages: a recipe needs at least one stage")
        names = [s.name for s in self.stages]
        repeated = sorted({n for n in names if names.count(n) > 1})
        if repeated:
            raise InputError(f"stage names must be unique; repeated: {', '.join(repeated)}")
        if self.save_steps < 1 or self.save_total_limit < 1 or self.logging_steps < 1:
            raise InputError("save_steps, save_total_limit and logging_steps must be ≥ 1")
        if self.stages[0].continue_adapter:
            raise InputError(f"stage {names[0]!r}: continue_adapter needs a previous LoRA stage")
        for before, after in zip(self.stages, self.stages[1:]):
            if after.continue_adapter and before.finetune != "lora":
                raise InputError(f"stage {after.name!r}: continue_adapter needs stage {before.name!r} to be LoRA")
            if before.finetune == "lora" and not before.save_merged and not after.continue_adapter:
                raise InputError(f"stage {before.name!r}: save_merged: false leaves stage {after.name!r} "
                                 "nothing to start from (set continue_adapter on it, or keep save_merged)")
