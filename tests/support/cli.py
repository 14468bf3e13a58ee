"""Running the real `polyalign` command in tests, and where the shared benchmark data lives."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

SHARED_DATA = Path(__file__).resolve().parents[3] / "shared" / "data"  # ../shared/data beside the checkout


def run_cli(*args: str, cwd: Path | None = None, env: dict[str, str] | None = None,
            timeout: float = 600) -> subprocess.CompletedProcess:
    """Run `polyalign ARGS` in a fresh interpreter, as a user would."""
    return subprocess.run([sys.executable, "-m", "polyalign.cli.main", *args], cwd=cwd, capture_output=True,
                          text=True, env={**os.environ, **(env or {})}, timeout=timeout)
