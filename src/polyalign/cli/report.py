"""`polyalign report RUN_DIR`: a self-contained HTML report of any run directory."""

from __future__ import annotations

import argparse
from pathlib import Path

__all__ = ["register", "run_report"]

REPORT_HELP = """\
Turn a run directory into one self-contained HTML file: per-language tables, plots, the resolved
configs and provenance. Styles and figures are embedded (no scripts, nothing fetched), so the file
can be mailed or archived as it is.

What is shown depends on the files found (in RUN_DIR and up to four levels below it; each run folder
becomes a section):
  quickstart  quickstart.json  before/after table per language with Δ, bar chart per metric, steps
  eval        results.json     table per task (languages + averages, response-language columns),
                               example outputs from samples/, provenance, config
  train       run.json         stages, loss curve from <stage>/metrics.jsonl, config (unfinished runs too)
  analysis    figures.json     the figures listed there, alignment.md / language.md / perplexity.md
  scaling     results.csv      sweep results per size, fits.md with fit_<lang>.png, allocation plans
  comparison  comparison.json  systems vs baseline per language: Δ, intervals, tests, bar and Δ charts

examples:
  polyalign report quickstart-out
  polyalign report runs/eval-mgsm --out /tmp/mgsm.html --open
"""


def run_report(args: argparse.Namespace) -> int:
    """Handler of ``polyalign report``."""
    from polyalign.report.build import build_report

    path = build_report(args.run_dir, args.out)
    print(f"wrote {path} ({path.stat().st_size / 1024:.0f} KiB)")
    if args.open:
        import webbrowser

        if not webbrowser.open(path.resolve().as_uri()):
            print(f"could not start a browser; open {path.resolve().as_uri()}")
    return 0


def register(commands: argparse._SubParsersAction) -> None:
    """Add ``report`` to the top-level subparsers."""
    parser = commands.add_parser("report", help="a self-contained HTML report of a run directory",
                                 description=REPORT_HELP, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("run_dir", metavar="RUN_DIR", type=Path,
                        help="a run directory: eval, train, analyze, scaling or quickstart output")
    parser.add_argument("--out", metavar="FILE", type=Path, help="HTML file to write (default: RUN_DIR/report.html)")
    parser.add_argument("--open", action="store_true", help="open the report in the default web browser")
    parser.set_defaults(func=run_report)
