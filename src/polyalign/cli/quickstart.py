"""`polyalign quickstart`: the whole idea on a laptop — measure, align (QAlign stage I), measure again."""

from __future__ import annotations

import argparse

from polyalign.quickstart.plan import DEFAULT_BUDGET_MINUTES, DEFAULT_MODEL

__all__ = ["register"]

_HELP = f"""\
Measure an English-centric model in other languages, align it with QAlign stage I (LoRA on
X→English question translation of the starter data shipped with polyalign), measure again, and
write an HTML report. No GPU and no hub access needed: the default model ({DEFAULT_MODEL}) comes
from PyPI and is converted once into the cache.

Measured on held-apart starter questions, per language, before and after:
  chrF++ of X→English question translation (what stage I trains), the log-likelihood of the
  reference English question, the share of translations in English, retrieval of the parallel
  English question from hidden states (centred, mean over layers), the share of answers in the
  question's language, and math accuracy (reported, not expected to move at 135M parameters).

Rerunning the same command resumes an interrupted run. The run is sized to --budget-minutes
(default {DEFAULT_BUDGET_MINUTES:g}) on this machine: a ~20-second probe of the model's generation
speed scales the number of questions per language (recorded in quickstart.json and the report);
--no-calibrate uses the reference sizes instead, the same on every machine.

examples:
  polyalign quickstart
  polyalign quickstart --langs de,zh,sw --budget-minutes 5 --out qs-small
  polyalign report quickstart-out           # rebuild the HTML report
"""


def register(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser("quickstart", help="measure → align → measure an English-centric model, one command",
                                 description=_HELP, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default=DEFAULT_MODEL, help="zoo name, local folder or hub id with a chat "
                        "template (default: %(default)s)")
    parser.add_argument("--langs", help="languages to align, from de,fr,es,ru,zh,ja,sw,th (default: all eight)")
    parser.add_argument("--out", default="quickstart-out", help="output folder (default: %(default)s)")
    parser.add_argument("--budget-minutes", type=float, default=DEFAULT_BUDGET_MINUTES,
                        help="time budget; scales the data sizes (default: %(default)g)")
    parser.add_argument("--no-calibrate", action="store_true",
                        help="do not scale the sizes by this machine's measured speed (the reference sizes)")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    parser.set_defaults(func=_quickstart)


def _quickstart(args: argparse.Namespace) -> int:
    from pathlib import Path

    from polyalign.quickstart.pipeline import run_quickstart
    from polyalign.quickstart.plan import QuickstartConfig
    from polyalign.quickstart.table import before_after_table

    cfg = QuickstartConfig(out=args.out, model=args.model, budget_minutes=args.budget_minutes,
                           calibrate=not args.no_calibrate)
    if args.langs:
        cfg.langs = [x.strip() for x in args.langs.split(",") if x.strip()]
    state = run_quickstart(cfg, progress=False if args.no_progress else None)
    print("\nBefore → after QAlign stage I (held-apart starter questions):\n")
    print(before_after_table(state))
    seconds = sum(step.get("seconds", 0) for step in state["steps"].values())
    print("steps: " + ", ".join(f"{k} {v['seconds']:.0f}s" for k, v in state["steps"].items())
          + f" (total {seconds / 60:.1f} min)")
    if state.get("report"):
        print(f"report: {state['report']}")
    print(f"all outputs: {Path(args.out)}")
    return 0
