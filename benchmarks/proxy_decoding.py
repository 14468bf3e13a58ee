"""Proxy-tuning decode speed: time per generated token vs the three models decoding on their own.

Same prompts (the papers' Alpaca prompt over mGSM questions), same length-sorted left-padded batches,
greedy, and a fixed length (EOS ignored, no stop strings) so every run generates exactly
``--max-new-tokens`` per prompt and per-token times compare like with like. Runs:

* ``own: hf generate`` — each model's own KV-cached ``model.generate``, summed over the three
  models: the baseline of the issue's target (proxy overhead ≤ 15%).
* ``own: lockstep, 1 model`` — our loop with a single member, summed over the three: what the
  loop itself costs next to transformers' own.
* ``proxy: cached, batched`` — `polyalign.infer.proxy.ProxyTuner` (three caches in lockstep).
* ``proxy: no cache`` — `ProxyTuner.generate_naive`: one prompt at a time, every step recomputes
  every prefix (on the first ``--naive-prompts`` prompts only: it is quadratic).

Reported: median seconds over interleaved repeats, ms per generated token, and the ratio to the
summed own decoding. The cached proxy output is checked against the naive one (mismatches printed).

    python benchmarks/proxy_decoding.py                          # three tiny LLaMA-shaped models (~3M params)
    python benchmarks/proxy_decoding.py --models smollm2 --repeats 3   # SmolLM2-135M-Instruct x 3
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import torch

from polyalign.data.templates import render_alpaca
from polyalign.infer.generate import left_pad, length_batches
from polyalign.infer.members import Member
from polyalign.infer.proxy import ProxyTuner
from polyalign.models import build_tiny_llama, load_model, load_tokenizer

SHARED_MGSM = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "mgsm"
FALLBACK = ["Janet has 16 eggs. She eats 3 and bakes 4 into muffins. How many eggs are left?",
            "Ein Kleid erfordert 2 Knäuel blaue Wolle und halb so viel weiße Wolle. Wie viele Knäuel braucht man?",
            "小明有 5 个苹果，他又买了 3 个，现在一共有几个？",
            "Une robe nécessite 2 rouleaux de fibre bleue et la moitié de fibre blanche. Combien en faut-il ?"]
ROLES = ("base", "expert", "anti-expert")


def questions(n: int) -> list[str]:
    """n mGSM questions, round-robin over languages (varied lengths), or a built-in sample."""
    langs = ["en", "de", "zh", "fr", "ru", "sw", "ja", "th"]
    files = [SHARED_MGSM / f"mgsm_{lang}.tsv" for lang in langs]
    if not all(f.is_file() for f in files):
        return [FALLBACK[i % len(FALLBACK)] for i in range(n)]
    per_lang = [[line.split("\t")[0] for line in f.read_text(encoding="utf-8").splitlines() if line.strip()]
                for f in files]
    return [per_lang[i % len(langs)][i // len(langs)] for i in range(n)]


def model_paths(kind: str, root: Path) -> list[str]:
    if kind == "smollm2":
        return ["smollm2-135m-instruct"] * 3  # three instances of one checkpoint: timing only
    return [str(build_tiny_llama(root / role, hidden=256, layers=6, heads=8, seed=seed))
            for seed, role in enumerate(ROLES)]


def own_hf(member: Member, prompt_ids: list[list[int]], n: int, batch_size: int) -> None:
    """The model's own cached greedy decoding, exactly ``n`` tokens per prompt."""
    from transformers import GenerationConfig

    eos = member.tokenizer.eos_token_id
    config = GenerationConfig(max_new_tokens=n, min_new_tokens=n, do_sample=False, num_beams=1, use_cache=True,
                              eos_token_id=eos, pad_token_id=member.pad_id)
    for batch in length_batches([len(p) for p in prompt_ids], batch_size):
        ids, mask = left_pad([prompt_ids[i] for i in batch], member.pad_id)
        with torch.inference_mode():
            member.model.generate(input_ids=ids, attention_mask=mask, generation_config=config)


def own_lockstep(member: Member, prompt_ids: list[list[int]], n: int, batch_size: int) -> None:
    from polyalign.infer.lockstep import lockstep_decode

    lockstep_decode([member], lambda logits: logits[0], [prompt_ids], vocab_size=len(member.tokenizer),
                    max_new_tokens=n, batch_size=batch_size)


def timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", choices=["tiny", "smollm2"], default="tiny")
    parser.add_argument("--prompts", type=int, default=8)
    parser.add_argument("--max-new-tokens", type=int, default=32)
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--naive-prompts", type=int, default=2, help="prompts for the no-cache run")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--threads", type=int, default=1, help="torch threads (default 1: steady on a shared machine)")
    args = parser.parse_args()

    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    tmp = tempfile.TemporaryDirectory()
    paths = model_paths(args.models, Path(tmp.name))
    members = [Member(role, load_model(p), load_tokenizer(p, padding_side="left"), path=p)
               for role, p in zip(ROLES, paths)]
    proxy = ProxyTuner(*members, alpha=1.0)
    proxy.eos_ids = []  # fixed length: every run generates exactly max_new_tokens per prompt
    prompts = [render_alpaca(q) for q in questions(args.prompts)]
    ids = [members[0].encode(p) for p in prompts]
    n, bs = args.max_new_tokens, args.batch_size
    params = sum(p.numel() for p in members[0].model.parameters()) / 1e6
    print(f"models {args.models} ({params:.1f}M params each), {len(prompts)} prompts, {n} new tokens each, "
          f"batch {bs}, torch threads {torch.get_num_threads()}, repeats {args.repeats}")

    runs = {
        "own: hf generate (sum of 3)": lambda: sum(timed(lambda m=m: own_hf(m, ids, n, bs)) for m in members),
        "own: lockstep, 1 model (sum of 3)": lambda: sum(timed(lambda m=m: own_lockstep(m, ids, n, bs))
                                                         for m in members),
        "proxy: cached, batched": lambda: timed(lambda: proxy.generate_ids(prompts, max_new_tokens=n, batch_size=bs,
                                                                           stop_at_eos=False)),
        "proxy: no cache": lambda: timed(lambda: proxy.generate_naive(prompts[:args.naive_prompts], max_new_tokens=n)),
    }
    tokens = {name: len(prompts) * n for name in runs}
    tokens["proxy: no cache"] = min(args.naive_prompts, len(prompts)) * n
    # Interleaved repeats (every run once, then again): load changes on a shared machine hit all runs alike.
    times: dict[str, list[float]] = {name: [] for name in runs}
    for _ in range(args.repeats):
        for name, fn in runs.items():
            times[name].append(fn())

    k = min(args.naive_prompts, len(prompts))
    cached = proxy.generate(prompts[:k], max_new_tokens=n, batch_size=bs)
    mismatches = sum(a != b for a, b in zip(cached, proxy.generate_naive(prompts[:k], max_new_tokens=n)))
    baseline = statistics.median(times["own: hf generate (sum of 3)"]) / tokens["own: hf generate (sum of 3)"]
    print(f"{'run':36s} {'median s':>9s} {'tokens':>7s} {'ms/token':>9s} {'vs own hf':>10s}")
    for name in runs:
        seconds = statistics.median(times[name])
        per_token = seconds / tokens[name]
        print(f"{name:36s} {seconds:9.3f} {tokens[name]:7d} {1000 * per_token:9.3f} {per_token / baseline:9.2f}x")
    print(f"cached proxy outputs ≠ no-cache outputs: {mismatches} of {k}")
    tmp.cleanup()


if __name__ == "__main__":
    main()
