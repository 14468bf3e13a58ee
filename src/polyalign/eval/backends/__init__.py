"""Evaluation backends: what turns prompts into outputs (or option log-likelihoods).

An open set (docs/architecture.md: registries only at open-ended extension points): ``hf`` (transformers, batched
greedy), ``vllm`` (optional extra), ``replay`` (scores a predictions file, no model), ``proxy``
(a large base model proxy-tuned by a small expert / anti-expert pair, docs/methods.md).
"""

from polyalign.eval.backends.base import Backend, BackendOptions, GenRequest
from polyalign.registry import Registry

__all__ = ["BACKENDS", "Backend", "BackendOptions", "GenRequest"]

BACKENDS: Registry[type[Backend]] = Registry("backend", {
    "hf": "polyalign.eval.backends.hf:HFBackend",
    "vllm": "polyalign.eval.backends.vllm:VLLMBackend",
    "replay": "polyalign.eval.backends.replay:ReplayBackend",
    "proxy": "polyalign.eval.backends.proxy:ProxyBackend",
})
"""Backend name -> class taking one `BackendOptions`."""
