"""AXI4-Lite slave register file: N_REGS 32-bit registers, WSTRB byte enables, OKAY/SLVERR.

The handshake timing of a slave is free (AXI lets it choose), so the fast tier is a transaction replay: a
cycle-stepped Verilog master presents each scripted transaction with scripted valid delays (AW before W, W
before AW, together) and ready back-pressure on B and R, reacts to the slave's handshakes, and checks the
responses against the golden register model plus the channel rules (valid/payload hold, B after AW and W, no
deadlock within a timeout).
"""
from __future__ import annotations

import random
from dataclasses import dataclass
from functools import lru_cache
from typing import ClassVar

from ..contract import Contract
from ..errors import InputError
from ..testbench.base import SimContext, SimOutcome
from ..testbench.verilog_tb import run_bench
from .base import Axis, Spec, Suite, jinja_env, port, render_rtl

OKAY, SLVERR = 0, 2
TIMEOUT_CYCLES = 64


@dataclass(frozen=True)
class Txn:
    write: bool
    addr: int
    data: int = 0
    strb: int = 0xF
    d_aw: int = 0
    d_w: int = 0
    d_b: int = 0
    d_ar: int = 0
    d_r: int = 0
    idle: int = 0
    exp_data: int = 0
    exp_resp: int = OKAY
    more: int = 0       # 1: the next transaction (same kind) overlaps this one

    def hex(self) -> str:
        word = 0
        for val, bits in ((self.more, 4), (0 if self.write else 1, 4), (self.addr, 32), (self.data, 32), (self.strb, 4),
                          (self.d_aw, 8), (self.d_w, 8), (self.d_b, 8), (self.d_ar, 8), (self.d_r, 8),
                          (self.idle, 8), (self.exp_data, 32), (self.exp_resp, 4)):
            word = (word << bits) | (val & ((1 << bits) - 1))
        return f"{word:040x}"


class RegFileModel:
    """The golden model: N_REGS registers, reset to 0; byte-lane writes; out-of-range -> SLVERR, no effect."""

    def __init__(self, n_regs: int) -> None:
        self.regs = [0] * n_regs

    def write(self, addr: int, data: int, strb: int) -> int:
        i = addr >> 2
        if i >= len(self.regs):
            return SLVERR
        for b in range(4):
            if strb >> b & 1:
                self.regs[i] = (self.regs[i] & ~(0xFF << 8 * b)) | (data & (0xFF << 8 * b))
        return OKAY

    def read(self, addr: int) -> tuple[int, int]:
        i = addr >> 2
        if i >= len(self.regs):
            return 0, SLVERR
        return self.regs[i], OKAY


class AxiLiteSuite(Suite):
    family = "axi_lite"
    summary = "AXI4-Lite slave register files (WSTRB, OKAY/SLVERR), checked with back-pressure and either AW/W order"
    axes = (Axis("decode", ("slverr",), "out-of-range addresses answer SLVERR"),)
    presets: ClassVar[dict[str, str]] = {"regfile": "slverr"}
    default_params = {"ADDR_WIDTH": 5, "N_REGS": 4}
    param_help = {"ADDR_WIDTH": "byte address width", "N_REGS": "number of 32-bit registers (at byte 4*i)"}
    cocotb_module = "test_axi_lite.py"
    fast_txns = 120
    full_txns = 600

    def check_params(self, params: dict[str, int]) -> None:
        super().check_params(params)
        aw, n = params["ADDR_WIDTH"], params["N_REGS"]
        if not 3 <= aw <= 16:
            raise InputError(f"axi_lite: ADDR_WIDTH must be 3..16, got {aw}")
        if not 1 <= n <= 1 << (aw - 2):
            raise InputError(f"axi_lite: N_REGS must be 1..2**(ADDR_WIDTH-2) = {1 << (aw - 2)}, got {n}")

    def build_spec(self) -> Spec:
        aw, n = self.params["ADDR_WIDTH"], self.params["N_REGS"]
        ports = (port("aclk", "input"), port("aresetn", "input"),
                 port("s_axi_awaddr", "input", aw), port("s_axi_awvalid", "input"), port("s_axi_awready", "output"),
                 port("s_axi_wdata", "input", 32), port("s_axi_wstrb", "input", 4), port("s_axi_wvalid", "input"),
                 port("s_axi_wready", "output"), port("s_axi_bresp", "output", 2), port("s_axi_bvalid", "output"),
                 port("s_axi_bready", "input"), port("s_axi_araddr", "input", aw), port("s_axi_arvalid", "input"),
                 port("s_axi_arready", "output"), port("s_axi_rdata", "output", 32), port("s_axi_rresp", "output", 2),
                 port("s_axi_rvalid", "output"), port("s_axi_rready", "input"))
        contract = Contract("axi_lite_regs", ports,
                            {"ADDR_WIDTH": aw, "N_REGS": n} if self.parameterized else {})
        span = 4 * n
        beh = (f"{n} registers of 32 bits; register i is at byte address 4*i (0x0 .. 0x{span - 4:x}). The register "
               "index is address bits [ADDR_WIDTH-1:2]; bits [1:0] are ignored.",
               "`aresetn` is a synchronous, active-low reset (sampled on the rising edge of `aclk`): all registers "
               "become 0 and all VALID outputs become 0.",
               "Write: the slave accepts the address (AW) and the data (W) channels independently and in either "
               "order (W may arrive before AW), then answers on B. For each byte lane i with `s_axi_wstrb[i]`=1 "
               "the register byte is written; other bytes keep their value.",
               f"Addresses at or above 0x{span:x} are out of range: writes change nothing and answer "
               f"`bresp`=2'b10 (SLVERR); reads answer `rresp`=2'b10 with `rdata`=0. In range: 2'b00 (OKAY).",
               "Read: after the AR handshake the slave answers on R with the register value.",
               "The master may present the next address before the previous response arrives (several "
               "transactions outstanding); the slave may stall it with AWREADY/WREADY/ARREADY, and must answer in "
               "order.")
        timing = ("Handshake: a transfer happens on a rising edge where VALID and READY are both 1. The slave may "
                  "choose when to raise its READY signals, and the master never waits for READY before raising "
                  "VALID.",
                  "Once the slave raises BVALID (or RVALID) it must hold it, and keep BRESP (or RDATA/RRESP) "
                  "stable, until the master's BREADY (RREADY) completes the transfer; the master may hold READY "
                  "low for several cycles (back-pressure).",
                  "BVALID may only rise after both the AW and the W handshakes; RVALID only after the AR handshake.",
                  f"No deadlock: each transaction must complete within {TIMEOUT_CYCLES} cycles.",
                  "BRESP is only checked while BVALID is 1, RDATA/RRESP only while RVALID is 1.",
                  "The testbench changes inputs away from the clock edge and samples outputs just before each "
                  "rising edge.")
        return Spec(family=self.family, variant=self.variant, params=dict(self.params), contract=contract,
                    title=f"an AXI4-Lite slave with {n} 32-bit registers", behaviour=beh, timing=timing,
                    clock="aclk", reset="aresetn", reset_active_low=True, reset_async=False,
                    choices=dict(self.choices))

    def reference_rtl(self) -> str:
        return render_rtl("axi_lite.v.j2", module=self.contract.module, ADDR_WIDTH=self.params["ADDR_WIDTH"],
                          N_REGS=self.params["N_REGS"])

    def observation(self) -> dict[str, str]:
        return {"s_axi_bresp": "s_axi_bvalid", "s_axi_rdata": "s_axi_rvalid", "s_axi_rresp": "s_axi_rvalid"}

    def transactions(self, seed: int, n: int) -> list[Txn]:
        return list(_transactions(self.params["ADDR_WIDTH"], self.params["N_REGS"], seed, n))

    def run_fast(self, ctx: SimContext) -> SimOutcome:
        txns = self.transactions(self._seed(ctx), self.fast_txns)
        (ctx.workdir / "cm_axil.hex").write_text("\n".join(t.hex() for t in txns) + "\n")
        bench = _bench(self, ctx.top, len(txns)).replace("@@NONCE@@", ctx.nonce)
        (ctx.workdir / "cm_axil_tb.sv").write_text(bench)
        return run_bench(ctx, [ctx.design_file, "cm_axil_tb.sv"], "cm_axil_tb", kind="suite:fast")


@lru_cache(maxsize=64)
def _bench(suite: AxiLiteSuite, top: str, n: int) -> str:
    return jinja_env().get_template("axi_lite_tb.sv.j2").render(
        AW=suite.params["ADDR_WIDTH"], nt=n, timeout=TIMEOUT_CYCLES, top=top, params=suite.contract.params)


@lru_cache(maxsize=16)
def _transactions(aw: int, n_regs: int, seed: int, n: int) -> tuple[Txn, ...]:
    rng = random.Random(f"axi_lite/{aw}/{n_regs}/{seed}/{n}")
    model = RegFileModel(n_regs)
    out: list[Txn] = []
    amax = 1 << aw
    oor = [a for a in (4 * n_regs, amax - 4, 4 * n_regs + 4) if 4 * n_regs <= a < amax]

    def wr(addr: int, data: int, strb: int = 0xF, **d: int) -> None:
        resp = model.write(addr, data, strb)
        out.append(Txn(True, addr, data, strb, exp_resp=resp, **d))

    def rd(addr: int, **d: int) -> None:
        data, resp = model.read(addr)
        out.append(Txn(False, addr, exp_data=data, exp_resp=resp, **d))

    for i in range(n_regs):                       # reset values
        rd(4 * i)
    for i in range(n_regs):                       # full writes, distinct patterns, read back
        wr(4 * i, 0xA5000000 | (i * 0x010203) ^ 0x5A5A, d_aw=i % 3, d_w=(i + 1) % 3)
    for i in range(n_regs):
        rd(4 * i, d_ar=i % 2, d_r=i % 3)
    wr(0, 0xFFFFFFFF, 0xF, d_aw=0, d_w=5)          # AW well before W
    wr(0, 0x11223344, 0x1, d_aw=6, d_w=0)          # W well before AW, single byte lane
    for lane in range(4):                          # every byte lane alone
        wr(4 * (lane % n_regs), 0xC3C3C3C3 ^ (lane * 0x01010101), 1 << lane, d_aw=lane, d_w=3 - lane)
        rd(4 * (lane % n_regs))
    wr(4 * (n_regs - 1), 0xDEADBEEF, 0x0)          # no strobes: no change, OKAY
    rd(4 * (n_regs - 1))
    wr(4 * (n_regs - 1) + 3, 0x0BADF00D, 0xF)      # unaligned: low bits ignored
    rd(4 * (n_regs - 1) + 1)
    for a in oor:                                  # out of range: SLVERR, no side effect
        wr(a, 0xFFFFFFFF, 0xF, d_b=2)
        rd(a, d_r=2)
        rd(a & (4 * n_regs - 1 if n_regs & (n_regs - 1) == 0 else 3))
    wr(0, 0x12345678, 0xF, d_b=7)                  # long back-pressure on B and R
    rd(0, d_r=7)
    wr(4, 0x9ABCDEF0, 0xF, d_aw=0, d_w=0, d_b=0, idle=0)   # back to back, ready before valid
    rd(4, d_ar=0, d_r=0, idle=0)
    rd(4, d_ar=0, d_r=1, idle=0)
    # overlapped pairs: the second address is presented before the first response (several outstanding)
    for k in range(3):
        a0, a1 = 4 * (k % n_regs), 4 * ((k + 1) % n_regs)
        wr(a0, 0x01020304 * (k + 1), 0xF, d_aw=0, d_w=3 + k, d_b=2, more=1)
        wr(a1, 0xA0B0C0D0 ^ k, 0xF, d_aw=0, d_w=0, d_b=k)
        rd(a0, d_ar=0, d_r=3, more=1)
        rd(a1, d_ar=0, d_r=k)
    wr(0, 0xFFFF0000, 0xC, d_aw=0, d_w=0, d_b=4, more=1)     # same register twice: order matters
    wr(0, 0x0000FFFF, 0x3, d_aw=0, d_w=2, d_b=0)
    rd(0)
    while len(out) < n:
        if rng.random() < 0.1:  # an overlapped pair of writes or reads
            a0, a1 = 4 * rng.randrange(n_regs), 4 * rng.randrange(n_regs)
            if rng.random() < 0.5:
                wr(a0, rng.getrandbits(32), rng.randrange(16), d_aw=rng.choice([0, 2]), d_w=rng.choice([0, 1, 4]),
                   d_b=rng.choice([0, 3]), more=1)
                wr(a1, rng.getrandbits(32), 0xF, d_aw=rng.choice([0, 1]), d_w=rng.choice([0, 2]), d_b=rng.choice([0, 2]))
            else:
                rd(a0, d_ar=0, d_r=rng.choice([0, 3]), more=1)
                rd(a1, d_ar=rng.choice([0, 1]), d_r=rng.choice([0, 2]))
            continue
        d = {"d_aw": rng.choice([0, 0, 1, 2, 4]), "d_w": rng.choice([0, 0, 1, 3, 5]),
             "d_b": rng.choice([0, 0, 1, 2, 6]), "d_ar": rng.choice([0, 0, 1, 3]),
             "d_r": rng.choice([0, 0, 1, 2, 6]), "idle": rng.choice([0, 0, 0, 1, 3])}
        if oor and rng.random() < 0.08:
            addr = rng.choice(oor) | rng.randrange(4)
        else:
            addr = 4 * rng.randrange(n_regs) + (rng.randrange(4) if rng.random() < 0.1 else 0)
        if rng.random() < 0.5:
            strb = 0xF if rng.random() < 0.6 else rng.randrange(16)
            wr(addr, rng.getrandbits(32), strb, d_aw=d["d_aw"], d_w=d["d_w"], d_b=d["d_b"], idle=d["idle"])
        else:
            rd(addr, d_ar=d["d_ar"], d_r=d["d_r"], idle=d["idle"])
    return tuple(out)
