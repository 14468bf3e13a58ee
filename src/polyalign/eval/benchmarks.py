"""The benchmark table, discovered from the benchmark folders: one folder per benchmark.

Each ``<tasks dir>/<name>/benchmark.py`` defines ``BENCHMARK`` (`polyalign.eval.taskspec.Benchmark`)
whose name is the folder's. The tasks dirs are the package's ``eval/tasks`` and, after it, every
folder on ``$POLYALIGN_TASKS_PATH`` (``os.pathsep``-separated) or added with `add_tasks_dir`, so a
benchmark of your own needs no edit inside polyalign. Languages are data (docs/architecture.md, style rule 6; from `polyalign.langs`);
the per-language lm-eval YAMLs are generated from this table (`polyalign.eval.taskgen`).
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import sys
from collections.abc import Iterator, Mapping
from dataclasses import replace
from pathlib import Path

from polyalign.errors import InputError
from polyalign.eval.taskspec import Benchmark, Kind, flores_directions, split_direction
from polyalign.registry import unknown_name

__all__ = ["Benchmark", "BENCHMARKS", "STARTER_LANGS", "Kind", "TASKS_DIR", "TASKS_PATH_ENV", "get_benchmark",
           "flores_directions", "split_direction", "tasks_dirs", "add_tasks_dir"]

TASKS_DIR = Path(__file__).resolve().parent / "tasks"
"""The lm-eval task pack shipped in the package (``lm_eval --include_path`` this folder)."""
TASKS_PATH_ENV = "POLYALIGN_TASKS_PATH"
"""Environment variable: more tasks dirs (benchmark folders of your own), ``os.pathsep``-separated."""

_added: list[Path] = []
_cache: dict[tuple[Path, ...], dict[str, Benchmark]] = {}


def tasks_dirs() -> list[Path]:
    """The folders searched for benchmark folders, in order (the package's first)."""
    extra = [Path(p).expanduser().resolve() for p in os.environ.get(TASKS_PATH_ENV, "").split(os.pathsep) if p]
    dirs = [TASKS_DIR]
    for folder in [*extra, *_added]:
        if folder not in dirs:
            dirs.append(folder)
    return dirs


def add_tasks_dir(path: str | os.PathLike[str]) -> None:
    """Add a folder of benchmark folders for this process (as ``$POLYALIGN_TASKS_PATH`` does)."""
    folder = Path(path).expanduser().resolve()
    if folder not in _added:
        _added.append(folder)


def _load(path: Path) -> Benchmark:
    """Import ``<folder>/benchmark.py`` by path and return its ``BENCHMARK`` with the folder set."""
    # a stable, unique module name per file (two tasks dirs may hold folders of the same name)
    name = f"polyalign_benchmarks.{path.parent.name}_{hashlib.sha1(str(path).encode()).hexdigest()[:10]}"
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses and pickling look modules up by name
    spec.loader.exec_module(module)
    bench = getattr(module, "BENCHMARK", None)
    if not isinstance(bench, Benchmark):
        raise InputError("defines no BENCHMARK = Benchmark(...)", where=str(path))
    if bench.name != path.parent.name:
        raise InputError(f"BENCHMARK is named {bench.name!r} but its folder is {path.parent.name!r}", where=str(path))
    return replace(bench, folder=path.parent)


def _table() -> dict[str, Benchmark]:
    dirs = tuple(tasks_dirs())
    if dirs not in _cache:
        table: dict[str, Benchmark] = {}
        for folder in dirs:
            for path in sorted(folder.glob("*/benchmark.py")):
                bench = _load(path)
                if bench.name in table:
                    raise InputError(f"benchmark {bench.name!r} is defined twice (also in {table[bench.name].folder})",
                                     where=str(path))
                table[bench.name] = bench
        _cache[dirs] = table
    return _cache[dirs]


class _Benchmarks(Mapping[str, Benchmark]):
    """A live view of the discovered table (folders added later are seen)."""

    def __getitem__(self, name: str) -> Benchmark:
        return _table()[name]

    def __iter__(self) -> Iterator[str]:
        return iter(_table())

    def __len__(self) -> int:
        return len(_table())


BENCHMARKS: Mapping[str, Benchmark] = _Benchmarks()
"""All benchmarks by task name."""


def get_benchmark(name: str) -> Benchmark:
    """Look a benchmark up by task name; unknown names raise `InputError` listing the known ones."""
    table = _table()
    if name not in table:
        raise unknown_name("task", name, list(table))
    return table[name]


STARTER_LANGS = get_benchmark("starter").langs
"""Languages of the starter data (`polyalign.assets` starter/): English and eight others in five scripts."""
