"""`polyalign serve`: an OpenAI-compatible HTTP server over a polyalign backend."""

from __future__ import annotations

import argparse

from polyalign.cli._backend_args import add_backend_arguments, backend_options

SERVE_HELP = """\
Serve a model over the OpenAI API (standard library HTTP, no extra dependency), so that any
OpenAI client, lm-eval's local-chat-completions model or 'polyalign judge --judge URL' can use an
aligned or proxy-tuned model.

endpoints: POST /v1/chat/completions (the model's chat template), POST /v1/completions (raw
prompts; a list of prompts is one batch), GET /v1/models, GET /health. stream=true is accepted;
the text arrives as one event when generation ends (the backends produce whole outputs). Decoding
is greedy: temperature, top_p and seed are accepted and ignored; n > 1, logprobs and echo are
refused with 400.

limits: bodies over --max-body-bytes → 413; more than --max-queue waiting generations → 429 with
Retry-After; at most --max-connections requests handled at once (the rest wait in the listen
backlog); bad JSON → 400; unknown model → 404; all errors in OpenAI's {"error": {...}} shape.
One worker thread runs the model and batches requests that arrive together (up to --batch-size).
SIGINT/SIGTERM: stop accepting, finish accepted requests, exit 0.

proxy-tuned models: --backend proxy with --base/--model (large), --expert, --anti-expert and --alpha
as in 'polyalign eval'. With per-model prompt formats (--expert-format chat ...) each model wraps the
plain prompt itself, so only /v1/completions is served.

other backends: --backend-option KEY=VALUE sets any field of the backend options (repeatable;
values read as YAML scalars and type-checked), so a registered backend's own settings need no new
flag.

examples:
  polyalign serve --model smollm2-135m-instruct --port 8000
  polyalign serve --model runs/train/x-llama-7b/sft/model --device cuda --dtype bfloat16 --port 8000
  polyalign serve --backend proxy --base meta-llama/Llama-2-70b-hf --expert runs/train/qalign-llama2-7b/stage2/model \\
      --anti-expert meta-llama/Llama-2-7b-hf --device auto --dtype bfloat16
  curl http://127.0.0.1:8000/v1/chat/completions -H 'Content-Type: application/json' \\
      -d '{"model": "smollm2-135m-instruct", "messages": [{"role": "user", "content": "Hallo!"}]}'
"""


def register(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser("serve", help="serve a model over an OpenAI-compatible HTTP API",
                                 description=SERVE_HELP, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_backend_arguments(parser, model_help="zoo name, local model folder or hub id (proxy: the large base, or --base)",
                          backend_help="hf (default), vllm, proxy, or a registered backend",
                          batch_help="requests per generate call (default 8)", auto_batch=False)
    parser.add_argument("--backend-option", action="append", default=[], metavar="KEY=VALUE",
                        help="any backend option field (repeatable)")
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1: this machine only)")
    parser.add_argument("--port", type=int, default=8000, help="port (default 8000; 0 = any free port, printed)")
    parser.add_argument("--served-model-name", metavar="NAME", help="the model id clients send (default: --model)")
    parser.add_argument("--max-queue", type=int, default=32, help="waiting generations before 429 (default 32)")
    parser.add_argument("--max-connections", type=int, default=64, help="requests handled at once (default 64)")
    parser.add_argument("--max-body-bytes", type=int, default=1 << 20, help="request size limit (default 1 MiB)")
    parser.add_argument("--max-tokens-limit", type=int, default=2048, help="largest max_tokens accepted (default 2048)")
    parser.add_argument("--default-max-tokens", type=int, default=256,
                        help="max_tokens when a request gives none (default 256)")
    parser.add_argument("--api-key-env", metavar="VAR",
                        help="require 'Authorization: Bearer <key>' with the key read from this environment variable")
    parser.set_defaults(func=_serve)


def _serve(args: argparse.Namespace) -> int:
    import os

    from polyalign.errors import InputError
    from polyalign.serve import ServerLimits, run_server, served_options

    options = backend_options(args)
    if not options.model:
        raise InputError(f"backend {args.backend} needs --model")

    for name in ("batch_size", "max_queue", "max_connections", "max_body_bytes", "max_tokens_limit",
                 "default_max_tokens"):
        if getattr(args, name) < 1:
            raise InputError(f"--{name.replace('_', '-')} must be >= 1")
    if not 0 <= args.port <= 65535:
        raise InputError("--port must be in 0..65535")
    api_key = None
    if args.api_key_env:
        api_key = os.environ.get(args.api_key_env)
        if not api_key:
            raise InputError(f"--api-key-env: environment variable {args.api_key_env} is not set or empty")
    options = served_options(options, args.backend_option)
    limits = ServerLimits(max_body_bytes=args.max_body_bytes, max_connections=args.max_connections,
                          max_tokens_limit=args.max_tokens_limit, default_max_tokens=args.default_max_tokens)
    run_server(args.backend, options, served_name=args.served_model_name, host=args.host, port=args.port,
               max_batch=args.batch_size, max_queue=args.max_queue, limits=limits, api_key=api_key)
    return 0
