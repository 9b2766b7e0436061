"""cocotb test modules, run in a sandboxed child process; the verdict is cocotb's results.xml only."""
from __future__ import annotations

import ast
import json
import os
import re
import secrets
import shutil
import tempfile
import xml.etree.ElementTree as ET
from pathlib import Path

from ..engine.diagnostics import parse_iverilog, parse_verilator
from ..errors import TestbenchError
from ..report import Category, Diagnostic, Mismatch, Severity, SimulationDetail
from ..tools.invoke import run_tool
from ..tools.registry import require
from ..tools.sandbox import ProcessResult
from .base import SimContext, SimOutcome, Testbench, keep_waveform, parse_mismatch, refuse_unplain_names
from .verilog_tb import VERILATOR_BENCH_WARNINGS

_SIMULATORS = {"icarus": "iverilog", "verilator": "verilator"}
# Mismatch lines a suite may put in an assertion message: CM_MISMATCH cycle=3 signal=q in={d=1} exp=2 got=3
_CM_MISMATCH = re.compile(r"CM_MISMATCH\s+(.*)")


class CocotbTestbench(Testbench):
    """A cocotb test module (a .py file with @cocotb.test functions), plus optional trusted HDL sources."""

    kind = "cocotb"

    def __init__(self, module_path: str | Path, *, toplevel: str | None = None,
                 support_files: list[str | Path] | None = None, parameters: dict[str, int] | None = None,
                 extra_env: dict[str, str] | None = None, testcase: str | None = None) -> None:
        self.path = Path(module_path)
        if not self.path.is_file():
            raise TestbenchError(f"cocotb test module {self.path} does not exist")
        self.toplevel = toplevel
        self.support = [Path(p) for p in (support_files or [])]
        self.parameters = dict(parameters or {})
        self.extra_env = dict(extra_env or {})
        self.testcase = testcase

    def fingerprint(self) -> str:
        parts = [self.kind, self.path.read_text(), self.toplevel or "", json.dumps(self.parameters, sort_keys=True),
                 json.dumps(self.extra_env, sort_keys=True), self.testcase or ""]
        parts += [p.read_text() for p in self.support]
        return self._hash(*parts)

    def describe(self) -> str:
        return f"cocotb test module {self.path.name}"

    def defined_tests(self) -> set[str]:
        """Names of the @cocotb.test functions the module defines (what results.xml must report)."""
        try:
            tree = ast.parse(self.path.read_text())
        except SyntaxError:
            return set()
        names = set()
        for node in ast.walk(tree):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                for dec in node.decorator_list:
                    target = dec.func if isinstance(dec, ast.Call) else dec
                    if ast.unparse(target) in ("cocotb.test", "test"):
                        names.add(node.name)
        return names

    def run(self, ctx: SimContext) -> SimOutcome:
        opts = ctx.options
        simulator = opts.simulator
        detail = SimulationDetail(testbench_kind=self.kind, simulator=simulator)
        toplevel = self.toplevel or ctx.top
        names: dict[str, object] = {"cocotb toplevel": toplevel}
        names.update({f"parameter of {toplevel}": k for k in self.parameters})
        refused = refuse_unplain_names(names, detail)
        if refused is not None:
            return refused
        require(_SIMULATORS[simulator])
        module_name = "cm_test_" + re.sub(r"\W", "_", self.path.stem)
        shutil.copyfile(self.path, ctx.workdir / f"{module_name}.py")
        sources = [ctx.design_file]
        for p in self.support:
            shutil.copyfile(p, ctx.workdir / p.name)
            sources.append(p.name)
        cfg = {
            "workdir": str(ctx.workdir), "simulator": simulator, "sources": sources,
            "toplevel": toplevel, "test_module": module_name,
            "parameters": {k: int(v) for k, v in self.parameters.items()},
            "build_args": ["--assert", *VERILATOR_BENCH_WARNINGS] if simulator == "verilator" else [],
            "seed": opts.seed, "waves": True, "extra_env": self.extra_env, "testcase": self.testcase,
        }
        (ctx.workdir / "cm_cocotb.json").write_text(json.dumps(cfg))
        python = require("python")
        limits = opts.sim_limits
        if simulator == "verilator":  # a C++ build: give it room
            limits = limits.scaled(wall_s=max(limits.wall_s, 180), cpu_s=max(limits.cpu_s, 300),
                                   address_space=max(limits.address_space, 8 << 30))
        extra = {"PATH": f"{Path(python.path).parent}:{_verilator_bin_dir()}:" + os.environ.get("PATH", "/usr/bin:/bin")}
        if simulator == "verilator":
            extra.update({k: v for k, v in require("verilator").env.items() if k == "MAKEFLAGS"})
        child = str(Path(__file__).with_name("cocotb_child.py"))
        # Phase 1, build: Verilator's C++ compile may use the shared compile cache; no design code runs.
        res = run_tool("python", [child, "build", "cm_cocotb.json"], cwd=ctx.workdir, limits=limits,
                       extra_env=extra, compile_cache=simulator == "verilator")
        verdict_dir = Path(tempfile.mkdtemp(prefix="cm-verdict-"))
        try:
            results = verdict_dir / f"{secrets.token_hex(16)}.xml"
            if res.ok and not (ctx.workdir / "build_failed").exists():
                # Phase 2, test: the design runs; the cache is not bound, and the verdict goes to a random
                # path outside the work directory that only the child's argument names.
                res = run_tool("python", [child, "test", "cm_cocotb.json", str(results)], cwd=ctx.workdir,
                               limits=limits, extra_env=extra, compile_cache=False, writable=[verdict_dir])
            return self._outcome(ctx, detail, res, results, simulator, module_name)
        finally:
            shutil.rmtree(verdict_dir, ignore_errors=True)

    def _outcome(self, ctx: SimContext, detail: SimulationDetail, res: ProcessResult, results: Path,
                 simulator: str, module_name: str) -> SimOutcome:
        opts = ctx.options
        detail.log_tail = _tail(ctx.workdir / "test.log") or res.output[-2000:]
        waves = sorted((ctx.workdir / "sim_build").glob("*.fst")) + sorted((ctx.workdir / "sim_build").glob("*.vcd"))
        if (ctx.workdir / "build_failed").exists():
            log = (ctx.workdir / "build.log").read_text(errors="replace") if (ctx.workdir / "build.log").exists() else ""
            diags = parse_iverilog(log) if simulator == "icarus" else parse_verilator(log)
            in_design = [d for d in diags if d.file and d.file.endswith(ctx.design_file)]
            detail.log_tail = log[-2000:]
            if not in_design:
                diags.insert(0, Diagnostic(severity=Severity.ERROR, tool=simulator, category=Category.INTERFACE,
                                           message="the cocotb build failed outside the design: check the module "
                                                   "and port names the test expects"))
            return SimOutcome(False, Category.INTERFACE if not in_design else Category.SYNTAX, detail, diags)
        if res.killed_by_limit:
            category = Category.TIMEOUT if res.timed_out or res.killed_by_limit == "CPU-time limit" else Category.RESOURCE
            detail.vcd_path = keep_waveform(ctx, waves)
            return SimOutcome(False, category, detail, [Diagnostic(
                severity=Severity.ERROR, tool="cocotb", category=category,
                message=f"simulation stopped by the {res.killed_by_limit} after {res.duration_s:.1f}s")])
        if not results.is_file() or results.is_symlink():
            detail.vcd_path = keep_waveform(ctx, waves)
            return SimOutcome(False, Category.CRASH, detail, [Diagnostic(
                severity=Severity.ERROR, tool="cocotb", category=Category.CRASH,
                message=f"the simulation ended without a results file (rc={res.returncode}); "
                        "no verdict, counted as a failure")])
        self._read_results(results, detail, opts.max_mismatches)
        forged = self._check_results(results, module_name)
        if forged:
            return SimOutcome(False, Category.CRASH, detail, [Diagnostic(
                severity=Severity.ERROR, tool="cocotb", category=Category.CRASH,
                message=f"the results file does not match the tests the module defines ({forged}); "
                        "no verdict, counted as a failure")])
        if detail.tests == 0:
            return SimOutcome(False, Category.CRASH, detail, [Diagnostic(
                severity=Severity.ERROR, tool="cocotb", category=Category.CRASH,
                message="cocotb ran no tests: check that the module defines @cocotb.test() functions")])
        if detail.failures:
            detail.vcd_path = keep_waveform(ctx, waves)
            first = detail.mismatches[0].message if detail.mismatches else ""
            return SimOutcome(False, Category.MISMATCH, detail, [Diagnostic(
                severity=Severity.ERROR, tool="cocotb", category=Category.MISMATCH,
                message=f"{detail.failures} of {detail.tests} cocotb tests failed" + (f": {first}" if first else ""))])
        return SimOutcome(True, Category.PASS, detail, [])

    def _check_results(self, path: Path, module_name: str) -> str | None:
        """Why the results file cannot be cocotb's report of this module's tests, or None if it can."""
        expected = self.defined_tests()
        if self.testcase in expected:
            expected = {self.testcase}
        try:
            cases = list(ET.parse(path).getroot().iter("testcase"))
        except ET.ParseError:
            return "unreadable XML"
        seen = [re.split(r"[/\[]", c.get("name") or "", maxsplit=1)[0] for c in cases]
        stray = sorted({n for n in seen if n not in expected})
        if stray:
            return f"unknown tests {stray[:3]}"
        wrong_module = sorted({c.get("classname") for c in cases if c.get("classname") != module_name}, key=str)
        if wrong_module:
            return f"tests from another module {wrong_module[:3]}"
        missing = sorted(expected - set(seen))
        if missing:
            return f"no result for {missing[:3]}"
        return None

    @staticmethod
    def _read_results(path: Path, detail: SimulationDetail, max_mismatches: int) -> None:
        try:
            root = ET.parse(path).getroot()
        except ET.ParseError:
            detail.tests, detail.failures = 1, 1
            detail.mismatches.append(Mismatch(message="results.xml is unreadable"))
            return
        for case in root.iter("testcase"):
            detail.tests += 1
            bad = [el for el in case if el.tag in ("failure", "error")]
            if not bad:
                continue
            detail.failures += 1
            el = bad[0]
            text = el.get("message") or ""
            if not _CM_MISMATCH.search(text):
                text = el.text or ""
            found = False
            for m in list(_CM_MISMATCH.finditer(text))[:1 if text is el.text else None]:
                if len(detail.mismatches) >= max_mismatches:
                    break
                detail.mismatches.append(parse_mismatch(m.group(1), test=case.get("name")))
                found = True
            if not found and len(detail.mismatches) < max_mismatches:
                msg = (el.get("message") or el.text or el.tag).strip()
                detail.mismatches.append(Mismatch(test=case.get("name"), time=case.get("sim_time_ns"),
                                                  message=msg[:500]))


def _tail(path: Path, n: int = 2000) -> str:
    return path.read_text(errors="replace")[-n:] if path.exists() else ""


def _verilator_bin_dir() -> str:
    try:
        root = require("verilator").env.get("VERILATOR_ROOT")
    except Exception:  # noqa: BLE001 - only needed for verilator runs
        return ""
    return f"{root}/bin" if root else ""
