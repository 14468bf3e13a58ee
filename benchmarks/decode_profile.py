"""Where decoding time goes: inside the model's forward vs the per-step work around it.

Same prompts, same dtype and batch; ``generate`` (transformers) vs the lean loop
(polyalign.infer.decode), interleaved, medians of ``--repeats``. ``model.forward`` is wrapped with a
timer, so ``outside_s`` = wall time the decoding machinery spends between forwards (logits
processors, stopping criteria, cache bookkeeping, finished rows still being fed). With ``--torch-profile``
the top operators of one run of each are printed too.

    python benchmarks/decode_profile.py --prompts 8 --new-tokens 32 --batch 8
"""

from __future__ import annotations

import argparse
import functools
import json
import statistics
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from ceiling import mgsm_prompts  # noqa: E402


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default="smollm2-135m-instruct")
    parser.add_argument("--dtype", default="float32")
    parser.add_argument("--prompts", type=int, default=8)
    parser.add_argument("--new-tokens", type=int, default=32)
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--torch-profile", action="store_true")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)

    from polyalign.infer.decode import greedy_decode
    from polyalign.infer.generate import generate
    from polyalign.models import load_model, load_tokenizer

    model = load_model(args.model, dtype=args.dtype)
    tokenizer = load_tokenizer(args.model, padding_side="left")
    prompts = mgsm_prompts(tokenizer, args.prompts)
    inside = [0.0, 0]
    forward = model.forward

    @functools.wraps(forward)  # keeps forward's signature: the loops inspect it (cache name, logits_to_keep)
    def timed(*a, **kw):
        started = time.perf_counter()
        try:
            return forward(*a, **kw)
        finally:
            inside[0] += time.perf_counter() - started
            inside[1] += 1

    model.forward = timed
    results: dict[str, list[tuple[float, float, int]]] = {"generate": [], "lean": []}
    for _ in range(args.repeats):
        for name, fn in (("generate", generate), ("lean", greedy_decode)):
            inside[:] = [0.0, 0]
            started = time.perf_counter()
            fn(model, tokenizer, prompts, max_new_tokens=args.new_tokens, batch_size=args.batch, add_special_tokens=False)
            wall = time.perf_counter() - started
            results[name].append((wall, inside[0], inside[1]))
    for name, runs in results.items():
        wall = statistics.median(r[0] for r in runs)
        fwd = statistics.median(r[1] for r in runs)
        print(json.dumps({"engine": name, "dtype": args.dtype, "batch": args.batch, "wall_s": round(wall, 2),
                          "forward_s": round(fwd, 2), "outside_s": round(wall - fwd, 2),
                          "outside_share": round(1 - fwd / wall, 3), "forwards": runs[0][2]}), flush=True)
    if args.torch_profile:
        from torch.profiler import ProfilerActivity, profile

        for name, fn in (("generate", generate), ("lean", greedy_decode)):
            with profile(activities=[ProfilerActivity.CPU]) as prof:
                fn(model, tokenizer, prompts, max_new_tokens=args.new_tokens, batch_size=args.batch,
                   add_special_tokens=False)
            print(f"== {name}")
            print(prof.key_averages().table(sort_by="self_cpu_time_total", row_limit=12))


if __name__ == "__main__":
    main()
