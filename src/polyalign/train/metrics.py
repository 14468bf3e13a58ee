"""Run metrics: one JSON line per logged step, optionally mirrored to TensorBoard and W&B.

Each line of ``<stage>/metrics.jsonl`` has ``stage``, ``step``, ``epoch`` (fractional), ``loss`` (mean
over the step's target tokens), ``lr``, ``grad_norm``, ``tokens`` (real tokens in the step),
``tokens_per_s``, ``padding_waste`` (share of computed positions that were padding: near 0 for
packed batches), ``examples`` and ``elapsed_s``; evaluation lines carry ``eval_loss`` and ``eval_tokens``.
TensorBoard and W&B are imported only when asked for, with a clear error when they are missing.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from polyalign.errors import InputError

__all__ = ["MetricsLog", "check_reporters", "read_metrics"]

_INSTALL = "install it (pip install 'polyalign[log]') or remove it from report_to"


def check_reporters(report_to: list[str]) -> None:
    """Fail early, before any model is loaded, when a requested logger is not installed."""
    for name in report_to:
        try:
            if name == "tensorboard":
                import tensorboard  # noqa: F401
            elif name == "wandb":
                import wandb  # noqa: F401
        except ImportError:
            raise InputError(f"report_to: {name} is not installed; {_INSTALL}") from None


class MetricsLog:
    """Appends metric records to a JSONL file (main process only) and to the requested loggers."""

    def __init__(self, path: str | Path, *, report_to: list[str], run_dir: str | Path, run_name: str,
                 config: dict[str, Any], enabled: bool, truncate_after: int | None = None) -> None:
        """Open the log.

        Args:
            path: the JSONL file (appended to).
            report_to: extra loggers: "tensorboard", "wandb".
            run_dir: folder for the loggers' own files.
            run_name: name shown by the loggers.
            config: the resolved recipe, recorded by W&B.
            enabled: False on processes other than the main one (they log nothing).
            truncate_after: on resume, drop lines of steps after this one (they are redone).
        """
        self.path = Path(path)
        self.enabled = enabled
        self._writers: list[Any] = []
        if not enabled:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        if truncate_after is not None and self.path.exists():
            kept = [line for line in self.path.read_text(encoding="utf-8").splitlines()
                    if line.strip() and json.loads(line).get("step", 0) <= truncate_after]
            self.path.write_text("".join(f"{line}\n" for line in kept), encoding="utf-8")
        if "tensorboard" in report_to:
            from torch.utils.tensorboard import SummaryWriter

            self._writers.append(("tensorboard", SummaryWriter(log_dir=str(Path(run_dir) / "tensorboard" / run_name))))
        if "wandb" in report_to:
            import wandb

            self._writers.append(("wandb", wandb.init(name=run_name, config=config, dir=str(run_dir), reinit=True)))

    def log(self, record: dict[str, Any]) -> None:
        """Write one record (numbers are rounded for readability; NaN/inf become null in JSON)."""
        if not self.enabled:
            return
        clean = {k: _clean(v) for k, v in record.items()}
        with self.path.open("a", encoding="utf-8") as handle:
            handle.write(json.dumps(clean, ensure_ascii=False) + "\n")
        step = int(record.get("step", 0))
        numbers = {k: v for k, v in clean.items() if isinstance(v, (int, float)) and k != "step"}
        prefix = str(record.get("stage", ""))
        for kind, writer in self._writers:
            if kind == "tensorboard":
                for key, value in numbers.items():
                    writer.add_scalar(f"{prefix}/{key}", value, step)
            else:
                writer.log({f"{prefix}/{k}": v for k, v in numbers.items()}, step=step)

    def close(self) -> None:
        """Flush and close the loggers."""
        for kind, writer in self._writers:
            writer.close() if kind == "tensorboard" else writer.finish()
        self._writers = []


def read_metrics(path: str | Path) -> list[dict[str, Any]]:
    """All records of a metrics JSONL file."""
    return [json.loads(line) for line in Path(path).read_text(encoding="utf-8").splitlines() if line.strip()]


def _clean(value: Any) -> Any:
    if isinstance(value, float):
        return round(value, 8) if math.isfinite(value) else None
    return value
