"""Shared fixtures."""

from __future__ import annotations

from pathlib import Path

import pytest
from support.cli import SHARED_DATA


@pytest.fixture
def shared_data() -> Path:
    """../shared/data, or a skip when this checkout has none beside it (a user's fresh clone)."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"real data not found at {SHARED_DATA}")
    return SHARED_DATA


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory) -> str:
    """A tiny random Llama + trained byte-level BPE tokenizer + ChatML template, built once per session.

    Read-only: tests that change a model write to their own output folder.
    """
    from polyalign.models.tiny import build_tiny_llama

    return str(build_tiny_llama(tmp_path_factory.mktemp("tiny") / "model"))
