"""`polyalign compare RUN [RUN...] --baseline RUN`: is a system's difference from a baseline real?"""

from __future__ import annotations

import argparse
from pathlib import Path

__all__ = ["register", "run_compare"]

COMPARE_HELP = """\
Compare evaluation runs (output folders of `polyalign eval`) against a baseline run, item by item.
Items are paired by id; the runs must have scored the same items with the same prompts, protocol,
task versions and scorer settings (else exit 2 naming the difference).

For every task x language x metric, and for the averages over languages (avg, avg_no_en, and
avg_paper where results.json defines the paper's set), each system gets: its score with a 95%
bootstrap interval, delta = system - baseline with a paired-bootstrap 95% percentile interval,
relative gain = delta / baseline score (how the papers state "+27.83% relative"), and the p-value of
a paired test: exact McNemar for 0/1 metrics (accuracy, exact match, ...), sacrebleu's paired
bootstrap for corpus metrics (BLEU, chrF++, spBLEU), a two-sided paired bootstrap for other metrics
and for averages. See docs/compare.md.

Writes OUT/comparison.json, OUT/comparison.md and OUT/comparison.csv and prints the Markdown;
`polyalign report OUT` draws it (grouped bars with intervals, and a delta chart).

examples:
  polyalign compare runs/x-llama-de --baseline runs/alpaca-en --out runs/cmp
  polyalign compare runs/qalign runs/monoreason --baseline runs/base --metric acc --seed 1 --resamples 5000
"""


def _names(paths: list[Path]) -> list[str]:
    """A short unique name per run folder: its folder name, or more of its path when names repeat."""
    parts = [p.resolve().parts for p in paths]
    for depth in range(1, max(len(p) for p in parts) + 1):
        names = ["/".join(p[-depth:]) for p in parts]
        if len(set(names)) == len(names):
            return names
    return [str(p) for p in paths]


def run_compare(args: argparse.Namespace) -> int:
    """Handler of ``polyalign compare``."""
    from polyalign.experiments.compare import compare_runs
    from polyalign.experiments.tables import to_markdown

    paths = [args.baseline] + [p for p in args.runs if p.resolve() != args.baseline.resolve()]
    names = _names(paths)
    metrics = [m.strip() for item in args.metric or [] for m in item.split(",") if m.strip()] or None
    comparison = compare_runs(dict(zip(names, paths)), names[0], metrics, args.out, seed=args.seed,
                              resamples=args.resamples, protocol=args.protocol)
    print(to_markdown(comparison))
    print(f"wrote {args.out / 'comparison.json'} (+ comparison.md, comparison.csv)")
    return 0


def register(commands: argparse._SubParsersAction) -> None:
    """Add ``compare`` to the top-level subparsers."""
    parser = commands.add_parser("compare", help="compare eval runs against a baseline (paired CIs and tests)",
                                 description=COMPARE_HELP, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("runs", metavar="RUN", type=Path, nargs="+", help="eval output folders of the systems")
    parser.add_argument("--baseline", metavar="RUN", type=Path, required=True,
                        help="eval output folder of the baseline (may also be listed among the RUNs)")
    parser.add_argument("--metric", metavar="M", nargs="+", action="extend",
                        help="metrics to compare (default: all the runs report; COMET is not compared)")
    parser.add_argument("--out", metavar="DIR", type=Path, default=Path("comparison"),
                        help="folder for comparison.json/.md/.csv (default: ./comparison)")
    parser.add_argument("--protocol", choices=("paper", "polyalign"),
                        help="require the runs to be scored under this protocol (default: any, but the same)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the bootstrap draws (default: 0)")
    parser.add_argument("--resamples", type=int, default=2000,
                        help="bootstrap resamples of items, at least 2000 (default: 2000)")
    parser.set_defaults(func=run_compare)
