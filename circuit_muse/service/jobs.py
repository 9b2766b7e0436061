"""Jobs: a bounded queue, a fixed number of worker threads, live notification, cancel and budgets.

A job's thread runs the loop with the shared model; its checks run in the job's own verifier process
(verifier.py). Every event goes to SQLite before anyone is told about it, so a client that reconnects
(or a server that restarts) sees exactly what happened.
"""
from __future__ import annotations

import asyncio
import logging
import queue
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ..errors import CircuitMuseError
from ..loop.events import Event
from ..models.base import Model
from ..testbench.base import Testbench
from . import adapter
from .db import JobRow, JobStore
from .verifier import JobCancelled, ProcessVerifier

log = logging.getLogger("circuit_muse.service")


class QueueFull(Exception):
    """More jobs are waiting than the queue holds; the client should retry later."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"the job queue is full; retry in {retry_after}s")
        self.retry_after = retry_after


@dataclass
class _Running:
    cancelled: threading.Event = field(default_factory=threading.Event)
    verifier: ProcessVerifier | None = None
    reason: str = "cancelled"
    round: int = 0


class JobManager:
    """Owns the worker threads. submit() and cancel() are called from request threads."""

    def __init__(self, store: JobStore, model: Model, *, workers: int = 2, max_queue: int = 16,
                 max_seconds: float = 300.0) -> None:
        self.store = store
        self.model = model
        self.workers = workers
        self.max_queue = max_queue
        self.max_seconds = max_seconds
        self._queue: queue.Queue[tuple[str, Testbench | None] | None] = queue.Queue()
        self._running: dict[str, _Running] = {}
        self._lock = threading.Lock()
        self._listeners: dict[str, set[tuple[asyncio.AbstractEventLoop, asyncio.Event]]] = {}
        self._threads: list[threading.Thread] = []
        self._recent_s: list[float] = []  # durations of recent jobs, for Retry-After

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> None:
        interrupted = self.store.interrupt_unfinished()
        if interrupted:
            log.warning("marked %d job(s) cut off by the last shutdown as interrupted", len(interrupted))
        for i in range(self.workers):
            t = threading.Thread(target=self._work, name=f"circuit-muse-job-{i}", daemon=True)
            t.start()
            self._threads.append(t)

    def stop(self) -> None:
        with self._lock:
            running = list(self._running)
        for job_id in running:
            self.cancel(job_id, reason="shutdown", state="interrupted")
        for _ in self._threads:
            self._queue.put(None)

    # ------------------------------------------------------------------ API

    @property
    def depth(self) -> int:
        """Jobs waiting for a worker."""
        return self._queue.qsize()

    @property
    def active(self) -> int:
        with self._lock:
            return len(self._running)

    def retry_after(self) -> int:
        avg = sum(self._recent_s) / len(self._recent_s) if self._recent_s else 5.0
        return max(1, int(avg * max(1, self.depth) / max(1, self.workers)) + 1)

    def submit(self, owner: str, prompt: str, settings: dict[str, Any], testbench: Testbench | None = None) -> JobRow:
        with self._lock:
            if self._queue.qsize() >= self.max_queue:
                raise QueueFull(self.retry_after())
            job = self.store.create(secrets.token_hex(8), owner, prompt, settings)
            self._queue.put((job.id, testbench))
        return job

    def cancel(self, job_id: str, *, reason: str = "cancelled", state: str = "cancelled") -> JobRow | None:
        """Idempotent: kills the job's tools, then writes its single terminal event (if it has none yet)."""
        with self._lock:
            run = self._running.get(job_id)
            if run is not None:
                run.reason = reason
                run.cancelled.set()
        if run is not None and run.verifier is not None:
            killed = run.verifier.kill()
            if killed:
                log.info("job %s: killed verification processes %s", job_id, killed)
        job = self.store.get(job_id)
        if job is not None and not job.terminal:
            self.store.finish(job_id, state, run.round if run else 0, {"passed": False, "reason": reason})
            self._notify(job_id)
        return self.store.get(job_id)

    def wait_change(self, job_id: str) -> asyncio.Event:
        """An asyncio.Event set (on the caller's loop) when the job gets a new event."""
        ev = asyncio.Event()
        with self._lock:
            self._listeners.setdefault(job_id, set()).add((asyncio.get_running_loop(), ev))
        return ev

    def forget(self, job_id: str, ev: asyncio.Event) -> None:
        with self._lock:
            subs = self._listeners.get(job_id, set())
            for item in [s for s in subs if s[1] is ev]:
                subs.discard(item)
            if not subs:
                self._listeners.pop(job_id, None)

    # ------------------------------------------------------------------ internals

    def _notify(self, job_id: str) -> None:
        with self._lock:
            subs = list(self._listeners.get(job_id, ()))
        for loop, ev in subs:
            try:
                loop.call_soon_threadsafe(ev.set)
            except RuntimeError:  # that loop has closed
                pass

    def _work(self) -> None:
        while True:
            item = self._queue.get()
            if item is None:
                return
            job_id, testbench = item
            if not self.store.mark_running(job_id):
                continue  # cancelled while it waited
            run = _Running()
            with self._lock:
                self._running[job_id] = run
            t0 = time.monotonic()
            try:
                self._run(job_id, run, testbench)
            except Exception:  # noqa: BLE001 - a job must never take its worker thread down
                log.exception("job %s crashed", job_id)
                self.store.finish(job_id, "failed", 0, {"passed": False, "reason": "error"},
                                  error="internal error; see the server log")
            finally:
                with self._lock:
                    self._running.pop(job_id, None)
                self._recent_s = (self._recent_s + [time.monotonic() - t0])[-20:]
                self._notify(job_id)

    def _run(self, job_id: str, run: _Running, testbench: Testbench | None) -> None:
        job = self.store.get(job_id)
        assert job is not None
        run.verifier = ProcessVerifier(run.cancelled)
        budget = min(float(job.settings.get("max_seconds") or self.max_seconds), self.max_seconds)
        timer = threading.Timer(budget + 5.0, lambda: self.cancel(job_id, reason="time", state="failed"))
        timer.daemon = True
        timer.start()
        emit = self._emitter(job_id, run)
        try:
            result = adapter.run_generation(job.prompt, job.settings, model=self.model, on_event=emit,
                                            verifier=run.verifier, testbench=testbench, max_seconds=budget)
        except JobCancelled:
            return  # cancel() already wrote the terminal event
        except CircuitMuseError as exc:
            if not run.cancelled.is_set():
                self.store.finish(job_id, "failed", 0, {"passed": False, "reason": "error", "message": str(exc)},
                                  error=f"{type(exc).__name__}: {exc}")
            return
        finally:
            timer.cancel()
        if run.cancelled.is_set():
            return
        body = adapter.result_dict(result)
        self.store.finish(job_id, "passed" if result.passed else "failed", result.rounds_used,
                          {"passed": result.passed, "reason": result.stop_reason, "level": body["level"]},
                          result=body)

    def _emitter(self, job_id: str, run: _Running) -> Callable[[Event], None]:
        def emit(e: Event) -> None:
            if run.cancelled.is_set():
                raise JobCancelled()
            if e.type == "done":
                return  # the terminal event is written with the job's final state
            run.round = e.round
            data = dict(e.data)
            if e.type == "candidate" and run.verifier is not None:
                reports = run.verifier.last_reports
                idx = data.get("index", 0)
                if 0 <= idx < len(reports):
                    data["report"] = adapter.report_dict(reports[idx])
            if self.store.append(job_id, e.type, e.round, data) is None:
                raise JobCancelled()
            self._notify(job_id)
        return emit
