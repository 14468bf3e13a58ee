"""Analyses of models and evaluation runs (DESIGN.md: ``polyalign analyze``).

- `run_alignment` — cross-lingual alignment of hidden states by layer (``analyze alignment``),
  built from `capture` (pooled hidden states), `alignment` (metrics), `parallel` (inputs) and
  `alignment_report` (JSON, Markdown, figures).
- `run_language` — response language, code-switching and reasoning-vs-answer language of
  ``samples/<task>_<lang>.jsonl`` (``analyze language``), from `response_language` and `sentences`.
- `run_perplexity` — bits per character and byte (``analyze perplexity``), from `perplexity`.
- `plots` and `outputs` — figures and the ``figures.json`` manifest read by ``polyalign report``.

Modules import torch and matplotlib inside functions, so importing this package stays cheap.
"""
