"""Asynchronous (dual-clock) FIFO family: Gray-coded pointers, two-flop synchronizers.

No cycle-exact model exists for a CDC design (flag latency depends on synchronizer phase), so the check is a
scoreboard: under several unrelated clock-frequency/phase segments, every accepted word must come out once, in
order; no write may be accepted while the FIFO truly holds DEPTH words, no read while it holds none; and the
pessimistic flags must clear within K edges of their own clock once the other side has moved.

On top of that, the fast tier finds the registers that cross between `wclk` and `rclk` in Yosys's netlist and
watches them in a waveform of the run: a crossing value that changes more than one bit at once (a binary
pointer through the synchronizers) fails, since silicon could capture it half-updated (see cdc.py). The full
tier runs the fast bench for this check too when it is used on its own.
"""
from __future__ import annotations

import random
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, ClassVar

from ..contract import Contract
from ..errors import InputError
from ..report import Mismatch
from ..testbench.base import SimContext, SimOutcome
from ..testbench.verilog_tb import run_bench
from . import cdc
from .base import Spec, Suite, jinja_env, mask, port, render_rtl

STUCK_EDGES = 8  # a flag may lag the other domain by this many of its own clock edges


@dataclass(frozen=True)
class Segment:
    tw: float           # write clock period, ns (half period a multiple of 10 ps)
    tr: float           # read clock period, ns (half period an odd multiple of 5 ps: edges never coincide)
    p_wr: tuple[float, ...]
    p_rd: tuple[float, ...]
    run_ns: float


def _segments(rng: random.Random, depth: int, n: int) -> list[Segment]:
    def wper(lo: float, hi: float) -> float:
        return 2 * 10 * rng.randint(int(lo * 50), int(hi * 50)) / 1000

    def rper(lo: float, hi: float) -> float:
        return 2 * 5 * (2 * rng.randint(int(lo * 50), int(hi * 50)) + 1) / 1000

    kinds = [("slow_read", wper(8, 11), rper(23, 41), (0.9, 0.7), (0.7, 0.5)),
             ("slow_write", wper(23, 41), rper(8, 11), (0.7, 0.5), (0.9, 0.7)),
             ("near_equal", wper(10, 10), rper(10.01, 10.06), (0.8, 0.3, 1.0), (0.8, 1.0, 0.3)),
             ("fast_write", wper(4, 6), rper(11, 17), (1.0, 0.6), (0.4, 1.0)),
             ("random", wper(5, 30), rper(5, 30), (0.2, 0.5, 0.9), (0.2, 0.5, 0.9))]
    out = []
    for k in range(n):
        _, tw, tr, pw, pr = kinds[k % len(kinds)] if k < len(kinds) else kinds[rng.randrange(len(kinds))]
        run_ns = max(60 * max(tw, tr), 200 * min(tw, tr), 4 * depth * max(tw, tr))
        out.append(Segment(tw, tr, pw, pr, run_ns))
    return out


class AsyncFifoSuite(Suite):
    family = "async_fifo"
    summary = "dual-clock FIFOs (Gray pointers, 2-flop synchronizers), checked under unrelated clocks"
    axes = ()
    presets: ClassVar[dict[str, str]] = {}
    default_params = {"WIDTH": 8, "DEPTH": 16}
    param_help = {"WIDTH": "data width", "DEPTH": "number of words (a power of 2, >= 4)"}
    parameterized_default = True
    cocotb_module = "test_async_fifo.py"
    fast_segments = 5
    full_segments = 10

    def check_params(self, params: dict[str, int]) -> None:
        super().check_params(params)
        d = params["DEPTH"]
        if d < 4 or d & (d - 1) or d > 1024:
            raise InputError(f"async_fifo: DEPTH must be a power of 2 in 4..1024, got {d}")
        if not 1 <= params["WIDTH"] <= 64:
            raise InputError(f"async_fifo: WIDTH must be 1..64, got {params['WIDTH']}")

    def build_spec(self) -> Spec:
        w, d = self.params["WIDTH"], self.params["DEPTH"]
        ports = (port("wclk", "input"), port("wrst_n", "input"), port("wr_en", "input"),
                 port("wr_data", "input", w), port("wfull", "output"), port("rclk", "input"),
                 port("rrst_n", "input"), port("rd_en", "input"), port("rd_data", "output", w),
                 port("rempty", "output"))
        contract = Contract("async_fifo", ports, {"WIDTH": w, "DEPTH": d} if self.parameterized else {})
        beh = ("Two unrelated clocks: the write side runs on `wclk`, the read side on `rclk`; their frequencies "
               "and phases are arbitrary.",
               "`wrst_n` (write domain) and `rrst_n` (read domain) are asynchronous, active-low resets; the test "
               "asserts both together. While in reset and after it the FIFO is empty: `rempty`=1, `wfull`=0, "
               "taking effect at once when the resets are asserted (no clock edge needed).",
               "A write happens on a rising `wclk` edge where `wr_en` is 1 and `wfull` is 0; `wr_en` while `wfull` "
               "is 1 is ignored.",
               "A read happens on a rising `rclk` edge where `rd_en` is 1 and `rempty` is 0; `rd_en` while `rempty` "
               "is 1 is ignored.",
               "First-word-fall-through read: whenever `rempty` is 0, `rd_data` shows the oldest word; a read "
               "moves on to the next word.",
               "Pass pointers between the domains as Gray code (one extra bit to tell full from empty) through "
               "two-flop synchronizers; `wfull` and `rempty` are registers (computed from the synchronized "
               "pointer, updated on their own clock).",
               "Every flop, the synchronizers included, is reset asynchronously by its domain's reset: a reset "
               "pulse shorter than a clock period must still leave the FIFO empty.",
               "Words come out exactly once, in the order written (no loss, duplication or reordering).")
        timing = ("`wfull` belongs to the write domain and `rempty` to the read domain; each may be pessimistic "
                  "(stay asserted a few cycles after the other side moved) but must never be optimistic: no write "
                  f"accepted while {d} words are stored, no read while none are.",
                  f"A flag that is pessimistic must clear within {STUCK_EDGES - 1} edges of its own clock; `wfull` "
                  f"may only be 1 with room in the FIFO within {STUCK_EDGES} `wclk` cycles of a read (and `rempty` "
                  f"only be 1 with data within {STUCK_EDGES} `rclk` cycles of a write).",
                  "A change crosses two synchronizer flops and then the flag register: after a write into an empty "
                  "FIFO, `rempty` stays 1 at the next 3 rising `rclk` edges; after a read from a full FIFO, `wfull` "
                  "stays 1 at the next 3 rising `wclk` edges.",
                  "Outputs are sampled just before each rising edge of their own clock.")
        return Spec(family=self.family, variant=self.variant, params=dict(self.params), contract=contract,
                    title=f"an asynchronous (dual-clock) FIFO of {d} words of {w} bits", behaviour=beh,
                    timing=timing, clock="wclk", reset="wrst_n", reset_active_low=True, reset_async=True,
                    choices={})

    def reference_rtl(self) -> str:
        return render_rtl("async_fifo.v.j2", module=self.contract.module, WIDTH=self.params["WIDTH"],
                          DEPTH=self.params["DEPTH"])

    def observation(self) -> dict[str, str]:
        return {"rd_data": "!rempty"}

    # ----- stimulus ----------------------------------------------------------------------------------
    def plan(self, seed: int, segments: int) -> dict[str, Any]:
        return _plan(self.params["WIDTH"], self.params["DEPTH"], seed, segments)

    def run(self, ctx: SimContext) -> SimOutcome:
        out = super().run(ctx)
        if self.tier == "full" and out.passed:  # the crossing check lives in the fast bench
            fast = self.run_fast(ctx)
            if not fast.passed:
                return fast
        return out

    def run_fast(self, ctx: SimContext) -> SimOutcome:
        plan = self.plan(self._seed(ctx), self.fast_segments)
        (ctx.workdir / "cm_afifo_w.hex").write_text(plan["whex"])
        (ctx.workdir / "cm_afifo_r.hex").write_text(plan["rhex"])
        design = cdc.netlist(ctx.workdir, [ctx.design_file], ctx.top, ctx.options.tool_limits)
        buses = cdc.crossings(design, ctx.top, ("wclk", "rclk")) if design else []
        bench = _bench(self, ctx.top, self._seed(ctx), self.fast_segments, bool(buses)).replace("@@NONCE@@",
                                                                                                 ctx.nonce)
        (ctx.workdir / "cm_afifo_tb.sv").write_text(bench)
        out = run_bench(ctx, [ctx.design_file, "cm_afifo_tb.sv"], "cm_afifo_tb", kind="suite:fast")
        if not out.passed or not buses:
            return out
        problems = cdc.check_vcd(ctx.workdir / cdc.VCD, "cm_afifo_tb.dut", buses,
                                 {"wclk": "wrst_n", "rclk": "rrst_n"})
        if not problems:
            return out
        out.detail.failures += 1
        out.detail.tests += 1
        out.detail.mismatched_samples = max(out.detail.mismatched_samples, 1)
        out.detail.mismatches.insert(0, Mismatch(test="clock-domain crossing", message=problems[0].message))
        return SimOutcome(False, problems[0].category, out.detail, problems)


def _ns(ps: int) -> str:
    return f"{ps / 1000:.3f}"


@lru_cache(maxsize=16)
def _plan(width: int, depth: int, seed: int, nseg: int) -> dict[str, Any]:
    rng = random.Random(f"async_fifo/{width}/{depth}/{seed}")
    segs = _segments(rng, depth, nseg)
    wlines, rlines, rendered = [], [], []
    now = 0
    for s in segs:
        nwv = int(s.run_ns / s.tw) + 4
        nrv = int(s.run_ns / s.tr) + 4
        w_start, r_start = len(wlines), len(rlines)
        pw = pr = 0.5
        for i in range(nwv):
            if i % 24 == 0:
                pw = rng.choice(s.p_wr)
            en = int(rng.random() < pw)
            data = rng.getrandbits(width) if rng.random() > 0.1 else rng.choice([0, mask(width)])
            wlines.append(f"{(en << width) | data:x}")
        for i in range(nrv):
            if i % 24 == 0:
                pr = rng.choice(s.p_rd)
            rlines.append(str(int(rng.random() < pr)))
        slow = max(s.tw, s.tr)
        # master events land on times = 2 ps (mod 10 ps): never on a clock edge (0 or 5 mod 10)
        def at(delta_ns: float) -> str:
            nonlocal now
            target = now + int(delta_ns * 1000)
            target += (2 - target) % 10
            d, now = target - now, target
            return _ns(d)
        rendered.append({"tw": s.tw, "tr": s.tr, "offset": at(1.0), "reset_ns": at(3 * slow),
                         "settle_ns": at(1.5 * slow + 0.5), "quiet_ns": at((STUCK_EDGES + 4) * slow),
                         "run_ns": at(s.run_ns),
                         "drain_ns": at((depth + 2) * s.tr * 1.2 + (STUCK_EDGES + 4) * slow + 2 * s.tw),
                         "w_start": w_start, "r_start": r_start})
    tw, tr = 4.02, 12.53  # fast write, slow read: half periods 2010 ps (even) and 6265 ps (odd multiple of 5)
    slow = tr
    final = {"tw": tw, "tr": tr, "reset_ns": at(3 * slow),
             "fill_ns": at((depth + STUCK_EDGES + 4) * tw + 4 * slow),
             "drain_ns": at((depth + STUCK_EDGES + 4) * tr + 4 * slow),
             "one_ns": at((STUCK_EDGES + 4) * slow),
             "readonly_ns": at((STUCK_EDGES + 4) * slow)}
    return {"segments": rendered, "final": final, "raw_segments": segs, "whex": "\n".join(wlines) + "\n", "rhex": "\n".join(rlines) + "\n",
            "nw": len(wlines), "nr": len(rlines)}


@lru_cache(maxsize=64)
def _bench(suite: AsyncFifoSuite, top: str, seed: int, nseg: int, dump: bool = False) -> str:
    plan = suite.plan(seed, nseg)
    return jinja_env().get_template("async_fifo_tb.sv.j2").render(
        W=suite.params["WIDTH"], D=suite.params["DEPTH"], K=STUCK_EDGES, sb=1 << 16, top=top,
        params=suite.contract.params, nw=plan["nw"], nr=plan["nr"], segments=plan["segments"],
        final=plan["final"], dump=dump)
