"""Pure scoring functions: model output text + gold answer -> metric value.

One module per answer type: `numeric` (mGSM/mSVAMP), `qa` (XQuAD/MLQA), `choice` (xCSQA),
`translation` (Flores BLEU/chrF++/spBLEU) and `language` (the `lang_match` metric).
"""

from polyalign.eval.scorers.choice import choice_accuracy, extract_choice, extract_final_choice
from polyalign.eval.scorers.language import lang_match
from polyalign.eval.scorers.numeric import (
    correct_paper,
    extract_number,
    extract_number_paper,
    is_correct,
)
from polyalign.eval.scorers.qa import contains, exact_match, f1, normalize_answer
from polyalign.eval.scorers.translation import bleu, chrf_pp, spbleu, tokenizer_for
from polyalign.langid import LangGuess, detect_language

__all__ = [
    "extract_number_paper",
    "correct_paper",
    "extract_number",
    "is_correct",
    "normalize_answer",
    "exact_match",
    "f1",
    "contains",
    "extract_choice",
    "extract_final_choice",
    "choice_accuracy",
    "bleu",
    "chrf_pp",
    "spbleu",
    "tokenizer_for",
    "LangGuess",
    "detect_language",
    "lang_match",
]
