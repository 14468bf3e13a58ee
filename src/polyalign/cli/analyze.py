"""`polyalign analyze alignment | language | perplexity`: representation, response-language and bits/char analyses."""

from __future__ import annotations

import argparse
from pathlib import Path

from polyalign.errors import InputError
from polyalign.langs import get as get_lang
from polyalign.langs import parse_langs

ALIGNMENT_HELP = """\
How close are translations inside the model, layer by layer? For parallel sentences, the hidden
states of every layer are mean-pooled over real tokens (padding never counts), then each language is
compared with the pivot: mean cosine of translation pairs next to the mean cosine of mismatched
pairs (the baseline), and top-1 retrieval of the translation in both directions (chance = 1/n).
By default each language is mean-centred and attention sinks are left out of the mean: the first
token (whose hidden state is ~150x larger than the others from the middle layers on) and any other
token with such a massive norm (--sink-ratio). Without both, translations and unrelated sentences
look alike (cosine 0.78-0.98 on SmolLM2-135M).

--parallel takes lang=path items (line-aligned files, all parallel, the pivot among them) and/or
folders in the QAlign layout (<x>-<pivot>/train.<x> + train.<pivot>).
--template: raw (the sentence alone), alpaca (the Alpaca prompt with the sentence as instruction,
pooled over the whole prompt), question (the Alpaca prompt, pooled over the sentence's tokens only).

Writes OUT/alignment.json, OUT/alignment.md, OUT/alignment_{cosine,retrieval}.png,
OUT/alignment_pca_layer<L>.png, OUT/figures.json and OUT/alignment_config.yaml.

examples:
  polyalign analyze alignment --model smollm2-135m-instruct \\
      --parallel ../shared/data/qalign-question-pairs --langs de,fr,zh --limit 100 --out runs/align
  polyalign analyze alignment --model base/ --compare-model qalign-stage1/ --template question \\
      --parallel de=flores/deu.devtest en=flores/eng.devtest --layers 8,12,16 --out runs/align-cmp
"""

LANGUAGE_HELP = """\
Which language do the responses of an evaluation run come in? Reads RUN/samples/<task>_<lang>.jsonl
(the prompt language is the file name's last part, or a `lang` field) and reports per task and
prompt language: the response-language distribution, the share answered in the prompt's language,
the share with no language, the share of code-switched responses (two or more languages among
sentences identified with confidence ≥ --threshold; sentence splitting handles CJK, Thai, Indic and
Arabic punctuation), and for chain-of-thought outputs the language of the reasoning vs the final
answer (the final answer starts at the last "The answer is" / "答案是" / ... marker, else it is the
last sentence). Numbers, code, URLs and math are stripped before language ID; scripts decide
zh/ja/ko/th and other single-language scripts.

Writes OUT/language.json, OUT/language_samples.jsonl, OUT/language.md, OUT/language_<task>.png and
OUT/figures.json.

examples:
  polyalign analyze language --samples runs/eval-mgsm --out runs/eval-mgsm/analysis
  polyalign analyze language --samples runs/a/samples/mgsm_de.jsonl runs/a/samples/mgsm_zh.jsonl --out out/
"""

PERPLEXITY_HELP = """\
Bits per character and per UTF-8 byte, per language: total negative log-likelihood (nats → bits)
divided by characters, summed over documents. Unlike token perplexity these compare models with
different tokenizers (e.g. before and after vocabulary extension: pass several --model).
Documents: one per non-empty line, or one per record (`text` field) of a .jsonl file. Long documents
are scored with a sliding window (--max-length, --stride) or truncated (--truncate). The first
token of a document has no context: it is not scored and its characters are not counted, unless
--bos-context prepends BOS/EOS (as lm-evaluation-harness does) so every character counts.

Writes OUT/perplexity.json, OUT/perplexity.md, OUT/perplexity_bits_per_char.png, OUT/figures.json.

examples:
  polyalign analyze perplexity --model smollm2-135m-instruct --texts de=wiki.de en=wiki.en --out runs/ppl
  polyalign analyze perplexity --model base/ extended/ --texts zh.txt en.txt --langs zh,en --out runs/ppl
"""


def register(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser("analyze", help="alignment by layer, response language, bits per character",
                                 description="Analyses of a model and of evaluation runs, with tables and figures.")
    sub = parser.add_subparsers(dest="analyze_command", metavar="SUBCOMMAND", required=True)
    raw = argparse.RawDescriptionHelpFormatter

    al = sub.add_parser("alignment", help="cross-lingual alignment of hidden states by layer",
                        description=ALIGNMENT_HELP, formatter_class=raw)
    al.add_argument("--model", required=True, help="zoo name, model folder or hub id")
    al.add_argument("--parallel", required=True, nargs="+", metavar="FILES", help="lang=path items or QAlign folders")
    al.add_argument("--langs", help="languages to compare with the pivot, comma-separated (default: all found)")
    al.add_argument("--pivot", default="en", help="pivot language (default en)")
    al.add_argument("--template", choices=["raw", "alpaca", "question"], default="raw", help="input form (default raw)")
    al.add_argument("--layers", default="all", help="'all' or comma-separated layer numbers (0 = embeddings)")
    al.add_argument("--limit", type=int, help="first N pairs per language")
    al.add_argument("--center", action=argparse.BooleanOptionalAction, default=True,
                    help="per-language mean-centring (default on)")
    al.add_argument("--skip-first-token", dest="skip_first_token", action="store_true", default=True,
                    help="leave the first token (attention sink) out of the mean (default)")
    al.add_argument("--keep-first-token", dest="skip_first_token", action="store_false",
                    help="include the first token (and any other attention sink) in the mean")
    al.add_argument("--sink-ratio", type=float, default=20.0,
                    help="with --skip-first-token, also leave out tokens whose hidden-state norm exceeds this "
                         "multiple of the sentence median at any layer (massive activations); 0 = first token "
                         "only (default 20)")
    al.add_argument("--compare-model", help="a second model on the same sentences (e.g. after training)")
    al.add_argument("--plot-layer", type=int, help="layer of the PCA figure (default: best mean retrieval)")
    al.add_argument("--batch-size", type=int, default=16, help="sentences per forward pass (default 16)")
    al.add_argument("--max-length", type=int, default=512, help="truncate inputs to N tokens (default 512)")
    al.add_argument("--dtype", default="auto", help="model dtype (default auto: bf16 where the CPU computes it natively)")
    al.add_argument("--out", required=True, help="output folder")
    al.set_defaults(func=_alignment)

    la = sub.add_parser("language", help="response language, code-switching, reasoning vs answer language",
                        description=LANGUAGE_HELP, formatter_class=raw)
    la.add_argument("--samples", required=True, nargs="+", metavar="PATH",
                    help="run folder, samples folder or <task>_<lang>.jsonl files")
    la.add_argument("--threshold", type=float, default=None,
                    help="language-ID confidence for a sentence to count towards code-switching (default 0.7)")
    la.add_argument("--pivot", default="en", help="the language 'reasoning in pivot' refers to (default en)")
    la.add_argument("--out", required=True, help="output folder")
    la.set_defaults(func=_language)

    pp = sub.add_parser("perplexity", help="bits per character and per byte, per language",
                        description=PERPLEXITY_HELP, formatter_class=raw)
    pp.add_argument("--model", required=True, nargs="+", help="one or more models (zoo name, folder or hub id)")
    pp.add_argument("--texts", required=True, nargs="+", metavar="FILES", help="lang=path items or paths")
    pp.add_argument("--langs", help="languages of the plain paths, comma-separated, in order")
    pp.add_argument("--limit", type=int, help="first N documents per file")
    pp.add_argument("--max-length", type=int, default=1024, help="window length in tokens (default 1024)")
    pp.add_argument("--stride", type=int, help="sliding-window step (default max-length / 2)")
    pp.add_argument("--truncate", action="store_true", help="score only the first max-length tokens")
    pp.add_argument("--bos-context", action="store_true", help="prepend BOS/EOS so the first token is scored")
    pp.add_argument("--dtype", default="auto", help="model dtype (default auto: bf16 where the CPU computes it natively)")
    pp.add_argument("--out", required=True, help="output folder")
    pp.set_defaults(func=_perplexity)


def _layers(spec: str) -> list[int] | None:
    if spec.strip().lower() == "all":
        return None
    try:
        return [int(x) for x in spec.split(",") if x.strip()]
    except ValueError:
        raise InputError(f"--layers: expected 'all' or comma-separated integers, got {spec!r}") from None


def _alignment(args: argparse.Namespace) -> int:
    from polyalign.analysis.alignment.run import AlignmentConfig, analyze_alignment

    cfg = AlignmentConfig(model=args.model, parallel=args.parallel, out=args.out,
                          langs=parse_langs(args.langs) if args.langs else None, pivot=args.pivot,
                          template=args.template, layers=_layers(args.layers), limit=args.limit, center=args.center,
                          skip_first_token=args.skip_first_token, sink_ratio=args.sink_ratio,
                          compare_model=args.compare_model,
                          plot_layer=args.plot_layer, batch_size=args.batch_size, max_length=args.max_length,
                          dtype=args.dtype)
    data = analyze_alignment(cfg)
    report = Path(args.out, "alignment.md").read_text(encoding="utf-8")
    print("## Best layer" + report.split("## Best layer", 1)[1])  # the per-layer tables are in the file
    print(f"per-layer tables: {Path(args.out, 'alignment.md')}; figures: {Path(args.out, 'figures.json')} "
          f"(PCA at layer {data['plot_layer']})")
    return 0


def _language(args: argparse.Namespace) -> int:
    from polyalign.analysis.language.write import write_language_outputs
    from polyalign.analysis.language.response import DEFAULT_THRESHOLD
    from polyalign.analysis.language.run import analyze_samples

    data = analyze_samples(args.samples, threshold=DEFAULT_THRESHOLD if args.threshold is None else args.threshold,
                           pivot=parse_langs(args.pivot)[0])
    write_language_outputs(data, Path(args.out))
    print(Path(args.out, "language.md").read_text(encoding="utf-8"))
    return 0


def _perplexity(args: argparse.Namespace) -> int:
    from polyalign.analysis.perplexity.run import PerplexityConfig, analyze_perplexity

    cfg = PerplexityConfig(models=args.model, texts=args.texts, out=args.out,
                           langs=[get_lang(x).code for x in args.langs.split(",")] if args.langs else None,
                           limit=args.limit, max_length=args.max_length, stride=args.stride, truncate=args.truncate,
                           bos_context=args.bos_context, dtype=args.dtype)
    analyze_perplexity(cfg)
    print(Path(args.out, "perplexity.md").read_text(encoding="utf-8"))
    return 0
