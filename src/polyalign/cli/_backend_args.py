"""The backend flags of ``eval``, ``generate``, ``serve`` and ``judge``: one way to add them, one way to read them."""

from __future__ import annotations

import argparse

from polyalign.errors import InputError
from polyalign.infer.backends.options import BackendOptions, ProxyOptions
from polyalign.infer.batching import parse_batch_size

__all__ = ["add_backend_arguments", "backend_options"]


def add_backend_arguments(parser: argparse.ArgumentParser, *, model_help: str, backend_help: str,
                          batch_help: str | None = None, auto_batch: bool = True) -> None:
    """Add --model, --backend, --batch-size, --dtype, --device, --seed and the proxy backend's group.

    ``auto_batch``: ``--batch-size`` defaults to ``auto`` (the widest batches a memory budget allows
    over length-sorted prompts, `polyalign.infer.batching`); False keeps a fixed default of 8 (serve
    batches requests as they arrive).
    """
    parser.add_argument("--model", help=model_help)
    parser.add_argument("--backend", default="hf", help=backend_help)
    if auto_batch:
        parser.add_argument("--batch-size", type=parse_batch_size, default="auto",
                            help=batch_help or "prompts per forward pass, or auto (default)")
    else:
        parser.add_argument("--batch-size", type=int, default=8, help=batch_help or "prompts per forward pass (default 8)")
    parser.add_argument("--dtype", default="auto",
                        help="auto (default: bf16 where the CPU computes it natively, else float32; the checkpoint's "
                             "dtype on GPUs), float32, bfloat16, float16")
    parser.add_argument("--device", default="cpu", help="cpu (default), cuda, auto")
    parser.add_argument("--seed", type=int, default=0)
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


def backend_options(args: argparse.Namespace, *, chat: bool = False, temperature: float = 0.0,
                    top_p: float = 1.0) -> BackendOptions:
    """`BackendOptions` from the flags of `add_backend_arguments`: ``--base`` folded into the model,
    the proxy flags packed into one checked `ProxyOptions`.

    Raises:
        InputError: --base and --model disagree; --base or a proxy flag without --backend proxy; α not
            a finite number; a prompt format that is not plain, chat or a ``{prompt}`` template. (A
            proxy run without its three models is refused by the proxy backend itself, after any
            ``key=value`` backend options have been applied.)
    """
    if args.base and args.backend != "proxy":
        raise InputError(f"--base is for --backend proxy; with --backend {args.backend} use --model")
    if args.base and args.model and args.base != args.model:
        raise InputError(f"--base {args.base!r} and --model {args.model!r} disagree: for --backend proxy both name "
                         "the large base model; give one of them")
    if args.alpha is not None and args.backend != "proxy":
        raise InputError(f"--alpha is for --backend proxy (this run uses {args.backend})")
    model = args.base or args.model
    proxy = ProxyOptions(expert=args.expert, anti_expert=args.anti_expert,
                         alpha=1.0 if args.alpha is None else args.alpha,
                         prompt_formats=(args.base_format, args.expert_format, args.anti_expert_format),
                         small_dtype=args.small_dtype, small_device=args.small_device)
    proxy.check_backend(args.backend)
    return BackendOptions(model=model, batch_size=args.batch_size, dtype=args.dtype, device=args.device,
                          seed=args.seed, chat=chat, temperature=temperature, top_p=top_p, proxy=proxy)
