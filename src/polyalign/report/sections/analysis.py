"""An analysis folder (``polyalign analyze``): the figures its manifest lists, then its Markdown tables.

``figures.json`` (`polyalign.analysis.outputs`) names every PNG with a title and a caption, so the
report shows figures it knows nothing about. The Markdown tables (alignment.md, language.md,
perplexity.md) are converted as they are; long ones (alignment by layer has a row per layer) start
collapsed so the figures stay in view.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from polyalign.report.html import details, esc, figure, kv_list, note, warn
from polyalign.report.markdown import markdown_to_html
from polyalign.report.sections.common import config_block
from polyalign.runfiles import load_bytes, load_json, load_text

__all__ = ["render", "figures_html", "DOCUMENTS"]

DOCUMENTS = ("alignment", "language", "perplexity")
"""Analyses whose ``<name>.md`` / ``<name>.json`` / ``<name>_config.yaml`` the report reads."""
TITLES = {"alignment": "Cross-lingual alignment by layer", "language": "Response language",
          "perplexity": "Bits per character"}

_OPEN_ROWS = 40  # Markdown documents with more table rows than this start collapsed


def _manifest(folder: Path) -> tuple[list[dict[str, Any]], str]:
    """The manifest's entries, and a warning (HTML) when it cannot be read."""
    manifest, problem = load_json(folder / "figures.json")
    if problem:
        return [], "" if "not found" in problem else warn(problem)
    entries = manifest.get("figures") if isinstance(manifest, dict) else None
    if not isinstance(entries, list):
        return [], warn("figures.json has no \"figures\" list")
    return [e for e in entries if isinstance(e, dict) and e.get("file")], ""


def figures_html(folder: Path, entries: list[dict[str, Any]]) -> str:
    """``entries`` of the manifest, embedded in order (missing files are named, not fatal)."""
    parts = []
    for entry in entries:
        path = folder / str(entry["file"])
        # the manifest only indexes files in its own folder; never follow it elsewhere
        data = load_bytes(path) if path.resolve().parent == folder.resolve() and path.is_file() else None
        if data is None:
            parts.append(warn(f"figure {entry['file']} listed in figures.json is missing"))
            continue
        title, caption = str(entry.get("title") or entry["file"]), str(entry.get("caption") or "")
        parts.append(figure(data, title, caption))
    return "".join(parts)


def _summary(name: str, data: Any) -> str:
    """A line of facts from an analysis' JSON (which models, how many languages)."""
    if not isinstance(data, dict):
        return ""
    models = data.get("models")
    if name == "alignment" and isinstance(models, list):
        return kv_list([("models", ", ".join(f"{m.get('label')} ({m.get('model')})" for m in models
                                               if isinstance(m, dict))),
                        ("layers", len(data.get("layers") or []))])
    if name == "language" and isinstance(data.get("results"), dict):
        return kv_list([("tasks", ", ".join(data["results"]))])
    if name == "perplexity" and isinstance(data.get("settings"), dict):
        return kv_list([("models", ", ".join(map(str, data["settings"].get("models") or [])))])
    return ""


def _document(text: str) -> str:
    """A Markdown document without its title (the section already has one)."""
    lines = text.splitlines()
    if lines and lines[0].startswith("# "):
        lines = lines[1:]
    return "\n".join(lines)


def render(folder: Path) -> str:
    """The HTML of an analysis output folder: per analysis its facts, figures, tables and config."""
    entries, problem = _manifest(folder)
    parts = [problem]
    for name in DOCUMENTS:
        data = load_json(folder / f"{name}.json")[0] if (folder / f"{name}.json").is_file() else None
        text = load_text(folder / f"{name}.md")
        mine = [e for e in entries if e.get("analysis") == name]
        if text is None and data is None and not mine:
            continue
        parts.append(f"<h4>{esc(TITLES[name])}</h4>")
        parts.append(_summary(name, data))
        parts.append(figures_html(folder, mine))
        if text is not None:
            rows = sum(1 for line in text.splitlines() if line.lstrip().startswith("|"))
            parts.append(details(f"Tables ({name}.md)", markdown_to_html(_document(text), heading_offset=3),
                                 open_=rows <= _OPEN_ROWS))
        parts.append(config_block(folder, [f"{name}_config.yaml"]))
    others = [e for e in entries if e.get("analysis") not in DOCUMENTS]
    if others:
        parts.append("<h4>Other figures</h4>" + figures_html(folder, others))
    if not any(parts):
        parts.append(note("No figures or tables found in this analysis folder."))
    return "".join(parts)
