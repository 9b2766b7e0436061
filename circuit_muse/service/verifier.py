"""Run one job's verify_many() in a child process the job owns, so cancelling kills its tools at once.

Generation stays in the server (the model is loaded once and shared); only the checks move out. The
child runs the engine's own verify_many (and its process pool); kill() stops that child and every
process under it (simulators, linters, pool workers), which the engine's own pool cannot do per job.
"""
from __future__ import annotations

import json
import multiprocessing as mp
import threading
from collections.abc import Sequence
from multiprocessing.connection import Connection
from typing import Any

import psutil

from ..errors import ToolError
from ..report import VerificationReport

_CTX = mp.get_context("forkserver")
_CTX.set_forkserver_preload(["circuit_muse.engine.pipeline", "circuit_muse.engine.many", "circuit_muse.service.verifier"])


class JobCancelled(Exception):
    """Raised inside a job's thread once the job was cancelled; it unwinds the loop."""


def _child(sources: list[str], kwargs: dict[str, Any], conn: Connection) -> None:
    from ..engine.many import verify_many

    try:
        reports = verify_many(sources, **kwargs)
        conn.send(json.dumps({"reports": [r.to_dict() for r in reports]}))
    except Exception as exc:  # noqa: BLE001 - handed back to the parent as data
        conn.send(json.dumps({"error": f"{type(exc).__name__}: {exc}"}))
    finally:
        conn.close()


def kill_tree(pid: int) -> list[int]:
    """Stop `pid` and everything under it: freeze first (nothing new can spawn), then kill. Returns the pids."""
    try:
        root = psutil.Process(pid)
    except psutil.NoSuchProcess:
        return []
    procs = [root]
    try:
        root.suspend()
        seen = {root.pid}
        frontier = [root]
        while frontier:  # freeze level by level, so a child caught mid-spawn is frozen with its parent
            nxt = []
            for p in frontier:
                for c in p.children():
                    if c.pid not in seen:
                        seen.add(c.pid)
                        try:
                            c.suspend()
                        except psutil.NoSuchProcess:
                            continue
                        nxt.append(c)
                        procs.append(c)
            frontier = nxt
    except psutil.NoSuchProcess:
        pass
    for p in reversed(procs):
        try:
            p.kill()
        except psutil.NoSuchProcess:
            pass
    psutil.wait_procs(procs, timeout=2)
    return [p.pid for p in procs]


class ProcessVerifier:
    """A verify_many() stand-in for generate_verified(verifier=...): same arguments, same results.

    `last_reports` keeps the latest round's reports so the service can attach them to its events.
    """

    def __init__(self, cancelled: threading.Event) -> None:
        self.cancelled = cancelled
        self.last_reports: list[VerificationReport] = []
        self._lock = threading.Lock()
        self._proc: Any = None

    def __call__(self, sources: Sequence[str], **kwargs: Any) -> list[VerificationReport]:
        if self.cancelled.is_set():
            raise JobCancelled()
        # One process per round; candidates inside it run one after another (jobs run side by side instead),
        # which saves starting a nested process pool every round.
        kwargs = {**kwargs, "workers": 1}
        parent, child = _CTX.Pipe(duplex=False)
        proc = _CTX.Process(target=_child, args=(list(sources), kwargs, child), name="circuit-muse-job-verify")
        with self._lock:
            proc.start()
            self._proc = proc
        child.close()
        if self.cancelled.is_set():
            self.kill()
        try:
            payload = json.loads(parent.recv())
        except (EOFError, OSError):
            payload = None
        finally:
            parent.close()
            proc.join(timeout=10)
            with self._lock:
                self._proc = None
        if self.cancelled.is_set():
            raise JobCancelled()
        if payload is None:
            raise ToolError("the verification process died before it reported; the server log may say why")
        if "error" in payload:
            raise ToolError(payload["error"])
        self.last_reports = [VerificationReport.from_dict(d) for d in payload["reports"]]
        return self.last_reports

    def kill(self) -> list[int]:
        """Kill the running verification (if any) and all its tools; safe to call from any thread."""
        with self._lock:
            proc = self._proc
            return kill_tree(proc.pid) if proc is not None and proc.pid else []
