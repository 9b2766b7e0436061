"""The verify worker: a separate process that parses and checks untrusted designs for the parent.

Started as `python -m circuit_muse.engine.worker` by `engine.pool` (never through multiprocessing, so
the caller's `__main__` is never re-imported). The wire protocol is one-way trusting:

- parent -> worker (stdin): frames of a 4-byte big-endian length and a pickle of a trusted request
  (the design text, the testbench object, the options);
- worker -> parent (stdout): JSON lines only, `{"id", "stage"}` as each stage ends and then
  `{"id", "report"}` (or `{"id", "error"}` / `{"id", "crash"}`), because this process handles
  hostile input and the parent must never unpickle what it writes.

A crash, a memory blow-up or a runaway parse kills only this process; the parent turns that into a
`crash`, `resource` or `timeout` report and starts a fresh worker.
"""
from __future__ import annotations

import json
import os
import pickle
import resource
import struct
import sys
import tempfile
import traceback
from typing import Any, BinaryIO

from ..errors import CircuitMuseError

# Address-space cap of the worker itself (pyslang runs here). Tools it starts set their own limits.
WORKER_ADDRESS_SPACE = 2 * 1024 * 1024 * 1024


def _exit_with_parent() -> None:
    """End this worker when the process that started it is gone.

    Not PR_SET_PDEATHSIG: Linux sends that when the parent *thread* exits, and pool workers are reused by
    later calls from other threads, so a worker started from a short-lived thread would be killed mid-job.
    A closed stdin (EOF in the request loop) covers a parent that exits normally; this covers one killed
    while the worker is busy.
    """
    import threading
    import time

    parent = os.getppid()

    def watch() -> None:
        while True:
            time.sleep(1.0)
            if os.getppid() != parent:
                os._exit(1)

    threading.Thread(target=watch, name="circuit-muse-parent-watch", daemon=True).start()


def _limit_self() -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    cap = WORKER_ADDRESS_SPACE if hard == resource.RLIM_INFINITY else min(hard, WORKER_ADDRESS_SPACE)
    resource.setrlimit(resource.RLIMIT_AS, (cap, hard))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


def _cpu_budget(seconds: float) -> None:
    """Let this request use at most `seconds` more CPU; past that the kernel sends SIGXCPU."""
    used = resource.getrusage(resource.RUSAGE_SELF)
    soft = int(used.ru_utime + used.ru_stime + seconds) + 1
    _, hard = resource.getrlimit(resource.RLIMIT_CPU)
    if hard != resource.RLIM_INFINITY:
        soft = min(soft, hard)
    resource.setrlimit(resource.RLIMIT_CPU, (soft, hard))


def _adopt_caller_context(req: dict[str, Any]) -> None:
    """Run as if in the caller: its current environment, directory and temp dir (they may have changed
    since this worker started; a test's monkeypatch.setenv or chdir, say)."""
    env = req.get("env")
    if env is not None and env != dict(os.environ):
        os.environ.clear()
        os.environ.update(env)
    cwd = req.get("cwd")
    if cwd and cwd != os.getcwd():
        try:
            os.chdir(cwd)
        except OSError:
            pass
    tempfile.tempdir = req.get("tmpdir") or None


def _read_frame(stream: BinaryIO) -> Any | None:
    head = stream.read(4)
    if len(head) < 4:
        return None
    (size,) = struct.unpack(">I", head)
    body = stream.read(size)
    if len(body) < size:
        return None
    return pickle.loads(body)  # noqa: S301 - frames come from our own parent process only


def serve(requests: BinaryIO, replies: BinaryIO) -> None:
    """Answer requests until the parent closes the pipe."""
    from .pipeline import run_pipeline  # imported here so the worker is warm before the first request

    def send(obj: dict[str, Any]) -> None:
        replies.write(json.dumps(obj).encode() + b"\n")
        replies.flush()

    while True:
        req = _read_frame(requests)
        if req is None:
            return
        serve_one(req, send, run_pipeline)


def serve_one(req: dict[str, Any], send: Any, run_pipeline: Any) -> None:
    """Answer one request: stage lines as they finish, then the report (or what went wrong)."""
    rid = req["id"]
    _adopt_caller_context(req)
    _cpu_budget(float(req.get("cpu_s", 600)))
    try:
        report = run_pipeline(req["raw"], **req["kwargs"],
                              on_stage=lambda st, rid=rid: send({"id": rid, "stage": st.to_dict()}))
    except CircuitMuseError as exc:
        send({"id": rid, "error": type(exc).__name__, "message": str(exc)})
    except MemoryError:
        send({"id": rid, "crash": "resource", "message": "ran out of memory (worker address-space limit)"})
    except RecursionError:
        send({"id": rid, "crash": "resource", "message": "the design nests too deeply to check"})
    except Exception as exc:  # noqa: BLE001 - hostile input must become a report, not a dead worker
        last = traceback.format_exception_only(type(exc), exc)[-1].strip()
        send({"id": rid, "crash": "crash", "message": f"internal error while checking the design: {last}"})
    else:
        send({"id": rid, "report": report.to_dict()})


def main() -> None:
    from ..tools.sandbox import enter_private_network

    try:  # before any thread starts: this worker's sandboxes share its own empty network namespace
        enter_private_network()
    except CircuitMuseError:
        pass  # no sandbox here: each request finds that out (and says so) itself
    _exit_with_parent()
    _limit_self()
    replies = os.fdopen(os.dup(1), "wb", buffering=0)
    os.dup2(2, 1)  # anything native code prints goes to stderr, never into the reply channel
    sys.stdout = sys.stderr
    serve(sys.stdin.buffer, replies)


if __name__ == "__main__":
    main()
