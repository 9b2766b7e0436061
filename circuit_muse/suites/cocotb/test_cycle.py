"""cocotb suite for cycle-exact families: longer seeded random traffic against the golden model, plus
the family's protocol properties, checked every cycle. Configured by CM_SUITE (JSON)."""
from __future__ import annotations

import os
import sys

import cocotb
from cocotb.triggers import Timer

sys.path.insert(0, os.environ.get("CM_PKG_ROOT", ""))
from circuit_muse.suites.cocotb._common import bits, load_suite, matches, mismatch_line, show  # noqa: E402

MAX_REPORTED = 8


@cocotb.test()
async def golden_model_every_cycle(dut):
    """Drive directed corners and seeded random stimulus; compare every output with the model each cycle."""
    suite, cfg = load_suite()
    spec = suite.spec
    n = suite.full_cycles
    vecs = suite.vectors(int(cfg["seed"]) + 1000003, n)
    widths = {p.name: p.width for p in spec.contract.ports}
    clk = getattr(dut, spec.clock) if spec.clock else None
    if clk is not None:
        clk.value = 0
    handles = {name: getattr(dut, name) for name in widths if name != spec.clock}
    problems: list[str] = []
    failed_cycles = 0
    for cycle, (inp, exp) in enumerate(vecs):
        await Timer(1, unit="ns")
        for name, val in inp.items():
            handles[name].value = val
        await Timer(3, unit="ns")
        bad = False
        seen: dict[str, int] = {}
        for name, want in exp.items():
            got = bits(handles[name].value, widths[name])
            if set(got) <= {"0", "1"}:
                seen[name] = int(got, 2)
            if want is None:
                continue
            if not matches(got, want, widths[name]):
                bad = True
                if len(problems) < MAX_REPORTED:
                    problems.append(mismatch_line(cycle, name, inp, format(want, "x"), show(got)))
        if len(seen) == len(exp):
            for msg in suite.properties(inp, seen):
                bad = True
                if len(problems) < MAX_REPORTED:
                    problems.append(f"CM_MISMATCH cycle={cycle} signal=property in={{"
                                    + ",".join(f"{k}={v:x}" for k, v in inp.items()) + f"}} exp=ok got=violation ({msg})")
        failed_cycles += bad
        if clk is not None:
            await Timer(1, unit="ns")
            clk.value = 1
            await Timer(5, unit="ns")
            clk.value = 0
        else:
            await Timer(6, unit="ns")
    assert not problems, (f"{failed_cycles} of {len(vecs)} cycles mismatched the golden model\n"
                          + "\n".join(problems))
