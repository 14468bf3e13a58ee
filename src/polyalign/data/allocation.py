"""Allocation plan files: how many examples each language gets under a data budget.

`polyalign scaling allocate` writes a plan; a `data build` recipe reads it (``allocation.plan``) and
takes, from every source built by the plan's builder, the number of examples the plan gives that
source's language. The file is JSON so that people and other tools can write one by hand:

```json
{"format": "polyalign-allocation/1", "builder": "translation", "unit": "examples",
 "budget": 20000, "allocation": {"de": 12000, "zh": 8000},
 "predicted": {"de": 31.2, "zh": 24.9}, "objective": "sum", "metric": "bleu"}
```
Only ``format``, ``builder``, ``budget`` and ``allocation`` are read by the data builder; anything
else (predictions, the uniform split's predictions, fit details) is carried for reports.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from polyalign import langs
from polyalign.io import read_json
from polyalign.errors import InputError

__all__ = ["PLAN_FORMAT", "AllocationPlan", "read_plan", "write_plan"]

PLAN_FORMAT = "polyalign-allocation/1"


@dataclass
class AllocationPlan:
    """A per-language allocation of a budget of examples."""

    allocation: dict[str, int]
    """Examples per language code; sums to ``budget``."""
    budget: int
    """Total number of examples."""
    builder: str = "translation"
    """The builder whose sources the plan sizes (x-LLaMA allocates translation-task data)."""
    extra: dict[str, Any] = field(default_factory=dict)
    """Everything else in the file (predicted scores, objective, metric), kept for reports."""

    def validate(self, where: str = "allocation plan") -> None:
        for code, count in self.allocation.items():
            langs.get(code)
            if isinstance(count, bool) or not isinstance(count, int) or count < 0:
                raise InputError(f"allocation for {code!r} must be a whole number ≥ 0, got {count!r}", where=where)
        total = sum(self.allocation.values())
        if total != self.budget:
            raise InputError(f"allocations sum to {total}, not to the budget {self.budget}", where=where)


def read_plan(path: str | Path) -> AllocationPlan:
    """Read and check a plan file.

    Raises:
        InputError: missing file, bad JSON, wrong format tag, bad counts or a sum other than the budget.
    """
    path = Path(path)
    data = read_json(path, "allocation plan")
    if not isinstance(data, dict) or data.get("format") != PLAN_FORMAT:
        raise InputError(f"expected a JSON object with \"format\": \"{PLAN_FORMAT}\"", where=str(path))
    for key in ("allocation", "budget"):
        if key not in data:
            raise InputError(f"missing field {key!r}", where=str(path))
    if not isinstance(data["allocation"], dict):
        raise InputError("field 'allocation' must map language codes to counts", where=str(path))
    extra = {k: v for k, v in data.items() if k not in ("format", "allocation", "budget", "builder")}
    plan = AllocationPlan(allocation={langs.get(k).code: v for k, v in data["allocation"].items()},
                          budget=data["budget"], builder=data.get("builder", "translation"), extra=extra)
    plan.validate(str(path))
    return plan


def write_plan(plan: AllocationPlan, path: str | Path) -> Path:
    """Write a plan file (validated first) and return its path."""
    plan.validate()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    body = {"format": PLAN_FORMAT, "builder": plan.builder, "unit": "examples", "budget": plan.budget,
            "allocation": plan.allocation, **plan.extra}
    path.write_text(json.dumps(body, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return path
