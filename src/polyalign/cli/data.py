"""`polyalign data build | inspect | recipes`: training mixtures from recipes, and checks of data files."""

from __future__ import annotations

import argparse
import json
import sys

from polyalign.config import load_config
from polyalign.data.build import build_data
from polyalign.data.file_summary import inspect_file
from polyalign.data.lengths import LengthMeter, load_tokenizer
from polyalign.data.recipe import DataBuildConfig
from polyalign.recipes import find_recipe, recipe_table

BUILD_HELP = """\
Build a training mixture from a recipe: every source is read, turned into prompt/completion (or
text) examples by its builder, rendered with the recipe's template, sized (count, weight or an
allocation plan), deduplicated, shuffled (seeded) and split. Writes OUT/train.jsonl, OUT/dev.jsonl
(with dev_size), OUT/data_card.{json,md} and the resolved OUT/config.yaml.

RECIPE is a YAML file or the name of a shipped recipe (see 'polyalign data recipes'). Any field can
be overridden after it as key.sub=value (lists as YAML: langs=[de,fr]; list items by index:
sources.0.limit=100).

builders: translation (x-LLaMA translation task), instructions (Alpaca-format data in any language),
question_alignment (QAlign stage I), response_alignment (QAlign stage II: metamath, gsm8k, code,
choice), pretraining (further-pretraining text).

examples:
  polyalign data build qalign-stage1-sample
  polyalign data build qalign-stage1 data_root=path/to/qalign-question-pairs langs=[de,fr,zh]
  polyalign data build my-recipe.yaml tokenizer=path/to/model max_length=1024 --overwrite
"""


def register(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser("data", help="build and inspect training mixtures",
                                 description="Build training mixtures from recipes and check data files.")
    sub = parser.add_subparsers(dest="data_command", metavar="SUBCOMMAND", required=True)

    build = sub.add_parser("build", help="build a training mixture from a recipe", description=BUILD_HELP,
                           formatter_class=argparse.RawDescriptionHelpFormatter)
    build.add_argument("recipe", metavar="RECIPE", help="recipe file or shipped recipe name")
    build.add_argument("overrides", nargs="*", metavar="KEY=VALUE", help="recipe fields to override")
    build.add_argument("--out", help="output folder (same as out=DIR)")
    build.add_argument("--overwrite", action="store_true", help="replace a finished build in the output folder")
    build.add_argument("--no-progress", action="store_true", help="no progress bars")
    build.set_defaults(func=_build)

    inspect = sub.add_parser("inspect", help="check a training-data JSONL file and summarise it",
                             description="Check every line of a prompt/completion or text JSONL file against the "
                                         "format (id, lang, source + prompt/completion or text) and print counts "
                                         "per language and source, length statistics and a few examples.")
    inspect.add_argument("file", metavar="FILE")
    inspect.add_argument("--tokenizer", help="measure lengths in this tokenizer's tokens (default: characters)")
    inspect.add_argument("--show", type=int, default=2, metavar="N", help="examples to print (default 2)")
    inspect.add_argument("--json", action="store_true", help="print the summary as JSON")
    inspect.set_defaults(func=_inspect)

    recipes = sub.add_parser("recipes", help="list the shipped data recipes")
    recipes.set_defaults(func=_recipes)


def _build(args: argparse.Namespace) -> int:
    overrides = list(args.overrides) + ([f"out={args.out}"] if args.out else [])
    cfg = load_config(DataBuildConfig, find_recipe(args.recipe, "data"), overrides)
    out = build_data(cfg, overwrite=args.overwrite, progress=False if args.no_progress else None)
    card = json.loads((out / "data_card.json").read_text(encoding="utf-8"))
    print(f"built {cfg.name} → {out}")
    for name, info in card["files"].items():
        print(f"  {name}: {info['examples']:,} examples")
    train = card["splits"].get("train", {})
    print("  languages: " + ", ".join(f"{k} {v:,}" for k, v in train.get("languages", {}).items()))
    totals = card["totals"]
    print(f"  dropped (no target) {totals['dropped_no_target']:,}, truncated {totals['truncated']:,}, "
          f"duplicates removed {totals['duplicates_removed']:,}")
    for warning in card["warnings"]:
        print(f"  warning: {warning}")
    print(f"  data card: {out / 'data_card.md'}")
    return 0


def _inspect(args: argparse.Namespace) -> int:
    meter = LengthMeter(load_tokenizer(args.tokenizer) if args.tokenizer else None)
    summary = inspect_file(args.file, meter=meter, show=args.show)
    if args.json:
        print(json.dumps(summary, indent=2, ensure_ascii=False))
        return 0
    print(f"{summary['path']}: {summary['examples']:,} {summary['kind']} examples, valid")
    print("languages: " + ", ".join(f"{k} {v:,}" for k, v in summary["languages"].items()))
    print("sources:   " + ", ".join(f"{k} {v:,}" for k, v in summary["sources"].items()))
    for part, stats in summary["lengths"].items():
        print(f"{part} length ({summary['length_unit']}): min {stats['min']}, median {stats['median']}, "
              f"p95 {stats['p95']}, max {stats['max']}")
    for record in summary["examples_shown"]:
        print(f"\n── {record['id']} ({record['lang']}) " + "─" * 20)
        if "text" in record:
            print(record["text"])
        else:
            bold, plain = ("\033[1m", "\033[0m") if sys.stdout.isatty() else ("", "")
            print(record["prompt"] + bold + record["completion"] + plain)
    return 0


def _recipes(args: argparse.Namespace) -> int:
    print(recipe_table("data"))
    return 0
