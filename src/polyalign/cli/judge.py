"""`polyalign judge`: score free-form responses with an LLM judge (LLM-Eval's five dimensions, 0–3)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from polyalign.cli._backend_args import add_backend_arguments, backend_options

JUDGE_HELP = """\
Score responses with an LLM judge on LLM-Eval's five dimensions (accuracy, fluency,
informativeness, logical coherence, harmlessness; 0-3 each), as LLaMA beyond English does: one
rubric prompt per dimension with the instruction and the reference answer; the judge replies
"Score: N". Unreadable replies are retried (--retries) and then counted as unparseable, never as 0.
Every reply is cached (OUT/cache.sqlite or --cache), so rerunning costs nothing.

responses: --samples RUN/samples (written by 'polyalign eval' or an earlier judge run), or
--model M --instructions SET to generate them first (OUT/samples/, resumable). SET is an
LLM-Eval-style JSONL (instruction, reference, category, lang), a folder of them, or
builtin:samples/open-ended (6 instructions in en, zh, ar, hi, sw, shipped with polyalign).
--references SET adds instruction, reference answer and category to samples by id. Responses of a
proxy-tuned model: --backend proxy --expert E --anti-expert A, as in 'polyalign eval' (or
--backend-option expert=E ...: any backend option field works that way, as in 'polyalign serve').

judge: an OpenAI-compatible base URL (e.g. http://127.0.0.1:8000/v1 from 'polyalign serve', or a
hosted API; --judge-model names the model, default: the endpoint's only one; the API key is read from
the environment variable named by --api-key-env, never from a file) or a local model name/folder.

pairwise: --compare OTHER/samples asks, for each shared id, which response is better, in both orders
(A first, then B first); disagreeing orders count as a tie and lower `consistency`.

writes OUT/results.json (per task and language: <dimension>_0-3, avg_0-3, avg_no_harmlessness_0-3,
n, unparseable; by_category: the same per category; provenance), OUT/judgments/<task>_<lang>.jsonl
(every score and raw reply) and OUT/config.yaml.

examples:
  polyalign serve --model smollm2-135m-instruct --port 8000 &
  polyalign judge --model runs/train/bactrian-x-smollm2-lora/sft/model \\
      --instructions builtin:samples/open-ended --judge http://127.0.0.1:8000/v1 --out runs/judge/smollm2
  OPENAI_API_KEY=... polyalign judge --samples runs/judge/smollm2/samples --judge https://api.openai.com/v1 \\
      --judge-model gpt-4o --out runs/judge/smollm2-gpt4o
  polyalign judge --samples runs/a/samples --compare runs/b/samples --judge http://127.0.0.1:8000/v1
"""


def register(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser("judge", help="score free-form responses with an LLM judge (0-3 rubric or pairwise)",
                                 description=JUDGE_HELP, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--samples", metavar="DIR", help="samples folder (or file) with the responses to judge")
    add_backend_arguments(parser, model_help="generate the responses first with this model",
                          backend_help="backend generating the responses (default hf)",
                          batch_help="prompts per forward pass of local models (default 8)", auto_batch=False)
    parser.add_argument("--instructions", metavar="SET", help="open-ended set to generate responses for (with --model)")
    parser.add_argument("--judge", required=True, metavar="URL_OR_MODEL", help="endpoint base URL or local model")
    parser.add_argument("--judge-model", metavar="NAME", help="model name at the endpoint")
    parser.add_argument("--api-key-env", default="OPENAI_API_KEY", metavar="VAR",
                        help="environment variable holding the endpoint's API key (default OPENAI_API_KEY)")
    parser.add_argument("--judge-backend", default="hf", help="backend of a local judge (default hf)")
    parser.add_argument("--judge-option", action="append", default=[], metavar="KEY=VALUE",
                        help="backend option of a local judge (repeatable)")
    parser.add_argument("--references", metavar="SET", help="open-ended set with reference answers, joined by id")
    parser.add_argument("--compare", metavar="DIR", help="second system's samples: pairwise comparison")
    parser.add_argument("--langs", help="comma-separated languages (default: all)")
    parser.add_argument("--limit", type=int, metavar="N", help="first N responses of each language")
    parser.add_argument("--out", metavar="DIR", help="output folder (default: RUN/judge next to RUN/samples)")
    parser.add_argument("--cache", metavar="FILE", help="reply cache (default OUT/cache.sqlite)")
    parser.add_argument("--retries", type=int, default=2, help="re-asks after an unreadable reply (default 2)")
    parser.add_argument("--judge-max-tokens", type=int, default=64, help="judge reply limit (default 64)")
    parser.add_argument("--concurrency", type=int, default=4, help="parallel endpoint requests (default 4)")
    parser.add_argument("--timeout", type=float, default=120.0, help="seconds per endpoint request (default 120)")
    parser.add_argument("--backend-option", action="append", default=[], metavar="KEY=VALUE",
                        help="backend option for generating the responses (repeatable)")
    parser.add_argument("--prompt", choices=["auto", "chat", "alpaca"], default="auto",
                        help="response prompt: chat template if the model has one (auto), or Alpaca")
    parser.add_argument("--max-new-tokens", type=int, default=512, help="response length limit (default 512)")
    parser.add_argument("--overwrite", action="store_true", help="discard responses generated earlier in OUT")
    parser.set_defaults(func=_judge)


def _default_out(args: argparse.Namespace) -> str:
    if args.samples:
        samples = Path(args.samples)
        run = samples.parent if samples.name == "samples" or samples.is_file() else samples
        return str(run / ("judge-pairwise" if args.compare else "judge"))
    return str(Path("judge-out") / Path(args.model).name)


def _judge(args: argparse.Namespace) -> int:
    from polyalign.judge import JudgeConfig, run_judge

    options = backend_options(args)
    langs = [c.strip() for c in args.langs.split(",") if c.strip()] if args.langs else None
    cfg = JudgeConfig(judge=args.judge, out=args.out or _default_out(args), samples=args.samples, model=options.model,
                      instructions=args.instructions, references=args.references, compare=args.compare,
                      judge_model=args.judge_model, judge_backend=args.judge_backend, judge_options=args.judge_option,
                      api_key_env=args.api_key_env, backend=args.backend, backend_options=args.backend_option,
                      proxy=options.proxy, prompt=args.prompt, max_new_tokens=args.max_new_tokens,
                      batch_size=options.batch_size, dtype=options.dtype, device=options.device, seed=options.seed,
                      langs=langs, limit=args.limit,
                      retries=args.retries, judge_max_tokens=args.judge_max_tokens, concurrency=args.concurrency,
                      timeout=args.timeout, cache=args.cache)
    document = run_judge(cfg, overwrite=args.overwrite)
    print(_table(document["results"]))
    print(f"results: {Path(cfg.out) / 'results.json'}")
    return 0


def _fmt(value: Any) -> str:
    if value is None:
        return "-"
    return f"{value:.3f}" if isinstance(value, float) else str(value)


def _table(results: dict[str, dict[str, dict[str, Any]]]) -> str:
    """A Markdown table: one row per task and language, the metrics as columns."""
    columns: list[str] = []
    for langs in results.values():
        for metrics in langs.values():
            columns += [k for k in metrics if k not in columns]
    lines = ["| task | lang | " + " | ".join(c.removesuffix("_0-3") for c in columns) + " |",
             "|---|---|" + "---|" * len(columns)]
    for task, langs in results.items():
        for lang, metrics in langs.items():
            lines.append(f"| {task} | {lang} | " + " | ".join(_fmt(metrics.get(c)) for c in columns) + " |")
    return "\n".join(lines)
