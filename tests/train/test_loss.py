"""The training objective: prompt tokens carry no loss, packing is exact, accumulation is exact."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from polyalign.models.loading import load_model
from polyalign.train.batching import pack_rows
from polyalign.train.collate import collate_packed, collate_padded
from polyalign.train.data import tokenize_file
from polyalign.train.loop import Batching, LoopState, summed_loss, train_step
from polyalign.train.recipe import make_accelerator


@pytest.fixture(scope="module")
def model(tiny_model):
    return load_model(tiny_model)


def _grads(model, loss):
    model.zero_grad(set_to_none=True)
    loss.backward()
    return torch.cat([p.grad.flatten() for p in model.parameters() if p.grad is not None])


def _token_logprobs(model, ids):
    logits = model(input_ids=torch.as_tensor(ids, dtype=torch.long)[None], use_cache=False).logits[0]
    following = torch.as_tensor(ids[1:], dtype=torch.long)[:, None]
    return torch.log_softmax(logits.float(), -1)[:-1].gather(1, following)[:, 0]


def test_prompt_tokens_carry_no_loss_and_no_gradient(model, toy_data, tiny_tokenizer):
    data = tokenize_file(toy_data(n=3), "sft", tiny_tokenizer, max_length=256)
    for i in range(len(data)):
        ids, prompt_len = data.example(i)
        assert 0 < prompt_len < len(ids) - 1 and ids[-1] == tiny_tokenizer.eos_token_id
        batch = collate_packed([(ids, prompt_len)])
        # the scored positions predict exactly the completion tokens (+ EOS), nothing of the prompt
        assert batch.scored[0].nonzero()[:, 0].tolist() == list(range(prompt_len - 1, len(ids) - 1))
        assert batch.targets.tolist() == ids[prompt_len:].tolist()

        ours = summed_loss(model, batch)
        # reference by hand: logp[j] = log p(ids[j+1] | ids[:j+1]); score only completion tokens
        completion_only = -_token_logprobs(model, ids)[prompt_len - 1:].sum()
        assert ours.item() == pytest.approx(completion_only.item(), rel=1e-5)
        g_ours, g_ref = _grads(model, ours), _grads(model, completion_only)
        g_all = _grads(model, -_token_logprobs(model, ids).sum())
        assert torch.allclose(g_ours, g_ref, rtol=1e-4, atol=1e-6)
        # had prompt labels been left in, the gradient would differ: the comparison above can fail
        assert (g_all - g_ref).abs().max() > 1e-3


@pytest.mark.parametrize("attention, capacity", [("sdpa", None), ("eager", None), ("sdpa", 200)])
def test_packed_rows_give_each_example_its_own_loss(tiny_model, toy_data, tiny_tokenizer, attention, capacity):
    model = load_model(tiny_model)
    model.set_attn_implementation(attention)
    data = tokenize_file(toy_data(n=6, seed=3), "sft", tiny_tokenizer, max_length=256)
    examples = [data.example(i) for i in range(len(data))]
    assert len({len(ids) for ids, _ in examples}) > 1  # different lengths, different prompt lengths
    pad = tiny_tokenizer.pad_token_id
    with torch.no_grad():
        alone = torch.stack([summed_loss(model, collate_packed([ex])) for ex in examples])
        packed = collate_packed(examples, capacity=capacity, pad_id=pad)
        rows = pack_rows([len(ids) for ids, _ in examples], capacity or 10**9)
        assert packed.input_ids.shape[0] == len(rows) == (1 if capacity is None else 2)  # 2 rows ≤ 200, padded
        logits = model(**packed.model_inputs()).logits.reshape(-1, model.config.vocab_size)
        per_token = F.cross_entropy(logits.float(), packed.targets, reduction="none")
        counts = [int(data.target_counts[i]) for row in rows for i in row]  # targets come row by row
        together = torch.stack([chunk.sum() for chunk in per_token.split(counts)])
        together = together[np.argsort([i for row in rows for i in row])]
        # Tolerance: float32 summation order only (atol 1e-4 on sums of ~30 token losses of ~6 nats).
        assert torch.allclose(together, alone, atol=1e-4), (together, alone)
        padded = summed_loss(model, collate_padded(examples, pad))
        assert padded.item() == pytest.approx(alone.sum().item(), abs=1e-4)
        # Without restarting positions the examples attend to each other: the check above can fail.
        leaky = collate_packed(examples)
        leaky.position_ids = torch.arange(leaky.input_ids.shape[1])[None]
        leaked = F.cross_entropy(model(**leaky.model_inputs()).logits.reshape(-1, model.config.vocab_size).float(),
                                 leaky.targets, reduction="none")
        leaked_sums = torch.stack([c.sum() for c in leaked.split(list(data.target_counts))])
        assert (leaked_sums[1:] - alone[1:]).abs().max() > 1e-2


def _one_step(tiny_model, data, pad_id, *, micro_batch_size, packing):
    """Parameters change of one SGD step (lr 1, no clipping): exactly minus the step's gradient."""
    accelerator = make_accelerator("fp32")
    accelerator.gradient_accumulation_steps = 8 // micro_batch_size
    accelerator.step = 0
    model = load_model(tiny_model)
    optimizer = torch.optim.SGD(model.parameters(), lr=1.0)
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda _: 1.0)
    model, optimizer = accelerator.prepare(model, optimizer)
    before = [p.detach().clone() for p in model.parameters()]
    batching = Batching(batch_size=8, micro_batch_size=micro_batch_size, seed=0, packing=packing, capacity=256,
                        pad_id=pad_id)
    train_step(accelerator, LoopState(stage="t", model=model, optimizer=optimizer, scheduler=scheduler, data=data,
                                      batching=batching, total_steps=1, max_grad_norm=0.0), 0)
    return torch.cat([(b - p.detach()).flatten() for b, p in zip(before, model.parameters())])


def test_gradient_accumulation_1x8_equals_8x1_token_weighted(tiny_model, toy_data, tiny_tokenizer):
    data = tokenize_file(toy_data(n=8, seed=5), "sft", tiny_tokenizer, max_length=256)
    assert len(set(data.target_counts.tolist())) > 1  # unequal completions: normalisation matters
    pad = tiny_tokenizer.pad_token_id
    one_by_eight = _one_step(tiny_model, data, pad, micro_batch_size=8, packing=True)
    eight_by_one = _one_step(tiny_model, data, pad, micro_batch_size=1, packing=True)
    padded = _one_step(tiny_model, data, pad, micro_batch_size=8, packing=False)
    scale = one_by_eight.abs().max()
    # Tolerance: 1e-5 of the largest gradient entry (float32 summation order).
    assert (one_by_eight - eight_by_one).abs().max() <= 1e-5 * scale
    assert (one_by_eight - padded).abs().max() <= 1e-5 * scale
    # The mean of per-micro-batch means (the pre-4.46 Trainer rule) gives a different gradient.
    model = load_model(tiny_model)
    loss = sum(summed_loss(model, collate_packed([data.example(i)])) / int(data.target_counts[i])
               for i in range(8)) / 8
    mean_of_means = _grads(model, loss)
    assert (mean_of_means - one_by_eight).abs().max() > 1e-2 * scale


def test_cpt_trains_on_every_token_and_splits_long_documents(toy_data, tiny_tokenizer):
    path = toy_data(kind="cpt", n=6)
    data = tokenize_file(path, "cpt", tiny_tokenizer, max_length=8)
    assert data.truncated > 0 and len(data) > 6
    assert (data.lengths <= 8).all() and (data.prompt_lengths == 0).all()
    ids, prompt_len = data.example(0)
    assert collate_packed([(ids, prompt_len)]).targets.tolist() == ids[1:].tolist()
    # every token of the document (+ EOS) but the first is a target exactly once across its pieces
    text = json.loads(open(path, encoding="utf-8").readline())["text"]
    document = tiny_tokenizer(text)["input_ids"] + [tiny_tokenizer.eos_token_id]
    pieces = [data.example(i)[0] for i in range(len(data)) if data.ids[i].split("#")[0] == "toy/0/0"]
    targets = np.concatenate([collate_packed([(p, 0)]).targets.numpy() for p in pieces])
    assert pieces[0][0] == document[0] and targets.tolist() == document[1:]
