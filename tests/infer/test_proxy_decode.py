"""Proxy-tuning decode loop (polyalign.infer.proxy) on tiny models: invariances, cache = recompute, vocab rules."""

from __future__ import annotations

import functools
import math
from pathlib import Path

import pytest
import torch
from support.proxy_models import PROMPTS, sharpened_tiny

from polyalign.errors import InputError
from polyalign.infer import generate, loglikelihoods
from polyalign.infer.members import Member, check_prompt_format
from polyalign.infer.proxy import ProxyModelSpec, ProxyTuner, check_alpha, combine_logits
from polyalign.infer.sampling import Sampling, top_p_filter
from polyalign.models import load_model, load_tokenizer, save_model
from polyalign.models.tiny import SAMPLE_TEXTS, build_tiny_llama

ROLES = ("base", "expert", "anti-expert")


pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.fixture(scope="module")
def paths(tmp_path_factory) -> dict[str, str]:
    root = tmp_path_factory.mktemp("proxy")
    return {role: sharpened_tiny(root / role, seed) for seed, role in enumerate(ROLES)}


def member(role: str, path: str, fmt: str = "plain") -> Member:
    return Member(role, load_model(path), load_tokenizer(path, padding_side="left"), fmt, path=path)


@pytest.fixture(scope="module")
def trio(paths) -> tuple[Member, Member, Member]:
    return tuple(member(role, paths[role]) for role in ROLES)


def tuner(trio, alpha: float = 1.0) -> ProxyTuner:
    return ProxyTuner(*trio, alpha=alpha)


def test_combine_logits_is_the_paper_formula():
    base, expert, anti = torch.randn(3, 2, 7)
    assert torch.equal(combine_logits(base, expert, anti, 0.0), base)
    assert torch.allclose(combine_logits(base, expert, anti, 1.5), base + 1.5 * (expert - anti))
    assert torch.equal(combine_logits(base, expert, expert, 2.0), base)


@pytest.mark.parametrize("batch_size", [2, 5])
def test_alpha_zero_gives_exactly_the_base_models_greedy_output(trio, batch_size):
    base = trio[0]
    for stop in ((), ("e", "5")):
        expected = generate(base.model, base.tokenizer, PROMPTS, max_new_tokens=14, stop=stop, batch_size=batch_size)
        assert tuner(trio, 0.0).generate(PROMPTS, max_new_tokens=14, stop=stop, batch_size=batch_size) == expected
    assert len(set(expected)) == len(PROMPTS), "outputs should depend on the prompt"


def test_expert_equal_to_anti_expert_gives_exactly_the_base_output(trio, paths):
    base, expert, _ = trio
    same = member("anti-expert", paths["expert"])  # a second instance of the expert's checkpoint
    expected = generate(base.model, base.tokenizer, PROMPTS, max_new_tokens=14, batch_size=3)
    for alpha in (1.0, 2.5):
        assert ProxyTuner(base, expert, same, alpha=alpha).generate(PROMPTS, max_new_tokens=14,
                                                                    batch_size=3) == expected


@pytest.mark.parametrize("alpha", [1.0, 0.5])
def test_cached_batched_loop_equals_naive_recomputation(trio, alpha):
    proxy = tuner(trio, alpha)
    full = proxy.generate_naive(PROMPTS, max_new_tokens=14)
    # stop strings taken from the outputs end the longest prompt (first in its batch) and another early
    stop = (full[0][2:4], full[3][1:2])
    naive = proxy.generate_naive(PROMPTS, max_new_tokens=14, stop=stop)
    assert len(naive[0]) < len(full[0]) and len(naive[3]) < len(full[3])
    for batch_size in (1, 2, 5):
        assert proxy.generate(PROMPTS, max_new_tokens=14, stop=stop, batch_size=batch_size) == naive
    base = trio[0]
    assert full != generate(base.model, base.tokenizer, PROMPTS, max_new_tokens=14), \
        "the expert/anti-expert difference should change some output"


def _spy_batch_sizes(model, monkeypatch) -> list[int]:
    """Rows of every decode step (one new token per row) the model is asked to run."""
    sizes: list[int] = []
    forward = model.forward

    @functools.wraps(forward)  # keeps forward's signature: the loop reads its parameter names
    def spy(*args, **kwargs):
        if kwargs["input_ids"].shape[1] == 1:
            sizes.append(kwargs["input_ids"].shape[0])
        return forward(*args, **kwargs)

    monkeypatch.setattr(model, "forward", spy)
    return sizes


def test_a_row_that_finishes_early_does_not_change_the_others(trio, monkeypatch):
    proxy = tuner(trio)
    for sampling in (None, Sampling(temperature=1.0, seed=7)):
        proxy.eos_ids = []
        full = proxy.generate_ids(PROMPTS, max_new_tokens=12, batch_size=5, sampling=sampling)
        # Row 0 (the longest prompt: first in its batch) ends at its third token, row 3 at its first.
        proxy.eos_ids = [full[0][2], full[3][0]]
        one_at_a_time = proxy.generate_ids(PROMPTS, max_new_tokens=12, batch_size=1, sampling=sampling)
        sizes = _spy_batch_sizes(trio[0].model, monkeypatch)
        batched = proxy.generate_ids(PROMPTS, max_new_tokens=12, batch_size=5, sampling=sampling)
        monkeypatch.undo()
        assert batched == one_at_a_time
        assert sizes[0] == 5 and min(sizes) < 5, "finished rows should leave the batch"
        assert len(batched[3]) == 1 and len(batched[0]) <= 3 and any(len(row) == 12 for row in batched)


def test_sampling_is_seeded_and_a_tiny_top_p_is_greedy(trio):
    proxy = tuner(trio)
    sample = lambda seed, top_p=1.0: proxy.generate(PROMPTS, max_new_tokens=10,  # noqa: E731
                                                   sampling=Sampling(temperature=1.0, top_p=top_p, seed=seed))
    assert sample(1) == sample(1) and sample(1) != sample(2)
    assert sample(1, top_p=1e-6) == proxy.generate(PROMPTS, max_new_tokens=10)
    probs = torch.tensor([[0.5, 0.3, 0.15, 0.05]])
    assert torch.equal(top_p_filter(probs, 0.7) > 0, torch.tensor([[True, True, False, False]]))
    with pytest.raises(InputError, match="--top-p"):
        Sampling(temperature=1.0, top_p=0.0).validate()


def test_hf_generate_samples_with_a_seed(trio):
    base = trio[0]
    run = lambda seed: generate(base.model, base.tokenizer, PROMPTS, max_new_tokens=8,  # noqa: E731
                                temperature=1.0, seed=seed)
    assert run(3) == run(3) != run(4)


def test_loglikelihoods_use_the_combined_distribution(trio, paths):
    pairs = [("The answer is", " A"), ("Der Fuchs", " springt über den Hund"), ("", "Hi")]
    base, expert, anti = trio
    expected = loglikelihoods(base.model, base.tokenizer, pairs)
    for got, want in zip(tuner(trio, 0.0).loglikelihoods(pairs, batch_size=2), expected):
        assert got[0] == pytest.approx(want[0], abs=1e-4) and got[1] == want[1]
    same = ProxyTuner(base, expert, member("anti-expert", paths["expert"]), alpha=3.0)
    assert [x[0] for x in same.loglikelihoods(pairs)] == pytest.approx([x[0] for x in expected], abs=1e-4)
    # a direct computation of one pair
    proxy = tuner(trio, 0.7)
    ids = torch.tensor([base.tokenizer("Der Fuchs springt über den Hund")["input_ids"]])
    n_ctx = len(base.tokenizer("Der Fuchs")["input_ids"])
    with torch.inference_mode():
        rows = [m.model(ids).logits[0, n_ctx - 1:-1].float() for m in trio]
    logprobs = torch.log_softmax(rows[0] + 0.7 * (rows[1] - rows[2]), -1)
    direct = float(logprobs.gather(1, ids[0, n_ctx:, None]).sum())
    assert proxy.loglikelihoods(pairs[1:2])[0][0] == pytest.approx(direct, abs=1e-4)


def test_per_model_prompt_formats(trio, paths):
    base, expert, anti = trio
    chat_expert = member("expert", paths["expert"], "chat")
    template_anti = member("anti-expert", paths["anti-expert"], "Q: {prompt}\nA:")
    proxy = ProxyTuner(base, chat_expert, template_anti)
    ids = proxy.encode(["Hi"])
    assert base.tokenizer.decode(ids[1][0]) == "<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n"
    assert base.tokenizer.decode(ids[2][0]) == "Q: Hi\nA:" and base.tokenizer.decode(ids[0][0]) == "Hi"
    naive = proxy.generate_naive(PROMPTS, max_new_tokens=8)
    assert proxy.generate(PROMPTS, max_new_tokens=8, batch_size=5) == naive
    assert naive != tuner(trio).generate(PROMPTS, max_new_tokens=8)
    with pytest.raises(InputError, match="plain, chat or a template"):
        check_prompt_format("alpaca")
    with pytest.raises(InputError, match="no chat template"):
        tok = load_tokenizer(paths["expert"])
        tok.chat_template = None
        Member("expert", expert.model, tok, "chat")


def test_alpha_must_be_a_finite_number():
    assert check_alpha("0.5") == 0.5
    for bad in ("abc", "nan", "inf", None):
        with pytest.raises(InputError, match="--alpha must be"):
            check_alpha(bad)


def test_different_tokenizers_are_an_input_error(trio, tmp_path):
    other = build_tiny_llama(tmp_path / "other", texts=list(SAMPLE_TEXTS[:8]), vocab_size=300, seed=3)
    base, expert, _ = trio
    with pytest.raises(InputError, match=r"the anti-expert tokenizer differs from the base's: id \d+ is"):
        ProxyTuner(base, expert, member("anti-expert", str(other)))
    with pytest.raises(InputError, match="the expert tokenizer differs"):
        ProxyTuner.load(ProxyModelSpec(base.path), ProxyModelSpec(str(other)), ProxyModelSpec(base.path))


def with_pad_row(path: str, out: Path) -> str:
    """A copy with a ``<pad>`` token appended (as fine-tuned LLaMA checkpoints have at 32,000) whose
    output row is a scaled copy of the row this model prefers after ``PROMPTS[0]``: uncut, it would win."""
    model, tok = load_model(path), load_tokenizer(path)
    with torch.inference_mode():
        preferred = int(model(torch.tensor([tok(PROMPTS[0])["input_ids"]])).logits[0, -1].argmax())
    tok.add_special_tokens({"pad_token": "<pad>"})
    model.resize_token_embeddings(len(tok))
    with torch.no_grad():
        head = model.get_output_embeddings().weight
        head[-1] = 50 * head[preferred]
    return str(save_model(model, tok, out))


@pytest.mark.parametrize("role", ["expert", "base"])
def test_extra_vocabulary_rows_are_cut_and_never_emitted(trio, paths, tmp_path, role):
    plain = tuner(trio)
    expected_ids = plain.generate_ids(PROMPTS, max_new_tokens=10)
    padded = member(role, with_pad_row(paths[role], tmp_path / role))
    assert padded.rows == len(padded.tokenizer) == 513 and padded.pad_id == 512
    with torch.inference_mode():  # uncut, the extra row would be chosen at once
        assert int(padded.model(torch.tensor([padded.encode(PROMPTS[0])])).logits[0, -1].argmax()) == 512
    members = list(trio)
    members[ROLES.index(role)] = padded
    proxy = ProxyTuner(*members)
    assert proxy.vocab_size == 512
    got = proxy.generate_ids(PROMPTS, max_new_tokens=10, batch_size=2)
    assert got == expected_ids and all(i < 512 for row in got for i in row)
    assert proxy.loglikelihoods([("Hi", " there")])[0][0] == pytest.approx(
        plain.loglikelihoods([("Hi", " there")])[0][0], abs=1e-4)


def test_load_checks_before_loading_weights(paths, tmp_path):
    ok = ProxyModelSpec(paths["base"])
    with pytest.raises(InputError, match="no such file or folder"):
        ProxyTuner.load(ok, ProxyModelSpec(str(tmp_path / "missing")), ok)
    with pytest.raises(InputError, match="the expert prompt format must be"):
        ProxyTuner.load(ok, ProxyModelSpec(paths["expert"], prompt_format="alpaca"), ok)
    loaded = ProxyTuner.load(ok, ProxyModelSpec(paths["expert"], dtype="bfloat16"), ok, alpha=0.0)
    assert loaded.members[1].model.dtype == torch.bfloat16 and loaded.vocab_size == 512
    assert math.isclose(loaded.alpha, 0.0)
