"""`BackendOptions` / `ProxyOptions`: checked once when built, overridable by key=value, one CLI path."""

from __future__ import annotations

import argparse

import pytest

from polyalign.cli._backend_args import add_backend_arguments, backend_options
from polyalign.errors import InputError
from polyalign.infer.backends import BackendOptions, ProxyOptions
from polyalign.infer.backends.options import flat_fields, with_overrides


def _parse(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    add_backend_arguments(parser, model_help="m", backend_help="b")
    return parser.parse_args(list(argv))


def test_proxy_options_check_alpha_and_formats_when_built():
    options = ProxyOptions(alpha="0.5", prompt_formats=["plain", "chat", "Q: {prompt}\nA:"])
    assert options.alpha == 0.5 and options.prompt_formats == ("plain", "chat", "Q: {prompt}\nA:")
    with pytest.raises(InputError, match="--alpha must be a finite number"):
        ProxyOptions(alpha="inf")
    with pytest.raises(InputError, match="--base-format must be plain, chat or a template"):
        ProxyOptions(prompt_formats=("alpaca", "plain", "plain"))
    with pytest.raises(InputError, match="three formats"):
        ProxyOptions(prompt_formats=("plain", "plain"))


def test_proxy_fields_belong_to_the_proxy_backend():
    options = ProxyOptions(expert="E", alpha=2, prompt_formats=("plain", "chat", "plain"), small_device="cuda:1")
    assert options.given() == ["--expert", "--alpha", "--expert-format", "--small-device"]
    with pytest.raises(InputError, match=r"^--expert, --alpha, --expert-format, --small-device: only for --backend "
                                         r"proxy \(this run uses hf\)$"):
        options.check_backend("hf")
    options.check_backend("proxy")
    ProxyOptions().check_backend("hf")
    with pytest.raises(InputError, match="backend proxy needs --base \\(or --model\\) and --anti-expert"):
        options.check_models(None)
    ProxyOptions(expert="E", anti_expert="A").check_models("L")


def test_overrides_reach_proxy_fields_with_or_without_prefix():
    options = BackendOptions(model="m", proxy=ProxyOptions(expert="E"))
    changed = with_overrides(options, ["alpha=0.25", "proxy.anti_expert=A", "prompt_formats=[plain, chat, chat]",
                                       "batch_size=3"])
    assert changed.batch_size == 3 and changed.model == "m"
    assert changed.proxy == ProxyOptions(expert="E", anti_expert="A", alpha=0.25, prompt_formats=("plain", "chat", "chat"))
    with pytest.raises(InputError, match="alpah"):
        with_overrides(options, ["alpah=1"])
    with pytest.raises(InputError, match="proxy.alpha"):
        with_overrides(options, ["alpha=[1]"])
    with pytest.raises(InputError, match="--alpha must be a finite number"):
        with_overrides(options, ["alpha=.nan"])
    flat = flat_fields(changed)
    assert "proxy" not in flat and flat["anti_expert"] == "A" and flat["prompt_formats"] == ("plain", "chat", "chat")


def test_cli_helper_builds_one_checked_options_object():
    options = backend_options(_parse("--backend", "proxy", "--base", "L", "--expert", "E", "--anti-expert", "A",
                                     "--alpha", "0.5", "--anti-expert-format", "chat", "--small-dtype", "bfloat16",
                                     "--batch-size", "2"), chat=True)
    assert options == BackendOptions(model="L", batch_size=2, dtype="auto", chat=True, proxy=ProxyOptions(
        expert="E", anti_expert="A", alpha=0.5, prompt_formats=("plain", "plain", "chat"), small_dtype="bfloat16"))
    # the CLI's defaults: batch size and dtype auto (resolved by the backend: polyalign.models.precision)
    assert backend_options(_parse("--model", "M", "--seed", "3")) == BackendOptions(model="M", seed=3,
                                                                                    batch_size="auto", dtype="auto")


@pytest.mark.parametrize("argv,message", [
    (["--model", "M", "--alpha", "1"], "--alpha is for --backend proxy (this run uses hf)"),
    (["--model", "M", "--expert", "E"], "--expert: only for --backend proxy (this run uses hf)"),
    (["--base", "L"], "--base is for --backend proxy; with --backend hf use --model"),
    (["--backend", "proxy", "--base", "L", "--model", "M"], "disagree"),
    (["--backend", "proxy", "--alpha", "x"], "--alpha must be a number, got 'x'"),
    (["--backend", "proxy", "--expert-format", "alpaca"], "--expert-format must be plain, chat or a template"),
])
def test_cli_helper_refuses_bad_flags(argv, message):
    with pytest.raises(InputError) as err:
        backend_options(_parse(*argv))
    assert message in str(err.value)
