"""Run one untrusted Python program in a separate, limited process and report what happened.

Reasoning with executable code (docs/methods.md). The child is ``_child.py``; what each layer guarantees is
written down in README.md next to this file. Two isolation modes:

* ``namespace`` (root with CAP_SYS_ADMIN on Linux; the default where the probe succeeds): own
  mount/network/IPC namespaces, read-only chroot holding only the system libraries and the Python
  installation, a size-limited tmpfs as working directory, a fresh unprivileged uid, no new privileges.
* ``basic`` (anything else): same process limits and audit hook, an empty temporary directory on the
  host as working directory, the caller's uid.

Both: wall time enforced by the parent with SIGKILL on the process group (a program's signal
handlers cannot defer it), RLIMIT_CPU/AS/FSIZE/NOFILE/NPROC/CORE, a cleared environment, stdout and
stderr captured up to a byte bound (the program is killed and ``truncated`` set when it writes more).
"""

from __future__ import annotations

import dataclasses
import itertools
import math
import os
import random
import selectors
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import warnings

from polyalign.exec import _child

__all__ = ["ExecResult", "STATUSES", "UID_BASE", "UID_SPAN", "isolation_mode", "run_program"]

STATUSES = ("ok", "timeout", "memory", "blocked", "error")
# Namespace mode gives every run its own uid from this range: far above real accounts, below 2**31,
# so RLIMIT_NPROC counts only that run's process and it can signal nothing else on the machine.
UID_BASE = 1_500_000_000
UID_SPAN = 1_000_000
_uids = itertools.count(random.SystemRandom().randrange(UID_SPAN))
_CHILD = os.path.abspath(_child.__file__)
_mode_lock = threading.Lock()
_mode: str | None = None


@dataclasses.dataclass(frozen=True)
class ExecResult:
    """Outcome of one program run.

    Attributes:
        status: One of ``STATUSES``: ``ok`` (exit code 0), ``timeout`` (wall or CPU limit),
            ``memory`` (address-space limit), ``blocked`` (a forbidden operation; the program was
            stopped at that point) or ``error`` (exception, syntax error, non-zero exit, crash,
            output or file limit).
        stdout: Captured standard output (UTF-8, undecodable bytes replaced), at most ``max_output``
            bytes.
        stderr: Captured standard error, same bound.
        returncode: The child's exit code; negative for a signal; None if it never started.
        truncated: True when the program wrote more than ``max_output`` bytes on either stream.
        seconds: Wall time of the run, interpreter start-up included.
        detail: One human-readable line on why the status is not ``ok`` (empty when it is).
        pid: The child's pid, which is also its process-group and session id.
        uid: The unprivileged uid the program ran as (namespace mode), else None.
    """

    status: str
    stdout: str
    stderr: str
    returncode: int | None
    truncated: bool
    seconds: float
    detail: str
    pid: int | None = None
    uid: int | None = None

    @property
    def ok(self) -> bool:
        """True when the program ran to completion with exit code 0."""
        return self.status == "ok"


def isolation_mode() -> str:
    """The isolation ``run_program`` uses by default: ``"namespace"`` or ``"basic"``.

    Probed once per process by running a trivial program in namespace mode (needs Linux, root and
    CAP_SYS_ADMIN). Falling back to basic mode as root warns, since then only the audit hook stands
    between a program and process creation (README.md).
    """
    global _mode
    with _mode_lock:
        if _mode is None:
            _mode = "basic"
            if sys.platform.startswith("linux") and os.geteuid() == 0:
                probe = run_program("print(6 * 7)", timeout=10.0, isolation="namespace")
                if probe.stdout.strip() == "42":
                    _mode = "namespace"
                else:
                    warnings.warn(f"polyalign.exec: namespace isolation unavailable ({probe.detail}); "
                                  "running as root in basic mode", RuntimeWarning, stacklevel=2)
        return _mode


def run_program(
    code: str,
    *,
    timeout: float = 5.0,
    memory_mb: int = 512,
    max_output: int = 64_000,
    cpu_seconds: int | None = None,
    file_mb: int = 16,
    max_files: int = 64,
    site_packages: bool = False,
    isolation: str = "auto",
) -> ExecResult:
    """Execute ``code`` as ``__main__`` in a fresh sandboxed interpreter.

    Args:
        code: Python source. Its stdin is empty; it may import the standard library only (see
            ``site_packages``).
        timeout: Wall-clock limit in seconds, interpreter start-up included.
        memory_mb: Address-space limit (RLIMIT_AS) in MiB.
        max_output: Bytes kept per stream; writing more kills the program (``truncated``).
        cpu_seconds: CPU-time limit; default ``ceil(timeout) + 1``, a backstop behind the wall timer
            (equal limits race on an idle core, and the reported reason would flip between runs).
        file_mb: Largest file the program may write, in MiB; in namespace mode also the size of its
            whole working directory.
        max_files: Open file descriptors allowed (RLIMIT_NOFILE).
        site_packages: Also allow importing the installed third-party packages (numpy, sympy, ...):
            slower start-up, and the program may read those package directories.
        isolation: ``"auto"`` (``isolation_mode()``), ``"namespace"`` or ``"basic"``.

    Returns:
        The run's ``ExecResult``; a bad program never raises.

    Raises:
        ValueError: On a non-positive limit or an unknown isolation mode.
    """
    if min(timeout, memory_mb, max_output, file_mb, max_files, cpu_seconds or 1) <= 0 or cpu_seconds == 0:
        raise ValueError("run_program: limits must be positive")
    mode = isolation_mode() if isolation == "auto" else isolation
    if mode not in ("namespace", "basic"):
        raise ValueError(f"run_program: isolation must be auto, namespace or basic, not {isolation!r}")
    cpu = cpu_seconds or math.ceil(timeout) + 1
    exe = sys.executable if site_packages else os.path.realpath(sys.executable)
    cfg = {"cpu_seconds": cpu, "memory_mb": memory_mb, "file_mb": file_mb, "max_files": max_files,
           "site_packages": int(site_packages),
           "exe": exe, "flags": ["-s", "-P", "-B"] + ([] if site_packages else ["-S"])}
    tmp = tempfile.mkdtemp(prefix="polyalign-exec-")
    uid = None
    if mode == "namespace":
        uid = UID_BASE + next(_uids) % UID_SPAN
        binds = {os.path.realpath(sys.base_prefix)}
        if site_packages:
            binds.add(os.path.realpath(sys.prefix))
        cfg.update(root=_child.WORKDIR, mountpoint=tmp, uid=uid, binds=sorted(binds), parent=os.getpid())
        argv, cwd = [os.path.realpath(sys.executable), "-I", "-S", _CHILD, "setup", *_encode(cfg)], "/"
        home = _child.WORKDIR
    else:
        cfg.update(root=os.path.realpath(tmp))
        argv, cwd, home = [exe, *cfg["flags"], "-c", _source(), "run", *_encode(cfg)], tmp, tmp
    start = time.monotonic()
    try:
        proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                cwd=cwd, env=_environment(home), start_new_session=True, close_fds=True)
    except OSError as exc:
        _cleanup(tmp, mode)
        return ExecResult("error", "", "", None, False, 0.0, f"could not start the sandbox: {exc}", None, uid)
    try:
        data = code.encode("utf-8", "surrogatepass")
        out, err, reason = _communicate(proc, data, start + timeout, max_output)
    finally:
        _kill(proc)
        proc.wait()
        for stream in (proc.stdin, proc.stdout, proc.stderr):
            stream.close()
        _cleanup(tmp, mode)
    seconds = time.monotonic() - start
    stderr = err.decode("utf-8", "replace")
    status, detail = _classify(proc.returncode, reason, stderr, timeout, cpu, memory_mb)
    return ExecResult(status, out.decode("utf-8", "replace"), stderr, proc.returncode,
                      reason == "output", seconds, detail, proc.pid, uid)


def _environment(home: str) -> dict[str, str]:
    """The child's whole environment: nothing inherited, so no API keys or tokens can leak."""
    return {
        "PATH": "/usr/bin:/bin", "HOME": home, "TMPDIR": home, "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8",
        # Reproducible set/dict-of-str iteration order in printed answers.
        "PYTHONHASHSEED": "0", "PYTHONIOENCODING": "utf-8", "PYTHONDONTWRITEBYTECODE": "1",
        # BLAS pools would try to start threads, which RLIMIT_NPROC forbids.
        "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
    }


def _encode(cfg: dict) -> list[str]:
    """The child's config as ``key=value`` arguments (``_child.parse_config`` reads them back)."""
    return [f"{k}={_child.LIST_SEP.join(v) if isinstance(v, list) else v}" for k, v in cfg.items()]


def _source() -> str:
    with open(_CHILD, encoding="utf-8") as f:
        return f.read()


def _communicate(
    proc: subprocess.Popen, data: bytes, deadline: float, limit: int
) -> tuple[bytes, bytes, str]:
    """Feed stdin, drain stdout/stderr up to ``limit`` bytes each, until exit or ``deadline``.

    Returns:
        ``(stdout, stderr, reason)`` with reason ``""`` (exited), ``"timeout"`` or ``"output"``.
    """
    bufs = {proc.stdout.fileno(): bytearray(), proc.stderr.fileno(): bytearray()}
    sel = selectors.DefaultSelector()
    for fd in bufs:
        sel.register(fd, selectors.EVENT_READ)
    os.set_blocking(proc.stdin.fileno(), False)
    if data:
        sel.register(proc.stdin.fileno(), selectors.EVENT_WRITE)
    else:
        proc.stdin.close()
    view, reason = memoryview(data), ""
    try:
        while sel.get_map() and not reason:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                reason = "timeout"
                break
            for key, _ in sel.select(remaining):
                if key.fd in bufs:
                    chunk = os.read(key.fd, 1 << 16)
                    if not chunk:
                        sel.unregister(key.fd)
                        continue
                    room = limit - len(bufs[key.fd])
                    bufs[key.fd] += chunk[:room]
                    if len(chunk) > room:  # keep the head, stop the writer: it gains nothing more
                        reason = "output"
                    continue
                try:
                    view = view[os.write(key.fd, view[:1 << 16]):]
                except BlockingIOError:
                    continue
                except BrokenPipeError:  # the child died or stopped reading: its exit code tells why
                    view = view[:0]
                if not view:
                    sel.unregister(key.fd)
                    proc.stdin.close()
        if not reason:
            try:
                proc.wait(max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:  # closed its pipes but kept running
                reason = "timeout"
    finally:
        sel.close()
    return bytes(bufs[proc.stdout.fileno()]), bytes(bufs[proc.stderr.fileno()]), reason


def _kill(proc: subprocess.Popen) -> None:
    """SIGKILL the whole process group, then the child itself (in case it left the group)."""
    if proc.poll() is not None:
        return
    for kill in (lambda: os.killpg(proc.pid, signal.SIGKILL), proc.kill):
        try:
            kill()
        except (ProcessLookupError, PermissionError):
            pass


def _cleanup(tmp: str, mode: str) -> None:
    """Remove the run's host directory. In namespace mode it was only a mount point and is empty;
    rmdir (never rmtree) so a mount that somehow leaked is not descended into."""
    try:
        if mode == "namespace":
            os.rmdir(tmp)
        else:
            shutil.rmtree(tmp)
    except OSError as exc:
        warnings.warn(f"polyalign.exec: could not remove {tmp}: {exc}", RuntimeWarning, stacklevel=3)


def _classify(
    rc: int | None, reason: str, stderr: str, timeout: float, cpu: int, memory_mb: int
) -> tuple[str, str]:
    """Map how the child ended to ``(status, detail)``."""
    lines = [ln.strip() for ln in stderr.splitlines() if ln.strip()]
    last = lines[-1] if lines else ""
    if reason == "timeout":
        return "timeout", f"wall time limit of {timeout:g} s exceeded"
    if reason == "output":
        return "error", "output limit exceeded; program stopped"
    if rc == 0:
        return "ok", ""
    if rc == _child.EXIT_BLOCKED:
        hits = [ln for ln in lines if ln.startswith(_child.BLOCKED_PREFIX)]
        return "blocked", (hits[-1] if hits else last).replace("polyalign.exec: ", "", 1)
    if rc == _child.EXIT_MEMORY:
        return "memory", f"memory limit of {memory_mb} MiB exceeded"
    if rc == _child.EXIT_SYNTAX:
        return "error", f"syntax: {last}"
    if rc == _child.EXIT_SETUP:
        return "error", last or "sandbox setup failed"
    if rc is not None and rc < 0:
        sig = -rc
        if sig in (signal.SIGXCPU, signal.SIGKILL):
            return "timeout", f"CPU time limit of {cpu} s exceeded"
        if sig == signal.SIGABRT and "memory" in stderr.lower():
            return "memory", f"memory limit of {memory_mb} MiB exceeded"
        name = signal.Signals(sig).name if sig in signal.Signals._value2member_map_ else str(sig)
        hint = " (runaway recursion?)" if sig == signal.SIGSEGV else ""
        return "error", f"killed by {name}{hint}"
    return "error", last or f"exit code {rc}"
