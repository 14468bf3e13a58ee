"""`polyalign eval`: run the multilingual benchmark suite on a model (or score a predictions file)."""

from __future__ import annotations

import argparse

from polyalign.cli._backend_args import add_backend_arguments, backend_options

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
    add_backend_arguments(parser, model_help="zoo name, local model folder or hub id (optional for replay; the "
                                             "large base model for proxy, also accepted as --base)",
                          backend_help="hf (default), vllm, replay, proxy (see below), or a registered backend")
    parser.add_argument("--tasks", required=True, help="comma-separated tasks, e.g. mgsm,xquad")
    parser.add_argument("--langs", help="comma-separated languages or directions (default: all of each task)")
    parser.add_argument("--predictions", metavar="FILE", help="replay: JSONL with task, lang, id, output")
    parser.add_argument("--limit", type=int, metavar="N", help="first N examples of each language")
    parser.add_argument("--data-dir", metavar="DIR", help="benchmark data root")
    parser.add_argument("--out", metavar="DIR", help="output folder (default: eval-out/<model name>)")
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
    parser.add_argument("--lang-names", choices=["english", "paper"], default="english",
                        help="language names in translation prompts (paper = the iso639 names x-LLaMA used)")
    parser.add_argument("--protocol", choices=["polyalign", "paper"], default="polyalign",
                        help="polyalign (default): corrected scoring; paper: each benchmark as the released code "
                             "of its paper evaluates it (docs/methods.md, protocol table)")
    parser.add_argument("--overwrite", action="store_true", help="discard samples of an earlier run in OUT")
    parser.set_defaults(func=_eval)


def _split(value: str | None) -> list[str] | None:
    return [v.strip() for v in value.split(",") if v.strip()] if value else None


def _eval(args: argparse.Namespace) -> int:
    from pathlib import Path

    from polyalign.eval.config import EvalConfig
    from polyalign.eval.runner import run_eval

    options = backend_options(args)
    model = options.model
    out = args.out or str(Path("eval-out") / (Path(model).name if model else "replay"))
    cfg = EvalConfig(tasks=_split(args.tasks) or [], out=out, model=model, langs=_split(args.langs),
                     backend=args.backend, predictions=args.predictions, limit=args.limit, data_dir=args.data_dir,
                     batch_size=options.batch_size, max_new_tokens=args.max_new_tokens, prompt=args.prompt,
                     num_fewshot=args.num_fewshot, mc_mode=args.mc_mode, seed=options.seed, dtype=options.dtype,
                     device=options.device, name_mode=args.lang_names, protocol=args.protocol, proxy=options.proxy)
    run_eval(cfg, overwrite=args.overwrite)
    print(f"results: {Path(out) / 'results.json'}")
    return 0
