"""The little Markdown the analyses write (alignment.md, language.md, fits.md, ...) as HTML.

Supported: ATX headings, GitHub pipe tables (alignment row honoured; ``\\|`` escapes a pipe),
paragraphs, ``-``/``*`` lists, fenced code, inline ``code`` and ``**bold**``. Links and images are
left as text on purpose: the report fetches nothing and embeds figures from the manifest instead.
A dependency (``markdown``) would do more than these files need.
"""

from __future__ import annotations

import re

from polyalign.report.html import esc, table

__all__ = ["markdown_to_html", "inline", "split_row"]

_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
_SEPARATOR = re.compile(r"^\|?\s*:?-{1,}:?\s*(\|\s*:?-{1,}:?\s*)*\|?\s*$")
_BOLD = re.compile(r"\*\*(.+?)\*\*")


def inline(text: str) -> str:
    """Escape ``text``; render `code` spans and **bold**."""
    parts = re.split(r"(`[^`]*`)", text)
    out = []
    for part in parts:
        if len(part) >= 2 and part.startswith("`") and part.endswith("`"):
            out.append(f"<code>{esc(part[1:-1])}</code>")
        else:
            out.append(_BOLD.sub(r"<strong>\1</strong>", esc(part)))
    return "".join(out)


def split_row(line: str) -> list[str]:
    """The cells of a pipe-table row (``\\|`` is a literal pipe)."""
    body = line.strip()
    if body.startswith("|"):
        body = body[1:]
    if body.endswith("|") and not body.endswith("\\|"):
        body = body[:-1]
    return [cell.strip().replace("\\|", "|") for cell in re.split(r"(?<!\\)\|", body)]


def _align(cell: str) -> str | None:
    cell = cell.strip()
    if cell.endswith(":"):
        return "right" if not cell.startswith(":") else "left"
    return "left" if cell.startswith(":") else None


def _table(lines: list[str]) -> str:
    headers = split_row(lines[0])
    align = [_align(c) for c in split_row(lines[1])] if len(lines) > 1 and _SEPARATOR.match(lines[1]) else []
    body = lines[2:] if align else lines[1:]
    rows = []
    for line in body:
        cells = split_row(line)
        rows.append((cells + [""] * len(headers))[:len(headers)])
    return table(headers, rows, align=align or None)


def markdown_to_html(text: str, *, heading_offset: int = 0) -> str:
    """Convert ``text``; headings move down by ``heading_offset`` levels (capped at h6)."""
    out: list[str] = []
    paragraph: list[str] = []
    items: list[str] = []
    lines = text.splitlines()

    def flush() -> None:
        if paragraph:
            out.append(f"<p>{inline(' '.join(paragraph))}</p>")
            paragraph.clear()
        if items:
            out.append("<ul>" + "".join(f"<li>{inline(item)}</li>" for item in items) + "</ul>")
            items.clear()

    i = 0
    while i < len(lines):
        line = lines[i]
        stripped = line.strip()
        if stripped.startswith("```"):
            flush()
            end = i + 1
            while end < len(lines) and not lines[end].strip().startswith("```"):
                end += 1
            out.append(f"<pre>{esc(chr(10).join(lines[i + 1:end]))}</pre>")
            i = end + 1
            continue
        if stripped.startswith("|"):
            flush()
            end = i
            while end < len(lines) and lines[end].strip().startswith("|"):
                end += 1
            out.append(_table(lines[i:end]))
            i = end
            continue
        heading = _HEADING.match(stripped)
        if heading:
            flush()
            level = min(6, len(heading.group(1)) + heading_offset)
            out.append(f"<h{level}>{inline(heading.group(2))}</h{level}>")
        elif not stripped:
            flush()
        elif re.match(r"^[-*]\s+", stripped):
            if paragraph:
                flush()
            items.append(re.sub(r"^[-*]\s+", "", stripped))
        elif items and line.startswith((" ", "\t")):
            items[-1] += " " + stripped  # a list item's continuation line
        else:
            if items:
                flush()
            paragraph.append(stripped)
        i += 1
    flush()
    return "\n".join(out) + "\n"
