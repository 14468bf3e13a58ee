"""One training stage, top to bottom: setup → loop (steps, evaluation, checkpoints) → save.

`setup_stage` builds everything the loop works on (data, model, optimizer, schedule, resume point)
into a `StageRun`; `run_stage` holds the loop itself, where every decision — log this step,
evaluate now, write a checkpoint now — is visible; `save_stage` writes the outputs and the stage
marker. The same code runs in one process and in several (DDP, FSDP, DeepSpeed): processes differ
only in which micro-batches they compute (`batching.deal`) and in who writes files.
"""

from __future__ import annotations

import gc
import json
import logging
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tqdm import tqdm

from polyalign.config import to_dict
from polyalign.errors import InputError
from polyalign.models.loading import load_model
from polyalign.train.batching import steps_per_epoch
from polyalign.train.checkpoint import latest_checkpoint, load_checkpoint, save_checkpoint
from polyalign.train.config import StageConfig, TrainRecipe
from polyalign.train.data import TokenizedData, tokenize_file
from polyalign.train.lora import add_lora, load_adapter
from polyalign.train.loop import Batching, LoopState, evaluate, train_step
from polyalign.train.metrics import MetricsLog
from polyalign.train.optim import build_optimizer, build_scheduler
from polyalign.train.outputs import save_adapter, save_full_model, save_merged
from polyalign.train.parallel import prepare
from polyalign.train.rundir import STAGE_MARKER

__all__ = ["ModelSource", "StageRun", "setup_stage", "run_stage", "save_stage"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ModelSource:
    """What a stage starts from: a model, or a base model plus an adapter to keep training."""

    model: str
    """Model to load (zoo name, folder, GGUF, hub id); with an adapter: its base."""
    adapter: str | None = None
    """Adapter folder to continue training (``continue_adapter``)."""


@dataclass
class StageRun:
    """A stage ready to train: its settings, the loop's state, the resume point and the metrics log."""

    stage: StageConfig
    """The stage's settings."""
    source: ModelSource
    """What the stage started from (recorded in stage.json)."""
    stage_dir: Path
    """The stage's folder in the run directory."""
    loop: LoopState
    """Model, optimizer, schedule, data and batching."""
    eval_data: TokenizedData | None
    """Held-out examples, when the stage has them."""
    start_step: int
    """Optimizer steps already done (> 0 when resuming from a checkpoint)."""
    metrics: MetricsLog
    """The stage's metrics.jsonl (and loggers)."""

    @property
    def checkpoints(self) -> Path:
        """The stage's checkpoints folder."""
        return self.stage_dir / "checkpoints"


def setup_stage(recipe: TrainRecipe, index: int, source: ModelSource, tokenizer: Any, accelerator: Any,
                stage_dir: Path, *, resume: bool, strategy: str | None = None) -> StageRun:
    """Tokenise the data, load and prepare the model and optimizer, and restore the newest checkpoint."""
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

    # Optimizer and schedule (as Hugging Face Trainer sets them up), then the launch's wrapping.
    plugin = accelerator.state.deepspeed_plugin
    offload = plugin is not None and plugin.deepspeed_config.get("zero_optimization", {}).get(
        "offload_optimizer", {}).get("device", "none") in ("cpu", "nvme")
    accelerator.gradient_accumulation_steps = accumulation
    accelerator.step = 0
    if plugin is not None:
        # No dataloader is prepared to tell DeepSpeed the batch layout. DeepSpeed divides the loss by its
        # own accumulation count (accelerate does not, under DeepSpeed), so it must be the real one.
        plugin.deepspeed_config.update({"train_micro_batch_size_per_gpu": stage.micro_batch_size,
                                        "gradient_accumulation_steps": accumulation,
                                        "train_batch_size": stage.batch_size})
    model, optimizer, raw_optimizer = prepare(accelerator, model, lambda m: build_optimizer(
        m.named_parameters(), lr=stage.learning_rate, weight_decay=stage.weight_decay, cpu_offload=offload),
        strategy=strategy)
    scheduler = build_scheduler(raw_optimizer, name=stage.lr_scheduler, total_steps=total_steps,
                                warmup_ratio=stage.warmup_ratio)

    # Resume from the newest complete checkpoint (the data order is rebuilt from the seed).
    start_step = 0
    latest = latest_checkpoint(stage_dir / "checkpoints") if resume else None
    if latest is not None:
        start_step = load_checkpoint(accelerator, model, optimizer, scheduler, latest)["step"]
        log.info("stage %s: resuming after step %d from %s", stage.name, start_step, latest)
    metrics = MetricsLog(stage_dir / "metrics.jsonl", report_to=recipe.report_to, run_dir=recipe.out,
                         run_name=f"{recipe.name}/{stage.name}", config=to_dict(recipe),
                         enabled=accelerator.is_main_process, truncate_after=start_step)
    batching = Batching(batch_size=stage.batch_size, micro_batch_size=stage.micro_batch_size, seed=seed,
                        packing=recipe.packing, capacity=stage.max_length, pad_id=tokenizer.pad_token_id)
    loop = LoopState(stage=stage.name, model=model, optimizer=optimizer, scheduler=scheduler, data=data,
                     batching=batching, total_steps=total_steps, max_grad_norm=stage.max_grad_norm)
    return StageRun(stage=stage, source=source, stage_dir=stage_dir, loop=loop, eval_data=eval_data,
                    start_step=start_step, metrics=metrics)


def run_stage(recipe: TrainRecipe, index: int, source: ModelSource, tokenizer: Any, accelerator: Any,
              stage_dir: Path, *, resume: bool, progress: bool | None, strategy: str | None = None) -> dict[str, Any]:
    """Train one stage and write its outputs; returns the stage record (also saved as stage.json)."""
    run = setup_stage(recipe, index, source, tokenizer, accelerator, stage_dir, resume=resume, strategy=strategy)
    stage, loop, total = run.stage, run.loop, run.loop.total_steps
    bar = tqdm(total=total, initial=run.start_step, desc=stage.name, unit="step", dynamic_ncols=True,
               disable=(None if progress is None else not progress) if accelerator.is_main_process else True)
    record: dict[str, Any] = {}
    loop.model.train()
    for step in range(run.start_step, total):
        record = train_step(accelerator, loop, step)
        done = step + 1
        if done % recipe.logging_steps == 0 or done == total:
            run.metrics.log(record)
        bar.set_postfix(loss=f"{record['loss']:.4f}", tok_s=f"{record['tokens_per_s'] or 0:.0f}", refresh=False)
        bar.update(1)
        # The last step is evaluated and saved by save_stage (final evaluation, final model).
        if stage.eval_steps and run.eval_data is not None and done % stage.eval_steps == 0 and done < total:
            run.metrics.log({"stage": stage.name, "step": done, **_evaluate(accelerator, run, recipe.packing)})
        if done % recipe.save_steps == 0 and done < total:
            save_checkpoint(accelerator, loop.model, loop.optimizer, loop.scheduler, run.checkpoints, done,
                            {"stage": stage.name, "step": done, "loss": record["loss"]}, keep=recipe.save_total_limit)
    bar.close()
    return save_stage(recipe, run, tokenizer, accelerator, train_loss=record.get("loss"))


def save_stage(recipe: TrainRecipe, run: StageRun, tokenizer: Any, accelerator: Any, *,
               train_loss: float | None) -> dict[str, Any]:
    """Final evaluation, the model/adapter, then the stage marker (collective); returns the stage record."""
    stage, loop = run.stage, run.loop
    final_eval = {}
    if run.eval_data is not None:
        final_eval = _evaluate(accelerator, run, recipe.packing)
        run.metrics.log({"stage": stage.name, "step": loop.total_steps, **final_eval})
    run.metrics.close()

    record = {"name": stage.name, "type": stage.type, "finetune": stage.finetune, "base": run.source.model,
              "model": None, "adapter": None, "steps": loop.total_steps, "examples": len(loop.data),
              "dropped": loop.data.dropped, "truncated": loop.data.truncated, "train_loss": train_loss,
              "eval_loss": final_eval.get("eval_loss")}
    if stage.finetune == "lora":
        save_adapter(accelerator, loop.model, tokenizer, run.stage_dir / "adapter")
        record["adapter"] = "adapter"
    else:
        save_full_model(accelerator, loop.model, tokenizer, run.stage_dir / "model")
        record["model"] = "model"
    accelerator.free_memory(loop.model, loop.optimizer)
    loop.model = loop.optimizer = None
    gc.collect()
    if accelerator.is_main_process:
        if stage.finetune == "lora" and stage.save_merged:
            save_merged(run.source.model, run.stage_dir / "adapter", tokenizer, run.stage_dir / "model",
                        dtype=recipe.model_dtype, trust_remote_code=recipe.trust_remote_code)
            record["model"] = "model"
        (run.stage_dir / STAGE_MARKER).write_text(json.dumps(record, indent=1), encoding="utf-8")
        if not recipe.keep_checkpoints:
            shutil.rmtree(run.checkpoints, ignore_errors=True)
    accelerator.wait_for_everyone()
    return json.loads((run.stage_dir / STAGE_MARKER).read_text(encoding="utf-8"))


def _evaluate(accelerator: Any, run: StageRun, packing: bool) -> dict[str, float]:
    b = run.loop.batching
    return evaluate(accelerator, run.loop.model, run.eval_data, micro_batch_size=b.micro_batch_size,
                    packing=packing, pad_id=b.pad_id, capacity=b.capacity)
