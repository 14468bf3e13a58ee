"""Text files for tokenizer statistics and vocabulary extension: one sentence per line, language by name.

A file is named on the command line either as ``lang:path`` or as a bare path whose name carries the
language code as one of its dot/underscore/dash separated parts (``flores.zh.txt``, ``train.zh``,
``mgsm_zh.tsv``). TSV files contribute their first column (MGSM keeps the question there).
Blank lines are kept as empty strings so that line-aligned parallel files stay aligned (the token
premium compares line i of one language with line i of English).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from polyalign import langs
from polyalign.io import iter_lines
from polyalign.errors import InputError

__all__ = ["TextFile", "parse_text_spec", "language_from_name", "read_text_lines", "group_by_language"]

_NAME_PARTS = re.compile(r"[._\-]+")
_LANG_PREFIX = re.compile(r"^([A-Za-z]{2,3}(?:[-_][A-Za-z]{2,4})?):(.+)$")


@dataclass(frozen=True)
class TextFile:
    """One input file and the language of its lines."""

    lang: str
    """Canonical ISO 639-1 code (from `polyalign.langs`)."""
    path: Path
    """The file."""


def language_from_name(path: str | Path) -> str:
    """The language code carried by a file name (``flores.zh.txt`` → ``zh``).

    Two-letter parts that are table codes win over three-letter aliases (``eng``, ``zho``), and the
    last matching part wins, so ``train.de-en.de`` is German.

    Raises:
        InputError: no part of the name, or several different ones, name a language.
    """
    parts = [p for p in _NAME_PARTS.split(Path(path).name) if p]
    found = [p.lower() for p in parts if p.lower() in langs.LANGUAGES]
    if not found:
        found = [p for p in parts if len(p) == 3 and _is_lang(p)]
    if not found:
        raise InputError("cannot tell the language from the file name: name it like flores.zh.txt or "
                         "pass it as LANG:PATH (e.g. zh:corpus.txt)", where=str(path))
    return langs.get(found[-1]).code


def _is_lang(code: str) -> bool:
    try:
        langs.get(code)
    except InputError:
        return False
    return True


def parse_text_spec(spec: str) -> TextFile:
    """Parse ``lang:path`` or a bare path into a `TextFile` (the file must exist).

    Raises:
        InputError: the file is missing, or its language cannot be told.
    """
    match = _LANG_PREFIX.match(spec)
    if match and not Path(spec).exists() and _is_lang(match.group(1)):
        lang, path = langs.get(match.group(1)).code, Path(match.group(2))
    else:
        path = Path(spec)
        lang = ""
    if not path.is_file():
        raise InputError("no such file" if not path.exists() else "expected a file", where=str(path))
    return TextFile(lang or language_from_name(path), path)


def read_text_lines(path: str | Path, *, max_lines: int | None = None) -> list[str]:
    """The lines of a text file (first TSV column for ``.tsv``), blank lines kept as ``""``.

    Raises:
        InputError: missing file or bytes that are not UTF-8 (naming ``file:line``).
    """
    tsv = Path(path).suffix.lower() == ".tsv"
    lines: list[str] = []
    for _, line in iter_lines(path):
        if max_lines is not None and len(lines) >= max_lines:
            break
        lines.append(line.split("\t", 1)[0] if tsv else line)
    return lines


def group_by_language(files: list[TextFile], *, only: list[str] | None = None,
                      max_lines: int | None = None) -> dict[str, list[str]]:
    """Lines per language (files of one language concatenated in the order given).

    Args:
        files: the parsed inputs.
        only: keep these languages, in this order; each must have a file.
        max_lines: read at most this many lines per file (parallel files stay aligned when each
            side is cut at the same count).

    Raises:
        InputError: a language in ``only`` has no file.
    """
    texts: dict[str, list[str]] = {}
    for item in files:
        if only is None or item.lang in only:
            texts.setdefault(item.lang, []).extend(read_text_lines(item.path, max_lines=max_lines))
    if only is not None:
        missing = [code for code in only if code not in texts]
        if missing:
            raise InputError(f"--langs {','.join(missing)}: no text file of that language among the inputs "
                             f"(found: {', '.join(sorted({f.lang for f in files})) or 'none'})")
        texts = {code: texts[code] for code in only}
    return texts
