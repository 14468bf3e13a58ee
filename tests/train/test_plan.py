"""`polyalign plan`: architecture numbers, the memory estimator (against PEFT, autograd and DeepSpeed's
own estimator), steps and time, the fit check `train` runs, and the command."""

from __future__ import annotations

import json
import math

import pytest
from support.cli import run_cli

from polyalign.errors import InputError
from polyalign.scaleout import architecture_for, check_fits, gpu_spec, plan_recipe
from polyalign.scaleout.architecture import Architecture
from polyalign.scaleout.memory import GIB, activation_bytes, estimate_memory, trainable_params
from polyalign.train.config import LoraSettings, StageConfig, TrainRecipe

ALL_LINEAR = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]


def _recipe(model: str, *, finetune: str = "full", data: str = "missing.jsonl", **stage: object) -> TrainRecipe:
    return TrainRecipe(name="t", model=model, out="unused", precision="bf16",
                       stages=[StageConfig(name="s", type="sft", data=data, finetune=finetune, **stage)])


@pytest.mark.parametrize(("model", "params"), [
    # Parameter counts Hugging Face reports for these checkpoints (model.num_parameters()).
    ("meta-llama/Llama-2-7b-hf", 6_738_415_616),
    ("meta-llama/Llama-2-13b-hf", 13_015_864_320),
    ("meta-llama/Llama-2-70b-hf", 68_976_648_192),
    ("huggyllama/llama-7b", 6_738_415_616),
    ("HuggingFaceTB/SmolLM2-135M-Instruct", 134_515_008),
])
def test_public_table_matches_published_parameter_counts(model: str, params: int) -> None:
    assert architecture_for(model).params == params


def test_local_config_gives_the_loaded_models_parameter_count(tiny_model: str) -> None:
    from transformers import AutoModelForCausalLM

    model = AutoModelForCausalLM.from_pretrained(tiny_model)
    assert architecture_for(tiny_model).params == sum(p.numel() for p in model.parameters())


def test_unknown_model_is_an_input_error(tmp_path) -> None:
    with pytest.raises(InputError, match="config.json"):
        architecture_for(str(tmp_path / "nowhere"))


@pytest.mark.parametrize("settings", [
    LoraSettings(r=4, target_modules=["q_proj", "v_proj"]),
    LoraSettings(r=8, target_modules=ALL_LINEAR),
    LoraSettings(r=4, target_modules=["q_proj"], trainable_tokens_from=200),
])
def test_lora_trainable_parameters_equal_peft_s(tiny_model: str, settings: LoraSettings) -> None:
    from transformers import AutoModelForCausalLM

    from polyalign.train.lora import add_lora

    model = add_lora(AutoModelForCausalLM.from_pretrained(tiny_model), settings)
    counted = sum(p.numel() for p in model.parameters() if p.requires_grad)
    assert trainable_params(architecture_for(tiny_model), "lora", settings) == counted


def _saved_bytes(layers: int, tokens: int) -> int:
    """Bytes autograd keeps for backward in one fp32 forward (parameters excluded), as the estimator assumes."""
    import numpy as np
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    from polyalign.train.collate import collate_packed
    from polyalign.train.loop import summed_loss

    torch.manual_seed(0)
    config = LlamaConfig(hidden_size=64, intermediate_size=160, num_hidden_layers=layers, num_attention_heads=4,
                         num_key_value_heads=2, vocab_size=300, max_position_embeddings=256)
    model = LlamaForCausalLM(config).train()
    batch = collate_packed([(np.arange(3, 3 + tokens) % 290 + 3, 0)], capacity=tokens)
    storages: dict[int, int] = {}

    def pack(tensor: torch.Tensor) -> torch.Tensor:
        storages[tensor.untyped_storage().data_ptr()] = tensor.untyped_storage().nbytes()
        return tensor

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        summed_loss(model, batch)
    params = {p.untyped_storage().data_ptr() for p in model.parameters()}
    return sum(size for ptr, size in storages.items() if ptr not in params)


def test_activation_bytes_per_layer_match_what_autograd_saves() -> None:
    tokens = 128
    measured = (_saved_bytes(3, tokens) - _saved_bytes(1, tokens)) / 2
    arch = Architecture("probe", 64, 1, 4, 2, 160, 300, tied=False)
    without_loss = activation_bytes(arch, tokens, compute="fp32", checkpointing=False) - tokens * 12 * 300
    assert measured == pytest.approx(without_loss, rel=0.05)


def test_checkpointing_and_sharding_lower_memory() -> None:
    arch = architecture_for("meta-llama/Llama-2-7b-hf")
    common = dict(finetune="full", lora=None, micro_batch_tokens=2048, weight_bytes=4, compute="autocast")
    ddp = estimate_memory(arch, strategy="ddp", processes=8, **common)
    fsdp = estimate_memory(arch, strategy="fsdp", processes=8, **common)
    ckpt = estimate_memory(arch, strategy="fsdp", processes=8, checkpointing=True, **common)
    # DDP replicates 16 bytes per parameter (fp32 weights, gradients, two AdamW moments); FSDP shards them.
    assert ddp.weights + ddp.gradients + ddp.optimizer == 16 * arch.params
    assert fsdp.weights + fsdp.gradients + fsdp.optimizer == pytest.approx(16 * arch.params / 8, abs=8)
    assert ckpt.activations < fsdp.activations / 5 < fsdp.activations
    assert ddp.total > 80 * GIB > fsdp.total


@pytest.fixture(scope="module")
def deepspeed_estimators():
    try:
        from deepspeed.runtime.zero.stage3 import estimate_zero3_model_states_mem_needs
        from deepspeed.runtime.zero.stage_1_and_2 import estimate_zero2_model_states_mem_needs
    except Exception as err:  # noqa: BLE001 - DeepSpeed raises all sorts on machines it cannot use
        pytest.skip(f"deepspeed not importable here ({type(err).__name__}): pip install 'polyalign[gpu]'")
    return estimate_zero2_model_states_mem_needs, estimate_zero3_model_states_mem_needs


@pytest.mark.parametrize("model", ["meta-llama/Llama-2-7b-hf", "meta-llama/Llama-2-13b-hf", "smollm2-135m-instruct"])
@pytest.mark.parametrize("gpus", [1, 8, 16])
@pytest.mark.parametrize("offload", [False, True])
def test_model_states_equal_deepspeeds_estimator(deepspeed_estimators, model: str, gpus: int, offload: bool) -> None:
    zero2, zero3 = deepspeed_estimators
    arch = architecture_for(model)
    common = dict(finetune="full", lora=None, processes=gpus, micro_batch_tokens=1, weight_bytes=2,
                  compute="bf16", offload=offload)
    for strategy, expected in (
            ("zero2", zero2(arch.params, num_gpus_per_node=gpus, cpu_offload=offload)[1]),
            ("zero3", zero3(arch.params, arch.largest_layer_params, num_gpus_per_node=gpus, cpu_offload=offload,
                            cpu_offload_params=offload)[1])):
        mine = estimate_memory(arch, strategy=strategy, **common)
        states = mine.weights + mine.gradients + mine.optimizer + mine.buffers
        assert states == pytest.approx(expected, abs=32), strategy


def test_steps_come_from_the_data_file_and_time_from_the_gpu(tmp_path) -> None:
    data = tmp_path / "train.jsonl"
    data.write_text("".join(json.dumps({"prompt": "p", "completion": "c"}) + "\n" for _ in range(300)) + "\n")
    recipe = _recipe("meta-llama/Llama-2-7b-hf", data=str(data), epochs=3, batch_size=128, micro_batch_size=4)
    plan = plan_recipe(recipe, gpus=8, strategy="fsdp", gpu=gpu_spec("a100_80"), mfu=0.5)
    stage = plan.stages[0]
    assert (stage.examples, stage.steps, stage.accumulation) == (300, 9, 4)
    assert stage.tokens_per_step == 128 * 512
    arch = plan.arch
    flops = 6 * arch.matmul_params + 12 * arch.layers * arch.hidden * 512
    assert stage.flops_per_token == flops
    assert stage.hours == pytest.approx(9 * 128 * 512 * flops / (8 * 312e12 * 0.5) / 3600)
    assert plan.fits is True and plan.gpu_memory_gb == 80
    assert plan_recipe(recipe, gpus=8, examples=1000).stages[0].steps == 3 * math.ceil(1000 / 128)
    capped = _recipe("meta-llama/Llama-2-7b-hf", max_steps=7)
    assert plan_recipe(capped, examples={"s": 10**6}).stages[0].steps == 7
    assert plan_recipe(capped).stages[0].examples is None


def test_lora_plans_far_less_than_full_fine_tuning() -> None:
    full = plan_recipe(_recipe("meta-llama/Llama-2-7b-hf"), gpu_memory_gb=24)
    lora_recipe = _recipe("meta-llama/Llama-2-7b-hf", finetune="lora", micro_batch_size=1, batch_size=16)
    lora_recipe.model_dtype = "bfloat16"  # LoRA keeps the frozen base in bf16 on GPUs
    lora = plan_recipe(lora_recipe, gpu_memory_gb=24)
    assert lora.stages[0].memory.optimizer < full.stages[0].memory.optimizer / 100
    assert full.fits is False and lora.fits is True


def test_check_fits_refuses_a_run_that_does_not_fit() -> None:
    recipe = _recipe("meta-llama/Llama-2-7b-hf")
    with pytest.raises(InputError, match="--force"):
        check_fits(recipe, processes=8, strategy="ddp", gpu_memory_gb=80)
    assert check_fits(recipe, processes=8, strategy="fsdp", gpu_memory_gb=80).fits is True
    # A CPU run without a stated memory is never refused (this machine has no CUDA).
    import torch

    if not torch.cuda.is_available():
        assert check_fits(recipe, processes=1, strategy=None, gpu_memory_gb=None) is None


def test_plan_command_prints_text_and_json() -> None:
    done = run_cli("plan", "x-llama-7b", "--gpus", "8", "--gpu", "A100-80", "--strategy", "fsdp",
                   "--examples", "20000")
    assert done.returncode == 0, done.stderr
    assert "fits" in done.stdout and "h at MFU 0.35" in done.stdout and "zero3" in done.stdout
    done = run_cli("plan", "qalign-llama2-13b", "--gpus", "8", "--gpu-memory", "40", "--strategy", "zero3",
                   "--offload", "--examples", "question-alignment=1000,response-alignment=2000", "--json")
    assert done.returncode == 0, done.stderr
    plan = json.loads(done.stdout)
    assert [s["examples"] for s in plan["stages"]] == [1000, 2000]
    assert plan["fits"] is True and plan["stages"][0]["memory"]["cpu_offload"] > 0
    assert plan["params"] == 13_015_864_320


@pytest.mark.parametrize("args", [["x-llama-7b", "--gpu", "B300"], ["x-llama-7b", "--examples", "many"],
                                  ["x-llama-7b", "model=/nowhere/model"], ["x-llama-7b", "--offload"],
                                  ["x-llama-7b", "--mfu", "2"]])
def test_plan_bad_input_exits_2(args: list[str]) -> None:
    done = run_cli("plan", *args)
    assert done.returncode == 2 and done.stderr.count("\n") == 1, done.stderr


def test_train_refuses_a_run_the_plan_says_will_not_fit(tmp_path) -> None:
    data = tmp_path / "train.jsonl"
    data.write_text(json.dumps({"prompt": "p", "completion": "c"}) + "\n")
    args = ["train", "x-llama-7b", f"stages.0.data={data}", f"out={tmp_path / 'run'}", "--gpu-memory", "24"]
    done = run_cli(*args)
    assert done.returncode == 2 and "--force" in done.stderr and "GiB per device" in done.stderr
    assert not (tmp_path / "run").exists()


def test_check_fits_lets_a_model_it_cannot_plan_start() -> None:
    assert check_fits(_recipe("some-org/unknown-model"), processes=8, strategy="ddp", gpu_memory_gb=80) is None
