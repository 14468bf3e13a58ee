"""The ``hf`` backend: transformers on CPU or GPU, batched greedy generation (`polyalign.infer`)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from polyalign.errors import InputError
from polyalign.infer import generate, loglikelihoods
from polyalign.infer.backends.base import ChatTemplate, GenRequest
from polyalign.infer.backends.options import BackendOptions
from polyalign.provenance import model_fingerprint
from polyalign.infer.decode import greedy_decode
from polyalign.models.precision import resolve_dtype

__all__ = ["HFBackend"]


class HFBackend:
    """Loads the model once; generation is length-sorted, left-padded, KV-cached and greedy."""

    name = "hf"
    sampling = True
    """Honours ``temperature``/``top_p`` (greedy unless asked; evaluations stay greedy)."""

    def __init__(self, options: BackendOptions) -> None:
        if not options.model:
            raise InputError("backend hf needs --model")
        import torch

        from polyalign.models import load_model, load_tokenizer, resolve_model

        torch.manual_seed(options.seed)
        self.options = options
        self.path = resolve_model(options.model)
        self.tokenizer = load_tokenizer(options.model, padding_side="left")
        device_map = None if options.device == "cpu" else options.device
        self.dtype = resolve_dtype(options.dtype, device_map)  # auto on CPU: bf16 where native (models/precision.py)
        self.model = load_model(options.model, dtype=self.dtype, device_map=device_map)

    def generate(self, requests: Sequence[GenRequest]) -> list[str | None]:
        outputs: list[str | None] = [None] * len(requests)
        groups: dict[tuple[tuple[str, ...], int], list[int]] = {}
        for i, request in enumerate(requests):
            groups.setdefault((request.until, request.max_new_tokens), []).append(i)
        for (until, max_new), members in groups.items():
            prompts = [requests[i].prompt for i in members]
            if self.options.temperature > 0:
                texts = generate(self.model, self.tokenizer, prompts, max_new_tokens=max_new, stop=until,
                                 batch_size=self.options.batch_size, add_special_tokens=not self.options.chat,
                                 temperature=self.options.temperature, top_p=self.options.top_p, seed=self.options.seed)
            else:  # greedy: the lean loop, same outputs as generate, less per-step work (infer/decode.py)
                texts = greedy_decode(self.model, self.tokenizer, prompts, max_new_tokens=max_new, stop=until,
                                      batch_size=self.options.batch_size, add_special_tokens=not self.options.chat)
            for i, text in zip(members, texts):
                outputs[i] = text
        return outputs

    def loglikelihood(self, pairs: Sequence[tuple[str, str]]) -> list[tuple[float, bool]]:
        return loglikelihoods(self.model, self.tokenizer, pairs, batch_size=self.options.batch_size,
                              add_special_tokens=not self.options.chat)

    def chat_template(self) -> ChatTemplate | None:
        if not getattr(self.tokenizer, "chat_template", None):
            return None
        tokenizer = self.tokenizer

        def render(messages: list[dict[str, str]], add_generation_prompt: bool = True) -> str:
            return tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=add_generation_prompt,
                                                 continue_final_message=not add_generation_prompt)

        return render

    def provenance(self) -> dict[str, Any]:
        return {"model": self.options.model, "model_path": self.path, "model_sha256": model_fingerprint(self.path),
                "dtype": self.dtype, "dtype_requested": self.options.dtype, "device": self.options.device, "batch_size": self.options.batch_size,
                "model_class": type(self.model).__name__, "padding_side": "left"}
