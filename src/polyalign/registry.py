"""Lazy registries for open-ended extension points (builders, tasks, metrics, backends).

An entry is a ``"module:attr"`` string imported on first use, so listing what exists costs nothing
and a third-party package can register its own entries without polyalign importing it eagerly.
"""

from __future__ import annotations

import difflib
import importlib
from typing import Generic, Iterator, TypeVar

from polyalign.errors import InputError

__all__ = ["Registry"]

T = TypeVar("T")


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
            close = difflib.get_close_matches(name, list(self._entries), n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise InputError(f"unknown {self.kind} {name!r}{hint}; known: {', '.join(sorted(self._entries))}")
        module, attr = self._entries[name].split(":")
        return getattr(importlib.import_module(module), attr)

    def names(self) -> list[str]:
        return sorted(self._entries)

    def __contains__(self, name: object) -> bool:
        return name in self._entries

    def __iter__(self) -> Iterator[str]:
        return iter(self.names())
