"""Lazy registries for open-ended extension points (builders, tasks, metrics, backends).

An entry is a ``"module:attr"`` string imported on first use, so listing what exists costs nothing
and a third-party package can register its own entries without polyalign importing it eagerly.
"""

from __future__ import annotations

import difflib
import importlib
from typing import Generic, Iterator, TypeVar

from polyalign.errors import InputError

__all__ = ["Registry", "unknown_name"]

T = TypeVar("T")


def unknown_name(kind: str, name: str, known: list[str], where: str = "") -> InputError:
    """The error for a name that is not one of ``known``: a did-you-mean hint and the known names."""
    close = difflib.get_close_matches(name, known, n=1)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    return InputError(f"unknown {kind} {name!r}{hint}; known: {', '.join(known)}{where}")


class Registry(Generic[T]):
    """A named set of lazily imported objects."""

    def __init__(self, kind: str, entries: dict[str, str] | None = None) -> None:
        self.kind = kind
        self._entries: dict[str, str] = dict(entries or {})

    def register(self, name: str, target: str) -> None:
        """Add ``name`` → ``"package.module:attr"``; re-registering a name replaces it."""
        if ":" not in target:
            raise ValueError(f"registry target must look like 'module:attr', got {target!r}")
        self._entries[name] = target

    def get(self, name: str) -> T:
        """Import and return the entry, or raise `InputError` listing the known names."""
        if name not in self._entries:
            raise unknown_name(self.kind, name, self.names())
        module, attr = self._entries[name].split(":")
        return getattr(importlib.import_module(module), attr)

    def names(self) -> list[str]:
        return sorted(self._entries)

    def __contains__(self, name: object) -> bool:
        return name in self._entries

    def __iter__(self) -> Iterator[str]:
        return iter(self.names())
