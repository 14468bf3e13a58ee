"""`polyalign train RECIPE [KEY=VALUE ...]`: multi-stage further pretraining / instruction tuning."""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

from polyalign.config import load_config
from polyalign.errors import InputError
from polyalign.recipes import find_recipe, recipe_table
from polyalign.scaleout.plan import check_fits
from polyalign.train.config import TrainRecipe
from polyalign.train.parallel import STRATEGIES, ZERO

TRAIN_HELP = """\
Train a model through the stages of a recipe: cpt (causal LM on `text`, further pretraining) and
sft (loss on `completion` only, instruction tuning), full fine-tuning or LoRA. Each stage starts
from the previous stage's output. Data files are the JSONL written by 'polyalign data build'.

RECIPE is a YAML file or the name of a shipped recipe (--list). Any field can be overridden after
it as key.sub=value, stages by index: stages.0.max_steps=20 stages.0.lora.r=8 (overrides first,
then the --flags).

Writes OUT/config.yaml (resolved recipe), per stage OUT/<stage>/{model,adapter,checkpoints,
metrics.jsonl,stage.json}, and OUT/run.json when the run is finished. model/ loads with plain
transformers from_pretrained and with 'polyalign eval --model'.

An interrupted run (crash, kill -9, preemption) continues from its last checkpoint with --resume,
with the same data order (--resume on a run that never started simply starts it). A finished or
unfinished run is never replaced without --overwrite.
A NaN/inf loss stops the run with exit code 2 (lower the learning rate or fix the data).

Several processes on this machine: --nproc N --strategy ddp|fsdp|zero2|zero3 starts them itself
(torch's elastic launcher). ddp copies the model to every process; fsdp shards weights, gradients and
optimizer state (torch FSDP2, also on CPUs over gloo); zero2/zero3 use DeepSpeed (the `gpu` extra;
without GPUs its CPU accelerator). The loss
curve does not depend on the layout: batch_size is the effective batch over all processes.
Several nodes: the same command under torchrun or accelerate launch (see recipes/accelerate/README.md):
  torchrun --nnodes 2 --nproc-per-node 8 --rdzv-backend c10d --rdzv-endpoint HOST:29500 \\
      -m polyalign.cli.main train x-llama-7b --strategy fsdp

examples:
  polyalign data build qalign-stage1-sample
  polyalign data build qalign-stage2-gsm8k sources.0.path=builtin:samples/math-cot/train.jsonl \\
      sources.0.subset=null out=runs/data/qalign-stage2-sample
  polyalign train qalign-smollm2-lora                      # QAlign I → II, LoRA, on a CPU
  polyalign train my-recipe.yaml out=runs/train/try1 stages.0.learning_rate=1e-4 --overwrite
  polyalign train my-recipe.yaml --resume
  polyalign train my-recipe.yaml --nproc 2 --strategy fsdp  # 2 processes, sharded (CPU: gloo)
"""


def register(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser("train", help="train a model through a multi-stage recipe (cpt / sft, full / LoRA)",
                                 description=TRAIN_HELP, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("recipe", metavar="RECIPE", nargs="?", help="recipe file or shipped recipe name")
    parser.add_argument("overrides", nargs="*", metavar="KEY=VALUE", help="recipe fields to override")
    parser.add_argument("--out", help="run directory (same as out=DIR)")
    parser.add_argument("--resume", action="store_true", help="continue an interrupted run from its last checkpoint")
    parser.add_argument("--overwrite", action="store_true",
                        help="replace a finished or unfinished run in the run directory")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    parser.add_argument("--nproc", type=int, default=1, metavar="N",
                        help="start N training processes on this machine (default 1: train in this process)")
    parser.add_argument("--strategy", choices=STRATEGIES, default=None,
                        help="how processes share the work: ddp (default), fsdp (sharded), zero2/zero3 (DeepSpeed)")
    parser.add_argument("--list", action="store_true", help="list the shipped training recipes and exit")
    parser.add_argument("--gpu-memory", type=float, metavar="GB", help="GiB per GPU for the fit check (default: the GPU's)")
    parser.add_argument("--force", action="store_true", help="start even if 'polyalign plan' says the run will not fit")
    parser.set_defaults(func=_train)


def _train(args: argparse.Namespace) -> int:
    if args.list:
        print(recipe_table("train"))
        return 0
    if args.recipe is None:
        raise InputError("give a RECIPE (a YAML file or a shipped recipe name; see polyalign train --list)")
    overrides = list(args.overrides) + ([f"out={args.out}"] if args.out else [])
    recipe = load_config(TrainRecipe, find_recipe(args.recipe, "train"), overrides)
    if args.nproc < 1:
        raise InputError(f"--nproc must be ≥ 1, got {args.nproc}")
    if not args.force and not os.environ.get("POLYALIGN_PLAN_CHECKED"):  # checked once; launched processes inherit
        check_fits(recipe, processes=args.nproc, strategy=args.strategy, gpu_memory_gb=args.gpu_memory)
    os.environ["POLYALIGN_PLAN_CHECKED"] = "1"

    from polyalign.train.launch import in_launched_process, launch

    if (args.nproc > 1 or args.strategy in ZERO) and not in_launched_process():
        from polyalign.train.recipe import check_inputs

        check_inputs(recipe)  # once, here, rather than once per process
        return launch(_child_argv(args), args.nproc)

    from transformers.utils import logging as hf_logging

    from polyalign.train.recipe import run_recipe  # heavy: torch, transformers, peft, accelerate

    hf_logging.disable_progress_bar()  # our own bar shows the training; weight-loading bars are noise here
    out = run_recipe(recipe, resume=args.resume, overwrite=args.overwrite,
                     progress=False if args.no_progress else None, strategy=args.strategy)
    summary = Path(out) / "run.json"
    if summary.is_file() and os.environ.get("RANK", "0") == "0":  # one summary under accelerate launch
        run = json.loads(summary.read_text(encoding="utf-8"))
        for stage in run["stages"]:
            loss = f"train loss {stage['train_loss']:.4f}" if stage.get("train_loss") is not None else ""
            held = f", eval loss {stage['eval_loss']:.4f}" if stage.get("eval_loss") is not None else ""
            print(f"  {stage['name']}: {stage['steps']} steps, {loss}{held}")
        print(f"trained {recipe.name} → {run['final_model']}")
    return 0


def _child_argv(args: argparse.Namespace) -> list[str]:
    """The command line each launched process runs: this one without ``--nproc``."""
    argv = ["train", args.recipe, *args.overrides]
    for flag, value in (("--out", args.out), ("--strategy", args.strategy)):
        if value is not None:
            argv += [flag, value]
    for flag, on in (("--resume", args.resume), ("--overwrite", args.overwrite), ("--no-progress", args.no_progress)):
        if on:
            argv.append(flag)
    return argv
