"""`polyalign train`: a multi-stage recipe, run top to bottom.

check inputs → accelerator → run directory (fresh / resume / refuse) → save the resolved recipe →
tokenizer → for each stage: data → seed → model (+ LoRA) → optimizer and schedule → resume from the
last checkpoint → train (checkpoints, evaluation, metrics) → save model/adapter → next stage starts
from this output → run.json.

The same code runs in one process and under ``accelerate launch`` (DDP, FSDP, DeepSpeed): processes
differ only in which micro-batches they compute (`batching.deal`) and in who writes files.
"""

from __future__ import annotations

import gc
import json
import logging
import os
import shutil
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from polyalign import __version__
from polyalign.config import save_config, to_dict
from polyalign.errors import InputError
from polyalign.models.loading import load_model, load_tokenizer
from polyalign.train.batching import steps_per_epoch
from polyalign.train.checkpoint import latest_checkpoint, load_checkpoint, save_checkpoint
from polyalign.train.config import StageConfig, TrainRecipe
from polyalign.train.data import read_records, tokenize_file
from polyalign.train.lora import add_lora, load_adapter
from polyalign.train.loop import evaluate, train_steps
from polyalign.train.metrics import MetricsLog, check_reporters
from polyalign.train.optim import build_optimizer, build_scheduler
from polyalign.train.outputs import save_adapter, save_full_model, save_merged
from polyalign.train.rundir import CONFIG, RUN_MARKER, STAGE_MARKER, prepare_run_dir, read_stage

__all__ = ["run_recipe", "ModelSource", "make_accelerator"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ModelSource:
    """What a stage starts from: a model, or a base model plus an adapter to keep training."""

    model: str
    """Model to load (zoo name, folder, GGUF, hub id); with an adapter: its base."""
    adapter: str | None = None
    """Adapter folder to continue training (``continue_adapter``)."""


def make_accelerator(precision: str) -> Any:
    """An `accelerate.Accelerator` for this machine; under ``accelerate launch`` it joins the process group.

    Without CUDA (or with ``ACCELERATE_USE_CPU=true``), several processes talk over gloo on the CPU
    (accelerate needs ``cpu=True`` to pick that rather than assume GPUs).
    """
    import torch
    from accelerate import Accelerator

    from polyalign.models.precision import cpu_bf16_native

    cuda = torch.cuda.is_available() and os.environ.get("ACCELERATE_USE_CPU", "").lower() not in ("1", "true", "yes")
    original = precision
    if precision == "auto":
        precision = "bf16" if cuda and torch.cuda.is_bf16_supported() else "fp32"
    try:
        accelerator = Accelerator(mixed_precision={"fp32": "no"}.get(precision, precision), cpu=not cuda)
        accelerator.cpu_bf16_autocast = original == "auto" and not cuda and cpu_bf16_native()  # models/precision.py
        return accelerator
    except (RuntimeError, ValueError, ImportError) as err:  # e.g. FSDP without GPUs, DeepSpeed not installed
        first = " ".join(str(err).split())[:300]
        raise InputError(f"cannot set up accelerate for this launch ({type(err).__name__}: {first})") from None


def run_recipe(recipe: TrainRecipe, *, resume: bool = False, overwrite: bool = False,
               progress: bool | None = None) -> Path:
    """Run every unfinished stage of ``recipe`` and return the run directory.

    Raises:
        InputError: bad data or recipe, an occupied run directory, a NaN loss (`TrainingDiverged`).
    """
    # 1. Inputs first: a bad stage-II file must fail before stage I trains for days.
    check_reporters(recipe.report_to)
    for index, stage in enumerate(recipe.stages):
        for label, path in (("data", stage.data), ("eval_data", stage.eval_data)):
            if path is not None:
                if not Path(path).is_file():
                    raise InputError(f"file not found (stages[{index}].{label})", where=path)
                for _ in read_records(path, stage.type):
                    pass

    # 2. Processes and the run directory.
    accelerator = make_accelerator(recipe.precision)
    out = Path(recipe.out)
    config = to_dict(recipe)
    state = prepare_run_dir(out, config, resume=resume, overwrite=overwrite, dry_run=not accelerator.is_main_process)
    accelerator.wait_for_everyone()
    if state == "finished":
        log.info("%s: the run already finished; nothing to do", out)
        return out
    if accelerator.is_main_process and state == "fresh":
        save_config(recipe, out, CONFIG)

    # 3. Stages, each from the previous one's output.
    tokenizer = load_tokenizer(recipe.tokenizer or recipe.model)
    source = ModelSource(recipe.model)
    records = []
    for index, stage in enumerate(recipe.stages):
        stage_dir = out / stage.name
        record = read_stage(stage_dir)
        if record is None:
            record = _run_stage(recipe, index, source, tokenizer, accelerator, stage_dir,
                                resume=state == "resume", progress=progress)
        records.append(record)
        following = recipe.stages[index + 1] if index + 1 < len(recipe.stages) else None
        if following is not None and following.continue_adapter:
            source = ModelSource(record["base"], adapter=str(stage_dir / record["adapter"]))
        else:
            source = ModelSource(str(stage_dir / record["model"]))

    # 4. The finished marker, written last.
    if accelerator.is_main_process:
        last = out / recipe.stages[-1].name
        final = last / (records[-1]["model"] or records[-1]["adapter"])
        (out / RUN_MARKER).write_text(json.dumps({
            "name": recipe.name, "final_model": str(final), "stages": records, "polyalign_version": __version__,
            "finished": datetime.now(timezone.utc).isoformat(timespec="seconds")}, indent=1), encoding="utf-8")
    accelerator.wait_for_everyone()
    return out


def _run_stage(recipe: TrainRecipe, index: int, source: ModelSource, tokenizer: Any, accelerator: Any,
               stage_dir: Path, *, resume: bool, progress: bool | None) -> dict[str, Any]:
    """Train one stage and write its outputs; returns the stage record (also saved as stage.json)."""
    from accelerate.utils import set_seed

    stage: StageConfig = recipe.stages[index]
    where = f"stages[{index}]"

    # Data, and how a step is split over processes and micro-batches.
    data = tokenize_file(stage.data, stage.type, tokenizer, stage.max_length)
    eval_data = tokenize_file(stage.eval_data, stage.type, tokenizer, stage.max_length) if stage.eval_data else None
    per_pass = stage.micro_batch_size * accelerator.num_processes
    if stage.batch_size % per_pass:
        raise InputError(f"{where}: batch_size {stage.batch_size} is not a multiple of micro_batch_size "
                         f"{stage.micro_batch_size} × {accelerator.num_processes} processes")
    accumulation = stage.batch_size // per_pass
    total_steps = stage.max_steps or stage.epochs * steps_per_epoch(len(data), stage.batch_size)
    log.info("stage %s (%s, %s): %d examples (%d dropped, %d truncated), %d steps of %d examples = "
             "%d micro-batches of %d on %d process(es)", stage.name, stage.type, stage.finetune, len(data),
             data.dropped, data.truncated, total_steps, stage.batch_size, accumulation, stage.micro_batch_size,
             accelerator.num_processes)

    # Model. Seeding first: LoRA's initialisation draws from the global generator.
    seed = recipe.seed + index
    set_seed(seed)
    model = load_model(source.model, dtype=recipe.model_dtype, trust_remote_code=recipe.trust_remote_code)
    if len(tokenizer) > model.get_input_embeddings().num_embeddings:
        raise InputError(f"the tokenizer has {len(tokenizer)} tokens but the model only "
                         f"{model.get_input_embeddings().num_embeddings} embedding rows: extend the model's "
                         "vocabulary first", where=source.model)
    if recipe.attn_implementation:
        model.set_attn_implementation(recipe.attn_implementation)
    model.config.use_cache = False
    if recipe.gradient_checkpointing:
        model.gradient_checkpointing_enable(gradient_checkpointing_kwargs={"use_reentrant": False})
    if source.adapter is not None:
        model = load_adapter(model, source.adapter)
    elif stage.finetune == "lora":
        model = add_lora(model, stage.lora, where=f"{where}.lora")

    # Optimizer and schedule, as Hugging Face Trainer sets them up (the papers' trainer).
    plugin = accelerator.state.deepspeed_plugin
    offload = plugin is not None and plugin.deepspeed_config.get("zero_optimization", {}).get(
        "offload_optimizer", {}).get("device", "none") in ("cpu", "nvme")
    optimizer = build_optimizer(model.named_parameters(), lr=stage.learning_rate, weight_decay=stage.weight_decay,
                                cpu_offload=offload)
    scheduler = build_scheduler(optimizer, name=stage.lr_scheduler, total_steps=total_steps,
                                warmup_ratio=stage.warmup_ratio)
    accelerator.gradient_accumulation_steps = accumulation
    accelerator.step = 0
    if plugin is not None:  # no dataloader is prepared to tell DeepSpeed this
        plugin.deepspeed_config["train_micro_batch_size_per_gpu"] = stage.micro_batch_size
    model, optimizer = accelerator.prepare(model, optimizer)

    # Resume from the newest complete checkpoint (the data order is rebuilt from the seed).
    checkpoints = stage_dir / "checkpoints"
    start_step = 0
    latest = latest_checkpoint(checkpoints) if resume else None
    if latest is not None:
        start_step = load_checkpoint(accelerator, model, optimizer, scheduler, latest)["step"]
        log.info("stage %s: resuming after step %d from %s", stage.name, start_step, latest)
    metrics = MetricsLog(stage_dir / "metrics.jsonl", report_to=recipe.report_to, run_dir=recipe.out,
                         run_name=f"{recipe.name}/{stage.name}", config=to_dict(recipe),
                         enabled=accelerator.is_main_process, truncate_after=start_step)

    def on_step_end(step: int, record: dict[str, Any]) -> None:
        if stage.eval_steps and eval_data is not None and step % stage.eval_steps == 0 and step < total_steps:
            metrics.log({"stage": stage.name, "step": step, **evaluate(
                accelerator, model, eval_data, micro_batch_size=stage.micro_batch_size, packing=recipe.packing,
                pad_id=tokenizer.pad_token_id, capacity=stage.max_length)})
        if step % recipe.save_steps == 0 and step < total_steps:
            save_checkpoint(accelerator, model, optimizer, scheduler, checkpoints, step,
                            {"stage": stage.name, "step": step, "loss": record["loss"]}, keep=recipe.save_total_limit)

    # Train.
    last = train_steps(accelerator=accelerator, model=model, optimizer=optimizer, scheduler=scheduler, data=data,
                       stage=stage.name, batch_size=stage.batch_size, micro_batch_size=stage.micro_batch_size,
                       seed=seed, total_steps=total_steps, start_step=start_step, packing=recipe.packing,
                       capacity=stage.max_length, pad_id=tokenizer.pad_token_id, max_grad_norm=stage.max_grad_norm,
                       logging_steps=recipe.logging_steps, metrics=metrics, on_step_end=on_step_end, progress=progress)
    final_eval = {}
    if eval_data is not None:
        final_eval = evaluate(accelerator, model, eval_data, micro_batch_size=stage.micro_batch_size,
                              packing=recipe.packing, pad_id=tokenizer.pad_token_id, capacity=stage.max_length)
        metrics.log({"stage": stage.name, "step": total_steps, **final_eval})
    metrics.close()

    # Outputs: the adapter and/or a plain model, then the stage marker.
    record = {"name": stage.name, "type": stage.type, "finetune": stage.finetune, "base": source.model,
              "model": None, "adapter": None, "steps": total_steps, "examples": len(data),
              "dropped": data.dropped, "truncated": data.truncated, "train_loss": last.get("loss"),
              "eval_loss": final_eval.get("eval_loss")}
    if stage.finetune == "lora":
        save_adapter(accelerator, model, tokenizer, stage_dir / "adapter")
        record["adapter"] = "adapter"
    else:
        save_full_model(accelerator, model, tokenizer, stage_dir / "model")
        record["model"] = "model"
    accelerator.free_memory(model, optimizer)
    del model, optimizer
    gc.collect()
    if accelerator.is_main_process:
        if stage.finetune == "lora" and stage.save_merged:
            save_merged(source.model, stage_dir / "adapter", tokenizer, stage_dir / "model", dtype=recipe.model_dtype,
                        trust_remote_code=recipe.trust_remote_code)
            record["model"] = "model"
        (stage_dir / STAGE_MARKER).write_text(json.dumps(record, indent=1), encoding="utf-8")
        if not recipe.keep_checkpoints:
            shutil.rmtree(checkpoints, ignore_errors=True)
    accelerator.wait_for_everyone()
    return json.loads((stage_dir / STAGE_MARKER).read_text(encoding="utf-8"))
