"""Synchronous FIFO family: WIDTH x DEPTH, full/empty (extra pointer bit), optional count and almost flags,
registered or first-word-fall-through read."""
from __future__ import annotations

import random
from collections import deque
from typing import ClassVar

from ..contract import Contract
from ..errors import InputError
from .base import Axis, CycleModel, CycleSuite, Spec, mask, port, render_rtl, reset_levels, reset_port, reset_schedule, reset_sentence


class FifoModel(CycleModel):
    def __init__(self, spec: Spec) -> None:
        super().__init__(spec)
        p, c = spec.params, spec.choices
        self.depth, self.width = p["DEPTH"], p["WIDTH"]
        self.afull, self.aempty = p["AFULL"], p["AEMPTY"]
        self.fwft = c["read"] == "fwft"
        self.count = c["count"] == "count"
        self.almost = c["almost"] == "almost"
        self.q: deque[int] = deque()
        self.rd_data: int | None = None

    def reset(self) -> None:
        self.q.clear()
        self.rd_data = None  # unspecified until the first read after reset

    def comb(self, inp: dict[str, int]) -> dict[str, int | None]:
        n = len(self.q)
        out: dict[str, int | None] = {
            "rd_data": (self.q[0] if n else None) if self.fwft else self.rd_data,
            "full": int(n == self.depth), "empty": int(n == 0)}
        if self.count:
            out["count"] = n
        if self.almost:
            out["almost_full"] = int(n >= self.afull)
            out["almost_empty"] = int(n <= self.aempty)
        return out

    def step(self, inp: dict[str, int]) -> None:
        do_rd = bool(inp["rd_en"]) and len(self.q) > 0
        do_wr = bool(inp["wr_en"]) and len(self.q) < self.depth
        if do_rd:
            self.rd_data = self.q.popleft()
        if do_wr:
            self.q.append(inp["wr_data"] & mask(self.width))


class FifoSuite(CycleSuite):
    family = "fifo"
    summary = "synchronous FIFOs: WIDTH x DEPTH, full/empty, optional count and almost flags, registered or FWFT read"
    axes = (
        Axis("read", ("reg", "fwft"), "registered read (data the cycle after rd_en) or first-word-fall-through"),
        Axis("count", ("nocount", "count"), "an occupancy output `count`"),
        Axis("almost", ("noalmost", "almost"), "`almost_full` / `almost_empty` outputs"),
        Axis("reset", ("sync", "async"), "synchronous or asynchronous reset"),
        Axis("polarity", ("low", "high"), "reset active low (`rst_n`) or active high (`rst`)"),
    )
    presets: ClassVar[dict[str, str]] = {
        "basic": "reg", "fwft_fifo": "fwft", "counted": "reg-count", "full_featured": "reg-count-almost",
        "fwft_full": "fwft-count-almost",
    }
    default_params = {"WIDTH": 8, "DEPTH": 16, "AFULL": 0, "AEMPTY": 1}
    param_help = {"WIDTH": "data width", "DEPTH": "number of words (a power of 2)",
                  "AFULL": "almost_full when count >= AFULL (0: DEPTH-1)",
                  "AEMPTY": "almost_empty when count <= AEMPTY"}
    parameterized_default = True
    fast_cycles = 400

    def check_params(self, params: dict[str, int]) -> None:
        super().check_params(params)
        d = params["DEPTH"]
        if d < 2 or d & (d - 1) or d > 4096:
            raise InputError(f"fifo: DEPTH must be a power of 2 in 2..4096, got {d}")
        if not 1 <= params["WIDTH"] <= 256:
            raise InputError(f"fifo: WIDTH must be 1..256, got {params['WIDTH']}")
        if params["AFULL"] == 0:
            params["AFULL"] = d - 1
        if not 1 <= params["AFULL"] <= d or not 0 <= params["AEMPTY"] < d:
            raise InputError("fifo: need 1 <= AFULL <= DEPTH and 0 <= AEMPTY < DEPTH")

    def build_spec(self) -> Spec:
        c, p = self.choices, self.params
        rst, low, is_async = reset_port(c)
        w, d = p["WIDTH"], p["DEPTH"]
        aw = d.bit_length() - 1
        ports = [port("clk", "input"), port(rst, "input"), port("wr_en", "input"), port("wr_data", "input", w),
                 port("rd_en", "input"), port("rd_data", "output", w), port("full", "output"),
                 port("empty", "output")]
        if c["count"] == "count":
            ports.append(port("count", "output", aw + 1))
        if c["almost"] == "almost":
            ports += [port("almost_full", "output"), port("almost_empty", "output")]
        contract = Contract("fifo", tuple(ports), {"WIDTH": w, "DEPTH": d} if self.parameterized else {})
        fwft = c["read"] == "fwft"
        title = (f"a synchronous {'first-word-fall-through ' if fwft else ''}FIFO of {d} words of {w} bits")
        beh = [reset_sentence(rst, low, is_async, "the FIFO becomes empty (`empty`=1, `full`=0"
                              + (", `count`=0" if c["count"] == "count" else "") + ")"),
               "A write happens on a rising edge where `wr_en` is 1 and `full` is 0: `wr_data` is stored. "
               "`wr_en` while `full` is 1 is ignored, even if a read happens in the same cycle.",
               "A read happens on a rising edge where `rd_en` is 1 and `empty` is 0: the oldest word is "
               "removed. `rd_en` while `empty` is 1 is ignored, even if a write happens in the same cycle.",
               "A read and a write in the same cycle both happen when allowed; words come out in the order "
               "they went in.",
               f"`full` is 1 exactly when the FIFO holds {d} words; `empty` is 1 exactly when it holds 0 words "
               "(use pointers with one extra bit to tell them apart)."]
        if fwft:
            beh.append("First-word-fall-through: whenever `empty` is 0, `rd_data` already shows the oldest word "
                       "(combinationally from the storage); a read moves on to the next word. `rd_data` is "
                       "unchecked while `empty` is 1.")
        else:
            beh.append("Registered read: on the rising edge of a read, `rd_data` is loaded with the oldest word, so "
                       "it is valid from the cycle after `rd_en`; it keeps that value until the next read. Its "
                       "value before the first read after reset is unchecked.")
        if c["count"] == "count":
            beh.append(f"`count` ({aw + 1} bits) is the number of words stored, 0..{d}.")
        if c["almost"] == "almost":
            beh.append(f"`almost_full` is 1 when count >= {p['AFULL']}; `almost_empty` is 1 when count <= "
                       f"{p['AEMPTY']}.")
        timing = ["`full`, `empty`" + (", `count`" if c["count"] == "count" else "")
                  + (", `almost_full`, `almost_empty`" if c["almost"] == "almost" else "")
                  + " depend only on the stored state (they change on clock edges, never combinationally from "
                  "`wr_en`/`rd_en`).",
                  "Read latency: " + ("0 (first word falls through)." if fwft else "1 cycle (registered rd_data)."),
                  "The testbench changes inputs away from the clock edge and samples outputs just before each "
                  "rising edge."]
        return Spec(family=self.family, variant=self.variant, params=dict(p), contract=contract, title=title,
                    behaviour=tuple(beh), timing=tuple(timing), clock="clk", reset=rst, reset_active_low=low,
                    reset_async=is_async, choices=dict(c))

    def reference_rtl(self) -> str:
        c, p = self.choices, self.params
        rst, low, is_async = reset_port(c)
        return render_rtl("fifo.v.j2", module=self.contract.module, variant=self.variant, WIDTH=p["WIDTH"],
                          DEPTH=p["DEPTH"], AW=p["DEPTH"].bit_length() - 1, AFULL=p["AFULL"], AEMPTY=p["AEMPTY"],
                          rst=rst, low=low, is_async=is_async, fwft=c["read"] == "fwft",
                          count=c["count"] == "count", almost=c["almost"] == "almost")

    def observation(self) -> dict[str, str]:
        return {"rd_data": "!empty"} if self.choices["read"] == "fwft" else {}

    def new_model(self) -> FifoModel:
        return FifoModel(self.spec)

    def properties(self, inp: dict[str, int], out: dict[str, int]) -> list[str]:
        return ["full and empty are both 1"] if out.get("full") and out.get("empty") else []

    def stimulus(self, rng: random.Random, n: int) -> list[dict[str, int]]:
        w, d = self.params["WIDTH"], self.params["DEPTH"]
        on, off = reset_levels(self.spec)
        rst = self.spec.reset or ""
        seq: list[dict[str, int]] = []
        top = mask(w)
        corners = [0, top, 0x5555555555555555 & top, 0xAAAAAAAAAAAAAAAA & top]

        def data() -> int:
            return rng.choice(corners) if rng.random() < 0.15 else rng.getrandbits(w)

        def cyc(wr: int = 0, rd: int = 0, reset: bool = False) -> None:
            seq.append({rst: on if reset else off, "wr_en": wr, "wr_data": data(), "rd_en": rd})

        cyc(reset=True)
        cyc(1, 1, reset=True)
        cyc(0, 1)                     # read when empty
        cyc(1, 1)                     # write+read when empty: only the write happens
        cyc(0, 1)
        for _ in range(d + 2):       # fill past full
            cyc(1, 0)
        cyc(1, 1)                     # read+write when full: only the read happens
        cyc(1, 1)
        for _ in range(d + 2):       # drain past empty
            cyc(0, 1)
        for _ in range(d // 2):      # half full, then stream
            cyc(1, 0)
        for _ in range(2 * d):
            cyc(1, 1)
        cyc(reset=True, wr=1)         # reset while holding data
        cyc(0, 1)
        cyc(1, 0)
        cyc(0, 1)
        total = max(n, len(seq) + 3 * d + 100)
        sched = reset_schedule(self.spec, total - len(seq), rng, every=300)
        sched[0] = sched[1] = False
        phase = (0.5, 0.5)
        for i in range(total - len(seq)):
            if i % 40 == 0:
                phase = rng.choice([(0.9, 0.2), (0.2, 0.9), (0.6, 0.6), (1.0, 0.0), (0.0, 1.0), (0.5, 0.5)])
            cyc(int(rng.random() < phase[0]), int(rng.random() < phase[1]), reset=sched[i])
        return seq

    def resolve_params(self, params: dict[str, int]) -> dict[str, int]:
        return super().resolve_params(params)
