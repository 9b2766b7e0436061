"""Run one untrusted command: own process group, rlimits, wall-clock kill, capped output, throwaway directory.

This is defence in depth for simulator runs of model-written RTL. It is not a container: the static
screen is what keeps file and shell access out of the design in the first place.
"""
from __future__ import annotations

import logging
import os
import resource
import selectors
import shlex
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import ToolNotFound

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


def _kill_group(proc: subprocess.Popen[bytes]) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def run(
    argv: Sequence[str],
    *,
    cwd: str | os.PathLike[str],
    limits: Limits = Limits(),
    env: Mapping[str, str] | None = None,
    stdin: bytes | None = None,
) -> ProcessResult:
    """Run argv (never through a shell) under limits; kill its whole process group on timeout or flood."""
    argv = [str(a) for a in argv]
    log.info("running %s in %s", shlex.join(argv), cwd)
    start = time.monotonic()
    try:
        proc = subprocess.Popen(
            argv, cwd=cwd, env=dict(env) if env is not None else None,
            stdin=subprocess.PIPE if stdin is not None else subprocess.DEVNULL,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            start_new_session=True, preexec_fn=_limit_setter(limits),
        )
    except FileNotFoundError as exc:
        raise ToolNotFound(f"cannot execute {argv[0]!r}: {exc.strerror}. Install it or point the "
                           "matching CIRCUIT_MUSE_* variable at it.") from exc
    if stdin is not None and proc.stdin is not None:
        try:
            proc.stdin.write(stdin)
            proc.stdin.close()
        except BrokenPipeError:
            pass
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
    sig = -rc if rc is not None and rc < 0 else None
    result = ProcessResult(
        argv=argv, returncode=rc, duration_s=time.monotonic() - start,
        stdout=bufs["stdout"].decode("utf-8", "replace"), stderr=bufs["stderr"].decode("utf-8", "replace"),
        timed_out=timed_out, output_overflow=overflow, signal=sig,
    )
    log.debug("finished %s rc=%s in %.3fs", argv[0], rc, result.duration_s)
    return result


@contextmanager
def workdir(prefix: str = "cm-", keep: bool = False) -> Iterator[Path]:
    """A private temporary directory that is always removed (unless keep=True, for debugging)."""
    path = Path(tempfile.mkdtemp(prefix=prefix))
    try:
        yield path
    finally:
        if not keep:
            shutil.rmtree(path, ignore_errors=True)
