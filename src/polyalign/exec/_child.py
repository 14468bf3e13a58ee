"""In-child bootstrap of the sandbox; runs as ``python ... _child.py {setup|run} key=value ...``.

This file is executed by a fresh interpreter (the parent imports it only for its constants), so it
imports nothing from polyalign and as little of the stdlib as it can: no json, re or enum, whose
import time would be paid twice per program.

Two stages (README.md in this folder says what each guarantees):

* ``setup`` (namespace mode only, trusted, still root): new mount/network/IPC/UTS namespaces, a
  read-only root made of a few bind mounts plus a size-limited ``noexec`` tmpfs at ``/sandbox``,
  ``PR_SET_NO_NEW_PRIVS``, chroot, drop to an unprivileged uid with no groups, then ``execve`` the
  ``run`` stage. ctypes is needed for unshare/mount, so that interpreter is replaced by exec and the
  untrusted code never shares a process image with a loaded ``_ctypes``.
* ``run`` (both modes): resource limits, program read from stdin, stdin replaced by /dev/null, the
  audit hook installed, then the program is compiled and executed as ``__main__``.

The audit hook reads no global name and no mutable state: everything it uses is bound as a default
argument (re-binding ``__defaults__``/``__code__`` is itself an audited, blocked event), so a
program cannot reconfigure it by patching modules or builtins.
"""

import os
import sys

# Exit codes the parent maps to statuses; a program exiting with one of them is misreported, which
# only ever hurts the program itself (documented in README.md).
EXIT_BLOCKED = 113
EXIT_MEMORY = 114
EXIT_SYNTAX = 115
EXIT_SETUP = 116
BLOCKED_PREFIX = "polyalign.exec: blocked "
WORKDIR = "/sandbox"  # the program's cwd inside the namespace-mode root
DEVICES = ("/dev/null", "/dev/zero", "/dev/urandom", "/dev/random")
LIST_SEP = "\x1f"  # joins list values in a config argument (never in a path or flag)
_INTS = ("cpu_seconds", "memory_mb", "file_mb", "max_files", "uid", "parent")

_CLONE_NEWNS, _CLONE_NEWUTS, _CLONE_NEWIPC, _CLONE_NEWNET = 0x20000, 0x4000000, 0x8000000, 0x40000000
_MS_RDONLY, _MS_NOSUID, _MS_NODEV, _MS_NOEXEC = 1, 2, 4, 8
_MS_REMOUNT, _MS_BIND, _MS_REC, _MS_PRIVATE = 32, 4096, 16384, 1 << 18
_PR_SET_PDEATHSIG, _PR_SET_NO_NEW_PRIVS = 1, 38

# Events refused outright: process creation and signals, every socket operation, foreign-function
# calls, code-object construction (hand-made bytecode crashes the interpreter), heap introspection
# that could find the bootstrap, tracing (a tracer can rewrite a running frame's locals), limits.
_DENY = frozenset(
    "os.system os.exec os.fork os.forkpty os.posix_spawn os.spawn subprocess.Popen pty.spawn "
    "os.kill os.killpg signal.pthread_kill os.startfile os.link os.symlink code.__new__ "
    "gc.get_objects gc.get_referrers gc.get_referents sys.settrace sys.setprofile "
    "resource.setrlimit resource.prlimit fcntl.ioctl cpython.PyInterpreterState_New "
    "webbrowser.open".split()
)
_DENY_PREFIXES = ("socket.", "ctypes.", "_ctypes.", "cffi.")
_DENY_MODULES = frozenset(
    "ctypes _ctypes _ctypes_test cffi _cffi_backend _posixsubprocess _posixshmem _multiprocessing "
    "_xxsubinterpreters _xxinterpchannels _testcapi _testinternalcapi _testbuffer _testmultiphase "
    "_testimportmultiple _testclinic xxlimited faulthandler posix".split()
)
# Events whose first argument is a path that must lie inside the working directory; the value is
# the index of the dir_fd argument (must be unset), or -1 when the event has none.
_WRITE_EVENTS = {
    "os.remove": 1, "os.rmdir": 1, "os.mkdir": 2, "os.chmod": 2, "os.chown": 3, "os.utime": 3,
    "os.truncate": -1, "os.setxattr": -1, "os.removexattr": -1, "os.chflags": -1, "os.chdir": -1,
}


def _normalize(path, _type=type, _str=str, _bytes=bytes, _cwd=os.getcwd):
    """Absolute, lexically normalized form of ``path`` (str or bytes), or None when unusable."""
    if _type(path) is _bytes:
        path = _bytes.decode(path, "utf-8", "surrogateescape")
    if _type(path) is not _str or "\x00" in path:
        return None
    if not path.startswith("/"):
        path = _cwd() + "/" + path
    parts = []
    for seg in path.split("/"):
        if seg == "..":
            if parts:
                parts.pop()
        elif seg and seg != ".":
            parts.append(seg)
    return "/" + "/".join(parts)


def _inside(path, roots):
    """True when normalized ``path`` is one of ``roots`` or below one (no global lookups)."""
    for r in roots:
        if path == r or path.startswith(r + "/"):
            return True
    return False


def _audit(event, args, _root="\x00", _reads=(), _norm=_normalize, _inside=_inside, _deny=_DENY,
           _prefixes=_DENY_PREFIXES, _modules=_DENY_MODULES, _writes=_WRITE_EVENTS, _devices=DEVICES,
           _type=type, _int=int, _str=str, _stat=os.stat, _write=os.write, _exit=os._exit,
           _code=EXIT_BLOCKED, _msg=BLOCKED_PREFIX, _guarded=(), _ctypes_ok=False,
           _wflags=os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_APPEND):
    """The sandbox's audit hook: return to allow; on a violation report it and exit at once.

    Exiting (rather than raising) means a program cannot catch the refusal and carry on.
    """
    bad = None
    if event in _deny or event.startswith(_prefixes):
        # numpy needs ctypes loaded (site_packages mode): allow dlopen(NULL) and nothing more;
        # symbol lookup and every foreign call stay blocked.
        if not (_ctypes_ok and event == "ctypes.dlopen" and args[0] is None):
            bad = ""
    elif event == "open":
        path, flags = args[0], args[2]
        if _type(path) is not _int:
            p = _norm(path)
            write = _type(flags) is not _int or flags & _wflags
            if p is None:
                bad = "?"
            elif _inside(p, (_root,)):
                try:  # a device node inside the sandbox could only come from mknod: refuse it
                    if _stat(p).st_mode & 0o170000 in (0o020000, 0o060000):
                        bad = p
                except OSError:
                    pass
            elif p == "/dev/null":
                pass
            elif write or not (p in _devices or _inside(p, _reads)):
                bad = p
            elif p not in _devices:
                try:  # a directory fd outside would let dir_fd-relative calls escape
                    if _stat(p).st_mode & 0o170000 == 0o040000:
                        bad = p
                except OSError:
                    pass
    elif event in _writes:
        i = _writes[event]
        p = _norm(args[0]) if _type(args[0]) is not _int else _root
        if p is None or not _inside(p, (_root,)) or (i >= 0 and args[i] not in (-1, None)):
            bad = p or "?"
    elif event == "os.rename":  # (src, dst, src_dir_fd, dst_dir_fd); os.replace raises it too
        src, dst = _norm(args[0]), _norm(args[1])
        if src is None or dst is None or not (_inside(src, (_root,)) and _inside(dst, (_root,))) \
                or args[2] not in (-1, None) or args[3] not in (-1, None):
            bad = dst or "?"
    elif event in ("os.listdir", "os.scandir"):
        if args[0] is not None and _type(args[0]) is not _int:
            p = _norm(args[0])
            if p is None or not _inside(p, (_root,) + _reads):
                bad = p or "?"
    elif event == "import":
        name, filename = args[0], args[1]
        top = name.partition(".")[0] if _type(name) is _str else "?"
        if top in _modules and not (_ctypes_ok and top in ("ctypes", "_ctypes")):
            bad = top
        elif filename is not None:  # an extension module: only from the read-only library dirs
            p = _norm(filename)
            if p is None or not _inside(p, _reads):
                bad = p or "?"
    elif event in ("object.__setattr__", "object.__delattr__"):
        for g in _guarded:  # identity, not ==: no user __eq__ runs here
            if args[0] is g:
                bad = "sandbox internals"
    if bad is None:
        return
    text = _msg + event + (" " + bad if bad else "") + "\n"
    _write(2, text.encode("utf-8", "replace"))
    _exit(_code)


def _set_limits(cfg):
    """OS limits; run before any untrusted byte is read. The hard limits cannot be raised again."""
    import resource
    mb = 1024 * 1024
    cpu = cfg["cpu_seconds"]
    for lim, soft, hard in (
        (resource.RLIMIT_CORE, 0, 0),
        (resource.RLIMIT_CPU, cpu, cpu + 1),  # SIGXCPU at soft, SIGKILL at hard even if ignored
        (resource.RLIMIT_AS, cfg["memory_mb"] * mb, cfg["memory_mb"] * mb),
        (resource.RLIMIT_FSIZE, cfg["file_mb"] * mb, cfg["file_mb"] * mb),
        (resource.RLIMIT_NOFILE, cfg["max_files"], cfg["max_files"]),
        # 0: no new process or thread for this uid. Ignored by the kernel for root (basic mode).
        (resource.RLIMIT_NPROC, 0, 0),
    ):
        resource.setrlimit(lim, (soft, hard))


def _prepare(cfg):
    """Stage ``run``, trusted part: limits, read the program, install the hook. Returns the source."""
    import _signal  # not `signal`: that one imports enum
    _set_limits(cfg)
    # Writes past RLIMIT_FSIZE then fail with EFBIG (a clean OSError) instead of killing silently.
    _signal.signal(_signal.SIGXFSZ, _signal.SIG_IGN)
    chunks = []
    while True:
        chunk = os.read(0, 1 << 16)
        if not chunk:
            break
        chunks.append(chunk)
    null = os.open("/dev/null", os.O_RDONLY)  # the program's stdin is empty
    os.dup2(null, 0)
    os.close(null)
    # subprocess (imported by sympy, platform, ...) must import, and it does
    # `from _posixsubprocess import fork_exec`; spawning stays blocked by the subprocess.Popen event,
    # and with fork_exec replaced the raw primitive is unreachable (re-loading the extension raises
    # an import event for a denied name).
    import _posixsubprocess
    _posixsubprocess.fork_exec = None
    # Unaudited calls no math program needs: memfd pages escape RLIMIT_AS, fifos/device nodes are
    # files the hook never sees created. (Defence in depth only: README, "not guaranteed".)
    for name in ("memfd_create", "mkfifo", "mknod"):
        os.__dict__.pop(name, None)
        sys.modules["posix"].__dict__.pop(name, None)
    # -S/-P keep sys.path to the stdlib (plus site-packages when enabled); those dirs are the
    # read-only library the program may read and import from.
    reads = tuple(p for p in (_normalize(e) for e in sys.path if e) if p and p != "/")
    code = _audit.__code__
    names = code.co_varnames[code.co_argcount - len(_audit.__defaults__):code.co_argcount]
    bound = dict(zip(names, _audit.__defaults__))
    bound.update(_root=_normalize(cfg["root"]), _reads=reads, _guarded=(_audit, _normalize, _inside),
                 _ctypes_ok=cfg["site_packages"] == "1")
    _audit.__defaults__ = tuple(bound[n] for n in names)
    sys.addaudithook(_audit)  # from here on nothing can remove it
    return b"".join(chunks).decode("utf-8", "replace")


def _execute(src):
    """Stage ``run``, untrusted part: compile and run the program as ``__main__``."""
    try:
        code = compile(src, "<program>", "exec")
    except (SyntaxError, ValueError) as exc:  # ValueError: source with NUL bytes
        os.write(2, f"{type(exc).__name__}: {exc}\n".encode("utf-8", "replace"))
        os._exit(EXIT_SYNTAX)
    except MemoryError:
        _report_memory()
    import builtins
    namespace = {"__name__": "__main__", "__builtins__": builtins}
    try:
        exec(code, namespace)
    except SystemExit:
        raise  # the interpreter reports the code/message exactly as a normal script would
    except MemoryError:
        namespace.clear()  # free what we can so the report itself does not fail
        _report_memory()
    except BaseException as exc:
        _report_error(exc, src)


def _report_memory():
    """Flush what was printed, report the memory limit, exit with its code."""
    try:
        sys.stdout.flush()
    except BaseException:
        pass
    os.write(2, b"MemoryError\n")
    os._exit(EXIT_MEMORY)


def _report_error(exc, src):
    """Print the program's traceback (without the bootstrap frame) and exit 1."""
    try:
        import linecache
        import traceback
        linecache.cache["<program>"] = (len(src), None, src.splitlines(True), "<program>")
        traceback.print_exception(type(exc), exc, exc.__traceback__.tb_next)
    except MemoryError:
        _report_memory()
    except BaseException:  # e.g. no file descriptor left to import traceback with
        try:
            os.write(2, f"{type(exc).__name__}: {exc}\n".encode("utf-8", "replace"))
        except BaseException:
            os.write(2, f"{type(exc).__name__}\n".encode())
    try:
        sys.stdout.flush()
    except BaseException:
        pass
    os._exit(1)


def _setup(cfg, source, items):
    """Stage ``setup`` (namespace mode, root): build the isolated root, drop privileges, exec ``run``."""
    import ctypes
    libc = ctypes.CDLL(None, use_errno=True)
    libc.mount.argtypes = [ctypes.c_char_p] * 3 + [ctypes.c_ulong, ctypes.c_char_p]

    def check(rc, what):
        if rc != 0:
            err = ctypes.get_errno()
            raise OSError(err, f"{what}: {os.strerror(err)}")

    def mount(src, dst, fstype, flags, data=None):
        enc = [None if s is None else s.encode() for s in (src, dst, fstype, data)]
        check(libc.mount(enc[0], enc[1], enc[2], flags, enc[3]), f"mount {dst}")

    def bind(path, flags):
        target = new + path
        if os.path.isdir(path):
            os.makedirs(target, exist_ok=True)
        else:
            os.makedirs(os.path.dirname(target), exist_ok=True)
            open(target, "w").close()
        mount(path, target, None, _MS_BIND | _MS_REC)
        mount(None, target, None, _MS_REMOUNT | _MS_BIND | flags)

    os.umask(0o022)
    check(libc.unshare(_CLONE_NEWNS | _CLONE_NEWNET | _CLONE_NEWIPC | _CLONE_NEWUTS), "unshare")
    mount(None, "/", None, _MS_REC | _MS_PRIVATE)  # nothing below propagates back to the host
    new = cfg["mountpoint"]
    mount("polyalign-root", new, "tmpfs", _MS_NOSUID, "size=1m,nr_inodes=4096,mode=0755")
    ro = _MS_RDONLY | _MS_NOSUID | _MS_NODEV
    for name in ("bin", "sbin", "lib", "lib32", "lib64", "libx32", "usr"):
        path = "/" + name
        if os.path.islink(path):  # merged-/usr systems: /lib -> usr/lib
            os.symlink(os.readlink(path), new + path)
        elif os.path.isdir(path):
            bind(path, ro)
    for path in cfg["binds"]:  # the interpreter's prefix (and the venv with site-packages)
        if not any(path == t or path.startswith(t + "/") for t in ("/usr", "/bin", "/lib")):
            bind(path, ro)
    for path in DEVICES:
        if os.path.exists(path):
            bind(path, _MS_NOSUID)
    os.makedirs(new + WORKDIR)
    uid = cfg["uid"]
    opts = f"size={cfg['file_mb']}m,nr_inodes=1024,mode=0700,uid={uid},gid={uid}"
    mount("polyalign-work", new + WORKDIR, "tmpfs", _MS_NOSUID | _MS_NODEV | _MS_NOEXEC, opts)
    mount(None, new, None, _MS_REMOUNT | ro)
    check(libc.prctl(_PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), "prctl")  # setuid binaries gain nothing
    os.chroot(new)
    os.chdir(WORKDIR)
    os.setgroups([])
    os.setgid(uid)
    os.setuid(uid)  # from root: real, effective and saved ids, and all capabilities, are gone
    # Die with the parent (set after the uid change, which would clear it); a parent already gone
    # means nobody would enforce the wall-time limit.
    check(libc.prctl(_PR_SET_PDEATHSIG, 9, 0, 0, 0), "prctl")
    if os.getppid() != cfg["parent"]:
        raise OSError("parent exited")
    argv = [cfg["exe"], *cfg["flags"], "-c", source, "run", *items]
    os.execve(cfg["exe"], argv, os.environ)


def parse_config(items):
    """``["key=value", ...]`` to a dict: ints for the limits, lists for ``flags``/``binds``."""
    cfg = {}
    for item in items:
        key, _, value = item.partition("=")
        cfg[key] = int(value) if key in _INTS else value.split(LIST_SEP) if key in ("flags", "binds") else value
    return cfg


def main(argv):
    """Entry point: ``argv = [stage, "key=value", ...]``."""
    stage, cfg = argv[0], parse_config(argv[1:])
    try:
        if stage == "run":
            src = _prepare(cfg)
        else:
            with open(__file__, encoding="utf-8") as f:  # read now: the chroot will hide this file
                source = f.read()
            _setup(cfg, source, argv[1:])  # execs the run stage; returns only by raising
    except BaseException as exc:  # report, never run the program unconfined
        os.write(2, f"sandbox setup failed: {exc}\n".encode("utf-8", "replace"))
        os._exit(EXIT_SETUP)
    _execute(src)


if __name__ == "__main__":
    main(sys.argv[1:])
