"""Every evaluation test runs offline, with no user data folder and an empty data cache."""

from __future__ import annotations

import pytest

from polyalign.eval import programs


@pytest.fixture(autouse=True)
def _offline(monkeypatch, tmp_path):
    # no test may reach the network or read a user's cache or data folder
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("POLYALIGN_DATA_CACHE", str(tmp_path / "empty-cache"))
    monkeypatch.delenv("POLYALIGN_DATA_DIR", raising=False)
    programs.clear_cache()  # program runs are cached per process: one test's runs must not score another's
