"""DeepSpeed ZeRO: the configs we hand DeepSpeed pass its own validation, the shipped accelerate configs'
memory claims agree with its estimator, and ZeRO-2 on CPU follows the one-process loss curve.

DeepSpeed is the `gpu` extra; every test here skips cleanly without it (CI installs only `.[dev]`).
"""

from __future__ import annotations

import json
import subprocess
import sys
from importlib import resources
from pathlib import Path

import pytest
import yaml
from safetensors.torch import load_file

deepspeed = pytest.importorskip("deepspeed")

CONFIGS = Path(str(resources.files("polyalign.recipes"))) / "accelerate"
GB = 2**30
# Public architecture facts of the paper models (LLaMA-2 model card / config.json): total parameters and
# the largest single layer (the embedding matrix, vocabulary 32000 × hidden size).
LLAMA2 = {"7b": (6_738_415_616, 32000 * 4096), "13b": (13_015_864_320, 32000 * 5120)}


def _shipped_zero_configs() -> dict[str, dict]:
    configs = {}
    for path in sorted(CONFIGS.glob("deepspeed-*.yaml")):
        configs[path.stem] = yaml.safe_load(path.read_text(encoding="utf-8"))
    return configs


def _plugin_config(zero: dict, *, micro: int, accumulation: int) -> dict:
    """The DeepSpeed config accelerate builds from an accelerate YAML, with the batch fields our stages fill in."""
    from accelerate.utils import DeepSpeedPlugin

    plugin = DeepSpeedPlugin(zero_stage=zero["zero_stage"], gradient_clipping=zero["gradient_clipping"],
                             offload_optimizer_device=zero["offload_optimizer_device"],
                             offload_param_device=zero["offload_param_device"],
                             zero3_init_flag=zero["zero3_init_flag"],
                             zero3_save_16bit_model=zero.get("zero3_save_16bit_model", False))
    config = json.loads(json.dumps(plugin.deepspeed_config, default=str))
    config.update({"train_micro_batch_size_per_gpu": micro, "gradient_accumulation_steps": accumulation,
                   "train_batch_size": micro * accumulation})  # one process: DeepSpeedConfig's world size
    return config


@pytest.mark.parametrize("name", sorted(_shipped_zero_configs()))
def test_shipped_zero_configs_pass_deepspeeds_own_validation(name):
    from deepspeed.runtime.config import DeepSpeedConfig

    zero = _shipped_zero_configs()[name]["deepspeed_config"]
    checked = DeepSpeedConfig(_plugin_config(zero, micro=4, accumulation=4))
    assert checked.zero_optimization_stage == zero["zero_stage"]
    assert checked.gradient_clipping == zero["gradient_clipping"]
    assert checked.zero_config.offload_optimizer is None or \
        checked.zero_config.offload_optimizer.device == zero["offload_optimizer_device"]
    # The batch arithmetic we fill in is what DeepSpeed checks: a wrong one fails its validation.
    broken = _plugin_config(zero, micro=4, accumulation=4)
    broken["train_batch_size"] += 1
    with pytest.raises(AssertionError, match="train_batch_size"):
        DeepSpeedConfig(broken)


@pytest.mark.parametrize("stage", [2, 3])
def test_the_strategy_flags_plugin_validates_too(stage):
    from deepspeed.runtime.config import DeepSpeedConfig

    from polyalign.train.parallel import deepspeed_plugin

    config = json.loads(json.dumps(deepspeed_plugin(stage, 1.0).deepspeed_config, default=str))
    config.update({"train_micro_batch_size_per_gpu": 2, "gradient_accumulation_steps": 2, "train_batch_size": 4})
    checked = DeepSpeedConfig(config)
    assert checked.zero_optimization_stage == stage
    # ZeRO-3 must gather full weights when the finished stage writes model/.
    assert checked.zero_config.gather_16bit_weights_on_model_save == (stage == 3)


def test_deepspeeds_estimator_agrees_with_the_configs_memory_claims():
    """recipes/accelerate/README.md pairs configs with model sizes on 8 GPUs; DeepSpeed's estimator
    (model states: weights, gradients, Adam state; activations excluded) must agree."""
    from deepspeed.runtime.zero.stage3 import estimate_zero3_model_states_mem_needs
    from deepspeed.runtime.zero.stage_1_and_2 import estimate_zero2_model_states_mem_needs

    params_7b, _ = LLAMA2["7b"]
    params_13b, largest_13b = LLAMA2["13b"]
    # ZeRO-2 replicates the 16-bit weights: 7B full fine-tuning keeps ~27 GB of model states per GPU
    # (fits 40-80 GB GPUs), 13B needs ~49 GB (only 80 GB GPUs) — hence ZeRO-3 for 13B.
    _, zero2_7b = estimate_zero2_model_states_mem_needs(params_7b, num_gpus_per_node=8, cpu_offload=False)
    _, zero2_13b = estimate_zero2_model_states_mem_needs(params_13b, num_gpus_per_node=8, cpu_offload=False)
    assert 20 * GB < zero2_7b < 40 * GB and 40 * GB < zero2_13b < 80 * GB, (zero2_7b / GB, zero2_13b / GB)
    # ZeRO-3 shards everything: 13B fits 40 GB GPUs; with optimizer and weights offloaded, a few GB.
    _, zero3_13b, _ = estimate_zero3_model_states_mem_needs(params_13b, largest_13b, num_gpus_per_node=8,
                                                         cpu_offload=False, cpu_offload_params=False)
    _, offload_13b, _ = estimate_zero3_model_states_mem_needs(params_13b, largest_13b, num_gpus_per_node=8,
                                                           cpu_offload=True, cpu_offload_params=True)
    assert zero3_13b < 40 * GB and offload_13b < 4 * GB < zero3_13b, (zero3_13b / GB, offload_13b / GB)


@pytest.mark.parametrize("strategy, finetune", [("zero2", "full"), ("zero3", "lora")])
def test_zero_on_cpu_follows_the_one_process_loss_curve(tmp_path, toy_data, write_recipe, stage, read_metrics,
                                                        strategy, finetune):
    """DeepSpeed's CPU accelerator over gloo, 2 processes, the same effective batch as 1 process. ZeRO-3 with
    LoRA also merges the adapter on the main process alone (a model load outside DeepSpeed's partitioning)."""
    from polyalign.config import load_config
    from polyalign.train.config import TrainRecipe
    from polyalign.train.recipe import run_recipe

    lora = {"r": 4, "alpha": 8, "dropout": 0.0, "target_modules": ["q_proj", "v_proj"]}
    recipe = write_recipe([stage(toy_data(n=21), batch_size=8, micro_batch_size=2, finetune=finetune, lora=lora)])
    one = run_recipe(load_config(TrainRecipe, recipe, [f"out={tmp_path / 'one'}"]), progress=False)
    two = tmp_path / strategy
    done = subprocess.run([sys.executable, "-m", "polyalign.cli.main", "train", recipe, f"out={two}", "--nproc", "2",
                           "--strategy", strategy, "--no-progress"], capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    curve_one = [m["loss"] for m in read_metrics(one, "sft")]
    curve_two = [m["loss"] for m in read_metrics(two, "sft")]
    # Tolerance: 1e-4 absolute per step (DeepSpeed's reduce-scatter changes float32 summation order only).
    assert len(curve_one) == 3 and curve_two == pytest.approx(curve_one, abs=1e-4)
    a, b = (load_file(run / "sft" / "model" / "model.safetensors") for run in (one, two))
    assert max((a[k] - b[k]).abs().max().item() for k in a) <= 1e-4
