"""verify_many(): check many candidates, each alone in a worker process with a hard kill.

Workers are `python -m circuit_muse.engine.worker` processes (see engine.pool), so this works from a
plain script without an `if __name__ == "__main__":` guard: nothing re-imports the caller's module.
"""
from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from typing import Any, Union

from ..contract import Contract
from ..errors import InputError
from ..report import Category, Diagnostic, Severity, StageResult, VerificationReport
from ..testbench.base import Testbench
from .cache import default_cache, verification_key
from .extract import extract_verilog
from .options import VerifyOptions
from .pipeline import _coerce, oversized
from .pool import Job, default_pool

TestbenchLike = Union[Testbench, str, "os.PathLike[str]", None]  # noqa: UP007 - runtime alias
#: One candidate: design text, or a (design text, testbench) pair whose testbench overrides the call's.
CandidateLike = Union[str, tuple[str, TestbenchLike]]  # noqa: UP007 - runtime alias
ManyStageCallback = Callable[[int, StageResult], None]


def shutdown_pool() -> None:
    """Stop the idle worker processes (they are reused between calls otherwise)."""
    default_pool().shutdown()


def default_timeout(opts: VerifyOptions) -> float:
    """Wall-clock budget of one candidate: every tool at its own limit, plus start-up slack."""
    tools = (len(opts.linters) + 2) * opts.tool_limits.wall_s
    return float(30 + tools + 2 * opts.sim_limits.wall_s)


def _resource_report(raw: str, opts: VerifyOptions) -> VerificationReport:
    cap = opts.screen_limits.max_source_bytes
    msg = (f"the design text is {len(raw.encode('utf-8', 'surrogatepass'))} bytes; the limit is {cap} bytes "
           "(raise ScreenLimits.max_source_bytes if this is a real design)")
    stage = StageResult(name="extract", passed=False, duration_s=0.0, category=Category.RESOURCE,
                        diagnostics=[Diagnostic(severity=Severity.ERROR, tool="screen", category=Category.RESOURCE,
                                                code="source-size", message=msg)])
    return VerificationReport(passed=False, category=Category.RESOURCE, score=0.0, stages=[stage], raw_text=raw,
                              source="")


def verify_many(candidates: Sequence[CandidateLike], *, testbench: TestbenchLike = None,
                top: str | None = None, contract: Contract | dict[str, Any] | None = None,
                options: VerifyOptions | dict[str, Any] | None = None, workers: int | None = None,
                timeout_s: float | None = None, use_cache: bool = True,
                on_stage: ManyStageCallback | None = None) -> list[VerificationReport]:
    """verify() every candidate in parallel worker processes; reports come back in input order.

    Args:
        candidates: each item is design text (`str`, raw model output is fine) or a tuple
            `(design_text, testbench)`; a tuple's testbench (a Testbench, a bench path, or None for
            static checks only) replaces `testbench` for that candidate alone.
        testbench: the bench for items given as plain strings.
        top, contract, options: as for verify(), shared by every candidate.
        workers: worker processes to use (default: one per core, at most one per candidate).
        timeout_s: wall-clock limit per candidate; past it the worker is killed and the candidate
            reported as `timeout`. Default: from the options' tool and simulation limits.
        use_cache: answer repeated checks from the result cache (in this process) and store new ones.
        on_stage: `on_stage(index, stage)` is called in this process, live, as each candidate's stage
            finishes; `index` is the candidate's position in `candidates`.

    Returns:
        One VerificationReport per candidate, in input order. Identical (design, testbench) pairs are
        checked once and share the report. A candidate that crashes or exhausts its worker gets a
        `crash`, `resource` or `timeout` report; the others in the batch are unaffected.

    Example:
        >>> import circuit_muse as cm
        >>> from circuit_muse.testbench import ReferenceTestbench
        >>> ref = "module inv(input a, output y); assign y = ~a; endmodule"
        >>> bad = "module inv(input a, output y); assign y = a; endmodule"
        >>> [r.level.value for r in cm.verify_many([ref, (bad, ReferenceTestbench(ref))])]
        ['static', 'failed']
    """
    contract_c, default_tb, opts = _coerce(contract, testbench, options)
    n = len(candidates)
    reports: list[VerificationReport | None] = [None] * n
    groups: dict[tuple[str, str], list[int]] = {}
    jobs: list[Job] = []
    job_of_group: dict[tuple[str, str], int] = {}
    benches: dict[tuple[str, str], Testbench | None] = {}
    for i, item in enumerate(candidates):
        if isinstance(item, tuple):
            if len(item) != 2:
                raise InputError(f"candidate {i} is a tuple of {len(item)}; give (design_text, testbench)")
            raw, tb_like = item
            _, tb, _ = _coerce(None, tb_like, opts)
        else:
            raw, tb = item, default_tb
        if not isinstance(raw, str):
            raise InputError(f"candidate {i} is a {type(raw).__name__}; give design text as a str")
        gkey = (raw, tb.fingerprint() if tb is not None else "")
        groups.setdefault(gkey, []).append(i)
        benches[gkey] = tb
    eff_top = top or (contract_c.module if contract_c else None)
    for gkey, idxs in groups.items():
        raw, tb = gkey[0], benches[gkey]
        if oversized(raw, opts):
            rep = _resource_report(raw, opts)
            for i in idxs:
                reports[i] = rep
            continue
        src = extract_verilog(raw).source  # plain regexes over size-capped text: safe in this process
        if use_cache and src:
            hit = default_cache().get(verification_key(src, eff_top, contract_c, tb, opts))
            if hit is not None:
                hit.raw_text, hit.cache_hit = raw, True
                for i in idxs:
                    reports[i] = hit
                continue
        job_of_group[gkey] = len(jobs)
        jobs.append(Job(raw=raw, source=src, kwargs={"top": top, "contract": contract_c, "testbench": tb,
                                                     "options": opts}))
    if jobs:
        group_of_job = {j: g for g, j in job_of_group.items()}
        stage_cb = None
        if on_stage is not None:
            def stage_cb(job: int, stage: StageResult) -> None:
                for i in groups[group_of_job[job]]:
                    on_stage(i, stage)
        done = default_pool().run(jobs, workers=workers or min(len(jobs), os.cpu_count() or 1),
                                  timeout_s=timeout_s or default_timeout(opts), on_stage=stage_cb)
        for gkey, j in job_of_group.items():
            rep = done[j]
            if use_cache and rep.key and rep.category not in (Category.TIMEOUT, Category.RESOURCE, Category.CRASH):
                default_cache().put(rep.key, rep)
            for i in groups[gkey]:
                reports[i] = rep
    return [r for r in reports if r is not None]
