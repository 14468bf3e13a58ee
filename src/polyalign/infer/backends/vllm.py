"""The ``vllm`` backend (optional extra ``polyalign[vllm]``, imported only when chosen).

Greedy decoding with the same stop strings as the ``hf`` backend; option log-likelihoods from vLLM's
prompt log-probabilities over the same (context, continuation) token split as `polyalign.infer`.
Results can differ slightly from ``hf`` (different kernels and batching), which is why the backend is
recorded with every result (docs/methods.md, "Evaluation facts").
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from polyalign.errors import InputError
from polyalign.infer.backends.base import ChatTemplate, GenRequest
from polyalign.infer.backends.options import BackendOptions
from polyalign.infer.generate import truncate_at_stop
from polyalign.infer.loglik import encode_pair
from polyalign.provenance import model_fingerprint

__all__ = ["VLLMBackend", "generation_params", "LOGLIK_PARAMS", "loglik_prompt", "score_continuation"]

LOGLIK_PARAMS: dict[str, Any] = {"temperature": 0.0, "max_tokens": 1, "prompt_logprobs": 1}
"""SamplingParams fields for log-likelihoods: vLLM must generate ≥ 1 token; the prompt's own log-probs
come back with the top-1 alternative at each position, which is what the greedy flag compares against."""


def generation_params(request: GenRequest) -> dict[str, Any]:
    """SamplingParams fields for one generation: greedy, the request's token limit and stop strings."""
    return {"temperature": 0.0, "max_tokens": request.max_new_tokens, "stop": list(request.until) or None}


def loglik_prompt(context_ids: Sequence[int], continuation_ids: Sequence[int], fallback_id: int) -> dict[str, list[int]]:
    """A vLLM TokensPrompt scoring ``continuation_ids`` after ``context_ids``.

    vLLM has no log-prob for a prompt's first token, so an empty context starts with ``fallback_id``
    (the end-of-text token), as the hf backend conditions on it.
    """
    return {"prompt_token_ids": list(context_ids or [fallback_id]) + list(continuation_ids)}


def score_continuation(prompt_token_ids: Sequence[int], prompt_logprobs: Sequence[Any], n: int) -> tuple[float, bool]:
    """Sum of the last ``n`` prompt tokens' log-probs, and whether each was the most likely token there.

    ``prompt_logprobs`` is vLLM's per-position list of ``{token id: Logprob}`` (None at position 0).
    """
    ids, steps = list(prompt_token_ids)[-n:], list(prompt_logprobs)[-n:]
    total = sum(step[tok].logprob for tok, step in zip(ids, steps))
    greedy = all(step[tok].logprob >= max(lp.logprob for lp in step.values()) for tok, step in zip(ids, steps))
    return float(total), bool(greedy)


class VLLMBackend:
    """vLLM's offline ``LLM`` engine (tensor parallelism over the visible GPUs)."""

    name = "vllm"

    def __init__(self, options: BackendOptions) -> None:
        if not options.model:
            raise InputError("backend vllm needs --model")
        try:
            import vllm
        except ImportError:
            raise InputError("backend vllm needs the vllm extra: pip install 'polyalign[vllm]' "
                             "(CUDA machines; use --backend hf elsewhere)") from None
        from polyalign.models import resolve_model

        self.options = options
        self.path = resolve_model(options.model)
        dtype = "auto" if options.dtype == "auto" else options.dtype
        self.llm = vllm.LLM(model=self.path, dtype=dtype, seed=options.seed, trust_remote_code=False)
        self.tokenizer = self.llm.get_tokenizer()
        self._vllm = vllm

    def generate(self, requests: Sequence[GenRequest]) -> list[str | None]:
        params = [self._vllm.SamplingParams(**generation_params(r)) for r in requests]
        outs = self.llm.generate([r.prompt for r in requests], params, use_tqdm=False)
        return [truncate_at_stop(o.outputs[0].text, r.until) for o, r in zip(outs, requests)]

    def loglikelihood(self, pairs: Sequence[tuple[str, str]]) -> list[tuple[float, bool]]:
        prompts, lengths = [], []
        for context, continuation in pairs:
            ctx, cont = encode_pair(self.tokenizer, context, continuation, not self.options.chat)
            prompts.append(loglik_prompt(ctx, cont, self.tokenizer.eos_token_id))
            lengths.append(len(cont))
        outs = self.llm.generate(prompts, self._vllm.SamplingParams(**LOGLIK_PARAMS), use_tqdm=False)
        return [score_continuation(out.prompt_token_ids, out.prompt_logprobs, n) for out, n in zip(outs, lengths)]

    def chat_template(self) -> ChatTemplate | None:
        if not getattr(self.tokenizer, "chat_template", None):
            return None
        tokenizer = self.tokenizer
        return lambda messages, add_generation_prompt=True: tokenizer.apply_chat_template(
            messages, tokenize=False, add_generation_prompt=add_generation_prompt)

    def provenance(self) -> dict[str, Any]:
        return {"model": self.options.model, "model_path": self.path, "model_sha256": model_fingerprint(self.path),
                "dtype": self.options.dtype, "batch_size": "vllm-managed", "vllm": self._vllm.__version__}
