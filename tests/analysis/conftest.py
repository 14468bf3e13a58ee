"""Fixtures for the analysis tests: the tiny model loaded once, and the `polyalign analyze` command."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from support.cli import run_cli

SAMPLE_PAIRS = Path(__file__).resolve().parents[2] / "src/polyalign/assets/samples/qalign-question-pairs"


def run_analyze(*args: str) -> subprocess.CompletedProcess:
    """`polyalign analyze ARGS` in a fresh interpreter."""
    return run_cli("analyze", *args, env={"TOKENIZERS_PARALLELISM": "false"})


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
