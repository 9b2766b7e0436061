"""Parent side of the verify workers: run jobs in `python -m circuit_muse.engine.worker` processes.

Each job runs alone in one worker under that worker's rlimits and a wall-clock deadline. A worker that
crashes, blows its memory or overruns is killed (its whole process group) and replaced; only the job it
was running fails, as a `crash`, `resource` or `timeout` report. Idle workers are kept for the next
call, so the start-up cost (about 0.3 s) is paid once per process, not per design.
"""
from __future__ import annotations

import atexit
import json
import os
import pickle
import selectors
import signal
import struct
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .. import errors as _errors
from ..errors import CircuitMuseError
from ..report import Category, Diagnostic, Severity, StageResult, VerificationReport

STAGE_ORDER = ("extract", "screen", "parse", "lint", "synth", "simulate")
_MAX_REPLY = 256 * 1024 * 1024
_JOBS_PER_WORKER = 500  # then a fresh process: whatever a long-lived parser process leaks stays bounded


@dataclass
class Job:
    """One candidate for a worker: raw text plus run_pipeline() keyword arguments (trusted objects)."""

    raw: str
    kwargs: dict[str, Any]
    source: str = ""  # the extracted source, for reports the parent has to write itself


@dataclass
class _Worker:
    proc: subprocess.Popen[bytes]
    buf: bytearray = field(default_factory=bytearray)
    jobs: int = 0

    @classmethod
    def start(cls) -> _Worker:
        # The worker must import this very circuit_muse, not another copy on the default path.
        root = str(Path(__file__).resolve().parents[2])
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join([root, *([env["PYTHONPATH"]] if env.get("PYTHONPATH") else [])])
        proc = subprocess.Popen([sys.executable, "-m", "circuit_muse.engine.worker"], stdin=subprocess.PIPE,
                                stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, start_new_session=True,
                                close_fds=True, env=env)
        os.set_blocking(proc.stdout.fileno(), False)  # type: ignore[union-attr]
        return cls(proc)

    def send(self, request: dict[str, Any], by_value: bool = False) -> None:
        body = _dumps_by_value(request) if by_value else pickle.dumps(request, protocol=pickle.HIGHEST_PROTOCOL)
        assert self.proc.stdin is not None
        self.jobs += 1
        self.proc.stdin.write(struct.pack(">I", len(body)) + body)
        self.proc.stdin.flush()

    def kill(self) -> None:
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        self.proc.kill()
        self.proc.wait()
        for stream in (self.proc.stdin, self.proc.stdout):
            try:
                stream.close()  # type: ignore[union-attr]
            except OSError:
                pass

    @property
    def alive(self) -> bool:
        return self.proc.poll() is None

    def fileno(self) -> int:
        return self.proc.stdout.fileno()  # type: ignore[union-attr]

    def returncode(self) -> int:
        return self.proc.wait()


def _dumps_by_value(request: dict[str, Any]) -> bytes:
    """Pickle a trusted request that plain pickle cannot carry (a bench holding a lambda or a local class):
    cloudpickle, with the caller's own modules (not circuit_muse) pickled by value so the worker, which
    cannot import them, gets the code itself. Not a fork of this process: a fork of a process with other
    threads (Ray, gRPC, a web server) can hang in the child."""
    import cloudpickle

    mods = {type(v).__module__ for v in request["kwargs"].values()}
    mods = {sys.modules[m] for m in mods if m in sys.modules and m != "__main__"
            and m.split(".")[0] not in ("circuit_muse", "builtins")}
    for m in mods:
        cloudpickle.register_pickle_by_value(m)
    try:
        return cloudpickle.dumps(request, protocol=pickle.HIGHEST_PROTOCOL)
    finally:
        for m in mods:
            cloudpickle.unregister_pickle_by_value(m)


def _picklable(obj: object) -> bool:
    try:
        pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)
    except (pickle.PicklingError, AttributeError, TypeError):
        return False
    return True


class WorkerPool:
    """A set of idle workers shared by every verify()/verify_many() call of this process."""

    def __init__(self) -> None:
        self._idle: list[_Worker] = []
        self._lock = threading.Lock()

    def _take(self, n: int) -> list[_Worker]:
        with self._lock:
            got = [w for w in self._idle[:n] if w.alive]
            self._idle = self._idle[n:]
        return got + [_Worker.start() for _ in range(n - len(got))]

    def _give(self, workers: Sequence[_Worker]) -> None:
        keep = max(2, os.cpu_count() or 1) * 2
        with self._lock:
            for w in workers:
                if w.alive and len(self._idle) < keep and w.jobs < _JOBS_PER_WORKER:
                    self._idle.append(w)
                else:
                    w.kill()

    def shutdown(self) -> None:
        """Stop every idle worker (they are reused between calls otherwise)."""
        with self._lock:
            idle, self._idle = self._idle, []
        for w in idle:
            w.kill()

    def run(self, jobs: Sequence[Job], *, workers: int, timeout_s: float,
            on_stage: Callable[[int, StageResult], None] | None = None) -> list[VerificationReport]:
        """Run every job; reports come back in job order. Raises the CircuitMuseError a job raised."""
        results: list[VerificationReport | None] = [None] * len(jobs)
        pending = list(range(len(jobs)))
        by_value = {i for i, job in enumerate(jobs) if not _picklable(job.kwargs)}
        n_slots = max(1, min(workers, len(jobs)))
        pool: list[_Worker | None] = list(self._take(n_slots))
        pool += [None] * (n_slots - len(pool))
        spare: list[_Worker] = []
        busy: dict[int, tuple[int, float, list[StageResult]]] = {}  # worker slot -> job, deadline, stages
        sel = selectors.DefaultSelector()
        error: CircuitMuseError | None = None
        context = {"tmpdir": tempfile.gettempdir(), "env": dict(os.environ), "cwd": os.getcwd()}

        def worker_for(slot: int, idx: int) -> _Worker:
            w = pool[slot]
            if not isinstance(w, _Worker) or not w.alive:
                pool[slot] = spare.pop() if spare else _Worker.start()
            return pool[slot]  # type: ignore[return-value]

        def dispatch(slot: int) -> None:
            while pending:
                idx = pending.pop(0)
                w = worker_for(slot, idx)
                try:
                    w.send({"id": idx, "raw": jobs[idx].raw, "kwargs": jobs[idx].kwargs, "cpu_s": timeout_s,
                            **context}, by_value=idx in by_value)
                except (pickle.PicklingError, TypeError, AttributeError) as exc:
                    results[idx] = _failure(jobs[idx], [], Category.CRASH, "the testbench or options could not be "
                                            f"sent to a verify worker ({exc}); keep them to plain, importable "
                                            "objects", 0.0)
                    continue
                except (BrokenPipeError, OSError):
                    retire(slot)
                    results[idx] = _failure(jobs[idx], [], Category.CRASH, "the verify worker died at start-up",
                                            0.0)
                    continue
                busy[slot] = (idx, time.monotonic() + timeout_s, [])
                sel.register(w.fileno(), selectors.EVENT_READ, slot)
                return

        def retire(slot: int) -> None:
            w = pool[slot]
            if w is None:
                return
            try:
                sel.unregister(w.fileno())
            except (KeyError, ValueError):
                pass
            w.kill()
            pool[slot] = None

        def finish(slot: int) -> None:
            w = pool[slot]
            sel.unregister(w.fileno())  # type: ignore[union-attr]
            busy.pop(slot)
            dispatch(slot)

        def died(slot: int, why: Category, message: str) -> None:
            idx, _, stages = busy.pop(slot)
            retire(slot)
            results[idx] = _failure(jobs[idx], stages, why, message, timeout_s)
            dispatch(slot)

        def handle(slot: int, idx: int, stages: list[StageResult], msg: Any) -> StageResult | None:
            """Act on one reply line: the stage it reports, or None once the job is over (the slot may
            already run the next job)."""
            nonlocal error
            if not isinstance(msg, dict):
                raise ValueError("a reply line is not an object")
            if "stage" in msg:
                stage = _stage_from_dict(msg["stage"])
                stages.append(stage)
                return stage
            if "report" in msg:
                results[idx] = VerificationReport.from_dict(msg["report"])
            elif "error" in msg:
                cls = getattr(_errors, str(msg["error"]), CircuitMuseError)
                error = error or (cls if isinstance(cls, type) and issubclass(cls, CircuitMuseError)
                                  else CircuitMuseError)(str(msg["message"]))
                results[idx] = _failure(jobs[idx], stages, Category.CRASH, str(msg["message"]), 0.0)
            else:
                cat = Category.RESOURCE if msg.get("crash") == "resource" else Category.CRASH
                results[idx] = _failure(jobs[idx], stages, cat, str(msg["message"]), 0.0)
            finish(slot)
            return None

        try:
            for slot in range(len(pool)):
                dispatch(slot)
            while busy:
                now = time.monotonic()
                wait = max(0.0, min(d for _, d, _ in busy.values()) - now)
                for key, _ in sel.select(timeout=wait + 0.01):
                    slot = key.data
                    if slot not in busy:
                        continue
                    w = pool[slot]
                    assert w is not None
                    try:
                        chunk = os.read(w.fileno(), 1 << 20)
                    except BlockingIOError:
                        continue
                    if not chunk:
                        died(slot, *_death_cause(w.returncode()))
                        continue
                    w.buf += chunk
                    if len(w.buf) > _MAX_REPLY:
                        died(slot, Category.RESOURCE, "the worker's reply exceeded the size cap")
                        continue
                    while slot in busy and b"\n" in w.buf:
                        line, _, rest = bytes(w.buf).partition(b"\n")
                        w.buf = bytearray(rest)
                        idx, deadline, stages = busy[slot]
                        try:
                            stage = handle(slot, idx, stages, json.loads(line))
                        except (KeyError, TypeError, ValueError, AttributeError):
                            died(slot, Category.CRASH, "the verify worker sent an unreadable reply; it was replaced")
                            break
                        if stage is None:
                            break
                        if on_stage:
                            on_stage(idx, stage)  # the caller's code: outside the reply-parsing guard
                now = time.monotonic()
                for slot, (_idx, deadline, _) in list(busy.items()):
                    if now >= deadline:
                        died(slot, Category.TIMEOUT, f"verification did not finish in {timeout_s:.0f}s; its "
                                                     "worker was killed")
        finally:
            for slot in list(busy):
                retire(slot)  # interrupted (KeyboardInterrupt): no worker keeps running a stale job
            sel.close()
            self._give([w for w in [*pool, *spare] if isinstance(w, _Worker)])
        if error is not None:
            raise error
        return [r for r in results if r is not None]


def _death_cause(code: int) -> tuple[Category, str]:
    if code < 0:
        sig = -code
        if sig == signal.SIGXCPU:
            return Category.RESOURCE, "checking the design used up its CPU-time limit; the worker was stopped"
        if sig in (signal.SIGSEGV, signal.SIGBUS, signal.SIGABRT, signal.SIGILL):
            return Category.CRASH, (f"the parser crashed on this design (signal {signal.Signals(sig).name}); "
                                    "simplify the macros or the nesting")
        return Category.CRASH, f"the verify worker was killed by signal {signal.Signals(sig).name}"
    return Category.CRASH, (f"the verify worker exited unexpectedly (status {code}); run `{sys.executable} -m "
                            "circuit_muse.engine.worker < /dev/null` to see why")


def _stage_from_dict(d: dict[str, Any]) -> StageResult:
    return VerificationReport.from_dict({"passed": False, "category": "crash", "score": 0.0,
                                         "stages": [d]}).stages[0]


def _failure(job: Job, stages: list[StageResult], category: Category, message: str,
             duration: float) -> VerificationReport:
    """The report for a job whose worker could not finish: the stages it did report, then the failure."""
    done = {s.name for s in stages}
    name = next((n for n in STAGE_ORDER if n not in done), "simulate")
    diag = Diagnostic(severity=Severity.ERROR, tool="worker", category=category, message=message)
    failed = StageResult(name=name, passed=False, duration_s=duration, category=category, diagnostics=[diag])
    return VerificationReport(passed=False, category=category, score=0.0, stages=[*stages, failed],
                              raw_text=job.raw, source=job.source, duration_s=duration)


_POOL: WorkerPool | None = None
_POOL_LOCK = threading.Lock()


def default_pool() -> WorkerPool:
    global _POOL
    with _POOL_LOCK:
        if _POOL is None:
            _POOL = WorkerPool()
            atexit.register(_POOL.shutdown)
        return _POOL
