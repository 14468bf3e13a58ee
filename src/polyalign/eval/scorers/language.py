"""The `lang_match` metric: is the output in the prompt's language? (docs/methods.md)

Identification itself lives in `polyalign.langid`, so the response-language analysis labels outputs
exactly as this metric does.
"""

from __future__ import annotations

from polyalign import langs
from polyalign.langid import detect_language

__all__ = ["lang_match"]


def lang_match(output: str, prompt_lang: str) -> float | None:
    """1.0 if the output is in the prompt's language, 0.0 if in another, None if in none.

    How to average: the reported ``lang_match`` is the number of 1.0 values divided by *all*
    outputs, so no-language outputs count as not matching; report their share separately (e.g.
    ``lang_none``), since "answered in English" and "produced no text" are different failures.

    Args:
        output: Model output.
        prompt_lang: Language of the prompt (any code the language table knows).
    """
    guess = detect_language(output)
    if guess.lang is None:
        return None
    return float(guess.lang == langs.get(prompt_lang).code)
