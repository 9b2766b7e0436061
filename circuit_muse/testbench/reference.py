"""Compare a design against a trusted reference design under seeded random stimulus.

The bench is rendered from the reference's ports (pyslang), so it works for any single-clock or
combinational module. X bits in the reference's outputs are don't-cares, as in VerilogEval.
"""
from __future__ import annotations

import re
from functools import lru_cache

import jinja2

from ..engine.elaborate import ModuleInfo, elaborate
from ..errors import TestbenchError
from ..identifiers import is_plain_identifier, require_plain_identifier
from ..report import SimulationDetail
from .base import IcarusBench, SimContext, SimOutcome, Testbench, refuse_unplain_names
from .verilog_tb import run_bench

_CLOCK_NAMES = re.compile(r"^(clk|clock|i_clk|clk_i|aclk|ap_clk)$", re.I)
_RESET_NAMES = re.compile(r"^(a?s?rst|a?s?reset|areset|arst|rst_n|rstn|reset_n|resetn|arst_n|aresetn|rst_ni|rst_i|nreset|n_rst)$", re.I)


@lru_cache(maxsize=1)
def _template() -> jinja2.Template:
    env = jinja2.Environment(loader=jinja2.PackageLoader("circuit_muse.testbench", "templates"),
                             undefined=jinja2.StrictUndefined, keep_trailing_newline=True)
    return env.get_template("reference_tb.sv.j2")


def _active_low(name: str) -> bool:
    n = name.lower()
    return n.endswith(("n", "_b", "_ni")) or n.startswith("n")


def _random_expr(width: int) -> str:
    chunks = (width + 31) // 32
    calls = ", ".join(["$random(seed)"] * chunks)
    return f"{{{calls}}}" if chunks > 1 else "$random(seed)"


class ReferenceTestbench(Testbench):
    """Run design and reference side by side on the same random inputs; every cycle is a sample."""

    kind = "reference"

    def __init__(self, reference_source: str, *, top: str | None = None, cycles: int | None = None,
                 reset_cycles: int = 3) -> None:
        elab = elaborate(reference_source, top=top)
        errs = [d for d in elab.diagnostics if d.severity.value == "error"]
        if errs or not elab.top:
            raise TestbenchError(f"the reference design does not parse: {errs[0].message if errs else 'no module'}")
        self.reference = reference_source
        self.ref_module: ModuleInfo = elab.modules[elab.top]
        for name in (self.ref_module.name, *(p.name for p in self.ref_module.ports)):
            if not is_plain_identifier(name):
                raise TestbenchError(f"the reference names {name!r}, which is not a plain identifier; rename it "
                                     "(escaped identifiers cannot be pasted into the rendered bench)")
        self.cycles = cycles
        self.reset_cycles = reset_cycles
        clocks = [p.name for p in self.ref_module.ports if p.direction == "input" and _CLOCK_NAMES.match(p.name)]
        if len(clocks) > 1:
            raise TestbenchError(f"reference comparison drives one clock; {self.ref_module.name} has {clocks}. "
                                 "Use a cocotb testbench for multi-clock designs.")
        self.clock = clocks[0] if clocks else None
        resets = [p.name for p in self.ref_module.ports if p.direction == "input" and _RESET_NAMES.match(p.name)]
        self.reset = resets[0] if resets else None

    def fingerprint(self) -> str:
        return self._hash(self.kind, self.reference, str(self.cycles), str(self.reset_cycles))

    def describe(self) -> str:
        return f"comparison against reference {self.ref_module.name} under seeded random stimulus"

    def _renamed_reference(self) -> tuple[str, str]:
        names = re.findall(r"^\s*module\s+(\w+)", self.reference, re.M)
        text = self.reference
        for n in sorted(set(names), key=len, reverse=True):
            text = re.sub(rf"\b{re.escape(n)}\b", f"cmref_{n}", text)
        return text, f"cmref_{self.ref_module.name}"

    def render(self, ctx: SimContext) -> str:
        require_plain_identifier(ctx.top, "top module")  # never paste an escaped identifier into the bench
        ports = []
        for p in self.ref_module.ports:
            if p.direction not in ("input", "output"):
                raise TestbenchError(f"reference comparison supports input/output ports only; {p.name} is {p.direction}")
            ports.append({"name": p.name, "direction": p.direction, "ref_name": f"ref_{p.name}",
                          "range": f"[{p.width - 1}:0]" if p.width > 1 else "", "random": _random_expr(p.width)})
        inputs = [p for p in ports if p["direction"] == "input"]
        shown_inputs = [p for p in inputs if p["name"] != self.clock]
        in_fmt = "{" + ",".join(f"{p['name']}=%h" for p in shown_inputs) + "}"
        in_args = "".join(f", {p['name']}" for p in shown_inputs)
        low = bool(self.reset and _active_low(self.reset))
        return _template().render(
            inputs=inputs, outputs=[p for p in ports if p["direction"] == "output"], ports=ports,
            top=ctx.top, ref_top=self._renamed_reference()[1], clock=self.clock, reset=self.reset,
            reset_active="1'b0" if low else "1'b1", reset_inactive="1'b1" if low else "1'b0",
            reset_cycles=self.reset_cycles if self.reset else 0,
            cycles=self.cycles or ctx.options.random_cycles, seed=ctx.options.seed, nonce=ctx.nonce,
            max_mismatches=ctx.options.max_mismatches, in_fmt=in_fmt, in_args=in_args)

    def _refused(self, ctx: SimContext) -> SimOutcome | None:
        return refuse_unplain_names({"top module": ctx.top},
                                    SimulationDetail(testbench_kind=self.kind, simulator=ctx.options.simulator))

    def prepare_icarus(self, ctx: SimContext) -> IcarusBench | None:
        if self._refused(ctx) is not None:  # run() reports it; the design's name never reaches the bench
            return None
        (ctx.workdir / "cm_ref_tb.sv").write_text(self.render(ctx))
        (ctx.workdir / "cm_reference.sv").write_text(self._renamed_reference()[0])
        return IcarusBench([ctx.design_file, "cm_reference.sv", "cm_ref_tb.sv"], "cm_ref_tb")

    def run(self, ctx: SimContext) -> SimOutcome:
        bench = self.prepare_icarus(ctx)
        if bench is None:
            return self._refused(ctx)  # type: ignore[return-value]
        return run_bench(ctx, bench.files, bench.top, kind=self.kind)
