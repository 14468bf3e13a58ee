"""The ``proxy`` backend: evaluate a large base model proxy-tuned by a small expert / anti-expert pair.

Every benchmark can be run proxy-tuned (QAlign broadened, docs/methods.md: a 70B model steered
by a question-aligned 7B/13B at decoding time): generation uses `polyalign.infer.proxy.ProxyTuner`
(three KV caches in lockstep, ``s_L + α·(s_E − s_A)`` over the shared vocabulary, greedy unless
``polyalign generate`` asks for sampling).

Multiple choice by log-likelihood uses the **proxy distribution**: each option's score is
``Σ_t log_softmax(s_L + α·(s_E − s_A))[token_t]`` over the option's tokens (the distribution greedy
proxy decoding picks from), and "is greedy" says whether proxy decoding would produce the option.

``--prompt chat`` renders prompts with the *base* model's chat template and every model reads that
text; per-model prompt formats (``--expert-format chat`` ...) apply to plain prompts instead, so
the two cannot be combined.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Any

from polyalign.errors import InputError
from polyalign.infer.backends.base import ChatTemplate, GenRequest
from polyalign.infer.backends.options import BackendOptions
from polyalign.infer.proxy import ROLES, ProxyModelSpec, ProxyTuner
from polyalign.infer.sampling import Sampling
from polyalign.provenance import model_fingerprint

__all__ = ["ProxyBackend"]


class ProxyBackend:
    """Loads base (``--base``/``--model``), expert and anti-expert once; batched, KV-cached lockstep decoding."""

    name = "proxy"
    sampling = True

    def __init__(self, options: BackendOptions) -> None:
        proxy = options.proxy  # α and the prompt formats were checked when it was built
        proxy.check_models(options.model)
        self.decoding = Sampling(options.temperature, options.top_p, options.seed)
        self.decoding.validate()
        if options.chat and any(fmt != "plain" for fmt in proxy.prompt_formats):
            raise InputError("--prompt chat renders every model's prompt with the base's chat template; per-model "
                             "prompt formats (--base/--expert/--anti-expert-format) need --prompt paper")
        import torch

        from polyalign.models import resolve_model
        from polyalign.models.precision import resolve_dtype

        torch.manual_seed(options.seed)
        self.options = options
        paths = (options.model, proxy.expert, proxy.anti_expert)
        small_dtype = proxy.small_dtype or options.dtype
        small_device = proxy.small_device or options.device
        # auto resolves as in the hf backend (bf16 on a CPU that computes it natively), so proxy-tuning
        # with alpha 0 decodes exactly what the base alone decodes
        self.settings = [(resolve_dtype(options.dtype, options.device), options.device),
                         (resolve_dtype(small_dtype, small_device), small_device),
                         (resolve_dtype(small_dtype, small_device), small_device)]
        specs = [ProxyModelSpec(path, fmt, dtype, None if device == "cpu" else device)
                 for path, fmt, (dtype, device) in zip(paths, proxy.prompt_formats, self.settings)]
        self.tuner = ProxyTuner.load(*specs, alpha=proxy.alpha)
        self.paths = [resolve_model(p) for p in paths]

    def generate(self, requests: Sequence[GenRequest]) -> list[str | None]:
        outputs: list[str | None] = [None] * len(requests)
        groups: dict[tuple[tuple[str, ...], int], list[int]] = {}
        for i, request in enumerate(requests):
            groups.setdefault((request.until, request.max_new_tokens), []).append(i)
        sampling = None if self.decoding.greedy else self.decoding
        for (until, max_new), members in groups.items():
            texts = self.tuner.generate([requests[i].prompt for i in members], max_new_tokens=max_new, stop=until,
                                        batch_size=self.options.batch_size, sampling=sampling,
                                        add_special_tokens=not self.options.chat)
            for i, text in zip(members, texts):
                outputs[i] = text
        return outputs

    def loglikelihood(self, pairs: Sequence[tuple[str, str]]) -> list[tuple[float, bool]]:
        return self.tuner.loglikelihoods(pairs, batch_size=self.options.batch_size,
                                         add_special_tokens=not self.options.chat)

    def chat_template(self) -> ChatTemplate | None:
        tokenizer = self.tuner.base.tokenizer
        if not getattr(tokenizer, "chat_template", None):
            return None

        def render(messages: list[dict[str, str]], add_generation_prompt: bool = True) -> str:
            return tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=add_generation_prompt,
                                                 continue_final_message=not add_generation_prompt)

        return render

    def provenance(self) -> dict[str, Any]:
        models = {}
        for role, member, path, (dtype, device) in zip(ROLES, self.tuner.members, self.paths, self.settings):
            models[role.replace("-", "_")] = {
                "model": member.path, "model_path": path, "model_sha256": model_fingerprint(path),
                "prompt_format": member.prompt_format, "dtype": dtype, "device": device,
                "model_class": type(member.model).__name__}
        # One hash over the three fingerprints: resuming a run with another expert must be refused too.
        combined = hashlib.sha256("\n".join(f"{role}:{m['model_sha256'] or m['model_path']}"
                                            for role, m in models.items()).encode()).hexdigest()
        base = models["base"]
        return {"model": self.options.model, "model_path": base["model_path"], "model_sha256": combined,
                "dtype": self.options.dtype, "device": self.options.device, "batch_size": self.options.batch_size,
                "model_class": base["model_class"], "padding_side": "left",
                "proxy": {"alpha": self.tuner.alpha, "scores": "s_base + alpha * (s_expert - s_anti_expert)",
                          "shared_vocab": self.tuner.vocab_size, "eos_ids": self.tuner.eos_ids,
                          "loglikelihood": "sum of log_softmax(proxy scores) over continuation tokens",
                          **models}}
