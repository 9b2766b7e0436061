"""Arbiter family: round-robin with a rotating priority pointer, or fixed priority, over N requesters."""
from __future__ import annotations

import random
from typing import ClassVar

from ..contract import Contract
from ..errors import InputError
from .base import Axis, CycleModel, CycleSuite, Spec, mask, port, render_rtl, reset_levels, reset_port, reset_schedule, reset_sentence


def _pick(req: int, ptr: int, n: int) -> int:
    for k in range(n):
        i = (ptr + k) % n
        if req >> i & 1:
            return i
    return -1


class ArbiterModel(CycleModel):
    def __init__(self, spec: Spec) -> None:
        super().__init__(spec)
        self.n = spec.params["N"]
        self.rr = spec.choices["policy"] == "rr"
        self.registered = spec.choices["output"] == "reg"
        self.ptr = 0
        self.gnt = 0

    def reset(self) -> None:
        self.ptr = 0
        self.gnt = 0

    def comb(self, inp: dict[str, int]) -> dict[str, int | None]:
        if self.registered:
            return {"gnt": self.gnt}
        if self.in_reset(inp):
            return {"gnt": None}  # unchecked while reset is asserted
        i = _pick(inp["req"], self.ptr if self.rr else 0, self.n)
        return {"gnt": 0 if i < 0 else 1 << i}

    def step(self, inp: dict[str, int]) -> None:
        i = _pick(inp["req"], self.ptr if self.rr else 0, self.n)
        if self.registered:
            self.gnt = 0 if i < 0 else 1 << i
        if self.rr and i >= 0:
            self.ptr = (i + 1) % self.n


class ArbiterSuite(CycleSuite):
    family = "arbiter"
    summary = "N-requester arbiters: round-robin (rotating priority pointer) or fixed priority"
    axes = (
        Axis("policy", ("rr", "fixed"), "round-robin with a rotating pointer, or fixed priority (req[0] first)"),
        Axis("output", ("reg", "comb"), "grant registered (changes on clock edges) or combinational from req"),
        Axis("reset", ("sync", "async"), "synchronous or asynchronous reset"),
        Axis("polarity", ("low", "high"), "reset active low (`rst_n`) or active high (`rst`)"),
    )
    presets: ClassVar[dict[str, str]] = {"round_robin": "rr", "round_robin_comb": "rr-comb",
                                         "fixed_priority": "fixed-comb", "fixed_registered": "fixed-reg"}
    default_params = {"N": 4}
    param_help = {"N": "number of requesters"}

    def check_params(self, params: dict[str, int]) -> None:
        super().check_params(params)
        if not 2 <= params["N"] <= 32:
            raise InputError(f"arbiter: N must be 2..32, got {params['N']}")

    def build_spec(self) -> Spec:
        c, n = self.choices, self.params["N"]
        rst, low, is_async = reset_port(c)
        rr, registered = c["policy"] == "rr", c["output"] == "reg"
        ports = (port("clk", "input"), port(rst, "input"), port("req", "input", n), port("gnt", "output", n))
        contract = Contract("arbiter", ports, {"N": n} if self.parameterized else {})
        title = (f"a {n}-requester round-robin arbiter with a rotating priority pointer" if rr
                 else f"a {n}-requester fixed-priority arbiter")
        beh = []
        if rr:
            beh += [f"A priority pointer `ptr` (0..{n - 1}) names the requester with the highest priority; "
                    "priority then falls in increasing index order, wrapping around (ptr, ptr+1, ..., N-1, 0, ...).",
                    "The grant goes to the first requester (bit of `req` that is 1) in that order.",
                    "On every rising edge where some request is 1 (and no reset), the pointer moves to one past the "
                    f"requester granted at that edge: ptr = (granted index + 1) mod {n}. With no requests it holds.",
                    "So a requester that keeps requesting waits for at most N-1 other grants (fairness)."]
        else:
            beh.append("The grant goes to the requester with the lowest index among those with `req` bit 1 "
                       "(req[0] has the highest priority).")
        beh.append("`gnt` is one-hot (exactly one bit, the granted requester) or zero when no requester is "
                   "chosen; a grant only ever goes to a requester.")
        beh.append(reset_sentence(rst, low, is_async, ("the pointer becomes 0" if rr else "")
                                  + (" and " if rr and registered else "") + ("`gnt` becomes 0" if registered
                                                                             else "")
                                  or "nothing else happens"))
        if registered:
            timing = ["`gnt` is a register: at each rising edge it takes the grant computed from the `req` value "
                      "sampled at that edge (and the pointer before the edge); it holds until the next edge. "
                      "So `gnt` answers `req` one cycle later.",
                      "A new grant is decided every cycle (no locking): if the granted requester keeps requesting "
                      "it may lose the grant to the next one in priority order."]
        else:
            timing = ["`gnt` is combinational: it follows `req` (and the current pointer) within the same cycle.",
                      "`gnt` is not checked while reset is asserted."]
        timing.append("The testbench changes `req` away from the clock edge and samples `gnt` just before each "
                      "rising edge.")
        if rr and not registered:
            timing.append("The pointer is a register and moves only on rising edges.")
        return Spec(family=self.family, variant=self.variant, params=dict(self.params), contract=contract,
                    title=title, behaviour=tuple(beh), timing=tuple(timing), clock="clk", reset=rst,
                    reset_active_low=low, reset_async=is_async, choices=dict(c))

    def reference_rtl(self) -> str:
        c = self.choices
        rst, low, is_async = reset_port(c)
        return render_rtl("arbiter.v.j2", module=self.contract.module, variant=self.variant, N=self.params["N"],
                          rst=rst, low=low, is_async=is_async, rr=c["policy"] == "rr",
                          registered=c["output"] == "reg")

    def observation(self) -> dict[str, str]:
        if self.choices["output"] == "reg":
            return {}
        rst = self.spec.reset or ""
        return {"gnt": rst if self.spec.reset_active_low else f"!{rst}"}

    def new_model(self) -> ArbiterModel:
        return ArbiterModel(self.spec)

    # --- properties, checked by the cocotb tier on the design's own outputs ---------------------
    _waits: list[int]
    _prev_req: int

    def properties(self, inp: dict[str, int], out: dict[str, int]) -> list[str]:
        n = self.params["N"]
        if not hasattr(self, "_waits"):
            self._waits, self._prev_req = [0] * n, 0
        registered = self.choices["output"] == "reg"
        req_eff = self._prev_req if registered else inp["req"]
        self._prev_req = inp["req"]
        on, _ = reset_levels(self.spec)
        if inp.get(self.spec.reset or "") == on:
            self._waits = [0] * n
            return []
        g = out["gnt"]
        bad = []
        if g & (g - 1):
            bad.append(f"gnt={g:x} is not one-hot or zero")
        if g & ~req_eff & mask(n):
            bad.append(f"gnt={g:x} goes to a requester that is not requesting (req={req_eff:x})")
        if self.choices["policy"] == "rr" and g and not g & (g - 1):
            for i in range(n):
                if not req_eff >> i & 1 or g >> i & 1:
                    self._waits[i] = 0
                else:
                    self._waits[i] += 1
                    if self._waits[i] > n - 1:
                        bad.append(f"requester {i} waited {self._waits[i]} grants (> N-1)")
        return bad

    def stimulus(self, rng: random.Random, n: int) -> list[dict[str, int]]:
        nreq = self.params["N"]
        on, off = reset_levels(self.spec)
        rst = self.spec.reset or ""
        full = mask(nreq)
        seq: list[dict[str, int]] = []

        def cyc(req: int, reset: bool = False) -> None:
            seq.append({rst: on if reset else off, "req": req & full})

        cyc(full, True)
        cyc(full, True)
        for _ in range(3 * nreq):        # everyone requests: rotation
            cyc(full)
        for i in range(nreq):            # each alone
            cyc(1 << i)
            cyc(1 << i)
        cyc(0)
        for i in range(nreq):            # pairs, neighbours and wrap-around
            cyc((1 << i) | (1 << ((i + 1) % nreq)))
            cyc((1 << i) | (1 << ((i + nreq - 1) % nreq)))
        for _ in range(2 * nreq):        # top requester plus one other
            cyc((1 << (nreq - 1)) | 1)
        cyc(full, True)
        cyc(full)
        total = max(n, len(seq) + 200)
        sched = reset_schedule(self.spec, total - len(seq), rng, every=200)
        sched[0] = sched[1] = False
        density = 0.5
        for i in range(total - len(seq)):
            if i % 25 == 0:
                density = rng.choice([0.2, 0.5, 0.8, 1.0])
            req = sum(1 << b for b in range(nreq) if rng.random() < density)
            cyc(req, sched[i])
        return seq
