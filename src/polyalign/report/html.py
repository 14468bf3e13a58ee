"""HTML building blocks of the report: escaped text, tables, collapsible blocks, embedded images, the page.

Every string that comes from a run directory goes through `esc` (model outputs can contain
``<script>``); functions that take ``html`` arguments expect fragments built here. The page is one
file with inline CSS and images as base64 ``data:`` URIs: no JavaScript, nothing fetched, so it
opens the same from a laptop, an e-mail attachment or a CI artifact.
"""

from __future__ import annotations

import base64
import html as _html
import json
import re
from collections.abc import Iterable, Sequence
from typing import Any

__all__ = ["esc", "Cell", "table", "details", "pre", "image", "figure", "note", "warn", "kv_list", "json_block",
           "slug", "page", "NUMERIC"]

NUMERIC = re.compile(r"^[\s+\-−–]*\d[\d\s.,/%()+\-−e×]*$")
"""A cell that reads as a number (right-aligned in tables): ``12.4``, ``-0.002 (0.001)``, ``0.29 / 0.22``."""


def esc(value: Any) -> str:
    """Text for HTML (quotes too: safe in attributes)."""
    return _html.escape("" if value is None else str(value), quote=True)


class Cell:
    """A table cell with its own HTML and class (e.g. a coloured difference); plain values are escaped."""

    def __init__(self, html: str, cls: str = "", title: str = "") -> None:
        self.html, self.cls, self.title = html, cls, title


def _is_number(value: Any) -> bool:
    text = "–" if value is None else str(value)
    return text in ("–", "nan", "") or bool(NUMERIC.match(text))


def _td(value: Any, tag: str, align: str) -> str:
    if isinstance(value, Cell):
        cls, body, title = value.cls, value.html, value.title
    else:
        cls, body, title = "", esc("–" if value is None else value), ""
    if align == "right" and "num" not in cls.split():
        cls = f"{cls} num".strip()
    attrs = (f' class="{cls}"' if cls else "") + (f' title="{esc(title)}"' if title else "")
    return f"<{tag}{attrs}>{body}</{tag}>"


def table(headers: Sequence[Any], rows: Iterable[Sequence[Any]], *, align: Sequence[str | None] | None = None,
          row_classes: Sequence[str] | None = None, group_header: Sequence[tuple[str, int]] | None = None,
          caption: str = "") -> str:
    """A zebra table; numbers right-aligned (by ``align`` per column: "left"/"right", else detected).

    Args:
        headers: column titles (escaped unless `Cell`).
        rows: cell values (escaped unless `Cell`; None renders as an en dash).
        align: per column "left", "right" or None: right when every plain cell of the column reads as
            a number (`NUMERIC`) and at least one is not empty.
        row_classes: a CSS class per row (e.g. "avg" for average rows).
        group_header: an extra header row above ``headers``: (title, column span) pairs.
        caption: a caption above the table (plain text).
    """
    rows = [list(row) for row in rows]
    given = list(align or [])
    resolved = []
    for i in range(len(headers)):
        if i < len(given) and given[i]:
            resolved.append(given[i])
            continue
        plain = [row[i] for row in rows if i < len(row) and not isinstance(row[i], Cell)]
        numeric = all(_is_number(v) for v in plain) and any(v not in (None, "", "–") for v in plain)
        resolved.append("right" if numeric else "left")
    head = ""
    if group_header:
        head += "<tr>" + "".join(f'<th colspan="{span}" class="group">{esc(title)}</th>' if span > 1
                                 else f"<th>{esc(title)}</th>" for title, span in group_header) + "</tr>"
    head += "<tr>" + "".join(_td(h, "th", resolved[i]) for i, h in enumerate(headers)) + "</tr>"
    body = []
    for index, row in enumerate(rows):
        cls = row_classes[index] if row_classes and index < len(row_classes) else ""
        cells = "".join(_td(v, "td", resolved[i] if i < len(resolved) else "left") for i, v in enumerate(row))
        body.append(f'<tr class="{cls}">{cells}</tr>' if cls else f"<tr>{cells}</tr>")
    # a paragraph, not <caption>: a caption is as narrow as its table and wraps word by word
    cap = f'<p class="caption">{esc(caption)}</p>' if caption else ""
    return f'{cap}<div class="scroll"><table><thead>{head}</thead><tbody>{"".join(body)}</tbody></table></div>\n'


def details(summary: str, body_html: str, *, open_: bool = False) -> str:
    """A collapsible block (no JavaScript: the browser's own <details>); ``summary`` is plain text."""
    return f"<details{' open' if open_ else ''}><summary>{esc(summary)}</summary>{body_html}</details>\n"


def pre(text: str, cls: str = "") -> str:
    """Preformatted, escaped text (long blocks scroll inside a bounded box)."""
    attr = f' class="{cls}"' if cls else ""
    return f"<pre{attr}>{esc(text)}</pre>\n"


def json_block(data: Any) -> str:
    """Pretty JSON, escaped, in a <pre>."""
    return pre(json.dumps(data, indent=2, ensure_ascii=False, default=str))


def image(png: bytes, alt: str) -> str:
    """A PNG embedded as a data URI."""
    return f'<img alt="{esc(alt)}" src="data:image/png;base64,{base64.b64encode(png).decode("ascii")}">'


def figure(png: bytes, title: str, caption: str = "") -> str:
    """An embedded PNG with its title and caption (plain text)."""
    cap = f"<figcaption><strong>{esc(title)}</strong>{(' — ' + esc(caption)) if caption else ''}</figcaption>"
    return f"<figure>{image(png, title)}{cap}</figure>\n"


def note(text: str) -> str:
    """A muted paragraph (plain text)."""
    return f'<p class="note">{esc(text)}</p>\n'


def warn(text: str) -> str:
    """A highlighted problem found while reading the run (plain text)."""
    return f'<p class="warn">{esc(text)}</p>\n'


def kv_list(items: Iterable[tuple[str, Any]]) -> str:
    """Key-value facts as a definition list; None values are left out."""
    rows = "".join(f"<dt>{esc(k)}</dt><dd>{esc(v)}</dd>" for k, v in items if v is not None and v != "")
    return f'<dl class="facts">{rows}</dl>\n' if rows else ""


def slug(text: str, taken: set[str]) -> str:
    """A unique HTML id for ``text`` (added to ``taken``)."""
    base = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "section"
    name, n = base, 2
    while name in taken:
        name, n = f"{base}-{n}", n + 1
    taken.add(name)
    return name


_CSS = """
:root { color-scheme: light; --fg: #1f2328; --muted: #59636e; --line: #d1d9e0; --zebra: #f6f8fa; --accent: #0969da;
  --good: #1a7f37; --bad: #cf222e; --warnbg: #fff8c5; }
* { box-sizing: border-box; }
body { margin: 0; font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "Noto Sans", "Helvetica Neue",
  Arial, sans-serif; color: var(--fg); background: #fff; }
main, header.top { max-width: 1320px; margin: 0 auto; padding: 0 24px; }
header.top { padding-top: 24px; }
h1 { font-size: 1.7em; margin: 0 0 4px; }
h2 { font-size: 1.35em; margin: 40px 0 8px; padding-top: 8px; border-top: 3px solid var(--line); }
h3 { font-size: 1.15em; margin: 28px 0 8px; }
h4, h5, h6 { font-size: 1em; margin: 18px 0 6px; }
code, pre { font: 13px/1.45 ui-monospace, SFMono-Regular, Menlo, Consolas, "Liberation Mono", monospace; }
pre { background: var(--zebra); border: 1px solid var(--line); border-radius: 6px; padding: 8px 10px;
  max-height: 22em; overflow: auto; white-space: pre-wrap; word-break: break-word; margin: 4px 0 10px; }
nav { background: var(--zebra); border: 1px solid var(--line); border-radius: 6px; padding: 10px 16px; margin: 16px 0; }
nav ul { margin: 0; padding-left: 18px; } nav li { margin: 2px 0; }
a { color: var(--accent); text-decoration: none; } a:hover { text-decoration: underline; }
.scroll { overflow-x: auto; margin: 8px 0 14px; }
table { border-collapse: collapse; font-size: 14px; }
p.caption { color: var(--muted); font-size: 13px; margin: 10px 0 -4px; }
th, td { border: 1px solid var(--line); padding: 4px 7px; vertical-align: top; }
th { background: #eef1f4; text-align: left; font-weight: 600; }
th.group { text-align: center; }
tbody tr:nth-child(even) { background: var(--zebra); }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
tr.avg td { font-weight: 600; border-top: 2px solid #afb8c1; }
td.good { color: var(--good); font-weight: 600; } td.bad { color: var(--bad); font-weight: 600; }
td.same { color: var(--muted); }
.kind { display: inline-block; font-size: 12px; font-weight: 600; color: #fff; background: var(--accent);
  border-radius: 10px; padding: 1px 8px; margin-left: 6px; vertical-align: middle; }
.path, .note { color: var(--muted); font-size: 13px; }
.warn { background: var(--warnbg); border: 1px solid #d4a72c; border-radius: 6px; padding: 6px 10px; }
dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: 2px 14px; margin: 8px 0 12px; }
dl.facts dt { color: var(--muted); } dl.facts dd { margin: 0; word-break: break-all; }
figure { margin: 12px 0 20px; } figure img { max-width: 100%; height: auto; border: 1px solid var(--line); }
figcaption { color: var(--muted); font-size: 13px; margin-top: 4px; max-width: 900px; }
.grid { display: grid; grid-template-columns: repeat(auto-fit, minmax(420px, 1fr)); gap: 8px 20px; }
details { margin: 6px 0 10px; } summary { cursor: pointer; color: var(--accent); }
.sample { border-left: 3px solid var(--line); padding-left: 10px; margin: 8px 0 14px; }
.sample .label { font-size: 12px; color: var(--muted); text-transform: uppercase; letter-spacing: .04em; }
footer { color: var(--muted); font-size: 12px; margin: 40px 0 24px; }
"""


def page(title: str, subtitle_html: str, nav_html: str, body_html: str, footer: str) -> str:
    """The whole document: inline CSS, no scripts, no external resources."""
    return (f'<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">\n'
            f"<title>{esc(title)}</title>\n<style>{_CSS}</style>\n</head>\n<body>\n"
            f'<header class="top"><h1>{esc(title)}</h1>{subtitle_html}</header>\n'
            f"<main>\n{nav_html}\n{body_html}\n<footer>{esc(footer)}</footer>\n</main>\n</body>\n</html>\n")
