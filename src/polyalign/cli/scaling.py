"""`polyalign scaling sweep|fit|allocate|check`: fit scaling laws of translation data, split a data budget, check.

x-LLaMA (docs/methods.md, "Scaling law" / "Data allocation"): translation quality per language grows as
a concave, saturating function of the number of translation pairs; fitting that curve per language
on a few subset sizes lets one spend a fixed budget of pairs where it buys the most quality.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Callable

from polyalign import langs
from polyalign.data.allocation import AllocationPlan, write_plan
from polyalign.data.builders import BUILDERS
from polyalign.errors import InputError
from polyalign.scaling.allocate import Allocation, allocate
from polyalign.scaling.fit import fit_all, read_fits, read_results, write_fits
from polyalign.scaling.laws import LAWS
from polyalign.scaling.plot import fits_table, plot_fit

__all__ = ["register", "run_sweep_command", "run_fit", "run_allocate", "run_check"]

_LAWS_HELP = "\n".join(f"      {name:<6} y = {law.formula}" for name, law in LAWS.items())

_SCALING_HELP = f"""\
Scaling laws of translation data and budget allocation across languages (x-LLaMA).

Workflow: train on a few subset sizes of translation pairs per language (e.g. 1k, 2k, 5k, ... 100k),
evaluate (Flores BLEU/COMET), collect one CSV row per run, then
  1. 'scaling fit' fits each candidate law per language and keeps the one that best predicts held-out
     sizes; the laws, all increasing and concave in x = number of pairs (a > 0; see --laws):
{_LAWS_HELP}
  2. 'scaling allocate' splits a budget of pairs across languages to maximise the predicted quality,
     and writes an allocation plan that 'polyalign data build' reads (recipe field allocation.plan).
  3. build that mixture, train on it, evaluate, and 'scaling check' compares each language's measured
     score with the plan's prediction.
"""

_FIT_HELP = f"""\
Fit scaling laws per language from a results CSV.

The CSV has one row per (language, subset size, metric) with columns
  lang, n_examples, metric, value, run_dir      (run_dir may be empty)
lang is a language code (de) or a translation direction to/from English (en-de counts as de).
Every law
{_LAWS_HELP}
is fitted by bounded least squares from several starts; the law with the lowest leave-one-size-out
RMSE is chosen; its parameters get bootstrap standard errors and 95% intervals. Languages with
fewer than 3 distinct sizes are reported but not fitted (5 or more sizes recommended).

Writes OUT/fits.json (input of 'scaling allocate'), OUT/fits.md and OUT/fit_<lang>.png.

example:
  polyalign scaling fit runs/results.csv --metric bleu --out runs/scaling
"""

_ALLOCATE_HELP = """\
Split a budget of translation pairs across languages using fitted laws f_i.

objective sum (default, x-LLaMA): maximise Σ w_i·f_i(x_i);  objective min: maximise min_i f_i(x_i)
(lift the weakest language; left-over pairs then go where they add the most). Subject to Σ x_i = budget,
min_i ≤ x_i ≤ available_i, x_i whole numbers. Solved exactly for concave fits (water-filling on
marginal gains; bisection on the level for min). The plan is printed next to the uniform split
(budget/n each, capped by availability) with predicted scores for both, and written as a plan file
for 'polyalign data build' (recipe field allocation.plan).

example:
  polyalign scaling allocate --fits runs/scaling/fits.json --budget 20000 \\
      --weights de=2,zh=1 --available de=15000 --min zh=1000 --out plans/translation.json
"""


def _pairs(spec: str | None, flag: str, kind: Callable[[str], float]) -> dict[str, float]:
    """Parse ``de=2,zh=1`` into ``{"de": 2, "zh": 1}`` with canonical language codes."""
    out: dict[str, float] = {}
    for item in (spec or "").split(","):
        if not item.strip():
            continue
        key, sep, raw = item.partition("=")
        try:
            if not sep:
                raise ValueError
            value = kind(raw.strip())
        except ValueError:
            what = "whole numbers" if kind is int else "numbers"
            raise InputError(f"{flag}: expected lang=value pairs with {what} (like de=2,zh=1), got {item!r}") from None
        try:
            out[langs.get(key).code] = value
        except InputError as err:
            raise InputError(f"{flag}: {err}") from None
    return out


def run_fit(args: argparse.Namespace) -> int:
    """Handler of ``polyalign scaling fit``."""
    laws = [name.strip() for name in args.laws.split(",") if name.strip()]
    metric, data = read_results(args.results, args.metric)
    report = fit_all(data, metric, laws, bootstrap=args.bootstrap, seed=args.seed, source=str(args.results))
    out = Path(args.out)
    write_fits(report, out / "fits.json")
    table = fits_table(report)
    (out / "fits.md").write_text(table, encoding="utf-8")
    for lang, fit in report.languages.items():
        plot_fit(fit, metric, out / f"fit_{lang}.png")
    print(table)
    print(f"wrote {out / 'fits.json'}, {out / 'fits.md'} and {len(report.languages)} plot(s) fit_<lang>.png")
    return 0


def _print_plan(result: Allocation, budget: int, metric: str) -> None:
    print(f"Allocation of {budget} translation pairs (objective {result.objective}, metric {metric or '?'}, "
          f"method {result.method})")
    head = ("lang", "allocated", "predicted", "uniform", "uniform predicted")
    print(f"{head[0]:<6}{head[1]:>11}{head[2]:>11}{head[3]:>10}{head[4]:>19}")
    for code, count in result.allocation.items():
        print(f"{code:<6}{count:>11}{result.predicted[code]:>11.3f}{result.uniform[code]:>10}"
              f"{result.uniform_predicted[code]:>19.3f}")
    label = "total" if result.objective == "sum" else "min"
    print(f"{label:<6}{sum(result.allocation.values()):>11}{result.value:>11.3f}"
          f"{sum(result.uniform.values()):>10}{result.uniform_value:>19.3f}")
    what = "weighted sum of predicted scores" if result.objective == "sum" else "lowest predicted score"
    print(f"objective ({what}): {result.value:.3f} vs uniform {result.uniform_value:.3f} "
          f"({result.value - result.uniform_value:+.3f})")
    for note in result.notes:
        print(f"note: {note}")


def run_allocate(args: argparse.Namespace) -> int:
    """Handler of ``polyalign scaling allocate``."""
    metric, curves = read_fits(args.fits)
    if args.langs:
        chosen = langs.parse_langs(args.langs)
        missing = [code for code in chosen if code not in curves]
        if missing:
            raise InputError(f"--langs: no usable fit for {', '.join(missing)} (fitted: {', '.join(curves)})",
                             where=str(args.fits))
        curves = {code: curves[code] for code in chosen}
    result = allocate(curves, args.budget, weights=_pairs(args.weights, "--weights", float),
                      available=_pairs(args.available, "--available", int),
                      minimum=_pairs(args.min, "--min", int), objective=args.objective)
    _print_plan(result, args.budget, metric)
    plan = AllocationPlan(allocation=result.allocation, budget=args.budget, builder=args.builder, extra={
        "objective": result.objective, "metric": metric, "predicted": result.predicted,
        "uniform": result.uniform, "uniform_predicted": result.uniform_predicted,
        "value": result.value, "uniform_value": result.uniform_value, "method": result.method,
        "notes": result.notes, "fits": str(args.fits)})
    print(f"wrote {write_plan(plan, args.out)}")
    return 0


_SWEEP_HELP = """\
Run the data-size sweep a scaling law is fitted on: for each language and size in the recipe, build
the subset (nested, seeded), train on it, evaluate, and append one row to OUT/results.csv
(lang, n_examples, metric, value, run_dir) — the input of 'scaling fit'. Finished runs are skipped,
so rerunning the same command after an interruption continues where it stopped.

A sweep recipe names a data recipe, a train recipe and one eval task + metric:
  name: qalign-stage1-smollm2
  out: runs/scaling/qalign-stage1-smollm2
  langs: [de, zh]
  sizes: [16, 32, 64, 128, 256]
  data: qalign-stage1                      # its sources use {lang}
  data_overrides: [data_root=../shared/data/qalign-question-pairs]
  train: qalign-stage1-smollm2-lora        # stage 0 gets the subset
  eval: {task: qtrans, metric: chrf++, data_dir: runs/qtrans-data, limit: 40}

Only the sources named by 'vary' get count=n (default: the translation and question_alignment
sources — x-LLaMA's mixture keeps all of its Alpaca data while the translation pairs vary):
  vary: [translation-en-{lang}]            # names as written in the data recipe
'joint: true' trains one model per size on all languages at once (n per language), as QAlign's
scale analysis does; each language still gets its row. The metric can be any the task reports, or
the judge's score of open-ended responses from each run's model:
  eval: {metric: avg_0-3, judge: {judge: http://127.0.0.1:8000/v1, instructions: builtin:samples/open-ended, limit: 20}}

example:
  polyalign scaling sweep qalign-stage1-smollm2
  polyalign scaling fit runs/scaling/qalign-stage1-smollm2/results.csv --out runs/scaling/qalign-stage1-smollm2
"""


_CHECK_HELP = """\
Compare an allocation plan's predicted scores with what the model trained on it measured.

Reads the plan's metric and per-language predictions and the eval run's results.json; a language is
found under its code or a direction to or from English (de-en counts as de). With --against uniform
the plan's uniform-split predictions are checked instead (for a model trained on the uniform split).

example:
  polyalign data build qalign-stage1 allocation.plan=plan.json out=runs/mix/data
  polyalign train qalign-stage1-smollm2-lora stages.0.data=runs/mix/data/train.jsonl out=runs/mix/train
  polyalign eval --model runs/mix/train/question-alignment/model --tasks qtrans --langs de-en,zh-en --out runs/mix/eval
  polyalign scaling check --plan plan.json --results runs/mix/eval
"""


def run_check(args: argparse.Namespace) -> int:
    """Handler of ``polyalign scaling check``."""
    from polyalign.data.allocation import read_plan
    from polyalign.scaling.check import check_plan, read_eval_results

    plan = read_plan(args.plan)
    against = "predicted" if args.against == "plan" else "uniform_predicted"
    check = check_plan(plan, read_eval_results(args.results), task=args.task, predictions=against)
    print(f"{'Plan' if args.against == 'plan' else 'Uniform split'} of {args.plan} vs {args.results}")
    print(check.table())
    if args.out:
        import json

        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps({"plan": str(args.plan), "results": str(args.results), "against": args.against,
                                        **check.to_json()}, indent=2) + "\n", encoding="utf-8")
        print(f"wrote {args.out}")
    return 0


def run_sweep_command(args: argparse.Namespace) -> int:
    """Handler of ``polyalign scaling sweep``."""
    from polyalign.config import load_config
    from polyalign.recipes import find_recipe
    from polyalign.scaling.sweep import SweepConfig, run_sweep

    cfg = load_config(SweepConfig, find_recipe(args.recipe, "scaling"), args.overrides)
    csv_path = run_sweep(cfg, progress=False if args.no_progress else None)
    print(f"results: {csv_path}")
    print(f"next: polyalign scaling fit {csv_path} --metric {cfg.eval.metric} --out {csv_path.parent}")
    return 0


def register(commands: argparse._SubParsersAction) -> None:
    """Add ``scaling`` with subcommands ``sweep``, ``fit``, ``allocate`` and ``check`` to the top-level subparsers."""
    raw = argparse.RawDescriptionHelpFormatter
    parser = commands.add_parser("scaling", help="fit scaling laws of translation data; allocate a data budget",
                                 description=_SCALING_HELP, formatter_class=raw)
    sub = parser.add_subparsers(dest="scaling_command", metavar="SUBCOMMAND", required=True)

    sweep = sub.add_parser("sweep", help="train and evaluate one run per language and data size (CSV rows)",
                           description=_SWEEP_HELP, formatter_class=raw)
    sweep.add_argument("recipe", help="sweep recipe: a YAML file or a shipped name")
    sweep.add_argument("overrides", nargs="*", metavar="KEY=VALUE", help="recipe overrides, e.g. sizes=[50,100]")
    sweep.add_argument("--no-progress", action="store_true", help="no progress bar")
    sweep.set_defaults(func=run_sweep_command)

    fit = sub.add_parser("fit", help="fit scaling laws per language from a results CSV",
                         description=_FIT_HELP, formatter_class=raw)
    fit.add_argument("results", type=Path, help="CSV with columns lang, n_examples, metric, value, run_dir")
    fit.add_argument("--metric", help="metric to fit (default: the only one in the CSV)")
    fit.add_argument("--laws", default=",".join(LAWS), help="comma-separated laws to try (default: %(default)s)")
    fit.add_argument("--bootstrap", type=int, default=200, help="bootstrap resamples for parameter "
                     "uncertainty; 0 to skip (default: %(default)s)")
    fit.add_argument("--seed", type=int, default=0, help="bootstrap seed (default: %(default)s)")
    fit.add_argument("--out", type=Path, required=True, help="output directory")
    fit.set_defaults(func=run_fit)

    alloc = sub.add_parser("allocate", help="split a budget of translation pairs across languages",
                           description=_ALLOCATE_HELP, formatter_class=raw)
    alloc.add_argument("--fits", type=Path, required=True, help="fits.json written by 'polyalign scaling fit'")
    alloc.add_argument("--budget", type=int, required=True, help="total number of translation pairs")
    alloc.add_argument("--langs", help="only these fitted languages, e.g. de,zh (default: all fitted)")
    alloc.add_argument("--weights", help="importance per language for --objective sum, e.g. de=2,zh=1 "
                       "(default 1 each)")
    alloc.add_argument("--available", help="pairs available per language (caps), e.g. de=5000 (default: no cap)")
    alloc.add_argument("--min", help="at least this many pairs per language, e.g. zh=1000 (default 0)")
    alloc.add_argument("--objective", choices=("sum", "min"), default="sum",
                       help="sum: maximise the weighted sum of predicted scores; min: maximise the lowest "
                            "(default: %(default)s)")
    alloc.add_argument("--builder", choices=BUILDERS.names(), default="translation",
                       help="the data builder whose sources the plan sizes in 'data build' (default: "
                            "%(default)s, x-LLaMA; question_alignment for QAlign stage I)")
    alloc.add_argument("--out", type=Path, required=True, help="plan file to write (JSON)")
    alloc.set_defaults(func=run_allocate)

    check = sub.add_parser("check", help="compare a plan's predicted scores with a trained model's eval",
                           description=_CHECK_HELP, formatter_class=raw)
    check.add_argument("--plan", type=Path, required=True, help="plan file written by 'polyalign scaling allocate'")
    check.add_argument("--results", type=Path, required=True, help="eval run folder or its results.json")
    check.add_argument("--task", help="task to read (default: the run's only task)")
    check.add_argument("--against", choices=("plan", "uniform"), default="plan",
                       help="check the plan's predictions, or those of the uniform split it was compared with "
                            "(default: %(default)s)")
    check.add_argument("--out", type=Path, help="also write the comparison as JSON")
    check.set_defaults(func=run_check)
