"""lm-eval hooks of the Flores-101 tasks (pa_flores_*): documents and scores come from polyalign.eval.

lm-eval imports this file by path (``!function utils.load``); keep it a thin adapter so that
``polyalign eval`` and ``lm_eval --include_path`` read, prompt and score identically.
"""

from typing import Any

from polyalign.eval.documents import load_dataset
from polyalign.eval.metrics import agg_bleu, agg_chrf, agg_comet, agg_spbleu, process_results

__all__ = ["load", "process_results", "agg_bleu", "agg_chrf", "agg_spbleu", "agg_comet"]


def load(**kwargs: Any) -> Any:
    """``custom_dataset``: the Flores-101 documents of ``kwargs["lang"]`` as a DatasetDict (split ``test``)."""
    return load_dataset("flores", **kwargs)
