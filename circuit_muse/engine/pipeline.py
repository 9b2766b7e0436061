"""verify(): run the stages cheapest first and assemble one VerificationReport."""
from __future__ import annotations

import os
import secrets
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..contract import Contract
from ..errors import InputError
from ..report import STAGE_WEIGHTS, Category, Diagnostic, Level, Severity, StageResult, VerificationReport
from ..testbench.base import IcarusBench, SimContext, Testbench, load_testbench
from ..tools import sandbox
from ..tools.invoke import run_tool, run_tools
from ..tools.sandbox import ProcessResult
from .cache import default_cache, verification_key
from .diagnostics import attach_source, classify
from .elaborate import DESIGN_FILE, Elaboration, elaborate
from .extract import extract_verilog
from .interface import check_contract
from .lint import LINTERS, iverilog_diagnostics, iverilog_lint_args, verilator_diagnostics, verilator_lint_args
from .options import VerifyOptions
from .preprocess import macros_left_defined, precheck
from .screen import name_problems, screen
from .synth import synth_diagnostics, yosys_args

SourceLike = str | os.PathLike[str] | Sequence[os.PathLike[str]]
StageCallback = Callable[[StageResult], None]


def _read_source(source: SourceLike) -> str:
    if isinstance(source, str):
        return source
    paths = [Path(source)] if isinstance(source, os.PathLike) else [Path(p) for p in source]
    texts = []
    for p in paths:
        if not p.is_file():
            raise InputError(f"design file {str(p)!r} does not exist")
        texts.append(p.read_text(errors="replace"))
    return "\n".join(texts)


def _coerce(contract: Contract | dict[str, Any] | None, testbench: Testbench | str | os.PathLike[str] | None,
            options: VerifyOptions | dict[str, Any] | None) -> tuple[Contract | None, Testbench | None, VerifyOptions]:
    if isinstance(contract, dict):
        contract = Contract.from_dict(contract)
    if isinstance(testbench, (str, os.PathLike)):
        testbench = load_testbench(testbench)
    if not isinstance(options, VerifyOptions):
        options = VerifyOptions.from_mapping(options)
    return contract, testbench, options


# When one stage reports several kinds of error, the report names the most fundamental one.
_PRIORITY = [Category.NO_CODE, Category.UNSAFE, Category.SYNTAX, Category.UNDECLARED, Category.INTERFACE,
             Category.MULTIDRIVER, Category.COMB_LOOP, Category.LATCH, Category.WIDTH, Category.UNDRIVEN,
             Category.LINT, Category.SYNTH, Category.TESTBENCH, Category.TIMEOUT, Category.RESOURCE,
             Category.CRASH, Category.MISMATCH, Category.PASS]


@dataclass
class _Run:
    """Mutable state of one verify() call while its stages run."""

    options: VerifyOptions
    on_stage: StageCallback | None
    stages: list[StageResult] = field(default_factory=list)
    stopped: bool = False

    def record(self, stage: StageResult) -> StageResult:
        if stage.category is None and not stage.passed:
            cats = [d.category or classify(d) for d in stage.errors]
            stage.category = min(cats, key=_PRIORITY.index) if cats else Category.LINT
        self.stages.append(stage)
        if self.on_stage:
            self.on_stage(stage)
        if not stage.passed and not stage.skipped and not self.options.continue_on_fail:
            self.stopped = True
        return stage


def run_pipeline(raw: str, *, top: str | None = None, contract: Contract | None = None,
                 testbench: Testbench | None = None, options: VerifyOptions | None = None,
                 on_stage: StageCallback | None = None) -> VerificationReport:
    """Run the stages on one candidate in THIS process, uncached.

    Only the verify worker (engine.worker) calls this: it parses untrusted text with native code, so
    it must run where a crash or a blow-up cannot take the caller down. Use verify() instead.
    """
    tb, opts = testbench, options or VerifyOptions()
    t0 = time.monotonic()
    run = _Run(opts, on_stage)

    # 1. extract
    ext = extract_verilog(raw)
    src = ext.source
    run.record(StageResult(
        name="extract", passed=bool(src), duration_s=time.monotonic() - t0,
        category=None if src else Category.NO_CODE, info={"modules": ext.modules, "notes": ext.notes},
        diagnostics=[] if src else [Diagnostic(severity=Severity.ERROR, tool="extract", category=Category.NO_CODE,
                                               message="no Verilog module found in the text")]))
    top = top or (contract.module if contract else None)
    key = verification_key(src, top, contract, tb, opts) if src else None
    if src:
        _static_and_dynamic(run, src, top, contract, tb, opts)
    return _assemble(run, raw, src, top, tb, time.monotonic() - t0, key, ext.notes)


def verify(source: SourceLike, *, top: str | None = None, contract: Contract | dict[str, Any] | None = None,
           testbench: Testbench | str | os.PathLike[str] | None = None,
           options: VerifyOptions | dict[str, Any] | None = None, on_stage: StageCallback | None = None,
           use_cache: bool = True, timeout_s: float | None = None) -> VerificationReport:
    """Check one candidate design: extract, screen, parse, lint, synth, simulate (cheapest first).

    Args:
        source: raw model output or Verilog text (a `str`), or a path / a list of paths to design files.
        top: the top module; default: the contract's module, else the module nobody instantiates.
        contract: an interface (`Contract` or its dict form) the top must match: ports, widths, params.
        testbench: what runs in the simulate stage: a `Testbench` (VerilogTestbench, ReferenceTestbench,
            CocotbTestbench, a family suite) or a path to a bench file. None: static checks only.
        options: `VerifyOptions` or a dict of its fields (stages, linters, simulator, limits, ...);
            unknown names raise InputError.
        on_stage: called with each StageResult as soon as that stage finishes (live progress).
        use_cache: answer from the result cache when this exact check ran before, and store the result.
        timeout_s: wall-clock limit for the whole check; default from the options' limits.

    Returns:
        A VerificationReport: `passed`, `category` (pass, syntax, unsafe, mismatch, ...), `score`,
        per-stage results with diagnostics, and `functional_tested` (whether a bench actually ran).

    Everything past the cache lookup runs in a separate worker process under rlimits and the wall-clock
    limit, so a design that crashes or exhausts the parser comes back as a `crash`, `resource` or
    `timeout` report instead of taking the caller down.

    Example:
        >>> import circuit_muse as cm
        >>> rep = cm.verify("module inv(input a, output y); assign y = ~a; endmodule")
        >>> rep.passed, rep.level.value      # clean, but nothing checked its behaviour: not a pass
        (False, 'static')
    """
    from .many import verify_many

    raw = _read_source(source)
    stage_cb = (lambda _i, st: on_stage(st)) if on_stage else None
    return verify_many([(raw, testbench)], top=top, contract=contract, options=options, use_cache=use_cache,
                       workers=1, timeout_s=timeout_s, on_stage=stage_cb)[0]


def lookup(source: SourceLike, *, top: str | None = None, contract: Contract | dict[str, Any] | None = None,
           testbench: Testbench | str | os.PathLike[str] | None = None,
           options: VerifyOptions | dict[str, Any] | None = None) -> VerificationReport | None:
    """The cached report for this candidate, or None; costs an extraction and a hash."""
    contract, tb, opts = _coerce(contract, testbench, options)
    raw = _read_source(source)
    if oversized(raw, opts):
        return None
    src = extract_verilog(raw).source
    if not src:
        return None
    hit = default_cache().get(verification_key(src, top or (contract.module if contract else None), contract, tb, opts))
    if hit is not None:
        hit.raw_text, hit.cache_hit = raw, True
    return hit


def oversized(raw: str, opts: VerifyOptions) -> bool:
    """True when the text is over the input-size cap: it is then rejected before anything parses it."""
    return len(raw.encode("utf-8", "surrogatepass")) > opts.screen_limits.max_source_bytes


def _static_and_dynamic(run: _Run, src: str, top: str | None, contract: Contract | None,
                        tb: Testbench | None, opts: VerifyOptions) -> None:
    # 2. screen: bounded pre-checks on the raw text, then parse (includes disabled) and check the tree.
    # Unsafe designs never reach a tool; neither do names that could be pasted into trusted text.
    t = time.monotonic()
    pre = precheck(src, opts.screen_limits)
    if pre:
        run.record(StageResult(name="screen", passed=False, duration_s=time.monotonic() - t, diagnostics=pre,
                               category=min((d.category or Category.UNSAFE for d in pre), key=_PRIORITY.index)))
        run.stopped = True
        return
    elab = elaborate(src, top=top, params=contract.params if contract else opts.params or None)
    problems = screen(elab, limits=opts.screen_limits, allow_assertions=opts.allow_assertions)
    problems += name_problems(elab)
    category = min((d.category or Category.UNSAFE for d in problems), key=_PRIORITY.index) if problems else None
    st = run.record(StageResult(name="screen", passed=not problems, duration_s=time.monotonic() - t,
                                diagnostics=problems, category=category, info={"top": elab.top}))
    if not st.passed:
        run.stopped = True  # unsafe code never goes further, whatever continue_on_fail says
        return
    # 3. parse (always, when pyslang could not read the whole text: that is a syntax failure)
    if "parse" in opts.stages or elab.syntax_errors:
        t = time.monotonic()
        _parse_stage(run, elab, contract)
        run.stages[-1].duration_s = time.monotonic() - t
    if elab.syntax_errors:
        # Text pyslang could not read was skipped, unseen by the screen (a tool may read it as code), so no
        # tool gets it, whatever continue_on_fail says.
        run.stopped = True
    top = elab.top
    if run.stopped or not top:
        return
    with sandbox.workdir(prefix="cm-verify-", remove_in_background=True) as work:
        # The design's macros and net-type default end with the design: a bench compiled after it in the same
        # call sees none of them.
        trailer = "".join(f"\n`undef {name}" for name in macros_left_defined(elab.tree, elab.source_manager))
        if "`default_nettype" in src:
            trailer += "\n`default_nettype wire"
        (work / DESIGN_FILE).write_text(src + (trailer + "\n" if trailer else ""))
        ctx = SimContext(workdir=work, design_file=DESIGN_FILE, top=top, module=elab.module(top),
                         options=opts, nonce="CMV" + secrets.token_hex(12))
        # 4. lint and 5. synth: their tools run in one sandbox call (see _static_tools), read stage by stage
        static = _static_tools(ctx, tb, opts)
        if "lint" in opts.stages:
            t = time.monotonic()
            diags: list[Diagnostic] = []
            for name in opts.linters:
                if name == "iverilog":
                    diags += _lint_iverilog_with_bench(ctx, opts, static)
                else:
                    diags += _static_result(static, name, verilator_diagnostics)
            attach_source(diags, src, DESIGN_FILE)
            errors = [d for d in diags if d.severity is Severity.ERROR]
            run.record(StageResult(name="lint", passed=not errors, duration_s=static.lint_s + time.monotonic() - t,
                                   diagnostics=diags, info={"linters": list(opts.linters)}))
            if run.stopped:
                return
        if "synth" in opts.stages:
            t = time.monotonic()
            diags, info = _static_result(static, "yosys", lambda res: synth_diagnostics(res, work, _line_finder(elab)))
            attach_source(diags, src, DESIGN_FILE)
            run.record(StageResult(name="synth", passed=not any(d.severity is Severity.ERROR for d in diags),
                                   duration_s=static.synth_s + time.monotonic() - t, diagnostics=diags, info=info))
            if run.stopped:
                return
        # 6. simulate: design code runs only if the design stood alone in pyslang (continue_on_fail or not): a
        # name pyslang could not resolve is one a simulator may resolve upward, into the bench
        parse = next((s for s in run.stages if s.name == "parse"), None)
        if parse is not None and not parse.passed:
            return
        if "simulate" in opts.stages and tb is not None:
            t = time.monotonic()
            outcome = tb.run(ctx)
            attach_source(outcome.diagnostics, src, DESIGN_FILE)
            run.record(StageResult(name="simulate", passed=outcome.passed, duration_s=time.monotonic() - t,
                                   diagnostics=outcome.diagnostics, simulation=outcome.detail,
                                   category=None if outcome.passed else outcome.category,
                                   info={"testbench": tb.describe(), "isolation": str(sandbox.isolation())}))


# Whether the static tools of one run (iverilog, verilator --lint-only, yosys) run at once inside their one
# sandbox call, or one after another.
STATIC_CONCURRENT = True


@dataclass
class _Static:
    """The static tools of one run, run together in one sandbox call: results by tool name, stage times."""

    results: dict[str, ProcessResult | None] = field(default_factory=dict)
    args: dict[str, list[str]] = field(default_factory=dict)
    lint_s: float = 0.0
    synth_s: float = 0.0


def _static_tools(ctx: SimContext, tb: Testbench | None, opts: VerifyOptions) -> _Static:
    """Run every static tool the lint and synth stages need in ONE sandbox call (one launch, not one per tool).

    Their command lines hold only file names this code chose and the top module's name, which the screen
    checked is a plain identifier. Each tool's output, exit status and limits stay its own, and the stages
    read them in order as before: a lint failure still stops the run before synth counts (Yosys's result is
    then thrown away). A single tool runs on its own.
    """
    calls: list[tuple[str, list[str]]] = []
    if "lint" in opts.stages:
        for name in opts.linters:
            if name == "iverilog":
                bench = _icarus_bench(ctx, tb, opts)
                calls.append((name, iverilog_lint_args(bench.files, bench.top, _PREBUILT) if bench
                              else iverilog_lint_args([ctx.design_file], ctx.top)))
            else:
                calls.append((name, verilator_lint_args([ctx.design_file], ctx.top)))
    if "synth" in opts.stages:
        calls.append(("yosys", yosys_args(ctx.workdir, [ctx.design_file], ctx.top)))
    static = _Static(args={name: args for name, args in calls})
    if not calls:
        return static
    t = time.monotonic()
    if len(calls) == 1:
        results: list[ProcessResult | None] = [run_tool(calls[0][0], calls[0][1], cwd=ctx.workdir,
                                                        limits=opts.tool_limits)]
    else:
        results = run_tools(calls, cwd=ctx.workdir, limits=opts.tool_limits.scaled(
            wall_s=opts.tool_limits.wall_s * len(calls)), concurrent=STATIC_CONCURRENT)
    static.results = {name: res for (name, _), res in zip(calls, results, strict=True)}
    took = time.monotonic() - t
    yosys = static.results.get("yosys")
    if yosys is not None and (len(calls) == 1 or not STATIC_CONCURRENT):
        static.synth_s = min(took, yosys.duration_s)
    static.lint_s = took - static.synth_s
    return static


def _static_result(static: _Static, name: str, read: Callable[[ProcessResult], Any]) -> Any:
    """Read one tool's result from the shared call; a tool the call never started ran out of time."""
    res = static.results[name]
    if res is None:
        res = ProcessResult(argv=[name, *static.args[name]], returncode=None, stdout="",
                            stderr=f"{name} did not start: the static checks ran out of time", duration_s=0.0,
                            timed_out=True)
    return read(res)


_PREBUILT = "cm_prebuilt.vvp"


def _icarus_bench(ctx: SimContext, tb: Testbench | None, opts: VerifyOptions) -> IcarusBench | None:
    """The Icarus bench the simulate stage will run, written out now so the lint compile also builds its image."""
    if tb is not None and "simulate" in opts.stages and opts.simulator == "icarus":
        return tb.prepare_icarus(ctx)
    return None


def _lint_iverilog_with_bench(ctx: SimContext, opts: VerifyOptions, static: _Static) -> list[Diagnostic]:
    """Icarus lint; when an Icarus bench will run later, one compile of design + bench serves both.

    Only diagnostics in the design count for lint. If the joint compile fails outside the design (the
    bench does not fit), the design is linted alone and the simulate stage reports the bench problem.
    """
    diags = _static_result(static, "iverilog", iverilog_diagnostics)
    if _PREBUILT not in static.args["iverilog"]:
        return diags
    mine = [d for d in diags if d.file and d.file.endswith(ctx.design_file)]
    if (ctx.workdir / _PREBUILT).exists():
        ctx.prebuilt = _PREBUILT
        return mine
    if any(d.severity is Severity.ERROR for d in mine):
        return mine
    return LINTERS["iverilog"](ctx.workdir, [ctx.design_file], ctx.top, opts.tool_limits)


def _parse_stage(run: _Run, elab: Elaboration, contract: Contract | None) -> None:
    diags = list(elab.diagnostics)
    attach_source(diags, elab.source, DESIGN_FILE)
    errors = [d for d in diags if d.severity is Severity.ERROR]
    info: dict[str, Any] = {"top": elab.top, "modules": {n: m.to_dict() for n, m in elab.modules.items()}}
    if not elab.top:
        errors.append(Diagnostic(severity=Severity.ERROR, tool="slang", category=Category.SYNTAX,
                                 message="no module declaration found"))
        diags += errors[-1:]
    elif elab.top not in elab.modules and not errors:
        msg = f"top module {elab.top!r} is not defined; defined: {sorted(elab.modules)}"
        diags.append(Diagnostic(severity=Severity.ERROR, tool="slang", category=Category.INTERFACE, message=msg))
        errors.append(diags[-1])
    if contract and not errors:
        iface = check_contract(elab, contract)
        diags += iface
        errors += iface
    run.record(StageResult(name="parse", passed=not errors, duration_s=0.0, diagnostics=diags, info=info))


def _line_finder(elab: Elaboration) -> Callable[[str], int | None]:
    """Map a signal name to the line where the design declares it (for Yosys messages without one)."""
    import re

    lines = elab.source.splitlines()

    def find(name: str) -> int | None:
        pat = re.compile(rf"\b(?:reg|wire|logic|output|input|inout|integer)\b[^;]*\b{re.escape(name)}\b")
        assign = re.compile(rf"\b{re.escape(name)}\b\s*(?:\[[^\]]*\]\s*)?(?:<=|=)(?!=)")
        first_assign = next((i + 1 for i, ln in enumerate(lines) if assign.search(ln)), None)
        decl = next((i + 1 for i, ln in enumerate(lines) if pat.search(ln)), None)
        return first_assign or decl

    return find


def _assemble(run: _Run, raw: str, src: str, top: str | None, tb: Testbench | None, duration: float,
              key: str | None, notes: list[str]) -> VerificationReport:
    failed = next((s for s in run.stages if not s.passed and not s.skipped), None)
    planned = [n for n in ("extract", "screen", "parse", "lint", "synth") if n in run.options.stages or
               n in ("extract", "screen")]
    if tb is not None and "simulate" in run.options.stages:
        planned.append("simulate")
    total = sum(STAGE_WEIGHTS[n] for n in planned)
    got = 0.0
    for s in run.stages:
        if s.name == "simulate":
            frac = 1.0 if s.passed else (s.simulation.pass_fraction if s.simulation else 0.0)
            got += STAGE_WEIGHTS["simulate"] * frac
        elif s.passed and not s.skipped:
            got += STAGE_WEIGHTS[s.name]
    # Warnings cost a little, so among passing candidates the cleaner one ranks first.
    warnings = sum(1 for s in run.stages for d in s.diagnostics if d.severity is Severity.WARNING)
    score = max(0.0, got / total - min(0.02, 0.002 * warnings)) if total else 0.0
    sim = next((s for s in run.stages if s.name == "simulate"), None)
    functional = sim is not None and not sim.skipped
    clean = failed is None and all(n in {s.name for s in run.stages} for n in planned)
    level = Level.FAILED if not clean else (Level.FUNCTIONAL if functional else Level.STATIC)
    passed = level is Level.FUNCTIONAL  # PASS means behaviour was checked, never lint+synth alone
    report_notes = list(notes)
    if level is Level.STATIC:
        report_notes.append("CLEAN, NOT FUNCTIONALLY VERIFIED: no functional test ran, only lint and synthesis; "
                            "no testbench, suite or reference checked what the design does")
    isolation = sandbox.isolation()
    if isolation.degraded and any(s.name in ("lint", "synth", "simulate") for s in run.stages):
        report_notes.append(f"tools ran without an OS sandbox ({isolation}): untrusted RTL was not isolated")
    parse = next((s for s in run.stages if s.name in ("parse", "screen") and s.info.get("top")), None)
    category = Category.PASS if passed else Category.UNVERIFIED if level is Level.STATIC else (
        failed.category if failed and failed.category else Category.LINT)
    return VerificationReport(
        passed=passed, category=category, level=level,
        score=1.0 if passed else min(score, 0.999), stages=run.stages, raw_text=raw, source=src,
        top=(parse.info.get("top") if parse else None) or top, functional_tested=functional,
        duration_s=duration, key=key, notes=report_notes)
