"""Multilingual evaluation suite: task pack, scorers, backends, runner and tables.

The scorers (``polyalign.eval.scorers``) are pure functions of model output text and gold answers;
everything that needs a model or files lives in the other eval modules.

Entry points: `polyalign.eval.runner.run_eval` with a `polyalign.eval.config.EvalConfig` (what
``polyalign eval`` calls); the lm-eval task pack is the ``tasks/`` folder (see README.md here).
Nothing is imported here, so ``import polyalign.eval.scorers`` stays light.
"""

__all__: list[str] = []
