"""Assertion tasks: the candidate is a checker module holding a concurrent SVA property.

It is proved right by simulation under Verilator (Icarus 11 cannot parse concurrent SVA): one copy of the
checker is bound to compliant traffic and must never fire; one copy is bound to each of several violating
traffics and each must fire. Failures are read from Verilator's own "Assertion failed in <instance>" lines
(run with +verilator+error+limit so every firing is reported); the run must also reach the bench's
nonce-tagged end line. A checker module that also fires on compliant traffic, or misses a violation, fails.
"""
from __future__ import annotations

import os
import random
import re
import secrets
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

from ..contract import Contract
from ..engine.options import VerifyOptions
from ..errors import InputError
from ..report import Category, Diagnostic, Mismatch, Severity, SimulationDetail
from ..testbench.base import SimContext, SimOutcome
from ..testbench.verilog_tb import VERILATOR_BENCH_WARNINGS
from ..tools.invoke import run_tool
from .base import Axis, Spec, Suite, jinja_env, mask, port

_FIRED = re.compile(r"^\[(\d+)\] %Error: [^:\n]+:\d+: Assertion failed in (?:TOP\.)?cm_sva_tb\.(\w+)", re.M)


@dataclass
class Traffic:
    name: str
    cycles: list[dict[str, int]]
    violation_cycle: int | None = None   # None: compliant


PROPERTIES = {
    "valid_hold": {
        "module": "valid_hold_check", "title": "a checker that VALID never deasserts before READY",
        "text": "Once `valid` is 1 it must stay 1 until a cycle where `ready` is 1 (the transfer). In SVA: "
                "whenever `valid && !ready` holds at a rising edge, `valid` must be 1 at the next rising edge.",
        "sva": "valid && !ready |=> valid",
    },
    "data_stable": {
        "module": "data_stable_check", "title": "a checker that the payload stays stable while VALID waits for READY",
        "text": "Whenever `valid && !ready` holds at a rising edge, `data` must have the same value at the next "
                "rising edge ($stable).",
        "sva": "valid && !ready |=> $stable(data)",
    },
    "onehot": {
        "module": "onehot_check", "title": "a checker that a grant vector is one-hot or zero",
        "text": "At every rising edge `gnt` has at most one bit set ($onehot0).",
        "sva": "$onehot0(gnt)",
    },
}


class AssertionSuite(Suite):
    family = "assertion"
    summary = "SVA checker tasks (VALID held until READY, payload stable, one-hot grant), proved by simulation"
    axes = (Axis("property", tuple(PROPERTIES), "which property the assertion must check"),)
    presets: ClassVar[dict[str, str]] = {"axi_valid_hold": "valid_hold", "axi_data_stable": "data_stable",
                                         "grant_onehot": "onehot"}
    default_params = {"WIDTH": 8, "N": 4}
    param_help = {"WIDTH": "payload width (data_stable)", "N": "grant width (onehot)"}
    traffic_cycles = 400

    def check_params(self, params: dict[str, int]) -> None:
        super().check_params(params)
        if not 1 <= params["WIDTH"] <= 64 or not 2 <= params["N"] <= 32:
            raise InputError("assertion: WIDTH must be 1..64 and N 2..32")

    def build_spec(self) -> Spec:
        prop = self.choices["property"]
        info = PROPERTIES[prop]
        ports = [port("clk", "input"), port("rst_n", "input")]
        if prop == "onehot":
            ports.append(port("gnt", "input", self.params["N"]))
        else:
            ports += [port("valid", "input"), port("ready", "input")]
            if prop == "data_stable":
                ports.append(port("data", "input", self.params["WIDTH"]))
        contract = Contract(info["module"], tuple(ports), {})
        beh = (info["text"],
               "Write it as a concurrent SystemVerilog assertion, `assert property (@(posedge clk) disable iff "
               "(!rst_n) ...)`; the module has only inputs and no other logic is needed.",
               "While `rst_n` is 0 (active-low reset) the property is not checked (disable iff).",
               "The assertion must never fail on traffic that obeys the rule, and must fail on every traffic that "
               "breaks it.")
        timing = ("All inputs are sampled at the rising edge of `clk`; the testbench changes them at the falling "
                  "edge.",)
        return Spec(family=self.family, variant=self.variant, params=dict(self.params), contract=contract,
                    title=info["title"], behaviour=beh, timing=timing, clock="clk", reset="rst_n",
                    reset_active_low=True, reset_async=False, language="SystemVerilog", choices=dict(self.choices))

    def reference_rtl(self) -> str:
        prop = self.choices["property"]
        info = PROPERTIES[prop]
        decl = [f"    input logic {'[' + str(p.width - 1) + ':0] ' if p.width > 1 else ''}{p.name}"
                for p in self.contract.ports]
        return (f"// Reference SVA checker ({prop}), generated by circuit_muse.suites.\n"
                f"module {info['module']} (\n" + ",\n".join(decl) + "\n);\n"
                f"    assert property (@(posedge clk) disable iff (!rst_n) {info['sva']});\n"
                "endmodule\n")

    def verify_options(self, options: VerifyOptions | None = None) -> VerifyOptions:
        """Options verify() needs for an assertion task: Verilator lint only, no Yosys (neither Icarus 11 nor
        Yosys 0.23 parse concurrent SVA), and $error allowed in action blocks."""
        from dataclasses import replace

        base = options or VerifyOptions()
        return replace(base, linters=("verilator",), allow_assertions=True,
                       stages=tuple(s for s in base.stages if s != "synth"))

    # ----- traffic -----------------------------------------------------------------------------------
    def fields(self) -> list[tuple[str, int]]:
        return [(p.name, p.width) for p in self.contract.inputs if p.name != "clk"]

    def traffics(self, seed: int) -> list[Traffic]:
        rng = random.Random(f"assertion/{self.variant}/{sorted(self.params.items())}/{seed}")
        prop = self.choices["property"]
        n = self.traffic_cycles
        if prop == "onehot":
            return _onehot_traffics(rng, n, self.params["N"])
        return _handshake_traffics(rng, n, self.params["WIDTH"], prop == "data_stable")

    def run_fast(self, ctx: SimContext) -> SimOutcome:
        return self._run_verilator(ctx)

    def run_full(self, ctx: SimContext) -> SimOutcome:
        return self._run_verilator(ctx)

    def run(self, ctx: SimContext) -> SimOutcome:  # one tier: the Verilator bench
        return self._run_verilator(ctx)

    def _run_verilator(self, ctx: SimContext) -> SimOutcome:
        detail = SimulationDetail(testbench_kind="suite/assertion:verilator", simulator="verilator")
        trs = self.traffics(self._seed(ctx))
        fields = self.fields()
        width = sum(w for _, w in fields)
        length = max(len(t.cycles) for t in trs)
        layout, hi = [], width - 1
        for name, w in fields:
            layout.append({"name": name, "hi": hi, "lo": hi - w + 1})
            hi -= w
        for k, t in enumerate(trs):
            cycles = t.cycles + [t.cycles[-1]] * (length - len(t.cycles))
            lines = []
            for c in cycles:
                word = 0
                for name, w in fields:
                    word = (word << w) | (c[name] & mask(w))
                lines.append(f"{word:x}")
            (ctx.workdir / f"cm_sva_{k}.hex").write_text("\n".join(lines) + "\n")
        # A firing is read from Verilator's "Assertion failed in cm_sva_tb.<instance>" line, and the checker's
        # own messages print next to those lines. Each copy gets an unguessable instance name, so a checker
        # printing a forged line can name only itself (what firing does anyway), never another traffic's copy.
        names = [f"t{k}_{secrets.token_hex(8)}" for k in range(len(trs))]
        bench = jinja_env().get_template("sva_tb.sv.j2").render(
            traffics=trs, width=width, length=length, top=ctx.top, params=self.contract.params, fields=layout,
            names=names)
        (ctx.workdir / "cm_sva_tb.sv").write_text(bench.replace("@@NONCE@@", ctx.nonce))
        limits = ctx.options.sim_limits.scaled(wall_s=max(ctx.options.sim_limits.wall_s, 240), cpu_s=400,
                                               address_space=8 << 30, file_size=512 << 20)
        env = {"PATH": f"{Path(sys.executable).parent}:{os.environ.get('PATH', '/usr/bin:/bin')}"}
        if shutil.which("ccache"):
            env["OBJCACHE"] = "ccache"
        args = ["--binary", "--assert", "--timing", *VERILATOR_BENCH_WARNINGS, "-Wno-lint", "-Wno-style",
                "-CFLAGS", "-std=c++20", "-LDFLAGS", "-pthread", "--top-module", "cm_sva_tb", "-Mdir", "obj", "-o", "simv",
                ctx.design_file, "cm_sva_tb.sv"]
        build = run_tool("verilator", args, cwd=ctx.workdir, limits=limits, extra_env=env)
        if build.returncode != 0 or build.killed_by_limit or not (ctx.workdir / "obj" / "simv").exists():
            from ..engine.diagnostics import parse_verilator

            diags = [d for d in parse_verilator(build.output) if d.severity is Severity.ERROR]
            in_design = [d for d in diags if d.file and d.file.endswith(ctx.design_file)]
            detail.log_tail = build.output[-2000:]
            if build.killed_by_limit:
                return SimOutcome(False, Category.TIMEOUT, detail, [Diagnostic(
                    severity=Severity.ERROR, tool="verilator", category=Category.TIMEOUT,
                    message=f"the Verilator build was stopped by the {build.killed_by_limit}")])
            if not in_design:
                diags.insert(0, Diagnostic(severity=Severity.ERROR, tool="verilator", category=Category.INTERFACE,
                                           message="the assertion bench did not build with this checker: check the "
                                                   "module name and ports"))
            return SimOutcome(False, Category.SYNTAX if in_design else Category.INTERFACE, detail, diags)
        from ..testbench.verilog_tb import run_compiled

        # Sealed and run in a fresh directory with the work directory hidden: the binary and the bench
        # source embed the nonce, so the checker under test must not be able to read either.
        res = run_compiled(ctx, ctx.workdir / "obj" / "simv",
                           ["+verilator+error+limit+1000000", f"+verilator+seed+{self._seed(ctx) or 1}"],
                           ctx.options.sim_limits)
        out = res.stdout + "\n" + res.stderr
        detail.log_tail = out[-2000:]
        if res.killed_by_limit:
            return SimOutcome(False, Category.TIMEOUT, detail, [Diagnostic(
                severity=Severity.ERROR, tool="verilator", category=Category.TIMEOUT,
                message=f"the assertion simulation was stopped by the {res.killed_by_limit}")])
        if not re.search(rf"^{re.escape(ctx.nonce)} CM_DONE\b", out, re.M):
            return SimOutcome(False, Category.CRASH, detail, [Diagnostic(
                severity=Severity.ERROR, tool="verilator", category=Category.CRASH,
                message=f"the assertion simulation ended before the bench finished (rc={res.returncode})")])
        fired: dict[int, list[int]] = {}
        index = {name: k for k, name in enumerate(names)}
        for m in _FIRED.finditer(out):
            if m.group(2) in index:
                fired.setdefault(index[m.group(2)], []).append(int(m.group(1)) // 1000)
        detail.tests = detail.samples = len(trs)
        for k, t in enumerate(trs):
            times = fired.get(k, [])
            bad = bool(times) if t.violation_cycle is None else not times
            if not bad:
                continue
            detail.failures += 1
            detail.mismatched_samples += 1
            if len(detail.mismatches) >= ctx.options.max_mismatches:
                continue
            if t.violation_cycle is None:
                cyc = max(0, (times[0] - 5) // 10)
                c = t.cycles[min(cyc, len(t.cycles) - 1)]
                detail.mismatches.append(Mismatch(
                    test=t.name, cycle=cyc, time=f"{times[0]}ns", signal="assertion", inputs={k2: f"{v:x}" for k2, v
                                                                                              in c.items()},
                    expected="no failure", got="failed",
                    message=f"the assertion fired at {times[0]} ns on compliant traffic ({t.name})"))
            else:
                c = t.cycles[t.violation_cycle]
                detail.mismatches.append(Mismatch(
                    test=t.name, cycle=t.violation_cycle, signal="assertion",
                    inputs={k2: f"{v:x}" for k2, v in c.items()}, expected="failure", got="no failure",
                    message=f"the assertion never fired on violating traffic '{t.name}' (violation at cycle "
                            f"{t.violation_cycle})"))
        if detail.failures:
            return SimOutcome(False, Category.MISMATCH, detail, [Diagnostic(
                severity=Severity.ERROR, tool="simulation", category=Category.MISMATCH,
                message=f"{detail.failures} of {len(trs)} traffics gave the wrong verdict"
                        + (f": {detail.mismatches[0].message}" if detail.mismatches else ""))])
        return SimOutcome(True, Category.PASS, detail, [])


def _handshake_traffics(rng: random.Random, n: int, width: int, payload: bool) -> list[Traffic]:
    """Compliant VALID/READY traffic (random stalls, back-to-back, reset mid-transfer) and single violations."""

    def compliant(length: int) -> list[dict[str, int]]:
        out: list[dict[str, int]] = []
        valid, data = 0, rng.getrandbits(width)
        for i in range(length):
            rst_n = 0 if i < 3 or rng.random() < 0.01 else 1
            if not rst_n:
                valid = 0 if rng.random() < 0.8 else rng.getrandbits(1)  # anything goes in reset
                data = rng.getrandbits(width)
                out.append({"rst_n": 0, "valid": valid, "ready": rng.getrandbits(1), "data": data})
                continue
            prev = out[-1] if out else None
            if prev and prev["rst_n"] and prev["valid"] and not prev["ready"]:
                valid = 1          # must hold, data must hold
            else:
                valid = int(rng.random() < 0.6)
                data = rng.getrandbits(width)
            ready = int(rng.random() < rng.choice((0.2, 0.5, 0.9)))
            out.append({"rst_n": 1, "valid": valid, "ready": ready, "data": data})
        return out

    comp = compliant(n - 12)
    d = rng.getrandbits(width)
    last = comp[-1]
    if last["rst_n"] and last["valid"] and not last["ready"]:  # finish a pending transfer first
        comp.append({"rst_n": 1, "valid": 1, "ready": 1, "data": last["data"]})
    # directed: a stalled transfer cut by reset (legal: the property is disabled while rst_n is 0)
    comp += [{"rst_n": 1, "valid": 0, "ready": 0, "data": d}] + \
        [{"rst_n": 1, "valid": 1, "ready": 0, "data": d} for _ in range(3)] + \
        [{"rst_n": 0, "valid": 0, "ready": 0, "data": d ^ mask(width)} for _ in range(2)] + \
        [{"rst_n": 1, "valid": 0, "ready": 0, "data": d} for _ in range(2)] + \
        [{"rst_n": 1, "valid": 1, "ready": 0, "data": d}, {"rst_n": 1, "valid": 1, "ready": 1, "data": d},
         {"rst_n": 1, "valid": 0, "ready": 0, "data": d ^ 1}, {"rst_n": 1, "valid": 0, "ready": 0, "data": d}]
    trs = [Traffic("compliant", comp)]

    def stall_then(kind: str, stall: int, **after: int) -> Traffic:
        cyc = compliant(40)
        for c in cyc[-4:]:
            c.update(rst_n=1, valid=0, ready=0)
        d = rng.getrandbits(width)
        cyc += [{"rst_n": 1, "valid": 1, "ready": 0, "data": d} for _ in range(stall)]
        viol = len(cyc)
        cyc.append({"rst_n": 1, "valid": after.get("valid", 1), "ready": after.get("ready", 0),
                    "data": after.get("data", d)})
        cyc += [{"rst_n": 1, "valid": 1, "ready": 1, "data": d}, {"rst_n": 1, "valid": 0, "ready": 0, "data": d}]
        return Traffic(kind, cyc, viol)

    if not payload:
        trs += [stall_then("valid drops after one stall cycle", 1, valid=0),
                stall_then("valid drops after a long stall", 6, valid=0),
                stall_then("valid drops while ready rises", 2, valid=0, ready=1)]
    else:
        d0 = 0
        trs += [stall_then("data changes after one stall cycle", 1, data=d0 ^ 1) ,
                stall_then("data changes after a long stall", 5, data=d0 ^ mask(width)),
                stall_then("data changes in its top bit", 3, data=d0 ^ (1 << (width - 1)))]
        for t in trs[1:]:  # make the stalled data differ from the changed value for sure
            v = t.violation_cycle or 0
            held = t.cycles[v - 1]["data"]
            t.cycles[v]["data"] = held ^ (t.cycles[v]["data"] ^ held or 1)
    return trs


def _onehot_traffics(rng: random.Random, n: int, width: int) -> list[Traffic]:
    def legal() -> int:
        return 0 if rng.random() < 0.3 else 1 << rng.randrange(width)

    comp = [{"rst_n": 0 if i < 3 or rng.random() < 0.01 else 1, "gnt": legal()} for i in range(n)]
    for c in comp:
        if not c["rst_n"] and rng.random() < 0.5:
            c["gnt"] = rng.getrandbits(width)  # ignored during reset
    trs = [Traffic("compliant", comp)]
    for name, bad in (("two adjacent grants", 0b11), ("all grants", mask(width)),
                      ("lowest and highest grant", 1 | (1 << (width - 1)))):
        cyc = [{"rst_n": 0 if i < 3 else 1, "gnt": legal()} for i in range(30)]
        cyc.append({"rst_n": 1, "gnt": bad})
        cyc += [{"rst_n": 1, "gnt": 0}, {"rst_n": 1, "gnt": 1}]
        trs.append(Traffic(name, cyc, 30))
    return trs
