"""The vllm backend's request translation: sampling parameters, stop strings, log-likelihood prompts and
the scoring of vLLM's prompt log-probabilities — as pure functions, and through vLLM's own classes
when vLLM is installed (its SamplingParams and Logprob import without a GPU)."""

from __future__ import annotations

import math
from types import SimpleNamespace

import pytest

from polyalign.infer.backends import vllm as backend
from polyalign.infer.backends.base import GenRequest


def _lp(value: float) -> SimpleNamespace:
    return SimpleNamespace(logprob=value)


def test_generation_params_are_greedy_with_the_requests_limit_and_stops() -> None:
    request = GenRequest(id="mgsm/de/0", prompt="Frage: …", until=("\n\n", "Frage:"), max_new_tokens=256)
    assert backend.generation_params(request) == {"temperature": 0.0, "max_tokens": 256, "stop": ["\n\n", "Frage:"]}
    bare = GenRequest(id="x/en/0", prompt="p", until=(), max_new_tokens=8)
    assert backend.generation_params(bare)["stop"] is None  # vLLM: no stop strings, not an empty list


def test_loglik_prompt_conditions_an_empty_context_on_the_fallback_token() -> None:
    assert backend.loglik_prompt([5, 6], [7, 8, 9], 0) == {"prompt_token_ids": [5, 6, 7, 8, 9]}
    assert backend.loglik_prompt([], [7], 2) == {"prompt_token_ids": [2, 7]}


def test_score_continuation_sums_the_last_tokens_and_checks_greedy() -> None:
    ids = [2, 7, 8]
    # position 0 has no log-prob; each later position holds the actual token and the top-1 alternative
    steps = [None, {7: _lp(-0.5)}, {8: _lp(-1.0), 3: _lp(-0.2)}]
    total, greedy = backend.score_continuation(ids, steps, 2)
    assert total == pytest.approx(-1.5) and greedy is False
    total, greedy = backend.score_continuation(ids, steps, 1)
    assert total == pytest.approx(-1.0) and greedy is False
    total, greedy = backend.score_continuation(ids[:2], steps[:2], 1)
    assert total == pytest.approx(-0.5) and greedy is True


@pytest.fixture(scope="module")
def vllm():
    try:
        import vllm
    except Exception as err:  # noqa: BLE001 - vllm fails in many ways on machines it does not support
        pytest.skip(f"vllm not importable here ({type(err).__name__}); install the vllm extra on a GPU machine")
    return vllm


def test_vllm_accepts_the_translated_sampling_params(vllm) -> None:
    request = GenRequest(id="mgsm/de/0", prompt="Frage", until=("\n\n",), max_new_tokens=64)
    params = vllm.SamplingParams(**backend.generation_params(request))
    assert (params.temperature, params.max_tokens, params.stop) == (0.0, 64, ["\n\n"])
    loglik = vllm.SamplingParams(**backend.LOGLIK_PARAMS)
    assert (loglik.prompt_logprobs, loglik.max_tokens, loglik.temperature) == (1, 1, 0.0)
    prompt = vllm.inputs.TokensPrompt(**backend.loglik_prompt([], [7, 8], 0))
    assert prompt["prompt_token_ids"] == [0, 7, 8]


def test_score_continuation_reads_vllms_logprob_objects(vllm) -> None:
    try:
        from vllm.logprobs import Logprob
    except ImportError:  # older vLLM
        from vllm.sequence import Logprob
    steps = [None, {7: Logprob(logprob=math.log(0.5), rank=1)},
             {8: Logprob(logprob=math.log(0.25), rank=2), 3: Logprob(logprob=math.log(0.6), rank=1)}]
    total, greedy = backend.score_continuation([2, 7, 8], steps, 2)
    assert total == pytest.approx(math.log(0.125)) and greedy is False
