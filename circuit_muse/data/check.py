"""Re-verify training records: every check is rebuilt from the record itself plus the package's sources.

    generate  the output passes the engine: lint, synth, and simulation against its family suite, or the
              design's own reference/bench (family "other:<name>"); a design that could only be linted and
              synthesized is NOT accepted (static checks are not verification)
    debug     the same for the output, and the input (the buggy code) must FAIL the same checks
    explain   every ```verilog block in the output compiles (lint + synth); an input design passes its checks
    assertion the checker passes the assertion suite (fires on every violating traffic, never on compliant
              traffic); an input (a broken checker to fix) must fail it

Each CheckResult has a `level`: "functional" when a simulation checked a design of the record, "static"
when its code was only linted and synthesized (code snippets in explanations), "prose" when there is no
code. summarize() counts only functional records as `verified`.
"""
from __future__ import annotations

import concurrent.futures as cf
import json
import multiprocessing as mp
import re
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from ..engine.options import VerifyOptions
from ..report import Level, VerificationReport
from ..train.records import Record, parse_record
from .families import FAMILIES, config_from_params, module_name

SUITE_FAMILIES = set(FAMILIES)
_FENCE = re.compile(r"```[ \t]*(verilog|systemverilog|sv|v)?[^\n]*\n(.*?)```", re.S)

TIERS = ("fast", "full", "both")


@dataclass
class Plan:
    """How one design is checked: the testbench (or None), contract, top module and options."""

    testbench: Any = None
    contract: Any = None
    top: str | None = None
    options: VerifyOptions | None = None
    label: str = "lint+synth"          # "suite:<family>/<variant>", "sim:reference", "sim:bench", ...
    pending: str = ""                  # a family whose suite could not be loaded


@dataclass
class CheckResult:
    id: str
    task: str
    stage: int
    family: str
    passed: bool
    checks: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    duration_s: float = 0.0
    level: str = "prose"   # "functional", "static" or "prose": what the record's checks rest on

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def family_key(family: str) -> str:
    """'other:uart_tx' -> 'other', 'counter' -> 'counter' (the grouping used in reports)."""
    return "other" if family.startswith("other:") else (family or "none")


def code_blocks(text: str) -> list[str]:
    return [m.group(2) for m in _FENCE.finditer(text) if re.search(r"^\s*module\b", m.group(2), re.M)]


def lint_options(code: str) -> VerifyOptions:
    if re.search(r"\b(assert|assume|cover)\s+property\b|\bproperty\b", code):
        return VerifyOptions(linters=("verilator",), allow_assertions=True,
                             stages=("extract", "screen", "parse", "lint"))
    return VerifyOptions(stages=("extract", "screen", "parse", "lint", "synth"))


def design_plan(family: str, params: dict[str, Any], *, tier: str = "both") -> Plan:
    """The check for a design of this family and parameter set."""
    if family in SUITE_FAMILIES:
        cfg = config_from_params(family, params)
        try:
            from ..suites import get_suite

            suite = get_suite(family, None if cfg.variant == "default" else cfg.variant, cfg.pdict, tier=tier,
                              parameterized=cfg.parameterized)
        except ImportError as exc:  # a family whose suite is not there yet: lint+synth, marked pending
            return Plan(top=module_name(cfg), pending=f"{family} ({exc})")
        return Plan(testbench=suite, contract=suite.contract, top=suite.contract.module,
                    label=f"suite:{family}/{suite.variant}")
    if family.startswith("other:"):
        from .sources import get_design

        d = get_design(family.split(":", 1)[1])
        p = {k: int(v) for k, v in params.items() if k in d.params}
        return Plan(testbench=d.testbench(p), top=d.top, label=f"sim:{d.check}")
    return Plan()


def explain_plan(rec: Record, *, tier: str = "both") -> Plan:
    """An explained design is simulated when its family or source design is known, else linted."""
    from .sources import all_designs

    known = (rec.family in SUITE_FAMILIES and bool(rec.params)) or (
        rec.family.startswith("other:") and rec.family.split(":", 1)[1] in all_designs())
    plan = design_plan(rec.family, rec.params, tier=tier) if known else Plan()
    if plan.testbench is None and plan.options is None:
        plan.options = lint_options(rec.input)
    return plan


def _verify(source: str, plan: Plan, use_cache: bool) -> VerificationReport:
    from ..engine.pipeline import verify

    return verify(source, top=plan.top, contract=plan.contract, testbench=plan.testbench, options=plan.options,
                  use_cache=use_cache)


def _why(rep: VerificationReport) -> str:
    for st in rep.stages:
        if not st.passed and not st.skipped:
            errs = [d.message for d in st.diagnostics if d.severity.value == "error"]
            msg = errs[0] if errs else ""
            if st.simulation and st.simulation.mismatches and not msg:
                msg = st.simulation.mismatches[0].message or ""
            return f"{st.name}: {rep.category.value}" + (f" ({msg[:160]})" if msg else "")
    return rep.category.value


def _passed_checks(rep: VerificationReport, plan: Plan) -> list[str]:
    out = [s.name for s in rep.stages if s.name in ("lint", "synth") and s.passed and not s.skipped]
    if rep.level is Level.STATIC:
        out.append("static-only")  # recorded, so nobody mistakes these checks for verification
    if any(s.name == "simulate" and s.passed and not s.skipped for s in rep.stages):
        out.append(plan.label)
    if plan.pending:
        out.append(f"suite-pending:{plan.pending.split(' ', 1)[0]}")
    return out


def _rank(level: str) -> int:
    return ["prose", "static", "functional"].index(level)


def check_record(rec: Record | dict[str, Any], *, tier: str = "both", use_cache: bool = False) -> CheckResult:
    """Run every check the record needs; never raises for a failing check (it is reported)."""
    if isinstance(rec, dict):
        rec = parse_record(rec, "<record>")
    t0 = time.monotonic()
    res = CheckResult(rec.id, rec.task, rec.stage, rec.family, passed=True)

    def fail(msg: str) -> None:
        res.passed = False
        res.problems.append(msg)

    def reached(rep: VerificationReport) -> None:
        if rep.level is not Level.FAILED and _rank(rep.level.value) > _rank(res.level):
            res.level = rep.level.value

    try:
        if rec.task in ("generate", "debug"):
            plan = design_plan(rec.family, rec.params, tier=tier)
            rep = _verify(rec.output, plan, use_cache)
            reached(rep)
            if rep.passed:
                res.checks += _passed_checks(rep, plan)
            elif rep.level is Level.STATIC:
                fail("output was only linted and synthesized: no suite, reference or bench checks this family, "
                     "so it is not verified")
            else:
                fail(f"output does not pass: {_why(rep)}")
            if rec.task == "debug":
                bad = _verify(rec.input, plan, use_cache)
                if bad.level is not Level.FAILED:
                    fail("debug input passes the checks: the bug is not real")
                else:
                    res.checks.append(f"input-fails:{bad.category.value}")
        elif rec.task == "explain":
            blocks = code_blocks(rec.output)
            for i, code in enumerate(blocks):
                rep = _verify(code, Plan(options=lint_options(code)), use_cache)
                reached(rep)
                if rep.level is not Level.FAILED:  # a snippet in prose: it must compile (static)
                    res.checks.append(f"answer-code-{i}:lint")
                else:
                    fail(f"code block {i} in the answer does not compile: {_why(rep)}")
            if re.search(r"^\s*module\b", rec.input, re.M):
                plan = explain_plan(rec, tier=tier)
                rep = _verify(rec.input, plan, use_cache)
                reached(rep)
                if rep.level is not Level.FAILED:
                    res.checks += ["input:" + c for c in _passed_checks(rep, plan)]
                else:
                    fail(f"the design being explained does not pass: {_why(rep)}")
            if not blocks and not re.search(r"^\s*module\b", rec.input, re.M):
                res.checks.append("prose-only")
        elif rec.task == "assertion":
            from .sva import assertion_suite

            prop = str(rec.params.get("property", ""))
            suite = assertion_suite(prop, {k: int(v) for k, v in rec.params.items() if k != "property"})
            plan = Plan(testbench=suite, contract=suite.contract, top=suite.contract.module,
                        options=suite.verify_options(), label=f"assertion:{prop}")
            rep = _verify(rec.output, plan, use_cache)
            reached(rep)
            if rep.passed:
                res.checks += [c for c in _passed_checks(rep, plan)]
            else:
                fail(f"assertion checker does not pass: {_why(rep)}")
            if rec.input.strip():
                bad = _verify(rec.input, plan, use_cache)
                if bad.level is not Level.FAILED:
                    fail("the checker to fix already passes")
                else:
                    res.checks.append(f"input-fails:{bad.category.value}")
    except Exception as exc:  # noqa: BLE001 - a broken record must not stop a whole check
        fail(f"{type(exc).__name__}: {exc}")
    res.duration_s = round(time.monotonic() - t0, 3)
    return res


def _job(payload: str) -> str:
    d = json.loads(payload)
    return json.dumps(check_record(d["record"], tier=d["tier"], use_cache=d["use_cache"]).to_dict())


def check_records(records: Sequence[Record], *, workers: int = 2, tier: str = "both", use_cache: bool = False,
                  on_result: Callable[[CheckResult], None] | None = None, timeout_s: float = 600.0
                  ) -> list[CheckResult]:
    """Check many records on a process pool; results come back in input order."""
    out: list[CheckResult | None] = [None] * len(records)
    if workers <= 1 or len(records) <= 1:
        for i, r in enumerate(records):
            out[i] = check_record(r, tier=tier, use_cache=use_cache)
            if on_result:
                on_result(out[i])  # type: ignore[arg-type]
        return [r for r in out if r is not None]
    ctx = mp.get_context("forkserver")
    ctx.set_forkserver_preload(["circuit_muse.data.check"])
    with cf.ProcessPoolExecutor(max_workers=workers, mp_context=ctx) as pool:
        futs = {pool.submit(_job, json.dumps({"record": r.to_json(), "tier": tier, "use_cache": use_cache})): i
                for i, r in enumerate(records)}
        for fut in cf.as_completed(futs):
            i = futs[fut]
            try:
                d = json.loads(fut.result(timeout=timeout_s))
                res = CheckResult(**d)
            except Exception as exc:  # noqa: BLE001 - a crashed worker fails its record, not the run
                r = records[i]
                res = CheckResult(r.id, r.task, r.stage, r.family, False, problems=[f"worker failed: {exc}"])
            out[i] = res
            if on_result:
                on_result(res)
    return [r for r in out if r is not None]


def summarize(results: Iterable[CheckResult]) -> dict[str, Any]:
    """Pass counts per task, per family group and per stage; `verified` counts functionally checked passes."""
    summary: dict[str, Any] = {"total": 0, "passed": 0, "verified": 0, "static_only": 0, "by_task": {},
                               "by_family": {}, "by_stage": {}}
    for r in results:
        summary["total"] += 1
        summary["passed"] += int(r.passed)
        summary["verified"] += int(r.passed and r.level == "functional")
        summary["static_only"] += int(r.passed and r.level == "static")
        for key, val in (("by_task", r.task), ("by_family", family_key(r.family)), ("by_stage", str(r.stage))):
            slot = summary[key].setdefault(val, {"passed": 0, "total": 0})
            slot["total"] += 1
            slot["passed"] += int(r.passed)
    return summary
