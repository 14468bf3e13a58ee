"""The language table: every language the three papers use, as data.

Code elsewhere asks this table (script, digits, names, benchmark file codes) instead of branching on
language codes. Adding a language is adding one row.

Two naming modes exist because the original x-LLaMA and QAlign code took language names from the
`iso639` package, whose ISO 639-3 reference names ("Modern Greek (1453-)", "Swahili (macrolanguage)")
then appear literally in training and evaluation prompts. ``name_mode="paper"`` reproduces them (for
faithful reproductions); the default uses plain English names.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from typing import Literal

from polyalign.errors import InputError

__all__ = [
    "Language",
    "LANGUAGES",
    "NameMode",
    "get",
    "parse_langs",
    "language_name",
    "XLLAMA_LANGS",
    "QALIGN_LANGS",
    "MGSM_LANGS",
    "XCSQA_LANGS",
    "XQUAD_LANGS",
    "MLQA_LANGS",
    "LOW_RESOURCE_LANGS",
]

NameMode = Literal["english", "paper"]


@dataclass(frozen=True)
class Language:
    """One row of the language table."""

    code: str
    """ISO 639-1 code, the key used everywhere in polyalign (``--langs``, results, data files)."""
    iso639_3: str
    """ISO 639-3 code."""
    name: str
    """Plain English name, used in prompts by default ("Greek", "Swahili")."""
    paper_name: str
    """The name the original code got from the `iso639` package ("Modern Greek (1453-)")."""
    native: str
    """Endonym, for tables and for prompts written in the language itself."""
    script: str
    """ISO 15924 script code of the usual writing system (Latn, Cyrl, Hans, Jpan, Thai, ...)."""
    digits: str | None = None
    """The ten native decimal digits 0-9 when the language has its own, else None (Latin digits)."""
    rtl: bool = False
    """Written right to left."""
    spaces: bool = True
    """Words are separated by spaces; False for zh, ja, th (scorers segment by character)."""
    flores: str | None = None
    """File code in the Flores-101 release (``devtest/<code>.devtest``)."""


def _digits(zero: str) -> str:
    return "".join(chr(ord(zero) + i) for i in range(10))


_ARABIC_INDIC = _digits("\u0660")
_EXT_ARABIC_INDIC = _digits("\u06f0")  # Persian and Urdu forms
_DEVANAGARI = _digits("\u0966")

# Paper names were read off the `iso639` package (iso-639 0.4.5) that the original code imports.
_ROWS = [
    Language("en", "eng", "English", "English", "English", "Latn", flores="eng"),
    Language("ar", "ara", "Arabic", "Arabic", "العربية", "Arab", _ARABIC_INDIC, rtl=True, flores="ara"),
    Language("bn", "ben", "Bengali", "Bengali", "বাংলা", "Beng", _digits("\u09e6"), flores="ben"),
    Language("cs", "ces", "Czech", "Czech", "Čeština", "Latn", flores="ces"),
    Language("de", "deu", "German", "German", "Deutsch", "Latn", flores="deu"),
    Language("el", "ell", "Greek", "Modern Greek (1453-)", "Ελληνικά", "Grek", flores="ell"),
    Language("es", "spa", "Spanish", "Spanish", "Español", "Latn", flores="spa"),
    Language("fa", "fas", "Persian", "Persian", "فارسی", "Arab", _EXT_ARABIC_INDIC, rtl=True, flores="fas"),
    Language("fi", "fin", "Finnish", "Finnish", "Suomi", "Latn", flores="fin"),
    Language("fr", "fra", "French", "French", "Français", "Latn", flores="fra"),
    Language("gu", "guj", "Gujarati", "Gujarati", "ગુજરાતી", "Gujr", _digits("\u0ae6"), flores="guj"),
    Language("he", "heb", "Hebrew", "Hebrew", "עברית", "Hebr", rtl=True, flores="heb"),
    Language("hi", "hin", "Hindi", "Hindi", "हिन्दी", "Deva", _DEVANAGARI, flores="hin"),
    Language("hu", "hun", "Hungarian", "Hungarian", "Magyar", "Latn", flores="hun"),
    Language("id", "ind", "Indonesian", "Indonesian", "Bahasa Indonesia", "Latn", flores="ind"),
    Language("it", "ita", "Italian", "Italian", "Italiano", "Latn", flores="ita"),
    Language("ja", "jpn", "Japanese", "Japanese", "日本語", "Jpan", spaces=False, flores="jpn"),
    Language("ko", "kor", "Korean", "Korean", "한국어", "Kore", flores="kor"),
    Language("ml", "mal", "Malayalam", "Malayalam", "മലയാളം", "Mlym", _digits("\u0d66"), flores="mal"),
    Language("mr", "mar", "Marathi", "Marathi", "मराठी", "Deva", _DEVANAGARI, flores="mar"),
    Language("ms", "msa", "Malay", "Malay (macrolanguage)", "Bahasa Melayu", "Latn", flores="msa"),
    Language("ne", "nep", "Nepali", "Nepali (macrolanguage)", "नेपाली", "Deva", _DEVANAGARI, flores="npi"),
    Language("nl", "nld", "Dutch", "Dutch", "Nederlands", "Latn", flores="nld"),
    Language("pl", "pol", "Polish", "Polish", "Polski", "Latn", flores="pol"),
    Language("pt", "por", "Portuguese", "Portuguese", "Português", "Latn", flores="por"),
    Language("ro", "ron", "Romanian", "Romanian", "Română", "Latn", flores="ron"),
    Language("ru", "rus", "Russian", "Russian", "Русский", "Cyrl", flores="rus"),
    Language("sv", "swe", "Swedish", "Swedish", "Svenska", "Latn", flores="swe"),
    Language("sw", "swa", "Swahili", "Swahili (macrolanguage)", "Kiswahili", "Latn", flores="swh"),
    Language("ta", "tam", "Tamil", "Tamil", "தமிழ்", "Taml", _digits("\u0be6"), flores="tam"),
    Language("te", "tel", "Telugu", "Telugu", "తెలుగు", "Telu", _digits("\u0c66"), flores="tel"),
    Language("th", "tha", "Thai", "Thai", "ไทย", "Thai", _digits("\u0e50"), spaces=False, flores="tha"),
    Language("tr", "tur", "Turkish", "Turkish", "Türkçe", "Latn", flores="tur"),
    Language("uk", "ukr", "Ukrainian", "Ukrainian", "Українська", "Cyrl", flores="ukr"),
    Language("ur", "urd", "Urdu", "Urdu", "اردو", "Arab", _EXT_ARABIC_INDIC, rtl=True, flores="urd"),
    Language("vi", "vie", "Vietnamese", "Vietnamese", "Tiếng Việt", "Latn", flores="vie"),
    Language("zh", "zho", "Chinese", "Chinese", "中文", "Hans", spaces=False, flores="zho_simpl"),
]

LANGUAGES: dict[str, Language] = {row.code: row for row in _ROWS}
"""All languages by ISO 639-1 code, in alphabetical order of code (English first)."""

# Other spellings users type: ISO 639-3 codes, Flores codes, English names, regional tags.
_ALIASES: dict[str, str] = {}
for _row in _ROWS:
    for _alias in (_row.iso639_3, _row.flores, _row.name.lower()):
        if _alias:
            _ALIASES.setdefault(_alias.lower(), _row.code)
_ALIASES.update({"zh-cn": "zh", "zh-hans": "zh", "zh_cn": "zh", "pt-br": "pt", "swh": "sw", "npi": "ne"})

# The language sets of the papers (docs/methods.md) and benchmarks, as tuples in the papers' order.
XLLAMA_LANGS = ("ar", "el", "hi", "tr", "vi", "zh")
QALIGN_LANGS = ("bn", "de", "es", "fr", "ja", "ru", "sw", "th", "zh")
MGSM_LANGS = ("bn", "de", "en", "es", "fr", "ja", "ru", "sw", "te", "th", "zh")
XQUAD_LANGS = ("ar", "de", "el", "en", "es", "hi", "ro", "ru", "th", "tr", "vi", "zh")
MLQA_LANGS = ("en", "ar", "de", "es", "hi", "vi", "zh")
XCSQA_LANGS = ("en", "zh", "de", "es", "fr", "it", "ja", "nl", "pl", "pt", "ru", "ar", "vi", "hi", "sw", "ur")
LOW_RESOURCE_LANGS = ("ar", "bn", "gu", "hi", "id", "ml", "mr", "ne", "sw", "ta", "te", "ur", "vi")


def get(code: str) -> Language:
    """Look a language up by ISO 639-1 code (or ISO 639-3 / Flores code / English name).

    Raises:
        InputError: the code is unknown; the message suggests the closest known codes.
    """
    key = code.strip().lower()
    if key in LANGUAGES:
        return LANGUAGES[key]
    if key in _ALIASES:
        return LANGUAGES[_ALIASES[key]]
    close = difflib.get_close_matches(key, list(LANGUAGES) + list(_ALIASES), n=3)
    hint = f" (did you mean {', '.join(sorted({_ALIASES.get(c, c) for c in close}))}?)" if close else ""
    raise InputError(f"unknown language code {code!r}{hint}; known: {', '.join(LANGUAGES)}")


def parse_langs(spec: str | list[str] | tuple[str, ...]) -> list[str]:
    """Turn ``"de,fr"`` or ``["de", "fr"]`` into canonical codes, keeping order, dropping repeats."""
    items = spec.split(",") if isinstance(spec, str) else list(spec)
    codes: list[str] = []
    for item in items:
        if item.strip():
            code = get(item).code
            if code not in codes:
                codes.append(code)
    if not codes:
        raise InputError("no language given")
    return codes


def language_name(code: str, mode: NameMode = "english") -> str:
    """The language's name as it appears in prompts: plain English, or the papers' iso639 name."""
    row = get(code)
    return row.paper_name if mode == "paper" else row.name
