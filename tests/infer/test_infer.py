"""polyalign.infer on the tiny model: batched greedy = one-at-a-time greedy; stop strings; log-likelihoods."""

from __future__ import annotations

import pytest
import torch

from polyalign.infer import generate, generate_naive, loglikelihoods, truncate_at_stop
from polyalign.infer.loglik import encode_pair
from polyalign.models import load_model, load_tokenizer

PROMPTS = [
    "Janet has 16 eggs. She eats 3 and bakes 4 into muffins. How many eggs are left?",
    "Der schnelle braune Fuchs",
    "小明有 5 个苹果，他又买了 3 个，现在一共有几个？",
    "Translate the following sentence into German.",
    "Hi",
]


@pytest.fixture(scope="module")
def model_tok(tiny_model):
    return load_model(tiny_model), load_tokenizer(tiny_model, padding_side="left")


def test_batched_equals_naive_greedy(model_tok):
    model, tok = model_tok
    naive = generate_naive(model, tok, PROMPTS, max_new_tokens=12)
    for batch_size in (2, 5):
        assert generate(model, tok, PROMPTS, max_new_tokens=12, batch_size=batch_size) == naive
    assert any(naive), "the tiny model should produce some text"


def test_results_come_back_in_input_order(model_tok):
    model, tok = model_tok
    one_by_one = [generate(model, tok, [p], max_new_tokens=6)[0] for p in PROMPTS[::-1]]
    assert generate(model, tok, PROMPTS[::-1], max_new_tokens=6, batch_size=3) == one_by_one


def test_stop_strings_cut_the_output(model_tok):
    model, tok = model_tok
    full = generate(model, tok, PROMPTS[:1], max_new_tokens=12)[0]
    assert len(full) > 3
    stop = full[2:4]
    cut = generate(model, tok, PROMPTS[:1], max_new_tokens=12, stop=[stop])[0]
    assert cut == full[: full.find(stop)]
    assert truncate_at_stop("a### Instruction b\n\n### x", ["\n\n### ", "### Instruction"]) == "a"
    assert truncate_at_stop("abc", ["", "z"]) == "abc"


def test_loglikelihood_matches_a_direct_computation(model_tok):
    model, tok = model_tok
    pairs = [("The answer is", " A"), ("The answer is", " B"), ("Der Fuchs", " springt über den Hund"), ("", "Hi")]
    got = loglikelihoods(model, tok, pairs, batch_size=3)
    for (context, continuation), (ll, greedy) in zip(pairs, got):
        ctx, cont = encode_pair(tok, context, continuation)
        ctx = ctx or [tok.bos_token_id if tok.bos_token_id is not None else tok.eos_token_id]
        ids = torch.tensor([ctx + cont])
        with torch.inference_mode():
            logprobs = torch.log_softmax(model(ids).logits[0, :-1].float(), -1)
        targets = ids[0, len(ctx):]
        rows = logprobs[len(ctx) - 1:]
        assert ll == pytest.approx(float(rows.gather(1, targets[:, None]).sum()), abs=1e-4)
        assert greedy == bool((rows.argmax(-1) == targets).all())


def test_encode_pair_moves_trailing_space_to_the_continuation(model_tok):
    _, tok = model_tok
    ctx, cont = encode_pair(tok, "Answer: ", "B")
    assert ctx + cont == tok("Answer: B")["input_ids"]
    assert tok.decode(cont).startswith(" ")
