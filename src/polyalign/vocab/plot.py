"""Bar plots of tokenizer statistics: one group of bars per language, one bar per tokenizer."""

from __future__ import annotations

from pathlib import Path
from typing import Any

__all__ = ["plot_reports"]

_PANELS = (
    ("chars_per_token", "characters per token", "higher = more text per token"),
    ("byte_fallback_share", "byte-fallback share", "share of tokens that are raw bytes"),
)


def plot_reports(reports: list[dict[str, Any]], path: str | Path, *, title: str = "Tokenizer efficiency") -> Path:
    """Write a PNG with two panels (characters per token; byte-fallback share) for `tokenizer_report` outputs.

    Args:
        reports: outputs of `polyalign.vocab.stats.tokenizer_report` (one per tokenizer).
        path: the PNG to write (folders created).
        title: the figure title.

    Returns:
        The PNG's path.
    """
    import matplotlib

    matplotlib.use("Agg")  # no display on servers and in tests
    import matplotlib.pyplot as plt

    languages: list[str] = []
    for report in reports:
        languages += [lang for lang in report["languages"] if lang not in languages]
    width = 0.8 / max(1, len(reports))
    fig, axes = plt.subplots(1, len(_PANELS), figsize=(max(6.0, 1.2 * len(languages) * len(_PANELS) + 3), 4.2))
    for ax, (metric, label, hint) in zip(axes, _PANELS):
        for k, report in enumerate(reports):
            xs = [i + (k - (len(reports) - 1) / 2) * width for i in range(len(languages))]
            values = [report["languages"].get(lang, {}).get(metric, 0.0) for lang in languages]
            bars = ax.bar(xs, values, width, label=report["tokenizer"])
            ax.bar_label(bars, fmt="%.2f", fontsize=7, padding=1)
        ax.set_xticks(range(len(languages)), languages)
        ax.set_xlabel("language")
        ax.set_ylabel(label)
        ax.set_title(f"{label} ({hint})", fontsize=9)
        ax.legend(fontsize=7)
    fig.suptitle(title)
    fig.tight_layout()
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=110)
    plt.close(fig)
    return out
