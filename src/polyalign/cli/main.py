"""`polyalign` entry point: parses arguments, dispatches, and maps errors to exit codes.

Exit codes (docs/architecture.md): 0 success; 2 bad input or usage, with one line on stderr naming the file,
line or field and what was expected; 1 unexpected internal error (with a traceback).
"""

from __future__ import annotations

import argparse
import logging
import sys
import traceback
from typing import Sequence

from polyalign import __version__
from polyalign.cli import analyze as analyze_cmd
from polyalign.cli import compare as compare_cmd
from polyalign.cli import data as data_cmd
from polyalign.cli import doctor as doctor_cmd
from polyalign.cli import eval as eval_cmd
from polyalign.cli import experiment as experiment_cmd
from polyalign.cli import generate as generate_cmd
from polyalign.cli import judge as judge_cmd
from polyalign.cli import models as models_cmd
from polyalign.cli import plan as plan_cmd
from polyalign.cli import quickstart as quickstart_cmd
from polyalign.cli import report as report_cmd
from polyalign.cli import scaling as scaling_cmd
from polyalign.cli import serve as serve_cmd
from polyalign.cli import train as train_cmd
from polyalign.cli import vocab as vocab_cmd
from polyalign.errors import InputError

EXIT_OK, EXIT_INTERNAL, EXIT_INPUT = 0, 1, 2


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="polyalign",
        description="Make an English-centric LLM good in other languages: build training mixtures, "
                    "train, evaluate and analyse (x-LLaMA, LLaMA-beyond-English, QAlign).",
        epilog="Run 'polyalign COMMAND --help' for the options of each command.",
    )
    parser.add_argument("--version", action="version", version=f"polyalign {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug messages")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    quickstart_cmd.register(commands)
    data_cmd.register(commands)
    models_cmd.register(commands)
    vocab_cmd.register(commands)
    scaling_cmd.register(commands)
    plan_cmd.register(commands)
    train_cmd.register(commands)
    eval_cmd.register(commands)
    compare_cmd.register(commands)
    generate_cmd.register(commands)
    serve_cmd.register(commands)
    judge_cmd.register(commands)
    analyze_cmd.register(commands)
    report_cmd.register(commands)
    experiment_cmd.register(commands)
    doctor_cmd.register(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO,
                        format="%(levelname)s %(name)s: %(message)s")
    try:
        return int(args.func(args) or EXIT_OK)
    except InputError as err:
        print(f"polyalign: error: {err}", file=sys.stderr)
        return EXIT_INPUT
    except KeyboardInterrupt:
        print("polyalign: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return EXIT_OK
    except Exception:  # noqa: BLE001 - the last line of defence: report and exit 1
        traceback.print_exc()
        print("polyalign: internal error (the traceback above is a bug report: please file it)", file=sys.stderr)
        return EXIT_INTERNAL


if __name__ == "__main__":
    sys.exit(main())
