"""Other CPU decoding engines tried against today's transformers ``generate``: CTranslate2 and torch.compile.

Same workload as benchmarks/ceiling.py's decode part: chat-formatted MGSM questions (8 languages in
turn), greedy, ``--new-tokens`` each, stopping at the tokenizer's / model's EOS only (no stop strings);
tokens = the generated texts re-tokenised without special tokens, so every engine is counted alike.

Settings (``--settings``, comma-separated; ``today`` always runs, it is the ratios' baseline):
* ``today``: polyalign.infer.generate.generate (transformers ``generate``), fp32, batch 8 (the old default).
  Its outputs from the first round are the reference the other settings' ``same_as_fp32`` counts against
  (outputs identical to transformers fp32 greedy, out of ``--prompts``): it shows whether an engine
  decodes the same thing or only something similar.
* ``ct2_fp32_b8``, ``ct2_int8_b8``, ``ct2_fp32_b32``, ``ct2_int8_b32``: CTranslate2 (``pip install
  ctranslate2``; not a polyalign dependency, skipped when absent). The local model folder is converted
  once per run into a temp dir (float32, and int8 weight quantization), then ``Generator.generate_batch``
  greedy (``sampling_topk=1``) with the prompt forwarded at once (``include_prompt_in_result=False``),
  ``max_batch_size`` = the batch, ``intra_threads`` = ``--threads``. CTranslate2 sorts by length and
  splits into batches itself, as ``generate`` does. fp32 reproduces transformers' greedy text; int8
  (weights and activations) does not: on 4 prompts its outputs left fp32's within the first few tokens.
* ``compile_bf16_b32``: the bf16 model with ``model.forward = torch.compile(model.forward)`` and a static
  KV cache (``generate(..., cache_implementation="static")``, what transformers documents for compiled
  decoding), batch 32. The first (compiling) run is timed apart (``first_run_s``) before the rounds;
  the rounds' median is the steady state. Each new batch shape (prompt width) may recompile.

Settings run interleaved in rounds in one process (today, ct2_fp32_b8, ..., today, ...), ``--repeats``
times; one JSON line per measurement, then each setting's median and ratio to ``today``.

    python benchmarks/other_engines.py --threads 2      # the full table: 32 prompts x 64 tokens, 3 rounds
    python benchmarks/other_engines.py --prompts 4 --new-tokens 8 --repeats 1 --threads 1   # smoke run
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Callable

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from ceiling import emit, generated_tokens, mgsm_prompts  # noqa: E402

QUANTIZATION = {"fp32": "float32", "int8": "int8"}  # setting name's part -> CTranslate2 quantization
SETTINGS = ["today", "ct2_fp32_b8", "ct2_int8_b8", "ct2_fp32_b32", "ct2_int8_b32", "compile_bf16_b32"]


def ct2_generators(model_dir: str, quantizations: set[str], threads: int, out: Path) -> dict[str, Any]:
    """One CTranslate2 generator per quantization, converted from the transformers folder ``model_dir``."""
    import ctranslate2
    from ctranslate2.converters import TransformersConverter

    generators = {}
    for quant in sorted(quantizations):
        started = time.perf_counter()
        path = TransformersConverter(model_dir).convert(str(out / quant), quantization=quant, force=True)
        emit({"part": "convert", "quantization": quant, "seconds": round(time.perf_counter() - started, 1)})
        generators[quant] = ctranslate2.Generator(path, device="cpu", compute_type=quant, intra_threads=threads)
    return generators


def ct2_generate(generator: Any, tokenizer: Any, prompts: list[str], *, max_new_tokens: int, batch_size: int,
                 eos: list[int]) -> list[str]:
    """Greedy continuations of ``prompts`` by CTranslate2, decoded as polyalign's ``generate`` decodes them."""
    starts = [tokenizer.convert_ids_to_tokens(tokenizer(p, add_special_tokens=False)["input_ids"]) for p in prompts]
    results = generator.generate_batch(starts, max_batch_size=batch_size, sampling_topk=1, max_length=max_new_tokens,
                                       include_prompt_in_result=False, end_token=eos)
    return [tokenizer.decode(r.sequences_ids[0], skip_special_tokens=True) for r in results]


def static_generate(model: Any, tokenizer: Any, prompts: list[str], *, max_new_tokens: int,
                    batch_size: int) -> list[str]:
    """polyalign.infer.generate.generate's greedy batches, with a static KV cache (for a compiled forward)."""
    from polyalign.infer.generate import generation_config, left_pad, length_batches

    encoded = [tokenizer(p, add_special_tokens=False)["input_ids"] for p in prompts]
    config = generation_config(model, tokenizer, max_new_tokens)
    config.cache_implementation = "static"
    outputs = [""] * len(prompts)
    for batch in length_batches([len(e) for e in encoded], batch_size):
        ids, mask = left_pad([encoded[i] for i in batch], config.pad_token_id)
        with torch.inference_mode():
            out = model.generate(input_ids=ids, attention_mask=mask, generation_config=config)
        for row, i in enumerate(batch):
            outputs[i] = tokenizer.decode(out[row, ids.shape[1]:], skip_special_tokens=True)
    return outputs


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default="smollm2-135m-instruct")
    parser.add_argument("--settings", default=",".join(SETTINGS), help=f"any of {','.join(SETTINGS)}")
    parser.add_argument("--prompts", type=int, default=32)
    parser.add_argument("--new-tokens", type=int, default=64)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args(argv)
    chosen = ["today"] + [s for s in args.settings.split(",") if s and s != "today"]
    unknown = [s for s in chosen if s not in SETTINGS]
    if unknown:
        parser.error(f"--settings: unknown {','.join(unknown)}; expected any of {','.join(SETTINGS)}")
    torch.set_num_threads(args.threads)

    from polyalign.infer.generate import eos_ids, generate
    from polyalign.models import load_model, load_tokenizer
    from polyalign.models.loading import resolve_model

    tokenizer = load_tokenizer(args.model, padding_side="left")
    prompts = mgsm_prompts(tokenizer, args.prompts)
    fp32 = load_model(args.model, dtype="float32")
    eos = eos_ids(fp32, tokenizer)

    try:
        import ctranslate2
        ct2_version = ctranslate2.__version__
    except ImportError:
        ct2_version = None
        if any(s.startswith("ct2_") for s in chosen):
            print("ctranslate2 is not installed (pip install ctranslate2): skipping the ct2_* settings", flush=True)
            chosen = [s for s in chosen if not s.startswith("ct2_")]
    emit({"part": "setup", "model": args.model, "threads": args.threads, "prompts": args.prompts,
          "new_tokens": args.new_tokens, "torch": torch.__version__, "ctranslate2": ct2_version, "eos": eos})

    runs: dict[str, Callable[[], list[str]]] = {
        "today": lambda: generate(fp32, tokenizer, prompts, max_new_tokens=args.new_tokens, batch_size=8,
                                  add_special_tokens=False)}
    info: dict[str, dict[str, Any]] = {"today": {"engine": "transformers generate", "dtype": "float32", "batch": 8}}
    workdir = tempfile.TemporaryDirectory(prefix="other-engines-")
    quants = {QUANTIZATION[s.split("_")[1]] for s in chosen if s.startswith("ct2_")}
    if quants:
        generators = ct2_generators(resolve_model(args.model), quants, args.threads, Path(workdir.name))
        for name in (s for s in chosen if s.startswith("ct2_")):
            quant, batch = QUANTIZATION[name.split("_")[1]], int(name.split("_b")[1])
            runs[name] = (lambda g=generators[quant], b=batch: ct2_generate(
                g, tokenizer, prompts, max_new_tokens=args.new_tokens, batch_size=b, eos=eos))
            info[name] = {"engine": "ctranslate2", "dtype": quant, "batch": batch}
    if "compile_bf16_b32" in chosen:
        bf16 = load_model(args.model, dtype="bfloat16")
        bf16.forward = torch.compile(bf16.forward)
        runs["compile_bf16_b32"] = lambda: static_generate(bf16, tokenizer, prompts, max_new_tokens=args.new_tokens,
                                                           batch_size=32)
        info["compile_bf16_b32"] = {"engine": "torch.compile + static cache", "dtype": "bfloat16", "batch": 32}
        started = time.perf_counter()
        texts = runs["compile_bf16_b32"]()
        seconds = time.perf_counter() - started
        tokens = generated_tokens(tokenizer, texts)
        emit({"part": "decode", "setting": "compile_bf16_b32", "round": "first", "first_run_s": round(seconds, 1),
              "tok_s": round(tokens / seconds, 1), "tokens": tokens})
        info["compile_bf16_b32"]["first_run_s"] = round(seconds, 1)

    rates: dict[str, list[float]] = {name: [] for name in runs}
    reference: list[str] = []
    for round_ in range(args.repeats):
        for name, run in runs.items():
            started = time.perf_counter()
            texts = run()
            seconds = time.perf_counter() - started
            if name == "today" and not reference:
                reference = texts
            same = sum(a == b for a, b in zip(texts, reference))
            tokens = generated_tokens(tokenizer, texts)
            info[name].update(tokens=tokens, same_as_fp32=f"{same}/{len(prompts)}")
            rates[name].append(tokens / seconds)
            emit({"part": "decode", "setting": name, "round": round_, "tok_s": round(rates[name][-1], 1),
                  "seconds": round(seconds, 2), **info[name]})
    base = statistics.median(rates["today"])
    for name, values in rates.items():
        median = statistics.median(values)
        emit({"part": "decode", "setting": name, "median_tok_s": round(median, 1),
              "ratio_vs_today": round(median / base, 2), **info[name]})
    workdir.cleanup()


if __name__ == "__main__":
    sys.exit(main())
