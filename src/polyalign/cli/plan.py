"""`polyalign plan RECIPE --gpus N --gpu-memory GB`: memory per GPU, steps and time of a training recipe."""

from __future__ import annotations

import argparse
import json
from typing import Any

from polyalign.config import load_config
from polyalign.errors import InputError
from polyalign.recipes import find_recipe
from polyalign.scaleout.hardware import GPU_TABLE, gpu_spec
from polyalign.scaleout.memory import GIB, STRATEGIES
from polyalign.scaleout.plan import DEFAULT_MFU, TrainPlan, plan_recipe
from polyalign.train.config import TrainRecipe

PLAN_HELP = f"""\
Estimate, before launching, what a training recipe needs on each GPU — weights, gradients, optimizer
states, activations at the recipe's micro-batch and max_length, buffers — and how many tokens per
step, steps and hours it takes at a stated model FLOPs utilisation (MFU) on a named GPU.

Works offline for the shipped recipes' public models (their shapes are built in) and reads
config.json for local model folders. Steps need the number of training examples: counted from the
stage's data file when it is on this machine, else --examples. Tokens per example default to the
stage's max_length (an upper bound); give the data's mean with --mean-tokens.

The numbers are estimates: activations assume every position is scored (cpt; sft scores only the
responses, so it needs less) and a full micro-batch of max_length rows. `polyalign train` refuses a
run this plan says will not fit (unless --force). Runbooks: docs/gpu.md.

GPUs known by name: {", ".join(f"{s.name} ({s.memory_gb:g} GiB, {s.bf16_tflops:g} bf16 TFLOP/s)" for s in GPU_TABLE.values())}.

examples:
  polyalign plan x-llama-7b --gpus 8 --gpu A100-80 --strategy fsdp
  polyalign plan qalign-llama2-13b --gpus 8 --gpu-memory 40 --strategy zero3 --offload --examples 50000
  polyalign plan my-recipe.yaml model=/models/my-llama --gpus 2 --gpu RTX-4090 --strategy fsdp --json
"""


def register(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser("plan", help="estimate a training recipe's memory per GPU, steps and time",
                                 description=PLAN_HELP, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("recipe", metavar="RECIPE", help="training recipe file or shipped recipe name")
    parser.add_argument("overrides", nargs="*", metavar="KEY=VALUE", help="recipe fields to override")
    parser.add_argument("--gpus", type=int, default=1, help="GPUs (data-parallel processes) over all nodes (default 1)")
    parser.add_argument("--gpu-memory", type=float, metavar="GB", help="memory per GPU in GiB (default: the --gpu's)")
    parser.add_argument("--strategy", choices=STRATEGIES,
                        help="ddp, fsdp (full shard), zero2 or zero3 (default: ddp; one GPU: no sharding)")
    parser.add_argument("--offload", action="store_true",
                        help="DeepSpeed offload to CPU memory (zero2: optimizer; zero3: optimizer and weights)")
    parser.add_argument("--gpu", metavar="NAME", help="a named GPU, for time estimates (e.g. A100-80, H100-80)")
    parser.add_argument("--mfu", type=float, default=DEFAULT_MFU,
                        help=f"model FLOPs utilisation for time estimates (default {DEFAULT_MFU})")
    parser.add_argument("--examples", metavar="N|STAGE=N,…",
                        help="training examples (one number, or per stage) when the data files are not here")
    parser.add_argument("--mean-tokens", type=int, metavar="N",
                        help="mean tokens per example (default: max_length, an upper bound)")
    parser.add_argument("--cpu", action="store_true", help="plan for this CPU (one process) instead of GPUs")
    parser.add_argument("--json", action="store_true", help="print the plan as JSON")
    parser.set_defaults(func=_plan)


def parse_examples(text: str | None) -> dict[str, int] | int | None:
    """``--examples``: one count for every stage, or ``stage=N`` pairs separated by commas."""
    if text is None:
        return None
    try:
        if "=" not in text:
            return int(text.replace("_", ""))
        pairs = (item.split("=", 1) for item in text.split(",") if item.strip())
        return {name.strip(): int(value.replace("_", "")) for name, value in pairs}
    except ValueError:
        raise InputError("expected a number or STAGE=N pairs separated by commas", where=f"--examples {text}") from None


def _plan(args: argparse.Namespace) -> int:
    recipe = load_config(TrainRecipe, find_recipe(args.recipe, "train"), list(args.overrides))
    if args.mean_tokens is not None and args.mean_tokens < 1:
        raise InputError("--mean-tokens must be ≥ 1")
    if args.gpu_memory is not None and args.gpu_memory <= 0:
        raise InputError("--gpu-memory must be > 0 (GiB)")
    gpu = gpu_spec(args.gpu) if args.gpu else None
    common = dict(gpus=1 if args.cpu else args.gpus, gpu=gpu, gpu_memory_gb=args.gpu_memory, mfu=args.mfu,
                  examples=parse_examples(args.examples), mean_tokens=args.mean_tokens, cuda=not args.cpu)
    plan = plan_recipe(recipe, strategy=None if args.cpu else args.strategy, offload=args.offload, **common)
    others: dict[str, float] = {}
    if not args.cpu and plan.gpus > 1:
        for strategy in STRATEGIES:
            others[strategy] = plan_recipe(recipe, strategy=strategy, arch=plan.arch, **common).peak / GIB
    if args.json:
        print(json.dumps(plan_json(plan, others), indent=2))
    else:
        print(render(plan, others))
    return 0


def plan_json(plan: TrainPlan, others: dict[str, float] | None = None) -> dict[str, Any]:
    """The plan as a JSON-ready dict (bytes as integers, hours as floats)."""
    return {
        "recipe": plan.recipe, "model": plan.model, "architecture": plan.arch.name, "params": plan.arch.params,
        "strategy": plan.strategy, "offload": plan.offload, "gpus": plan.gpus, "cuda": plan.cuda,
        "gpu": plan.gpu.name if plan.gpu else None, "gpu_memory_gb": plan.gpu_memory_gb, "mfu": plan.mfu,
        "peak_bytes": plan.peak, "fits": plan.fits, "hours": plan.hours,
        "stages": [{"name": s.name, "finetune": s.finetune, "examples": s.examples, "steps": s.steps,
                    "tokens_per_step": s.tokens_per_step, "micro_batch_tokens": s.micro_batch_tokens,
                    "accumulation": s.accumulation, "flops_per_token": s.flops_per_token, "hours": s.hours,
                    "memory": s.memory.as_dict()} for s in plan.stages],
        "peak_gib_by_strategy": others or {},
    }


def _gib(value: int) -> str:
    return f"{value / GIB:.1f}"


def render(plan: TrainPlan, others: dict[str, float] | None = None) -> str:
    """The plan as a few lines of text."""
    device = "this CPU" if not plan.cuda else (f"{plan.gpus} × {plan.gpu.name}" if plan.gpu else f"{plan.gpus} GPU(s)")
    limit = f", {plan.gpu_memory_gb:g} GiB each" if plan.gpu_memory_gb is not None and plan.cuda else ""
    offload = " + offload" if plan.offload else ""
    lines = [f"plan: {plan.recipe} — {plan.arch.name} ({plan.arch.params / 1e9:.2f}B params) on {device}{limit}, "
             f"{plan.strategy}{offload}"]
    for s in plan.stages:
        m = s.memory
        lines.append(f"stage {s.name} ({s.finetune}, {m.trainable / 1e6:,.1f}M trainable)")
        lines.append(f"  memory per {'device' if plan.cuda else 'process'}: weights {_gib(m.weights)} + gradients "
                     f"{_gib(m.gradients)} + optimizer {_gib(m.optimizer)} + activations {_gib(m.activations)} + "
                     f"buffers {_gib(m.buffers)} + runtime {_gib(m.runtime)} = {_gib(m.total)} GiB"
                     + (f"  (host, offloaded: {_gib(m.cpu_offload)} GiB)" if m.cpu_offload else ""))
        steps = f"{s.steps:,}" if s.steps is not None else "? (give --examples)"
        time = f" · {s.hours:.1f} h at MFU {plan.mfu:g}" if s.hours is not None else ""
        lines.append(f"  tokens/step ≤ {s.tokens_per_step:,} · micro-batch ≤ {s.micro_batch_tokens:,} tokens × "
                     f"{s.accumulation} accumulation · examples {s.examples if s.examples is not None else '?'} · "
                     f"steps {steps} · {s.flops_per_token:.3g} FLOPs/token{time}")
    verdict = {None: "no memory limit given", True: "fits", False: "does NOT fit"}[plan.fits]
    total = f"; {plan.hours:.1f} h in all" if plan.hours is not None else ""
    lines.append(f"peak {_gib(plan.peak)} GiB per {'device' if plan.cuda else 'process'}: {verdict}{total}")
    if others:
        marks = ", ".join(f"{name} {gib:.1f}" + ("" if plan.gpu_memory_gb is None else
                                                  (" ✓" if gib <= plan.gpu_memory_gb else " ✗"))
                          for name, gib in others.items())
        lines.append(f"peak GiB per GPU by strategy: {marks}")
    return "\n".join(lines)
