"""Generation backends: what turns prompts into outputs (or option log-likelihoods).

An open set (registries only at open-ended extension points): ``hf`` (transformers, batched
greedy), ``vllm`` (optional extra), ``proxy`` (a large base model proxy-tuned by a small expert /
anti-expert pair). Evaluation adds ``replay`` (`polyalign.eval.replay`: scores a predictions file,
no model), which is a scoring device and therefore lives with the evaluation.
"""

from polyalign.infer.backends.base import Backend, GenRequest
from polyalign.infer.backends.options import BackendOptions, ProxyOptions
from polyalign.registry import Registry

__all__ = ["BACKENDS", "Backend", "BackendOptions", "GenRequest", "ProxyOptions"]

BACKENDS: Registry[type[Backend]] = Registry("backend", {
    "hf": "polyalign.infer.backends.hf:HFBackend",
    "vllm": "polyalign.infer.backends.vllm:VLLMBackend",
    "proxy": "polyalign.infer.backends.proxy:ProxyBackend",
})
"""Backend name -> class taking one `BackendOptions`."""
