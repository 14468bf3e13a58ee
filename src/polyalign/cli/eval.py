"""`polyalign eval`: run the multilingual benchmark suite on a model (or score a predictions file)."""

from __future__ import annotations

import argparse
from typing import Any

from polyalign.infer.batching import parse_batch_size

EVAL_HELP = """\
Evaluate a model on the multilingual benchmark suite (lm-eval task YAMLs shipped in polyalign, run
through lm-eval's Python API with polyalign's backends). Writes OUT/results.json (metrics per task
and language + provenance), OUT/samples/<task>_<lang>.jsonl (every prompt, output, extracted answer
and per-example metric) and per-language tables (OUT/tables/<task>.md|csv), printed at the end.
Rerunning the same command after an interruption resumes where it stopped.

tasks:
{tasks}
Generative tasks also report lang_match and lang_none; 'starter' ships with polyalign, the others
read their upstream files.

data: the upstream files in a folder per task under --data-dir (mgsm/mgsm_de.tsv,
xquad/xquad.de.json, msvamp/test_German.json, flores/devtest/deu.devtest, ...); a missing file is
reported with the exact path to put it at.

proxy-tuning (--backend proxy, QAlign broadened): next-token scores are
s_base + alpha * (s_expert - s_anti_expert), the base a large model, the expert a small
question-aligned one and the anti-expert the same small model without alignment. --base names the
large model and is the same as --model (give either). Multiple choice by log-likelihood scores
options under that combined distribution.

examples:
  polyalign eval --model smollm2-135m-instruct --tasks mgsm,xquad --langs de,zh --limit 20 --data-dir ../shared/data
  polyalign eval --backend proxy --base llama-2-70b --expert runs/qalign-7b --anti-expert llama-2-7b \\
                 --alpha 1.0 --tasks mgsm --device auto --small-device cuda:0 --dtype bfloat16
  polyalign eval --model path/to/ckpt --tasks flores --langs en-zh,zh-en --prompt chat --out runs/flores
  polyalign eval --backend replay --predictions preds.jsonl --tasks mgsm --data-dir data --out runs/replay
"""


_KIND_METRICS = {
    "numeric": "acc, acc_paper; --prompt pot adds the programs' statuses",
    "qa": "em, f1, contains",
    "choice": "multiple choice: acc",
    "translation": "bleu, chrf++, spbleu, comet; languages are directions such as en-zh, a plain code selects both",
}


def _task_lines() -> str:
    """The task list of --help, from the benchmark table (so it cannot fall behind it)."""
    from polyalign.eval.benchmarks import BENCHMARKS

    lines = []
    for kind, metrics in _KIND_METRICS.items():
        names = " ".join(name for name, bench in BENCHMARKS.items() if bench.kind == kind)
        lines.append(f"  {names} ({metrics})")
    return "\n".join(lines)


def register(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser("eval", help="evaluate a model on the multilingual benchmarks",
                                 description=EVAL_HELP.format(tasks=_task_lines()), formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", help="zoo name, local model folder or hub id (optional for replay; "
                                        "the large base model for proxy, also accepted as --base)")
    parser.add_argument("--tasks", required=True, help="comma-separated tasks, e.g. mgsm,xquad")
    parser.add_argument("--langs", help="comma-separated languages or directions (default: all of each task)")
    parser.add_argument("--backend", default="hf",
                        help="hf (default), vllm, replay, proxy (see below), or a registered backend")
    parser.add_argument("--predictions", metavar="FILE", help="replay: JSONL with task, lang, id, output")
    parser.add_argument("--limit", type=int, metavar="N", help="first N examples of each language")
    parser.add_argument("--data-dir", metavar="DIR", help="benchmark data root")
    parser.add_argument("--out", metavar="DIR", help="output folder (default: eval-out/<model name>)")
    parser.add_argument("--batch-size", type=parse_batch_size, default="auto", help="prompts per forward pass, or auto (default: the widest batches a memory budget allows)")
    parser.add_argument("--max-new-tokens", type=int, help="generation limit (default: per task)")
    from polyalign.eval.prompts import PROMPT_MODES  # the variants are data of the prompt module

    parser.add_argument("--prompt", choices=PROMPT_MODES,
                        help="paper: zero-shot Alpaca (papers' setting); chat: the model's chat template; "
                             "fewshot: exemplars (mmlu, ceval, gsm8k); pot: a Python program, run in the sandbox "
                             "(math tasks); direct / rationale: xcsqa answer letter alone / after a reason. "
                             "Default: per task")
    parser.add_argument("--num-fewshot", type=int, metavar="K", help="exemplars in fewshot mode (default 5, gsm8k 8)")
    parser.add_argument("--mc-mode", choices=["loglik", "generate"],
                        help="multiple choice by option log-likelihood or by the letter in generated text "
                             "(default: xcsqa generate, mmlu/ceval loglik)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--dtype", default="auto", help="auto (default: bf16 where the CPU computes it natively, else float32; the checkpoint's dtype on GPUs), float32, bfloat16, float16")
    parser.add_argument("--device", default="cpu", help="cpu (default), cuda, auto")
    parser.add_argument("--lang-names", choices=["english", "paper"], default="english",
                        help="language names in translation prompts (paper = the iso639 names x-LLaMA used)")
    parser.add_argument("--overwrite", action="store_true", help="discard samples of an earlier run in OUT")
    add_proxy_arguments(parser)
    parser.set_defaults(func=_eval)


def add_proxy_arguments(parser: argparse.ArgumentParser) -> None:
    """The ``--backend proxy`` flags (shared with ``polyalign generate``)."""
    group = parser.add_argument_group("proxy backend (--backend proxy)")
    group.add_argument("--base", metavar="L", help="the large base model; same as --model (give either, or both equal)")
    group.add_argument("--expert", metavar="E", help="the small aligned expert (e.g. after question alignment)")
    group.add_argument("--anti-expert", metavar="A", help="the small model without alignment")
    group.add_argument("--alpha", metavar="X", help="steering strength: s_base + X * (s_expert - s_anti) (default 1.0)")
    for role in ("base", "expert", "anti-expert"):
        group.add_argument(f"--{role}-format", default="plain", metavar="FMT",
                           help=f"how the {role} reads each prompt: plain (default), chat (its chat template) "
                                "or a template containing {prompt}")
    group.add_argument("--small-dtype", help="dtype of expert and anti-expert (default: --dtype)")
    group.add_argument("--small-device", help="device of expert and anti-expert (default: --device)")


def proxy_settings(args: argparse.Namespace) -> dict[str, Any]:
    """The model and proxy fields from parsed flags: ``--base`` folded into ``model``, α checked.

    Raises:
        InputError: --base and --model disagree, --base or --alpha without --backend proxy, α not a number.
    """
    from polyalign.errors import InputError
    from polyalign.infer.proxy import check_alpha

    if args.base and args.backend != "proxy":
        raise InputError(f"--base is for --backend proxy; with --backend {args.backend} use --model")
    if args.base and args.model and args.base != args.model:
        raise InputError(f"--base {args.base!r} and --model {args.model!r} disagree: for --backend proxy both name "
                         "the large base model; give one of them")
    if args.alpha is not None and args.backend != "proxy":
        raise InputError(f"--alpha is for --backend proxy (this run uses {args.backend})")
    return {"model": args.base or args.model, "expert": args.expert, "anti_expert": args.anti_expert,
            "alpha": 1.0 if args.alpha is None else check_alpha(args.alpha), "base_format": args.base_format,
            "expert_format": args.expert_format, "anti_expert_format": args.anti_expert_format,
            "small_dtype": args.small_dtype, "small_device": args.small_device}


def _split(value: str | None) -> list[str] | None:
    return [v.strip() for v in value.split(",") if v.strip()] if value else None


def _eval(args: argparse.Namespace) -> int:
    from pathlib import Path

    from polyalign.eval.config import EvalConfig
    from polyalign.eval.runner import run_eval

    proxy = proxy_settings(args)
    model = proxy.pop("model")
    out = args.out or str(Path("eval-out") / (Path(model).name if model else "replay"))
    cfg = EvalConfig(tasks=_split(args.tasks) or [], out=out, model=model, langs=_split(args.langs),
                     backend=args.backend, predictions=args.predictions, limit=args.limit, data_dir=args.data_dir,
                     batch_size=args.batch_size, max_new_tokens=args.max_new_tokens, prompt=args.prompt,
                     num_fewshot=args.num_fewshot, mc_mode=args.mc_mode, seed=args.seed, dtype=args.dtype,
                     device=args.device, name_mode=args.lang_names, **proxy)
    run_eval(cfg, overwrite=args.overwrite)
    print(f"results: {Path(out) / 'results.json'}")
    return 0
