"""Analyses of models and evaluation runs (``polyalign analyze``; docs/architecture.md).

- `alignment` — cross-lingual alignment of hidden states by layer (``analyze alignment``):
  `parallel_text` (inputs), `capture` (pooled hidden states), `metrics`, `measure` (one model),
  `write` (JSON, Markdown, figures) and `run` (the command), with its `config`.
- `language` — response language, code-switching and reasoning-vs-answer language of
  ``samples/<task>_<lang>.jsonl`` (``analyze language``): `response` and `sentences` on top of
  `polyalign.langid`, `run` and `write`.
- `perplexity` — bits per character and byte (``analyze perplexity``): `nll` and `run`.
- `plots` and `outputs` — figures and the ``figures.json`` manifest read by ``polyalign report``.

Modules import torch and matplotlib inside functions, so importing this package stays cheap.
"""
