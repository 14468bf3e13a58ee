"""lm-eval hooks of the arith tasks (pa_arith_*): documents and scores come from polyalign.eval.

lm-eval imports this file by path (``!function utils.load``); keep it a thin adapter so that
``polyalign eval`` and ``lm_eval --include_path`` read, prompt and score identically.
"""

from typing import Any

from polyalign.eval.documents import load_dataset
from polyalign.eval.metrics import process_results

__all__ = ["load", "process_results"]


def load(**kwargs: Any) -> Any:
    """``custom_dataset``: the arith documents of ``kwargs["lang"]`` as a DatasetDict (split ``test``)."""
    return load_dataset("arith", **kwargs)
