"""Per-device training memory: weights, gradients, optimizer states, activations and buffers.

The model-state terms follow the ZeRO paper's accounting (Rajbhandari et al. 2020) and, for ZeRO-2/3,
DeepSpeed's own estimator formulas (``estimate_zero2/3_model_states_mem_needs``), which the tests
check against when DeepSpeed is installed. The activation terms were measured, not guessed: bytes
saved for the backward pass by one Hugging Face Llama decoder layer per token, counted with
``torch.autograd.graph.saved_tensors_hooks`` while varying hidden, MLP and key/value widths
(fp32: 32h + 16i + 8kv; bf16 autocast over fp32 weights: 30h + 8i + 4kv plus a bf16 copy of every
weight; pure bf16 weights: half of fp32). benchmarks/plan_vs_peak.py compares the total with
measured peak memory on CPU; docs/gpu.md lists the error.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Literal

from polyalign.scaleout.architecture import Architecture
from polyalign.train.config import LoraSettings

__all__ = ["MemoryEstimate", "Strategy", "Compute", "STRATEGIES", "estimate_memory", "trainable_params",
           "activation_bytes"]

Strategy = Literal["single", "ddp", "fsdp", "zero2", "zero3"]
Compute = Literal["fp32", "autocast", "bf16"]
STRATEGIES: tuple[str, ...] = ("ddp", "fsdp", "zero2", "zero3")
GIB = 1024 ** 3
CUDA_RUNTIME = 1 * GIB
"""CUDA context, kernels and allocator slack: what nvidia-smi shows before the first tensor (≈0.5-1 GiB)."""
LOSS_BYTES_PER_LOGIT = 12
"""The float32 loss over scored positions: logits, log-softmax and its gradient (3 × 4 bytes per logit)."""
_ALL_LINEAR = ("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj")


@dataclass
class MemoryEstimate:
    """Bytes on one device (and, with offload, in host memory) for one training process."""

    weights: int
    gradients: int
    optimizer: int
    activations: int
    buffers: int
    """Communication buckets, gathered shards, autocast weight copies."""
    runtime: int
    """CUDA context and allocator slack (0 on CPU)."""
    trainable: int
    """Trainable parameters (for display)."""
    params: int
    """All parameters (for display)."""
    cpu_offload: int = 0
    """Host memory per node for offloaded optimizer state / weights (ZeRO offload)."""

    @property
    def total(self) -> int:
        return self.weights + self.gradients + self.optimizer + self.activations + self.buffers + self.runtime

    def as_dict(self) -> dict[str, int]:
        """The fields and the total, for JSON output."""
        return {**asdict(self), "total": self.total}


def trainable_params(arch: Architecture, finetune: str, lora: LoraSettings | None = None) -> int:
    """Parameters the optimizer updates: everything (full) or the adapters and any trained rows (LoRA)."""
    if finetune == "full":
        return arch.params
    lora = lora or LoraSettings()
    shapes = arch.linear_shapes()
    targets = _ALL_LINEAR if "all-linear" in lora.target_modules else [t for t in lora.target_modules if t in shapes]
    adapters = arch.layers * sum(lora.r * (shapes[t][0] + shapes[t][1]) for t in targets)
    rows = len(set(lora.trainable_token_ids or []))
    if lora.trainable_tokens_from is not None:
        rows += max(arch.vocab - lora.trainable_tokens_from, 0)
    saved = sum(arch.embedding_params for m in (lora.modules_to_save or []) if m in ("embed_tokens", "lm_head"))
    return adapters + rows * arch.hidden * (1 if arch.tied else 2) + saved


def activation_bytes(arch: Architecture, tokens: int, *, compute: Compute, checkpointing: bool,
                     lora: LoraSettings | None = None) -> int:
    """Peak activation memory of one micro-batch of ``tokens`` tokens (all positions scored: the worst case)."""
    h, i, kv = arch.hidden, arch.intermediate, arch.kv_dim
    per_layer = {"fp32": 32 * h + 16 * i + 8 * kv, "autocast": 30 * h + 8 * i + 4 * kv,
                 "bf16": 16 * h + 8 * i + 4 * kv}[compute]
    if lora is not None:  # each adapter keeps its (dropped-out) input, the dropout mask and its rank-r output
        element = 4 if compute == "fp32" else 2
        shapes = arch.linear_shapes()
        targets = _ALL_LINEAR if "all-linear" in lora.target_modules else [t for t in lora.target_modules if t in shapes]
        per_in = element + 1 if lora.dropout > 0 else 0
        per_layer += sum(per_in * shapes[t][0] + element * lora.r for t in targets)
    residual = 2 * h if compute == "bf16" else 4 * h
    layers = (arch.layers * residual + per_layer) if checkpointing else arch.layers * per_layer
    return tokens * (layers + LOSS_BYTES_PER_LOGIT * arch.vocab)


def estimate_memory(arch: Architecture, *, finetune: str, lora: LoraSettings | None, strategy: Strategy,
                    processes: int, micro_batch_tokens: int, weight_bytes: int, compute: Compute,
                    checkpointing: bool = False, offload: bool = False, cuda: bool = True) -> MemoryEstimate:
    """Memory one training process needs.

    Args:
        arch: model shape.
        finetune: ``full`` or ``lora``.
        lora: adapter settings (LoRA stages).
        strategy: ``single`` (one process), ``ddp``, ``fsdp`` (full shard), ``zero2``, ``zero3``.
        processes: data-parallel processes (GPUs) the states are sharded over.
        micro_batch_tokens: tokens in one micro-batch (micro_batch_size × max_length at most).
        weight_bytes: bytes per weight as loaded (recipe's model_dtype): 4 or 2.
        compute: ``fp32``, ``autocast`` (bf16 matmuls over fp32 weights) or ``bf16`` (bf16 weights).
        checkpointing: gradient checkpointing (keeps each layer's input only).
        offload: ZeRO offload of optimizer state (ZeRO-2) or of optimizer state and weights (ZeRO-3).
        cuda: add the CUDA runtime's own memory.
    """
    P, T, n = arch.params, trainable_params(arch, finetune, lora), max(processes, 1)
    frozen = 0 if finetune == "full" else P  # LoRA: the whole base stays (modules_to_save are trained copies)
    adapter = lora if finetune == "lora" else None
    acts = activation_bytes(arch, micro_batch_tokens, compute=compute, checkpointing=checkpointing, lora=adapter)
    runtime = CUDA_RUNTIME if cuda else 0
    largest = arch.largest_layer_params
    if strategy in ("zero2", "zero3"):
        # DeepSpeed keeps bf16 weights for compute and fp32 master weights + Adam moments + fp32 gradients
        # in its partitioned optimizer: 2 + 16 bytes per trainable parameter (DeepSpeed's "18"), the
        # bf16 gradient partitioned too; frozen weights (LoRA's base) only as bf16.
        base = 2 * (frozen if finetune == "lora" else 0)
        if strategy == "zero2":
            if offload:
                return MemoryEstimate(2 * T + base, 0, 0, acts, 0, runtime, T, P,
                                      cpu_offload=int(T * max(4 * n, 16) * 1.5))
            return MemoryEstimate(2 * T + base, 6 * T // n, 12 * T // n, acts, 0, runtime, T, P)
        if offload:
            return MemoryEstimate(0, 0, 0, acts, 4 * largest, runtime, T, P, cpu_offload=int(18 * T * 1.5 + base))
        return MemoryEstimate((2 * T + base) // n, 4 * T // n, 12 * T // n, acts, 4 * largest, runtime, T, P)
    # torch optimizers (single, DDP, FSDP): gradients and AdamW's two moments in the trainable weights' dtype;
    # PEFT keeps adapters in float32.
    trained_bytes = 4 if finetune == "lora" else weight_bytes
    weights = P * weight_bytes + (T * trained_bytes if finetune == "lora" else 0)
    gradients, optimizer = T * trained_bytes, 2 * T * trained_bytes
    autocast_copies = 2 * arch.matmul_params if compute == "autocast" else 0  # bf16 casts kept for backward
    if strategy == "fsdp":
        gathered = 2 * largest * 2 + 4 * largest  # current + prefetched unit in bf16, one unit's fp32 gradient
        return MemoryEstimate(weights // n, gradients // n, optimizer // n, acts, gathered, runtime, T, P)
    bucket = T * trained_bytes if strategy == "ddp" and n > 1 else 0  # DDP's gradient buckets are a copy
    return MemoryEstimate(weights, gradients, optimizer, acts, bucket + autocast_copies, runtime, T, P)
