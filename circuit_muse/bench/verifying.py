"""The one place a scoring run hands candidates to the engine."""
from __future__ import annotations

import inspect
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
    opts = replace(opts, continue_on_fail=True, keep_vcd_dir=None)
    if checks == "functional":
        opts = replace(opts, linters=("iverilog",), stages=tuple(s for s in opts.stages if s != "synth"))
    return opts


def _verify_batch(items: Sequence[Item], *, top: str | None, options: VerifyOptions, workers: int,
                  use_cache: bool = True) -> list[VerificationReport]:
    """Verify each (design, testbench) pair; reports in input order."""
    if "on_stage" not in inspect.signature(verify_many).parameters:  # TEMP until main has per-candidate benches
        return _legacy(items, top=top, options=options, workers=workers, use_cache=use_cache)
    return verify_many(list(items), top=top, options=options, workers=workers, use_cache=use_cache)


def _legacy(items: Sequence[Item], *, top: str | None, options: VerifyOptions, workers: int,
            use_cache: bool) -> list[VerificationReport]:
    import json

    from ..engine import many

    pool = many._pool(workers)
    futs = [pool.submit(many._worker, src, {"top": top, "testbench": tb, "options": options, "use_cache": False})
            for src, tb in items]
    return [VerificationReport.from_dict(json.loads(f.result(timeout=300))) for f in futs]
