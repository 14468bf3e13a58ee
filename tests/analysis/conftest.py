"""Fixtures for the analysis tests: the tiny model loaded once, and the `polyalign analyze` command."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

SAMPLE_PAIRS = Path(__file__).resolve().parents[2] / "src/polyalign/assets/samples/qalign-question-pairs"

# Runs the real `polyalign` entry point; registers `analyze` only if cli/main.py does not yet.
_ENTRY = (
    "import argparse, sys\n"
    "from polyalign.cli import analyze, main as m\n"
    "build = m.build_parser\n"
    "def parser():\n"
    "    p = build()\n"
    "    sub = next(a for a in p._actions if isinstance(a, argparse._SubParsersAction))\n"
    "    if 'analyze' not in sub.choices:\n"
    "        analyze.register(sub)\n"
    "    return p\n"
    "m.build_parser = parser\n"
    "sys.exit(m.main(sys.argv[1:]))\n"
)


def run_analyze(*args: str) -> subprocess.CompletedProcess:
    """`polyalign analyze ARGS` in a fresh interpreter."""
    return subprocess.run([sys.executable, "-c", _ENTRY, "analyze", *args], capture_output=True, text=True,
                          env={**os.environ, "TOKENIZERS_PARALLELISM": "false"}, timeout=600)


@pytest.fixture(scope="session")
def tiny(tiny_model):
    """(model, tokenizer) of the session's tiny model, loaded once."""
    from polyalign.models.loading import load_model, load_tokenizer

    return load_model(tiny_model), load_tokenizer(tiny_model)


@pytest.fixture
def cli():
    """The `polyalign analyze` command (see `run_analyze`)."""
    return run_analyze


@pytest.fixture
def sample_pairs() -> Path:
    """The packaged QAlign-layout sample (12 pairs each of de, es, fr, ja, ru, zh with en)."""
    return SAMPLE_PAIRS
