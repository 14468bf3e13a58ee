"""`polyalign data build|inspect` (filled in below)."""

from __future__ import annotations

import argparse


def register(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser("data", help="build and inspect training mixtures")
    parser.set_defaults(func=lambda args: parser.print_help())
