"""Fixtures of the sweep tests."""

from __future__ import annotations

import pytest


@pytest.fixture
def offline_one_thread(monkeypatch):
    """Sweeps train and evaluate tiny models: one thread (two spin-wait on a shared 2-core machine), no hub."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    yield
    torch.set_num_threads(threads)
