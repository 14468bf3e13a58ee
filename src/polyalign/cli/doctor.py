"""`polyalign doctor`: what this machine can run, and the fix for each missing piece."""

from __future__ import annotations

import argparse
import json

from polyalign.scaleout.doctor import run_checks

DOCTOR_HELP = """\
Check what this machine can run: the torch build (CPU, CUDA, ROCm), visible GPUs and bf16 support,
native bf16 on the CPU (AVX512_BF16 or AMX), flash-attn, vllm, deepspeed, comet, and a browser for
the report checks. Each missing piece comes with its fix. Changes nothing; always exits 0.

examples:
  polyalign doctor
  polyalign doctor --json
"""


def register(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser("doctor", help="what this machine can run (GPUs, bf16, optional engines)",
                                 description=DOCTOR_HELP, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--json", action="store_true", help="print the checks as JSON")
    parser.set_defaults(func=_doctor)


def _doctor(args: argparse.Namespace) -> int:
    checks = run_checks()
    if args.json:
        print(json.dumps({"checks": [c.as_dict() for c in checks]}, indent=2))
        return 0
    width = max(len(c.name) for c in checks)
    for check in checks:
        print(f"{'ok ' if check.ok else ' - '} {check.name:{width}}  {check.detail}")
        if check.fix:
            print(f"    {'':{width}}  fix: {check.fix}")
    return 0
