"""Does bf16 change the answers? Greedy agreement and multiple-choice accuracy, bf16 vs fp32, one process.

* generation: chat-formatted MGSM questions (languages in turn), greedy through the lean loop in both
  dtypes; reported: share of identical outputs, mean share of the output (in characters) before the
  first difference, and MGSM accuracy of each (last number in the output; needs ``--new-tokens``
  long enough for the model to finish its reasoning, 256 by default).
* multiple choice: MMLU test questions (one per subject), option likelihoods with shared contexts;
  reported: share of identical picks and accuracy in each dtype.

    python benchmarks/bf16_agreement.py --prompts 64 --new-tokens 256
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from ceiling import LANGS, MGSM, MMLU, mgsm_prompts  # noqa: E402


def last_number(text: str) -> str | None:
    found = re.findall(r"-?\d[\d,]*\.?\d*", text)
    return found[-1].replace(",", "").rstrip(".") if found else None


def prefix_share(a: str, b: str) -> float:
    n = next((i for i, (x, y) in enumerate(zip(a, b)) if x != y), min(len(a), len(b)))
    return n / max(len(a), len(b), 1)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default="smollm2-135m-instruct")
    parser.add_argument("--prompts", type=int, default=64)
    parser.add_argument("--new-tokens", type=int, default=256)
    parser.add_argument("--questions", type=int, default=57)
    parser.add_argument("--threads", type=int, default=int(os.environ.get("THREADS", "2")))
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)

    import csv

    from polyalign.infer.decode import greedy_decode
    from polyalign.infer.loglik import loglikelihoods
    from polyalign.models import load_model, load_tokenizer

    tokenizer = load_tokenizer(args.model, padding_side="left")
    models = {d: load_model(args.model, dtype=d) for d in ("float32", "bfloat16")}

    rows = []
    for path in sorted(MMLU.glob("*_test.csv"))[:args.questions]:
        with path.open(encoding="utf-8") as handle:
            rows.append(next(csv.reader(handle)))
    pairs = [(f"Question: {r[0]}\nAnswer:", " " + option) for r in rows for option in r[1:5]]
    picks: dict[str, list[str]] = {}
    for dtype, model in models.items() if rows else ():
        scores = [s for s, _ in loglikelihoods(model, tokenizer, pairs)]
        picks[dtype] = ["ABCD"[max(range(4), key=lambda k: scores[4 * q + k])] for q in range(len(rows))]
    gold = [r[5].strip() for r in rows]
    if rows:
        print(json.dumps({"part": "mmlu_loglik", "questions": len(rows),
                          "same_pick": sum(a == b for a, b in zip(picks["float32"], picks["bfloat16"])) / len(rows),
                          **{f"acc_{d}": sum(p == g for p, g in zip(picks[d], gold)) / len(rows) for d in picks}}),
              flush=True)

    prompts = mgsm_prompts(tokenizer, args.prompts)
    answers = [(MGSM / f"mgsm_{LANGS[i % len(LANGS)]}.tsv").read_text(encoding="utf-8").splitlines()[i // len(LANGS)]
               .split("\t")[1].strip() for i in range(args.prompts)]
    outputs = {d: greedy_decode(m, tokenizer, prompts, max_new_tokens=args.new_tokens, add_special_tokens=False)
               for d, m in models.items()}
    same = [a == b for a, b in zip(outputs["float32"], outputs["bfloat16"])]
    print(json.dumps({"part": "mgsm_generate", "prompts": args.prompts, "new_tokens": args.new_tokens,
                      "identical": sum(same) / len(same),
                      "mean_shared_prefix": sum(prefix_share(a, b) for a, b in zip(*outputs.values())) / len(same),
                      **{f"acc_{d}": sum(last_number(o) == g for o, g in zip(outputs[d], answers)) / len(answers)
                         for d in outputs}}), flush=True)


if __name__ == "__main__":
    main()
