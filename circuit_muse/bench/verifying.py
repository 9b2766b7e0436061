"""The one place a scoring run hands candidates to the engine: verify_many, a testbench per candidate."""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from ..engine.many import verify_many
from ..engine.options import VerifyOptions
from ..report import VerificationReport
from ..testbench.base import Testbench

Item = tuple[str, Testbench]


def scoring_options(base: VerifyOptions | None = None, *, checks: str = "full") -> VerifyOptions:
    """Every stage runs (continue_on_fail) so findings are reported; `checks="functional"` skips Verilator
    lint and Yosys synth, the stages a score does not depend on (Icarus still compiles with -Wall)."""
    opts = base or VerifyOptions()
    # VerilogEval's own flow gives a simulation 30 s; we give 30 CPU seconds, and wall time to spare on a
    # loaded machine, so a slow bench (Prob144_conwaylife: 7 CPU s) is not a timeout because of load.
    sim = opts.sim_limits.scaled(cpu_s=max(opts.sim_limits.cpu_s, 30), wall_s=max(opts.sim_limits.wall_s, 120))
    opts = replace(opts, continue_on_fail=True, keep_vcd_dir=None, sim_limits=sim)
    if checks == "functional":
        opts = replace(opts, linters=("iverilog",), stages=tuple(s for s in opts.stages if s != "synth"))
    return opts


def _verify_batch(items: Sequence[Item], *, top: str | None, options: VerifyOptions, workers: int,
                  use_cache: bool = True) -> list[VerificationReport]:
    """Verify each (design, testbench) pair in the engine's sandboxed worker processes; input order."""
    return verify_many(list(items), top=top, options=options, workers=workers, use_cache=use_cache)
