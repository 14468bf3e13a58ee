"""`polyalign experiment run|status|list`: arms × an eval suite → runs → comparisons and a report."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

__all__ = ["register"]

EXPERIMENT_HELP = """\
Run a whole comparison from one file: the arms (an existing model; a train recipe with overrides; a
vocabulary extension then training; proxy-tuning over other arms), the eval suite every arm is
measured on, optional judge scoring, and the comparisons (baseline + systems + metrics).

'run' executes what is missing in dependency order behind one progress bar and ends with the
comparisons and OUT/report.html. Arms are fingerprinted by their recipes and data: finished arms are
reused; an arm whose recipe or data changed is refused unless --rerun. An interrupted or failed run
resumes where it stopped when run again (training from its last checkpoint, evaluation from its samples).

Output: OUT/<arm>/{data,vocab,train,eval,judge}/, OUT/experiment.json (state), OUT/comparison.json
(the first comparison; others in OUT/comparisons/<name>/) and OUT/report.html.

FILE|NAME is an experiment file or the name of a shipped one ('experiment list'); fields can be
overridden after it as key.sub=value (vars.data_root=/data, suite.limit=20).

examples:
  polyalign experiment list
  polyalign experiment run qalign-smollm2 --dry-run
  polyalign experiment run qalign-smollm2
  polyalign experiment run my-experiment.yaml --only qalign vars.data_root=../shared/data
  polyalign experiment status qalign-smollm2
"""


def _load(args: argparse.Namespace):  # noqa: ANN202 - (ExperimentConfig, Path)
    from polyalign.experiments.spec import load_experiment

    cfg, path = load_experiment(args.experiment, args.overrides)
    out = Path(args.out or cfg.out)
    return cfg, out


def _only(value: str | None) -> list[str] | None:
    return [v.strip() for v in value.split(",") if v.strip()] if value else None


def _run(args: argparse.Namespace) -> int:
    from polyalign.experiments.plan import format_plan, make_plan

    cfg, out = _load(args)
    if args.dry_run:
        print(format_plan(cfg, make_plan(cfg, out, only=_only(args.only), costs=True), out))
        return 0
    from transformers.utils import logging as hf_logging

    from polyalign.experiments.runner import run_experiment

    hf_logging.disable_progress_bar()
    state = run_experiment(cfg, out, only=_only(args.only), rerun=args.rerun,
                           progress=False if args.no_progress else None)
    for name, path in state.get("comparisons", {}).items():
        print(f"comparison {name}: {path}")
        print(_summary(Path(path)))
    print(f"report: {state['report']}")
    return 0


def _summary(path: Path) -> str:
    """The comparison's average rows (all rows when it has no averages) as a short table."""
    document = json.loads(path.read_text(encoding="utf-8"))
    rows = [r for r in document.get("rows", []) if r.get("lang") == "avg"] or document.get("rows", [])
    lines = [f"{'task':<10}{'lang':<10}{'metric':<10}{'system':<16}{'score':>8}{'Δ':>8}  95% CI of Δ      p"]
    for row in rows:
        def num(key: str) -> str:
            return "-" if row.get(key) is None else f"{row[key]:.3f}"
        lines.append(f"{row['task']:<10}{row['lang']:<10}{row['metric']:<10}{row['system']:<16}{num('score'):>8}"
                     f"{num('delta'):>8}  [{num('ci_low')}, {num('ci_high')}]  {num('p_value')}")
    return "\n".join(lines)


def _status(args: argparse.Namespace) -> int:
    from polyalign.experiments.plan import format_plan, make_plan, read_state

    cfg, out = _load(args)
    print(format_plan(cfg, make_plan(cfg, out), out))
    state = read_state(out)
    for arm, steps in state.get("arms", {}).items():
        for kind, entry in steps.items():
            if entry.get("status") == "failed":
                print(f"failed: {arm} ({kind}): {entry.get('error')}")
    for name, path in state.get("comparisons", {}).items():
        print(f"comparison {name}: {path}")
    return 0


def _list(args: argparse.Namespace) -> int:
    from polyalign.experiments.spec import list_experiments

    found = list_experiments()
    width = max((len(name) for name, _ in found), default=0)
    print("\n".join(f"{name:{width}}  {summary}" for name, summary in found))
    return 0


def register(commands: argparse._SubParsersAction) -> None:
    """Add ``experiment`` with ``run``, ``status`` and ``list``."""
    raw = argparse.RawDescriptionHelpFormatter
    parser = commands.add_parser("experiment", help="run an experiment file: arms × eval suite → comparison + report",
                                 description=EXPERIMENT_HELP, formatter_class=raw)
    sub = parser.add_subparsers(dest="experiment_command", metavar="SUBCOMMAND", required=True)
    run = sub.add_parser("run", help="run what is missing (or print the plan with --dry-run)",
                         description=EXPERIMENT_HELP, formatter_class=raw)
    status = sub.add_parser("status", help="what is done, changed or still to run", description=EXPERIMENT_HELP,
                            formatter_class=raw)
    for p in (run, status):
        p.add_argument("experiment", metavar="FILE|NAME", help="experiment file or shipped experiment name")
        p.add_argument("overrides", nargs="*", metavar="KEY=VALUE", help="fields to override")
        p.add_argument("--out", metavar="DIR", help="output folder (default: the file's out)")
    run.add_argument("--only", metavar="ARM", help="run only these arms (comma-separated) and what they need")
    run.add_argument("--dry-run", action="store_true", help="print the plan and its cost; run nothing")
    run.add_argument("--rerun", action="store_true", help="redo arms whose recipe or data changed since they finished")
    run.add_argument("--no-progress", action="store_true", help="no progress bar")
    run.set_defaults(func=_run)
    status.set_defaults(func=_status)
    lst = sub.add_parser("list", help="the shipped experiments")
    lst.set_defaults(func=_list)
