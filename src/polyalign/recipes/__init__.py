"""Shipped recipes (YAML), one folder per command: ``data/`` for `polyalign data build`, ….

They live inside the package so that an installed polyalign has them and commands accept a bare
name (``polyalign data build qalign-stage1``) as well as a path. Each recipe quotes the paper
setting it reproduces in its opening comment.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from polyalign.errors import InputError

__all__ = ["find_recipe", "list_recipes", "recipe_table"]


def _folder(kind: str) -> Path:
    return Path(str(resources.files("polyalign.recipes"))) / kind


def list_recipes(kind: str) -> list[tuple[str, str]]:
    """``(name, summary)`` of the shipped recipes of a kind; the summary is the first comment line."""
    found = []
    for path in sorted(_folder(kind).glob("*.yaml")):
        first = path.read_text(encoding="utf-8").splitlines()[0] if path.stat().st_size else ""
        found.append((path.stem, first.lstrip("# ").strip()))
    return found


def recipe_table(kind: str) -> str:
    """The shipped recipes of a kind as aligned ``name  summary`` lines (``--list`` output)."""
    found = list_recipes(kind)
    width = max((len(name) for name, _ in found), default=0)
    return "\n".join(f"{name:{width}}  {summary}" for name, summary in found)


def find_recipe(name_or_path: str, kind: str) -> Path:
    """A recipe file: an existing path, or the name of a shipped recipe of this kind."""
    path = Path(name_or_path)
    if path.exists():
        return path
    shipped = _folder(kind) / f"{name_or_path}.yaml"
    if "/" not in name_or_path and shipped.exists():
        return shipped
    names = ", ".join(name for name, _ in list_recipes(kind)) or "none"
    raise InputError(f"no such recipe file, and no shipped {kind} recipe of that name (shipped: {names})",
                     where=name_or_path)
