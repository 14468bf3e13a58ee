"""`polyalign quickstart`: the CPU QAlign experiment — does reasoning taught in English reach other languages?"""

from __future__ import annotations

import argparse

from polyalign.quickstart.plan import DEFAULT_BUDGET_MINUTES, DEFAULT_MODEL, FULL_BUDGET_MINUTES

__all__ = ["register"]

_HELP = f"""\
Run the CPU QAlign experiment (qalign-smollm2) on an English-centric model and write an HTML report:
three arms on polyalign's arith task (one- and two-step word problems, parallel in English and the
chosen languages): the base model; MonoReason (LoRA on English chains of thought); QAlign (LoRA on
X→English question translation first, then the same English chains of thought). No GPU and no hub
access needed: the default model ({DEFAULT_MODEL}) comes from PyPI, converted once into the cache.

Printed and reported, per language: each arm's accuracy with a 95% bootstrap CI, QAlign − MonoReason
(Δ, CI, exact McNemar p), each arm's gap to English (paired items, CI) and the share of answers in
English (QAlign answers in English by design). A second panel compares the base model with QAlign's
stage-I model on what stage I trains: chrF++ of X→English question translation, the reference
question's log-likelihood, translations in English, and layer-wise retrieval of the parallel question.

Rerunning the same command resumes an interrupted run. The run is sized to --budget-minutes
(default {DEFAULT_BUDGET_MINUTES:g}; --full: {FULL_BUDGET_MINUTES:g}) on this machine: a ~20-second probe of
the model's generation speed scales the data sizes (recorded in quickstart.json and the report);
--no-calibrate uses the reference sizes instead, the same on every machine.

examples:
  polyalign quickstart
  polyalign quickstart --langs de,zh,sw --budget-minutes 5 --out qs-small
  polyalign quickstart --full --out qs-full
  polyalign report quickstart-out           # rebuild the HTML report
"""


def register(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser("quickstart", help="base vs MonoReason vs QAlign on an English-centric model, one command",
                                 description=_HELP, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default=DEFAULT_MODEL, help="zoo name, local folder or hub id with a chat "
                        "template (default: %(default)s)")
    parser.add_argument("--langs", help="languages besides English, from de,fr,es,ru,zh,ja,sw,th (default: all eight)")
    parser.add_argument("--out", default="quickstart-out", help="output folder (default: %(default)s)")
    parser.add_argument("--budget-minutes", type=float, default=None,
                        help=f"time budget; scales the data sizes (default: {DEFAULT_BUDGET_MINUTES:g})")
    parser.add_argument("--full", action="store_true",
                        help=f"larger sizes: a {FULL_BUDGET_MINUTES:g}-minute budget (unless --budget-minutes)")
    parser.add_argument("--no-calibrate", action="store_true",
                        help="do not scale the sizes by this machine's measured speed (the reference sizes)")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    parser.set_defaults(func=_quickstart)


def _quickstart(args: argparse.Namespace) -> int:
    from pathlib import Path

    from polyalign.quickstart.pipeline import run_quickstart
    from polyalign.quickstart.plan import QuickstartConfig
    from polyalign.quickstart.table import before_after_table, three_arm_table

    budget = args.budget_minutes if args.budget_minutes is not None else (
        FULL_BUDGET_MINUTES if args.full else DEFAULT_BUDGET_MINUTES)
    cfg = QuickstartConfig(out=args.out, model=args.model, budget_minutes=budget, calibrate=not args.no_calibrate)
    if args.langs:
        cfg.langs = [x.strip() for x in args.langs.split(",") if x.strip()]
    state = run_quickstart(cfg, progress=False if args.no_progress else None)
    print("\nStage-I panel, base → QAlign's stage-I model (held-apart starter questions):\n")
    print(before_after_table(state))
    print("\nBase vs MonoReason vs QAlign on held-out arith problems (QAlign answers in English by design):\n")
    print(three_arm_table(state))
    seconds = sum(step.get("seconds", 0) for step in state["steps"].values())
    print("steps: " + ", ".join(f"{k} {v['seconds']:.0f}s" for k, v in state["steps"].items())
          + f" (total {seconds / 60:.1f} min)")
    if state.get("report"):
        print(f"report: {state['report']}")
    print(f"sizes per language: {state['sizes']}")
    print(f"all outputs: {Path(args.out)}")
    return 0
