"""verify_many(): check many candidates across a process pool, one worker per core, with a hard kill."""
from __future__ import annotations

import concurrent.futures as cf
import json
import multiprocessing as mp
import os
import time
from collections.abc import Sequence
from concurrent.futures.process import BrokenProcessPool
from typing import Any

from ..report import Category, Diagnostic, Severity, StageResult, VerificationReport
from .cache import default_cache
from .pipeline import lookup, verify

_POOL: cf.ProcessPoolExecutor | None = None
_POOL_WORKERS = 0


def _pool(workers: int) -> cf.ProcessPoolExecutor:
    global _POOL, _POOL_WORKERS
    if _POOL is None or _POOL_WORKERS != workers:
        shutdown_pool()
        ctx = mp.get_context("forkserver")
        ctx.set_forkserver_preload(["circuit_muse.engine.pipeline"])
        _POOL, _POOL_WORKERS = cf.ProcessPoolExecutor(max_workers=workers, mp_context=ctx), workers
    return _POOL


def shutdown_pool() -> None:
    """Stop the worker processes (they are reused between calls otherwise)."""
    global _POOL
    if _POOL is not None:
        for proc in list(getattr(_POOL, "_processes", {}).values()):
            proc.kill()
        _POOL.shutdown(wait=False, cancel_futures=True)
        _POOL = None


def _worker(source: str, kwargs: dict[str, Any]) -> str:
    return verify(source, **kwargs).to_json()


def _timeout_report(source: str, seconds: float) -> VerificationReport:
    stage = StageResult(name="simulate", passed=False, duration_s=seconds, category=Category.TIMEOUT,
                        diagnostics=[Diagnostic(severity=Severity.ERROR, tool="verify_many", category=Category.TIMEOUT,
                                                message=f"verification did not finish in {seconds:.0f}s; "
                                                        "its worker was killed")])
    return VerificationReport(passed=False, category=Category.TIMEOUT, score=0.0, stages=[stage],
                              raw_text=source, source=source, duration_s=seconds)


def verify_many(sources: Sequence[str], *, workers: int | None = None, timeout_s: float = 120.0,
                use_cache: bool = True, **kwargs: Any) -> list[VerificationReport]:
    """verify() each source, in parallel; identical sources are checked once, cache hits cost a lookup.

    kwargs are verify()'s (top, contract, testbench, options). Results come back in input order.
    """
    workers = workers or os.cpu_count() or 1
    reports: list[VerificationReport | None] = [None] * len(sources)
    pending: dict[str, list[int]] = {}
    for i, src in enumerate(sources):
        pending.setdefault(src, []).append(i)
    # Cache hits are answered here; only misses go to the pool.
    todo: list[str] = []
    for src, idxs in pending.items():
        hit = lookup(src, **kwargs) if use_cache else None
        if hit is None:
            todo.append(src)
        for i in idxs if hit is not None else ():
            reports[i] = hit
    if workers == 1 or len(todo) == 1:
        for src in todo:
            rep = verify(src, use_cache=use_cache, **kwargs)
            for i in pending[src]:
                reports[i] = rep
        return [r for r in reports if r is not None]
    pool = _pool(workers)
    futures = {pool.submit(_worker, src, {**kwargs, "use_cache": use_cache}): src for src in todo}
    deadline = time.monotonic() + timeout_s
    try:
        for fut in cf.as_completed(futures, timeout=max(1.0, deadline - time.monotonic())):
            src = futures[fut]
            rep = VerificationReport.from_dict(json.loads(fut.result()))
            if use_cache and rep.key and rep.category not in (Category.TIMEOUT, Category.RESOURCE):
                default_cache().put(rep.key, rep)
            for i in pending[src]:
                reports[i] = rep
    except (cf.TimeoutError, BrokenProcessPool):
        shutdown_pool()  # hard kill: a stuck worker must not hold the pool
    for src, idxs in pending.items():
        for i in idxs:
            if reports[i] is None:
                reports[i] = _timeout_report(src, timeout_s)
    return [r for r in reports if r is not None]
