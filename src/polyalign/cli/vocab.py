"""`polyalign vocab stats | extend`: tokenizer efficiency per language, and vocabulary extension."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from polyalign.errors import InputError

STATS_HELP = """\
Measure how efficiently tokenizers encode each language (LLaMA beyond English, Zhao et al. 2024):
characters per token, fertility (tokens per word; per character for zh/ja/th), continued-word share
(words split into 2+ tokens), byte-fallback share (<0x..> pieces; byte-level BPE tokens that are not
valid UTF-8 alone) and the token premium tokens(X)/tokens(en) over line-aligned parallel files.

TEXTS are files with one sentence per line (first column of a .tsv), their language taken from the
name (flores.zh.txt, train.zh, mgsm_zh.tsv) or given as LANG:PATH. --tokenizer accepts a model
folder, zoo name, hub id or a bare SentencePiece .model file, and may be repeated to compare.

examples:
  polyalign vocab stats --tokenizer ../shared/tokenizers/llama2-spm/tokenizer.model \\
      --texts mgsm_zh.tsv mgsm_en.tsv --out runs/vocab/llama2
  polyalign vocab stats --tokenizer smollm2-135m-instruct --tokenizer runs/vocab/smollm2-zh \\
      --texts zh:dev.zh en:dev.en --langs zh,en
"""

EXTEND_HELP = """\
Add target-language tokens to a model (LLaMA beyond English, Zhao et al. 2024, as Chinese-LLaMA did):

  SentencePiece BPE (LLaMA-1/2, Mistral; needs tokenizer.model in the folder or --sp-model): train
  a SentencePiece model of --new-tokens pieces on the corpus and append the pieces the tokenizer
  lacks (score 0; new ids after the old ones).
  byte-level BPE (GPT-2, Llama-3, SmolLM2): continue BPE training from the old segmentation and
  append --new-tokens merges after all old merges (lowest priority).

Old ids keep their strings; ASCII text (English) tokenises exactly as before unless --allow-ascii;
every text round-trips. The embeddings grow and new rows start as the mean of the old tokenizer's
pieces of the new token (subtoken-mean), the mean of all rows (mean) or that plus noise
(mean-noise); old rows are untouched, so logits over the old vocabulary do not change until
training. Writes OUT/ (model + tokenizer), OUT/vocab_extension.json (summary, checks, before/after
statistics), OUT/vocab_stats.png and OUT/vocab_config.yaml.

Cost: the SentencePiece model trains in seconds; byte-level BPE learning runs in Python (about
20 s per 1.5 MB of Chinese on one core), so sample big corpora with --max-lines.

examples:
  polyalign vocab extend --model smollm2-135m-instruct --corpus zh.txt --lang zh --new-tokens 8000 \\
      --out runs/vocab/smollm2-zh --eval-texts flores.zh.txt flores.en.txt
  polyalign vocab extend --model path/to/llama-2-7b-hf --corpus zh.txt --lang zh --new-tokens 20000 \\
      --out runs/vocab/llama2-zh --init mean
"""


def register(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser("vocab", help="tokenizer statistics and vocabulary extension",
                                 description="Measure tokenizer efficiency per language and extend a model's "
                                             "vocabulary for a target language.")
    sub = parser.add_subparsers(dest="vocab_command", metavar="SUBCOMMAND", required=True)

    stats = sub.add_parser("stats", help="tokenizer efficiency per language", description=STATS_HELP,
                           formatter_class=argparse.RawDescriptionHelpFormatter)
    stats.add_argument("--tokenizer", action="append", required=True, metavar="T",
                       help="tokenizer (model folder, zoo name, hub id or .model file); repeat to compare")
    stats.add_argument("--texts", nargs="+", required=True, metavar="FILE", help="text files ([LANG:]PATH)")
    stats.add_argument("--langs", help="only these languages, in this order (e.g. zh,en)")
    stats.add_argument("--out", metavar="DIR", help="write DIR/vocab_stats.json and DIR/vocab_stats.png")
    stats.add_argument("--max-lines", type=int, default=None, metavar="N", help="read at most N lines per file")
    stats.add_argument("--json", action="store_true", help="print the statistics as JSON")
    stats.set_defaults(func=_stats)

    extend = sub.add_parser("extend", help="add target-language tokens to a model", description=EXTEND_HELP,
                            formatter_class=argparse.RawDescriptionHelpFormatter)
    extend.add_argument("--model", required=True, help="model folder, zoo name or hub id")
    extend.add_argument("--corpus", nargs="+", required=True, metavar="FILE", help="target-language text files")
    extend.add_argument("--lang", required=True, help="target language code (e.g. zh)")
    extend.add_argument("--new-tokens", type=int, required=True, metavar="N",
                        help="byte-level BPE: merges to learn; SentencePiece: target model size")
    extend.add_argument("--out", required=True, metavar="DIR", help="output folder")
    extend.add_argument("--init", default="subtoken-mean", help="subtoken-mean (default), mean or mean-noise")
    extend.add_argument("--seed", type=int, default=0, help="seed for mean-noise (default 0)")
    extend.add_argument("--noise-scale", type=float, default=0.01, help="mean-noise std / old rows' std")
    extend.add_argument("--eval-texts", nargs="+", default=[], metavar="FILE",
                        help="extra [LANG:]PATH files measured before and after (e.g. parallel zh/en)")
    extend.add_argument("--sp-model", metavar="FILE", help="original tokenizer.model if the folder has none")
    extend.add_argument("--spm-score", default="zero", dest="score_mode",
                        help="appended SentencePiece scores: zero (Chinese-LLaMA, default) or lowest")
    extend.add_argument("--allow-ascii", action="store_true",
                        help="also add pure-ASCII tokens (Latin-script targets; English may change)")
    extend.add_argument("--max-lines", type=int, default=1_000_000, metavar="N", help="corpus lines per file")
    extend.add_argument("--dtype", default="auto", help="model dtype (auto keeps the checkpoint's)")
    extend.add_argument("--overwrite", action="store_true", help="replace a finished extension in --out")
    extend.set_defaults(func=_extend)


def _stats(args: argparse.Namespace) -> int:
    from polyalign.langs import parse_langs
    from polyalign.vocab.kinds import load_any_tokenizer
    from polyalign.vocab.plot import plot_reports
    from polyalign.vocab.stats import format_table, tokenizer_report
    from polyalign.vocab.texts import group_by_language, parse_text_spec

    if args.max_lines is not None and args.max_lines <= 0:
        raise InputError(f"--max-lines must be positive, got {args.max_lines}")
    files = [parse_text_spec(spec) for spec in args.texts]
    texts = group_by_language(files, only=parse_langs(args.langs) if args.langs else None, max_lines=args.max_lines)
    if not any(line for lines in texts.values() for line in lines):
        raise InputError(f"no text in {', '.join(args.texts)}")
    reports = [tokenizer_report(load_any_tokenizer(spec), texts, name=_short(spec)) for spec in args.tokenizer]
    if args.json:
        print(json.dumps(reports, indent=2, ensure_ascii=False))
    else:
        print(format_table(reports))
        for report in reports:
            for note in report["notes"]:
                print(f"note ({report['tokenizer']}): {note}")
    if args.out:
        out = Path(args.out)
        out.mkdir(parents=True, exist_ok=True)
        (out / "vocab_stats.json").write_text(json.dumps({"reports": reports, "texts": [
            {"lang": f.lang, "path": str(f.path)} for f in files]}, indent=2, ensure_ascii=False), encoding="utf-8")
        plot_reports(reports, out / "vocab_stats.png")
        if not args.json:
            print(f"wrote {out / 'vocab_stats.json'} and {out / 'vocab_stats.png'}")
    return 0


def _short(spec: str) -> str:
    """A readable tokenizer name: the folder name (or folder/file for a .model file)."""
    path = Path(spec)
    if path.exists():
        return f"{path.parent.name}/{path.name}" if path.is_file() else path.resolve().name
    return spec


def _extend(args: argparse.Namespace) -> int:
    from polyalign.vocab.extend import ExtendConfig, extend_vocabulary
    from polyalign.vocab.stats import format_table

    cfg = ExtendConfig(model=args.model, corpus=list(args.corpus), lang=args.lang, new_tokens=args.new_tokens,
                       out=args.out, init=args.init, seed=args.seed, noise_scale=args.noise_scale,
                       eval_texts=list(args.eval_texts), sp_model=args.sp_model, score_mode=args.score_mode,
                       allow_ascii=args.allow_ascii, max_lines=args.max_lines, dtype=args.dtype)
    summary = extend_vocabulary(cfg, overwrite=args.overwrite)
    print(f"extended {summary['model']} ({summary['kind']}) for {summary['lang']}: {summary['old_vocab']:,} → "
          f"{summary['new_vocab']:,} tokens (+{summary['added']:,}, ids {summary['first_id']}–{summary['last_id']}), "
          f"embeddings initialised by {summary['embeddings']['method']}"
          f"{' (tied)' if summary['embeddings']['tied'] else ''}")
    print("new tokens: " + " ".join(repr(t) for t in summary["sample_tokens"][:15]) + " …")
    for name, reports in summary["stats"].items():
        print(f"\n{name} text, before → after:")
        print(format_table(reports))
    print(f"\nwrote {summary['out']} (model + tokenizer, vocab_extension.json, vocab_stats.png)")
    return 0
