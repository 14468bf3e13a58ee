"""Proxy-tuning: steer a large base model with a small aligned expert and its unaligned anti-expert.

At every decoding step the next-token scores are ``s_L + α·(s_E − s_A)`` (QAlign broadened,
docs/methods.md, QAlign; Liu et al. 2024): L = the large base model, E = the small model after question
alignment, A = the same small model without it, α = 1 by default. All three read the same prefix
(each in its own prompt format) and keep their own KV cache (`polyalign.infer.lockstep`). Scores
are cut to the vocabulary all three share (`polyalign.infer.members`), so an extra ``<pad>`` row of
a fine-tuned checkpoint is never emitted.

`ProxyTuner.load` takes one `ProxyModelSpec` per model (path, prompt format, dtype, device map), so
the base can be sharded over GPUs while the small pair sits on one device; the combined scores live
on the base model's output device.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from polyalign.errors import InputError
from polyalign.infer.generate import eos_ids, truncate_at_stop
from polyalign.infer.lockstep import lockstep_decode
from polyalign.infer.members import Member, check_prompt_format, compare_vocab, shared_vocab_size
from polyalign.infer.proxy_loglik import combined_loglikelihoods
from polyalign.infer.sampling import Sampling

__all__ = ["ProxyModelSpec", "ProxyTuner", "combine_logits", "check_alpha", "ROLES"]

ROLES = ("base", "expert", "anti-expert")


@dataclass(frozen=True)
class ProxyModelSpec:
    """How to load one of the three models."""

    path: str
    """Zoo name, local folder, GGUF file or hub id (`polyalign.models.resolve_model`)."""
    prompt_format: str = "plain"
    """``plain``, ``chat`` or a template containing ``{prompt}`` (see `polyalign.infer.members.Member`)."""
    dtype: str = "float32"
    """float32, bfloat16, float16 or auto."""
    device_map: str | dict[str, Any] | None = None
    """transformers ``device_map`` ("cuda:1", "auto", ...); None = CPU."""


def check_alpha(alpha: Any) -> float:
    """α as a finite float, or InputError."""
    try:
        value = float(alpha)
    except (TypeError, ValueError):
        raise InputError(f"--alpha must be a number, got {alpha!r}") from None
    if not math.isfinite(value):
        raise InputError(f"--alpha must be a finite number, got {alpha!r}")
    return value


def combine_logits(base: Any, expert: Any, anti_expert: Any, alpha: float) -> Any:
    """``base + alpha * (expert - anti_expert)``; exactly ``base`` when α = 0.

    The difference is taken first, so an expert identical to its anti-expert contributes exactly
    zero (a weighted sum ``base + α·expert − α·anti`` would leave rounding noise).
    """
    if alpha == 0:
        return base
    return base + alpha * (expert - anti_expert)


class ProxyTuner:
    """Three loaded models and α: proxy-tuned generation and log-likelihoods."""

    def __init__(self, base: Member, expert: Member, anti_expert: Member, alpha: float = 1.0) -> None:
        self.alpha = check_alpha(alpha)
        self.members = (base, expert, anti_expert)
        self.vocab_size = shared_vocab_size(self.members)
        # EOS comes from the base model (it decides the output format); ids outside the shared
        # vocabulary can never be chosen, so they are left out rather than waited for.
        self.eos_ids = [i for i in eos_ids(base.model, base.tokenizer) if i < self.vocab_size]

    @classmethod
    def load(cls, base: ProxyModelSpec, expert: ProxyModelSpec, anti_expert: ProxyModelSpec,
             alpha: float = 1.0) -> ProxyTuner:
        """Load the three models, checking everything cheap before anything big is loaded.

        Raises:
            InputError: a model that cannot be found or loaded, a bad prompt format, α not a
                number, or tokenizers that differ over the shared range.
        """
        from polyalign.models import load_model, load_tokenizer, resolve_model

        alpha = check_alpha(alpha)
        specs = (base, expert, anti_expert)
        for role, spec in zip(ROLES, specs):
            check_prompt_format(spec.prompt_format, what=f"the {role} prompt format")
            resolve_model(spec.path)  # a missing expert must fail before a 70B base loads
        tokenizers = [load_tokenizer(spec.path, padding_side="left") for spec in specs]
        compare_vocab(ROLES, tokenizers, min(len(t) for t in tokenizers))
        # Members are checked (prompt formats against chat templates) before their weights load.
        members = [Member(role, None, tok, spec.prompt_format, path=spec.path)
                   for role, spec, tok in zip(ROLES, specs, tokenizers)]
        for member, spec in zip(members, specs):
            member.model = load_model(spec.path, dtype=spec.dtype, device_map=spec.device_map)
        return cls(*members, alpha=alpha)

    @property
    def base(self) -> Member:
        return self.members[0]

    def combine(self, logits: list[Any]) -> Any:
        """The lockstep combiner: ``s_L + α·(s_E − s_A)``."""
        return combine_logits(logits[0], logits[1], logits[2], self.alpha)

    def encode(self, prompts: Sequence[str], add_special_tokens: bool = True) -> list[list[list[int]]]:
        """``[member][prompt]`` token ids, each member in its own prompt format."""
        return [[m.encode(p, add_special_tokens) for p in prompts] for m in self.members]

    def generate_ids(self, prompts: Sequence[str], *, max_new_tokens: int, stop: Sequence[str] = (),
                     batch_size: int = 8, sampling: Sampling | None = None, add_special_tokens: bool = True,
                     stop_at_eos: bool = True, on_batch: Callable[[int], None] | None = None) -> list[list[int]]:
        """Generated token ids per prompt (see `generate`); ``stop_at_eos=False`` always runs to the limit."""
        return lockstep_decode(self.members, self.combine, self.encode(prompts, add_special_tokens),
                               vocab_size=self.vocab_size, max_new_tokens=max_new_tokens,
                               eos_ids=self.eos_ids if stop_at_eos else (), stop=stop,
                               stop_tokenizer=self.base.tokenizer, sampling=sampling, batch_size=batch_size,
                               on_batch=on_batch)

    def generate(self, prompts: Sequence[str], *, max_new_tokens: int, stop: Sequence[str] = (),
                 batch_size: int = 8, sampling: Sampling | None = None, add_special_tokens: bool = True,
                 on_batch: Callable[[int], None] | None = None) -> list[str]:
        """Proxy-tuned continuations of ``prompts``, in input order.

        Args:
            prompts: prompt strings; each member renders them in its own prompt format.
            max_new_tokens: generation limit per prompt.
            stop: strings that end a continuation (cut from the result); the base's EOS always ends it.
            batch_size: prompts per forward pass (of each model).
            sampling: None = greedy; else temperature / top-p, seeded per prompt.
            add_special_tokens: let tokenizers add BOS; False for prompts already rendered by a chat
                template (members in ``chat`` format never add them).
            on_batch: progress callback (prompts finished per batch).

        Returns:
            Decoded continuations (base tokenizer, special tokens skipped), cut at the first stop string.
        """
        ids = self.generate_ids(prompts, max_new_tokens=max_new_tokens, stop=stop, batch_size=batch_size,
                                sampling=sampling, add_special_tokens=add_special_tokens, on_batch=on_batch)
        tok = self.base.tokenizer
        return [truncate_at_stop(tok.decode(row, skip_special_tokens=True), stop) for row in ids]

    def loglikelihoods(self, pairs: Sequence[tuple[str, str]], *, batch_size: int = 8,
                       add_special_tokens: bool = True) -> list[tuple[float, bool]]:
        """Per (context, continuation): the continuation's log-probability under the proxy distribution.

        The proxy distribution at each continuation position is ``log_softmax(s_L + α·(s_E − s_A))``
        over the shared vocabulary; the score is the sum over the continuation's tokens, and the flag
        says whether greedy proxy decoding would produce exactly those tokens.
        """
        return combined_loglikelihoods(self.members, self.combine, pairs, vocab_size=self.vocab_size,
                                       batch_size=batch_size, add_special_tokens=add_special_tokens)

    def generate_naive(self, prompts: Sequence[str], *, max_new_tokens: int, stop: Sequence[str] = (),
                       add_special_tokens: bool = True) -> list[str]:
        """Reference implementation: greedy, one prompt at a time, every step recomputes every prefix.

        No cache, no padding, no batching: what the cached loop must reproduce (tests) and what it
        is timed against (benchmarks/proxy_decoding.py).
        """
        import torch

        from polyalign.infer.generate import stop_hits

        encoded = self.encode(prompts, add_special_tokens)
        tok = self.base.tokenizer
        texts = []
        with torch.inference_mode():
            for i in range(len(prompts)):
                generated: list[int] = []
                for _ in range(max_new_tokens):
                    logits = []
                    for member, ids in zip(self.members, encoded):
                        seq = torch.tensor([ids[i] + generated], device=member.input_device)
                        out = member.model(input_ids=seq).logits[0, -1, :self.vocab_size].float()
                        logits.append(out.to(logits[0].device if logits else out.device))
                    generated.append(int(self.combine(logits).argmax()))
                    if generated[-1] in self.eos_ids or stop_hits(tok, [generated], stop)[0]:
                        break
                texts.append(truncate_at_stop(tok.decode(generated, skip_special_tokens=True), stop))
        return texts
