"""Multilingual evaluation suite: task pack, scorers, backends, runner and tables.

The scorers (``polyalign.eval.scorers``) are pure functions of model output text and gold answers;
everything that needs a model or files lives in the other eval modules.
"""
