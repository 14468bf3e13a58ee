"""`polyalign generate`: ad-hoc prompts through any model backend (hf, vllm, proxy); outputs printed.

The same backends as ``polyalign eval`` (built from the same `BackendOptions`), so a prompt tried
here decodes exactly as it would in an evaluation with the same settings.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from pathlib import Path

from polyalign.cli._backend_args import add_backend_arguments, backend_options

GENERATE_HELP = """\
Generate continuations of ad-hoc prompts with any model backend and print them. Prompts come from
the command line (each PROMPT argument is one prompt) and/or --file (one prompt per line; a .jsonl
file holds one {"prompt": ...} object per line, for prompts spanning several lines; - reads stdin).
Greedy by default; --temperature > 0 samples (seeded by --seed, per prompt) with backends that
support it (proxy). --stop strings end a continuation and are cut from it (\\n and \\t are
understood). With several prompts, outputs are separated by a line '-----' (or use --jsonl).

examples:
  polyalign generate --model smollm2-135m-instruct --chat "Wie viel ist 12 mal 7?"
  echo "Translate to German: good morning" | polyalign generate --model path/to/ckpt --file -
  polyalign generate --backend proxy --base big --expert small-aligned --anti-expert small \\
                     --expert-format chat --max-new-tokens 200 --file questions.txt --jsonl
"""


def register(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser("generate", help="generate from ad-hoc prompts with any backend",
                                 description=GENERATE_HELP, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("prompts", nargs="*", metavar="PROMPT", help="prompts (each argument is one prompt)")
    parser.add_argument("--file", metavar="FILE", help="prompts, one per line (.jsonl: a 'prompt' field); - = stdin")
    add_backend_arguments(parser, model_help="zoo name, local model folder or hub id (proxy: the large base, or --base)",
                          backend_help="hf (default), vllm, proxy, or a registered backend")
    parser.add_argument("--chat", action="store_true",
                        help="send each prompt as a user turn through the model's chat template (proxy: the base's)")
    parser.add_argument("--max-new-tokens", type=int, default=256, help="generation limit (default 256)")
    parser.add_argument("--stop", action="append", default=[], metavar="S", help="stop string (repeatable)")
    parser.add_argument("--temperature", default="0", help="0 = greedy (default); above 0 samples")
    parser.add_argument("--top-p", default="1", help="nucleus sampling mass in (0, 1] (default 1)")
    parser.add_argument("--jsonl", action="store_true", help="print one JSON object per prompt: prompt, output")
    parser.set_defaults(func=_generate)


def read_prompts(file: str | None) -> list[str]:
    """Prompts from ``file`` (see the help); ``-`` reads stdin; no file → none.

    Raises:
        InputError: a missing file, or a JSONL line that is not an object with a string ``prompt``.
    """
    from polyalign.errors import InputError

    if file is None:
        return []
    if file == "-":
        text = sys.stdin.read()
    else:
        path = Path(file)
        if not path.is_file():
            raise InputError("no such prompts file", where=file)
        text = path.read_text(encoding="utf-8")
    if not file.endswith(".jsonl"):
        return [line for line in text.splitlines() if line.strip()]
    prompts = []
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as err:
            raise InputError(f"not JSON ({err.msg})", where=f"{file}:{number}") from None
        if not isinstance(record, dict) or not isinstance(record.get("prompt"), str):
            raise InputError("expected an object with a string 'prompt'", where=f"{file}:{number}")
        prompts.append(record["prompt"])
    return prompts


def _number(flag: str, text: str) -> float:
    from polyalign.errors import InputError

    try:
        return float(text)
    except ValueError:
        raise InputError(f"{flag} must be a number, got {text!r}") from None


def _generate(args: argparse.Namespace) -> int:
    from polyalign.errors import InputError
    from polyalign.infer.backends import BACKENDS, GenRequest
    from polyalign.infer.sampling import Sampling

    options = backend_options(args, chat=args.chat)
    model = options.model
    if args.backend == "replay":
        raise InputError("polyalign generate needs a model backend (hf, vllm, proxy); replay only scores "
                         "stored predictions")
    if not model:
        raise InputError(f"backend {args.backend} needs --model")
    if args.max_new_tokens < 1:
        raise InputError("--max-new-tokens must be at least 1")
    sampling = Sampling(_number("--temperature", args.temperature), _number("--top-p", args.top_p), args.seed)
    sampling.validate()
    options = dataclasses.replace(options, temperature=sampling.temperature, top_p=sampling.top_p)
    prompts = list(args.prompts) + read_prompts(args.file)
    if not prompts:
        raise InputError("no prompt: give PROMPT arguments or --file FILE (- = stdin)")
    if not all(p.strip() for p in prompts):
        raise InputError("empty prompt: every PROMPT must contain some text")
    backend_cls = BACKENDS.get(args.backend)
    if not sampling.greedy and not getattr(backend_cls, "sampling", False):
        raise InputError(f"backend {args.backend} decodes greedily only; drop --temperature or use a backend "
                         "that samples (proxy)")
    backend = backend_cls(options)
    texts = prompts
    if args.chat:
        template = backend.chat_template()
        if template is None:
            raise InputError(f"model {model!r} has no chat template; drop --chat")
        texts = [template([{"role": "user", "content": p}]) for p in prompts]
    stops = tuple(s.replace("\\n", "\n").replace("\\t", "\t") for s in args.stop)
    outputs = backend.generate([GenRequest(f"generate/{i}", text, stops, args.max_new_tokens)
                                for i, text in enumerate(texts)])
    for i, (prompt, output) in enumerate(zip(prompts, outputs)):
        if args.jsonl:
            print(json.dumps({"prompt": prompt, "output": output}, ensure_ascii=False))
        else:
            print(("-----\n" if i else "") + (output or ""))
    return 0
