"""`polyalign train`: a multi-stage recipe, run top to bottom.

check inputs → accelerator → run directory (fresh / resume / refuse) → save the resolved recipe →
tokenizer → for each stage: data → seed → model (+ LoRA) → optimizer and schedule → resume from the
last checkpoint → train (checkpoints, evaluation, metrics) → save model/adapter → next stage starts
from this output → run.json.

The same code runs in one process, in the processes `launch` starts (``--nproc N --strategy S``) and
under ``accelerate launch`` / ``torchrun`` (DDP, FSDP, DeepSpeed): processes differ only in which
micro-batches they compute (`batching.deal`) and in who writes files. One stage is `stage.run_stage`.
"""

from __future__ import annotations

import json
import logging
from datetime import datetime, timezone
from pathlib import Path

from polyalign import __version__
from polyalign.config import save_config, to_dict
from polyalign.errors import InputError
from polyalign.models.loading import load_tokenizer
from polyalign.train.config import TrainRecipe
from polyalign.train.data import read_records
from polyalign.train.metrics import check_reporters
from polyalign.train.parallel import make_accelerator, strategy_from_env
from polyalign.train.rundir import CONFIG, RUN_MARKER, prepare_run_dir, read_stage
from polyalign.train.stage import ModelSource, run_stage

__all__ = ["run_recipe", "check_inputs", "ModelSource", "make_accelerator"]

log = logging.getLogger(__name__)


def check_inputs(recipe: TrainRecipe) -> None:
    """Check the loggers and every stage's data files (fields of each line) before anything trains.

    Raises:
        InputError: a missing logger, a missing file, or a line without the stage's fields.
    """
    check_reporters(recipe.report_to)
    for index, stage in enumerate(recipe.stages):
        for label, path in (("data", stage.data), ("eval_data", stage.eval_data)):
            if path is not None:
                if not Path(path).is_file():
                    raise InputError(f"file not found (stages[{index}].{label})", where=path)
                for _ in read_records(path, stage.type):
                    pass


def run_recipe(recipe: TrainRecipe, *, resume: bool = False, overwrite: bool = False,
               progress: bool | None = None, strategy: str | None = None) -> Path:
    """Run every unfinished stage of ``recipe`` and return the run directory.

    ``strategy`` (`parallel.STRATEGIES`; default ``$POLYALIGN_STRATEGY``) says how several processes
    share the work; this function runs in each of them (`launch` starts them).

    Raises:
        InputError: bad data or recipe, an occupied run directory, a NaN loss (`TrainingDiverged`).
    """
    # 1. Inputs first: a bad stage-II file must fail before stage I trains for days.
    check_inputs(recipe)

    # 2. Processes and the run directory.
    strategy = strategy_from_env(strategy)
    accelerator = make_accelerator(recipe.precision, strategy, max_grad_norm=recipe.stages[0].max_grad_norm)
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
            record = run_stage(recipe, index, source, tokenizer, accelerator, stage_dir,
                               resume=state == "resume", progress=progress, strategy=strategy)
        records.append(record)
        following = recipe.stages[index + 1] if index + 1 < len(recipe.stages) else None
        if following is None:  # the last stage may keep only its adapter (LoRA with save_merged: false)
            break
        if following.continue_adapter:
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
