"""Slow: proxy-tuned mGSM through ``polyalign eval --backend proxy`` with SmolLM2-135M-Instruct as the base,
a LoRA-tuned copy (with an added ``<pad>`` row, as fine-tuned LLaMA checkpoints have) as the expert and
the base itself as the anti-expert; α = 0 must reproduce the ``hf`` backend's outputs exactly."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from support.cli import run_cli

from polyalign.errors import InputError

QA = [("Tom has 3 apples and buys 4 more. How many apples does he have?", "3 + 4 = 7. The answer is 7."),
      ("Anna hat 10 Bonbons und isst 2. Wie viele bleiben übrig?", "10 - 2 = 8. The answer is 8."),
      ("A box holds 6 eggs. How many eggs are in 3 boxes?", "6 * 3 = 18. The answer is 18."),
      ("Ein Zug fährt 5 Stunden mit 20 km pro Stunde. Wie weit fährt er?", "5 * 20 = 100. The answer is 100.")]


def _lora_expert(base: str, out: Path) -> str:
    """A few LoRA steps on a handful of Alpaca-format math answers, merged, plus a ``<pad>`` row."""
    import torch
    from peft import LoraConfig, get_peft_model

    from polyalign.data.templates import render_alpaca
    from polyalign.models import load_model, load_tokenizer, save_model

    torch.manual_seed(0)
    tok = load_tokenizer(base)
    model = get_peft_model(load_model(base), LoraConfig(r=8, lora_alpha=16, target_modules=["q_proj", "v_proj"]))
    model.train()
    optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-3)
    for _ in range(3):
        for question, answer in QA:
            prompt = tok(render_alpaca(question))["input_ids"]
            ids = torch.tensor([prompt + tok(" " + answer)["input_ids"] + [tok.eos_token_id]])
            labels = ids.clone()
            labels[0, :len(prompt)] = -100  # loss on the response only
            model(input_ids=ids, labels=labels).loss.backward()
            optimizer.step()
            optimizer.zero_grad()
    merged = model.merge_and_unload()
    merged.eval()
    tok.add_special_tokens({"pad_token": "<pad>"})
    merged.resize_token_embeddings(len(tok))
    return str(save_model(merged, tok, out))


@pytest.mark.e2e
@pytest.mark.slow
def test_proxy_tuned_mgsm_with_smollm2(tmp_path, shared_data):
    from polyalign.models import resolve_model

    try:
        base = resolve_model("smollm2-135m-instruct", pull=False)
    except InputError as err:
        pytest.skip(str(err))
    expert = _lora_expert(base, tmp_path / "expert")
    common = ["--tasks", "mgsm", "--limit", "2", "--langs", "en,de", "--data-dir", str(shared_data),
              "--max-new-tokens", "48", "--batch-size", "2"]
    env = {"HF_HUB_OFFLINE": "1", "OMP_NUM_THREADS": "1"}
    proxy = run_cli("eval", "--backend", "proxy", "--base", base, "--expert", expert, "--anti-expert", base,
                    "--alpha", "1.0", "--out", str(tmp_path / "proxy"), *common, env=env)
    assert proxy.returncode == 0, proxy.stderr
    doc = json.loads((tmp_path / "proxy/results.json").read_text())
    for lang in ("en", "de"):
        values = doc["results"]["mgsm"][lang]
        assert values["n"] == 2 and 0 <= values["acc"] <= 1 and 0 <= values["lang_match"] <= 1
    info = doc["provenance"]["proxy"]
    assert doc["provenance"]["backend"] == "proxy" and info["alpha"] == 1.0
    assert info["shared_vocab"] == 49152 and info["expert"]["model"] == expert
    outputs = [json.loads(x)["output"] for x in (tmp_path / "proxy/samples/mgsm_de.jsonl").read_text().splitlines()]
    assert all(o.strip() for o in outputs), outputs

    # α = 0: the proxy backend must give exactly the hf backend's greedy outputs on the real model
    zero = run_cli("eval", "--backend", "proxy", "--base", base, "--expert", expert, "--anti-expert", base,
                   "--alpha", "0", "--out", str(tmp_path / "zero"), *common, env=env)
    plain = run_cli("eval", "--model", base, "--out", str(tmp_path / "hf"), *common, env=env)
    assert zero.returncode == 0 and plain.returncode == 0, zero.stderr + plain.stderr
    for lang in ("en", "de"):
        read = lambda run: [json.loads(x)["output"]  # noqa: E731
                            for x in (tmp_path / run / f"samples/mgsm_{lang}.jsonl").read_text().splitlines()]
        assert read("zero") == read("hf")
    print("\nproxy (alpha 1):", outputs, "\nresults:", doc["results"]["mgsm"])
