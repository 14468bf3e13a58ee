"""Where the backends live: inference, which serve, judge and ``polyalign generate`` use without eval.

Reads every import statement (function-level ones too, so a lazy import cannot hide an arrow).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import polyalign

SRC = Path(polyalign.__file__).parent


def _imports(path: Path) -> set[str]:
    """Modules ``path`` imports, absolute (relative imports resolved)."""
    package = ".".join(path.relative_to(SRC.parent).with_suffix("").parts[:-1])
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*parts, base] if base else parts)
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)
    return found


def _files(*parts: str) -> list[Path]:
    root = SRC.joinpath(*parts)
    return sorted(root.rglob("*.py")) if root.is_dir() else [root.with_suffix(".py")]


@pytest.mark.parametrize("where", [("infer",), ("serve",), ("judge",), ("cli", "generate"), ("cli", "serve"),
                                   ("cli", "_backend_args")])
def test_no_import_of_eval(where):
    offenders = {str(f.relative_to(SRC)): sorted(m for m in _imports(f) if m.startswith("polyalign.eval"))
                 for f in _files(*where)}
    assert not {f: m for f, m in offenders.items() if m}


@pytest.mark.parametrize("where", [("cli", "generate"), ("cli", "serve"), ("cli", "judge")])
def test_commands_share_the_backend_flags_not_each_other(where):
    (path,) = _files(*where)
    assert "polyalign.cli.eval" not in _imports(path) and "polyalign.cli._backend_args" in _imports(path)


@pytest.mark.parametrize("low,high", [("models/zoo.py", "polyalign.models.loading"),
                                      ("models/checkpoint.py", "polyalign.models.loading"),
                                      ("models/checkpoint.py", "polyalign.models.zoo"),
                                      ("serve/server.py", "polyalign.serve._handler")])
def test_former_cycles_stay_broken(low, high):
    assert high not in _imports(SRC / low)
