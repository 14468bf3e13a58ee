"""The import table of docs/architecture.md holds for every import in src/polyalign.

The document is the source of truth: each row names a package and what it may import. Every
``import polyalign.X`` (module level, inside functions, under TYPE_CHECKING) and every lazy-registry
target (``"polyalign.x.y:Class"``) is checked against it, and the package graph must have no cycle.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "src" / "polyalign"
DOC = ROOT / "docs" / "architecture.md"
BASE = "base"
_REGISTRY_TARGET = re.compile(r"^(polyalign(?:\.\w+)+):\w+$")


@dataclass(frozen=True)
class Table:
    """The import table: allowed targets and layer per package, and the tolerated exceptions."""

    allowed: dict[str, set[str]]
    layer: dict[str, int]
    exceptions: dict[tuple[str, str], str]
    """(package, imported module) -> why."""


@dataclass(frozen=True)
class Import:
    """One import of a polyalign module by a file of src/polyalign."""

    file: str
    line: int
    source: str
    """Package of the importing file (``base`` for base modules)."""
    module: str
    """The imported module, dotted (``polyalign.eval.backends``)."""
    target: str
    """Package of the imported module."""


def _table_rows(text: str, heading: str) -> list[list[str]]:
    """The body rows of the first Markdown table under ``heading``."""
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.strip("# ").strip() == heading)
    rows: list[list[str]] = []
    for line in lines[start + 1:]:
        if line.startswith("#"):
            break
        if not line.startswith("|"):
            if rows:
                break
            continue
        cells = [c.strip().strip("`") for c in line.strip().strip("|").split("|")]
        if set("".join(cells)) <= set("-: "):
            continue
        rows.append(cells)
    return rows[1:]  # the header row


def parse_table(text: str) -> Table:
    """Read the import table and the exceptions from docs/architecture.md."""
    allowed: dict[str, set[str]] = {}
    layer: dict[str, int] = {}
    for package, level, targets in _table_rows(text, "Import table"):
        allowed[package] = {t.strip() for t in targets.split(",") if t.strip()}
        layer[package] = int(level)
    exceptions = {(package, module): why for package, module, why in _table_rows(text, "Exceptions still in the code")}
    return Table(allowed, layer, exceptions)


def package_of(module: str, src: Path) -> str:
    """``polyalign.eval.runner`` -> ``eval``; a base module (or ``polyalign`` itself) -> ``base``."""
    parts = module.split(".")
    if len(parts) >= 2 and (src / parts[1]).is_dir():
        return parts[1]
    return BASE


def _module_name(path: Path, src: Path) -> str:
    parts = list(path.relative_to(src.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def collect_imports(src: Path) -> list[Import]:
    """Every import of a polyalign module in the tree ``src`` (the ``polyalign`` package folder)."""
    found: list[Import] = []
    for path in sorted(src.rglob("*.py")):
        name = _module_name(path, src)
        package = path.name == "__init__.py"
        source = package_of(name, src)
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in ast.walk(tree):
            modules: list[str] = []
            if isinstance(node, ast.Import):
                modules = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                if node.level:  # relative: resolve against this module's package
                    base = name.split(".") if package else name.split(".")[:-1]
                    base = base[:len(base) - node.level + 1]
                    stem = ".".join(base + ([node.module] if node.module else []))
                else:
                    stem = node.module or ""
                # `from polyalign import eval` names a package; `from polyalign.x import y` the module x
                modules = [f"{stem}.{a.name}" for a in node.names] if stem == "polyalign" else [stem]
            elif isinstance(node, ast.Constant) and isinstance(node.value, str):
                match = _REGISTRY_TARGET.match(node.value)
                modules = [match.group(1)] if match else []
            for module in modules:
                if module == "polyalign" or module.startswith("polyalign."):
                    found.append(Import(str(path.relative_to(src.parent)), getattr(node, "lineno", 0), source,
                                        module, package_of(module, src)))
    return found


def violations(imports: list[Import], table: Table) -> tuple[list[str], set[tuple[str, str]]]:
    """Imports the table forbids (one line each), and the exceptions that were used."""
    bad, used = [], set()
    for imp in imports:
        if imp.target == imp.source or imp.target in table.allowed.get(imp.source, set()):
            continue
        exception = next((key for key in table.exceptions
                          if key[0] == imp.source and (imp.module == key[1] or imp.module.startswith(key[1] + "."))),
                         None)
        if exception:
            used.add(exception)
            continue
        bad.append(f"{imp.file}:{imp.line} imports {imp.module} ({imp.source} -> {imp.target} is not in "
                   f"the import table of docs/architecture.md)")
    return bad, used


def find_cycle(edges: dict[str, set[str]]) -> list[str] | None:
    """A cycle of the directed graph as a list of nodes (first == last), or None."""
    state: dict[str, int] = {}  # 1 = on the current path, 2 = done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(edges.get(node, ())):
            if state.get(nxt) == 1:
                return path[path.index(nxt):] + [nxt]
            if nxt not in state and (cycle := visit(nxt)):
                return cycle
        path.pop()
        state[node] = 2
        return None

    for node in sorted(edges):
        if node not in state and (cycle := visit(node)):
            return cycle
    return None


@pytest.fixture(scope="module")
def table() -> Table:
    return parse_table(DOC.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def imports() -> list[Import]:
    return collect_imports(SRC)


def test_every_package_has_a_row(table: Table) -> None:
    packages = {p.name for p in SRC.iterdir() if (p / "__init__.py").is_file()}
    missing = sorted(packages - set(table.allowed))
    assert not missing, f"packages without a row in docs/architecture.md's import table: {missing}"
    named = {t for targets in table.allowed.values() for t in targets}
    assert named <= set(table.allowed), f"the table allows imports of unknown packages: {named - set(table.allowed)}"
    assert "cli" not in named, "nothing may import cli"


def test_table_points_down_and_has_no_cycle(table: Table) -> None:
    upward = [(p, t) for p, targets in table.allowed.items() for t in targets if table.layer[t] > table.layer[p]]
    assert not upward, f"rows that allow an import from a lower layer to a higher one: {upward}"
    assert find_cycle({p: targets - {p} for p, targets in table.allowed.items()}) is None


def test_design_rules_hold_in_the_table(table: Table) -> None:
    assert "eval" not in table.allowed["train"] and "train" not in table.allowed["eval"]
    for package in ("serve", "judge", "report", "analysis", "infer"):
        assert "eval" not in table.allowed[package], package
    assert table.allowed["report"] == {BASE}, "the report reads run folders through runfiles only"


def test_imports_follow_the_table(imports: list[Import], table: Table) -> None:
    assert imports, "no imports found: is SRC right?"
    bad, used = violations(imports, table)
    assert not bad, "\n".join(bad)
    stale = sorted(set(table.exceptions) - used)
    assert not stale, f"exceptions no longer needed; remove these rows from docs/architecture.md: {stale}"


def test_no_package_cycles(imports: list[Import]) -> None:
    edges: dict[str, set[str]] = {}
    for imp in imports:
        if imp.target != imp.source:
            edges.setdefault(imp.source, set()).add(imp.target)
    assert find_cycle(edges) is None, f"package cycle: {' -> '.join(find_cycle(edges) or [])}"


def test_a_forbidden_import_is_caught(tmp_path: Path, table: Table) -> None:
    """The checker itself: a report module importing eval, or anything importing cli, fails."""
    src = tmp_path / "polyalign"
    for package in ("report", "eval", "cli", "serve"):
        (src / package).mkdir(parents=True)
        (src / package / "__init__.py").write_text("")
    (src / "runfiles.py").write_text("")
    (src / "report" / "page.py").write_text("from polyalign.runfiles import load_json\n"
                                            "def f():\n    from polyalign.eval.runner import run_eval\n")
    (src / "serve" / "app.py").write_text("from ..cli import main\nTARGETS = {'x': 'polyalign.eval.hf:Backend'}\n")
    bad, _ = violations(collect_imports(src), table)
    assert len(bad) == 3, bad
    assert "polyalign/report/page.py:3 imports polyalign.eval.runner (report -> eval" in bad[0]
    assert any("polyalign.cli (serve -> cli" in line for line in bad)
    assert any("polyalign.eval.hf (serve -> eval" in line for line in bad)


def test_a_cycle_is_found() -> None:
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": {"c"}}) is None


def test_every_import_names_a_module_that_exists(imports: list[Import]) -> None:
    """An import inside a function runs only when called: a module moved away must fail here, not there."""
    def found(parts: list[str]) -> bool:
        return SRC.joinpath(*parts).with_suffix(".py").is_file() or SRC.joinpath(*parts).is_dir()

    missing = [f"{imp.file}:{imp.line} imports {imp.module}" for imp in imports
               if (parts := imp.module.split(".")[1:])
               and not (found(parts) or (len(parts) > 1 and SRC.joinpath(*parts[:-1]).with_suffix(".py").is_file())
                        or len(parts) == 1)]  # `from polyalign import name` may name anything in polyalign/__init__
    assert not missing, "\n".join(missing)
