"""The ``proxy`` eval backend and ``polyalign generate`` on tiny models: equivalences, provenance, bad input → 2."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from support.proxy_models import PROMPTS, sharpened_tiny

from polyalign.cli.main import main
from polyalign.errors import InputError
from polyalign.infer.backends import BACKENDS, BackendOptions, GenRequest, ProxyOptions
from polyalign.infer.backends.hf import HFBackend
from polyalign.infer.backends.proxy import ProxyBackend
from polyalign.infer import generate
from polyalign.models import load_model, load_tokenizer
from polyalign.models.tiny import SAMPLE_TEXTS, build_tiny_llama


pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.fixture(scope="module")
def trio(tmp_path_factory) -> dict[str, str]:
    root = tmp_path_factory.mktemp("proxy-backend")
    return {role: sharpened_tiny(root / role, seed) for seed, role in enumerate(("base", "expert", "anti"))}


@pytest.fixture(scope="module")
def other_tokenizer_model(tmp_path_factory) -> str:
    return str(build_tiny_llama(tmp_path_factory.mktemp("other") / "m", texts=list(SAMPLE_TEXTS[:8]), vocab_size=300))


def _options(trio, chat: bool = False, **proxy) -> BackendOptions:
    proxy = ProxyOptions(**{"expert": trio["expert"], "anti_expert": trio["anti"], **proxy})
    return BackendOptions(model=trio["base"], batch_size=2, chat=chat, proxy=proxy)


def _requests() -> list[GenRequest]:
    return [GenRequest(f"t/x/{i}", p, ("\n\n",) if i % 2 else (), 6 + i % 3) for i, p in enumerate(PROMPTS)]


def test_registered_and_alpha_zero_matches_the_hf_backend(trio):
    assert BACKENDS.get("proxy") is ProxyBackend
    proxy, hf = ProxyBackend(_options(trio, alpha=0.0)), HFBackend(BackendOptions(model=trio["base"], batch_size=2))
    assert proxy.generate(_requests()) == hf.generate(_requests())
    pairs = [("Question: 2 + 2 =", " 4"), ("Question: 2 + 2 =", " 5"), ("Der Fuchs", " springt")]
    for (got, got_greedy), (want, want_greedy) in zip(proxy.loglikelihood(pairs), hf.loglikelihood(pairs)):
        assert got == pytest.approx(want, abs=1e-4) and got_greedy == want_greedy
    steered = ProxyBackend(_options(trio, alpha=1.0))
    assert steered.generate(_requests()) != hf.generate(_requests())


def test_provenance_and_chat_template(trio):
    backend = ProxyBackend(_options(trio, alpha=0.5, prompt_formats=["plain", "chat", "plain"], small_dtype="bfloat16"))
    info = backend.provenance()
    assert info["model"] == trio["base"] and len(info["model_sha256"]) == 64
    proxy = info["proxy"]
    assert proxy["alpha"] == 0.5 and proxy["shared_vocab"] == 512
    assert proxy["expert"]["prompt_format"] == "chat" and proxy["expert"]["dtype"] == "bfloat16"
    assert proxy["base"]["dtype"] == "float32" and proxy["anti_expert"]["model"] == trio["anti"]
    assert info["model_sha256"] not in {proxy[r]["model_sha256"] for r in ("base", "expert", "anti_expert")}
    render = backend.chat_template()
    assert render([{"role": "user", "content": "Hi"}]) == "<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n"


def test_backend_input_errors(trio):
    with pytest.raises(InputError, match="backend proxy needs --expert and --anti-expert"):
        ProxyBackend(BackendOptions(model=trio["base"]))
    with pytest.raises(InputError, match="per-model prompt formats"):
        ProxyBackend(_options(trio, chat=True, prompt_formats=("plain", "chat", "plain")))
    with pytest.raises(InputError, match="--alpha must be"):
        ProxyOptions(alpha=float("nan"))
    with pytest.raises(InputError, match="--anti-expert-format must be plain, chat or a template"):
        ProxyOptions(prompt_formats=("plain", "chat", "alpaca"))


def _mgsm(root: Path) -> Path:
    for lang in ("de", "en"):
        path = root / "mgsm" / f"mgsm_{lang}.tsv"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("".join(f"Frage {i} ({lang})?\t{i + 3}\n" for i in range(3)), encoding="utf-8")
    for lang in ("de", "en"):
        path = root / "xcsqa" / lang / "dev.jsonl"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("".join(json.dumps({"id": f"x{i}", "question": {"stem": f"Question {i}?", "choices": [
            {"label": label, "text": f"option {label}"} for label in "ABCDE"]}, "answerKey": "ABCDE"[i]}) + "\n"
            for i in range(2)), encoding="utf-8")
    return root


def test_eval_cli_end_to_end_with_the_proxy_backend(trio, tmp_path, capsys):
    data, out = _mgsm(tmp_path / "data"), tmp_path / "out"
    code = main(["eval", "--backend", "proxy", "--base", trio["base"], "--expert", trio["expert"], "--anti-expert",
                 trio["anti"], "--alpha", "0.5", "--tasks", "mgsm,xcsqa", "--langs", "de,en", "--mc-mode", "loglik",
                 "--limit", "2", "--data-dir", str(data), "--out", str(out), "--max-new-tokens", "6",
                 "--batch-size", "2", "--expert-format", "Q: {prompt}\nA:"])
    assert code == 0, capsys.readouterr().err
    doc = json.loads((out / "results.json").read_text())
    assert set(doc["results"]["mgsm"]) == {"de", "en"} and doc["results"]["mgsm"]["de"]["n"] == 2
    assert doc["results"]["xcsqa"]["de"]["n"] == 2
    prov = doc["provenance"]
    assert prov["backend"] == "proxy" and prov["proxy"]["alpha"] == 0.5 and prov["model"] == trio["base"]
    assert prov["proxy"]["expert"]["prompt_format"] == "Q: {prompt}\nA:"
    samples = [json.loads(x) for x in (out / "samples/mgsm_de.jsonl").read_text().splitlines()]
    assert [s["id"] for s in samples] == ["mgsm/de/0", "mgsm/de/1"] and all(isinstance(s["output"], str)
                                                                           for s in samples)
    config = (out / "config.yaml").read_text()
    assert "expert:" in config and "alpha: 0.5" in config


@pytest.mark.parametrize("args,message", [
    (["--anti-expert", "OTHER"], "the anti-expert tokenizer differs from the base's"),
    (["--alpha", "abc"], "--alpha must be a number, got 'abc'"),
    (["--alpha", "nan"], "--alpha must be a finite number"),
    (["--expert", "MISSING"], "no such file or folder"),
    (["--expert", ""], "backend proxy needs --expert"),
    (["--expert-format", "alpaca"], "--expert-format must be plain, chat or a template containing {prompt}"),
    (["--model", "OTHER"], "disagree"),
    (["--backend", "hf"], "--base is for --backend proxy"),
])
def test_eval_cli_bad_input_exits_2_with_one_line(trio, other_tokenizer_model, tmp_path, capsys, args, message):
    base = {"--backend": "proxy", "--base": trio["base"], "--expert": trio["expert"], "--anti-expert": trio["anti"]}
    values = {"OTHER": other_tokenizer_model, "MISSING": str(tmp_path / "no-such-model")}
    for flag, value in zip(args[::2], args[1::2]):
        base[flag] = values.get(value, value)
    argv = [x for flag, value in base.items() for x in (flag, value)]
    code = main(["eval", *argv, "--tasks", "mgsm", "--langs", "de", "--limit", "1", "--max-new-tokens", "2",
                 "--data-dir", str(_mgsm(tmp_path / "data")), "--out", str(tmp_path / "o")])
    err = capsys.readouterr().err.strip()
    assert code == 2 and len(err.splitlines()) == 1 and message in err, err


def test_expert_flags_need_the_proxy_backend(trio, tmp_path, capsys):
    code = main(["eval", "--model", trio["base"], "--expert", trio["expert"], "--alpha", "2", "--tasks", "mgsm",
                 "--data-dir", str(_mgsm(tmp_path / "data")), "--out", str(tmp_path / "o")])
    err = capsys.readouterr().err.strip()
    assert code == 2 and "--alpha is for --backend proxy" in err
    code = main(["eval", "--model", trio["base"], "--expert", trio["expert"], "--tasks", "mgsm",
                 "--data-dir", str(_mgsm(tmp_path / "data")), "--out", str(tmp_path / "o")])
    err = capsys.readouterr().err.strip()
    assert code == 2 and "--expert: only for --backend proxy (this run uses hf)" in err


def test_generate_cli_prints_what_the_backends_generate(trio, tmp_path, capsys):
    model, tok = load_model(trio["base"]), load_tokenizer(trio["base"], padding_side="left")
    expected = generate(model, tok, PROMPTS[:2], max_new_tokens=5)
    assert main(["generate", "--model", trio["base"], PROMPTS[0], PROMPTS[1], "--max-new-tokens", "5"]) == 0
    assert capsys.readouterr().out == f"{expected[0]}\n-----\n{expected[1]}\n"
    prompts = tmp_path / "prompts.jsonl"
    prompts.write_text("".join(json.dumps({"prompt": p}) + "\n" for p in PROMPTS[:2]), encoding="utf-8")
    assert main(["generate", "--backend", "proxy", "--base", trio["base"], "--expert", trio["expert"],
                 "--anti-expert", trio["anti"], "--alpha", "0", "--file", str(prompts), "--max-new-tokens", "5",
                 "--jsonl"]) == 0
    lines = [json.loads(x) for x in capsys.readouterr().out.splitlines()]
    assert lines == [{"prompt": p, "output": o} for p, o in zip(PROMPTS[:2], expected)]
    assert main(["generate", "--model", trio["base"], "--chat", "Hi", "--max-new-tokens", "4"]) == 0
    chat = tok.apply_chat_template([{"role": "user", "content": "Hi"}], tokenize=False, add_generation_prompt=True)
    assert capsys.readouterr().out == generate(model, tok, [chat], max_new_tokens=4, add_special_tokens=False)[0] + "\n"
    sampled = ["generate", "--backend", "proxy", "--model", trio["base"], "--expert", trio["expert"],
               "--anti-expert", trio["anti"], "--temperature", "1.0", "--seed", "3", PROMPTS[0]]
    outs = []
    for _ in range(2):
        assert main(sampled) == 0
        outs.append(capsys.readouterr().out)
    assert outs[0] == outs[1] and outs[0].strip()


@pytest.mark.parametrize("args,message", [
    ([], "no prompt: give PROMPT arguments or --file FILE"),
    (["Hi", "--temperature", "-1"], "temperature"),
    (["Hi", "--temperature", "warm"], "--temperature must be a number, got 'warm'"),
    (["Hi", "--backend", "replay"], "polyalign generate needs a model backend"),
    (["Hi", "--backend", "proxy", "--expert", "E"], "backend proxy needs --anti-expert"),
    (["Hi", "--backend", "proxy", "--expert", "E", "--anti-expert", "A", "--alpha", "x"], "--alpha must be a number"),
    (["--file", "NOFILE"], "no such prompts file"),
    (["Hi", " "], "empty prompt"),
])
def test_generate_cli_bad_input_exits_2(trio, tmp_path, capsys, args, message):
    args = [str(tmp_path / "none.txt") if a == "NOFILE" else a for a in args]
    code = main(["generate", "--model", trio["base"], *args])
    err = capsys.readouterr().err.strip()
    assert code == 2 and len(err.splitlines()) == 1 and message in err, err
