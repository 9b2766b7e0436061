"""Register family: D flip-flop / WIDTH-bit register, or a shift register; reset styles; optional enable."""
from __future__ import annotations

import random
from typing import ClassVar

from ..contract import Contract
from ..errors import InputError
from .base import Axis, CycleModel, CycleSuite, Spec, mask, port, render_rtl, reset_levels, reset_port, reset_schedule, reset_sentence
from .counter import RESET_AXES


class RegisterModel(CycleModel):
    def __init__(self, spec: Spec) -> None:
        super().__init__(spec)
        self.width = spec.params["WIDTH"]
        self.shift = spec.choices["kind"] == "shift"
        self.en = spec.choices["enable"] == "en"
        self.reset_value = spec.params["RESET"]
        self.q = 0

    def reset(self) -> None:
        self.q = self.reset_value

    def comb(self, inp: dict[str, int]) -> dict[str, int | None]:
        return {"q": self.q}

    def step(self, inp: dict[str, int]) -> None:
        if self.en and not inp["en"]:
            return
        if self.shift:
            self.q = ((self.q << 1) | (inp["din"] & 1)) & mask(self.width)
        else:
            self.q = inp["d"] & mask(self.width)


class RegisterSuite(CycleSuite):
    family = "register"
    summary = "D flip-flops, WIDTH-bit registers and shift registers with reset styles and enable"
    axes = (
        Axis("kind", ("reg", "shift"), "parallel register (d -> q) or serial-in shift register (din -> q[0])"),
        Axis("enable", ("noen", "en"), "update only while `en` is 1"),
        *RESET_AXES,
    )
    presets: ClassVar[dict[str, str]] = {
        "dff": "reg", "dff_en": "reg-en", "dff_async": "reg-async", "register": "reg-en",
        "shift_register": "shift", "shift_en": "shift-en",
    }
    default_params = {"WIDTH": 8, "RESET": 0}
    param_help = {"WIDTH": "register width (1 for a single D flip-flop; shift register length)",
                  "RESET": "the value reset gives `q` (default 0)"}

    def check_params(self, params: dict[str, int]) -> None:
        super().check_params(params)
        if not 1 <= params["WIDTH"] <= 64:
            raise InputError(f"register: WIDTH must be 1..64, got {params['WIDTH']}")
        if not 0 <= params["RESET"] < 1 << params["WIDTH"]:
            raise InputError(f"register: RESET must be 0..2**WIDTH-1, got {params['RESET']}")

    def build_spec(self) -> Spec:
        c, w = self.choices, self.params["WIDTH"]
        rst, low, is_async = reset_port(c)
        shift = c["kind"] == "shift"
        ports = [port("clk", "input"), port(rst, "input")]
        if c["enable"] == "en":
            ports.append(port("en", "input"))
        ports.append(port("din", "input") if shift else port("d", "input", w))
        ports.append(port("q", "output", w))
        contract = Contract("shift_reg" if shift else ("dff" if w == 1 else "register"), tuple(ports),
                            {"WIDTH": w} if self.parameterized else {})
        if shift:
            title = f"a {w}-bit serial-in, parallel-out shift register"
        else:
            title = "a D flip-flop" if w == 1 else f"a {w}-bit register"
        reset_value = self.params["RESET"]
        if reset_value:
            title += f", reset to {reset_value}"
        beh = [reset_sentence(rst, low, is_async, f"`q` becomes {reset_value}")]
        cond = "On every rising edge of `clk` that does not reset" + (" and where `en` is 1" if c["enable"] == "en"
                                                                      else "")
        if shift:
            beh.append(f"{cond}, the register shifts left by one: `q` becomes `{{q[{w - 2}:0], din}}`"
                       if w > 1 else f"{cond}, `q` takes `din`.")
            beh.append("So `din` enters at bit 0 and the oldest bit is at the top of `q`.")
        else:
            beh.append(f"{cond}, `q` takes the value of `d`.")
        if c["enable"] == "en":
            beh.append("When `en` is 0, `q` holds its value (reset still works).")
        timing = ["`q` is a register: it changes only on the rising edge of `clk`"
                  + (" or when the asynchronous reset is asserted." if is_async else "."),
                  "The testbench changes inputs away from the clock edge and samples `q` just before each rising "
                  "edge."]
        return Spec(family=self.family, variant=self.variant, params=dict(self.params), contract=contract,
                    title=title, behaviour=tuple(beh), timing=tuple(timing), clock="clk", reset=rst,
                    reset_active_low=low, reset_async=is_async, choices=dict(c))

    def reference_rtl(self) -> str:
        c = self.choices
        rst, low, is_async = reset_port(c)
        return render_rtl("register.v.j2", module=self.contract.module, variant=self.variant,
                          WIDTH=self.params["WIDTH"], RESET=self.params["RESET"], rst=rst, low=low, is_async=is_async,
                          en=c["enable"] == "en", shift=c["kind"] == "shift")

    def new_model(self) -> RegisterModel:
        return RegisterModel(self.spec)

    def stimulus(self, rng: random.Random, n: int) -> list[dict[str, int]]:
        w = self.params["WIDTH"]
        shift = self.choices["kind"] == "shift"
        has_en = self.choices["enable"] == "en"
        on, off = reset_levels(self.spec)
        rst = self.spec.reset or ""
        top = mask(w)
        corners = [0, top, 0x5555555555555555 & top, 0xAAAAAAAAAAAAAAAA & top, 1, 1 << (w - 1)]
        seq: list[dict[str, int]] = []

        def cyc(reset: bool = False, en: int = 1, d: int = 0) -> None:
            v = {rst: on if reset else off}
            if has_en:
                v["en"] = en
            v["din" if shift else "d"] = (d & 1) if shift else d
            seq.append(v)

        cyc(True, 1, top)
        cyc(True, 0, top)
        for x in corners:
            cyc(d=x)
        for x in corners:  # enable low must hold, reset must clear
            cyc(en=0, d=~x & top)
            cyc(d=x)
        for _ in range(w + 2):
            cyc(d=1)
        for _ in range(w + 2):
            cyc(d=rng.getrandbits(1))
        cyc(reset=True, d=top)
        cyc(d=top)
        total = max(n, len(seq) + 150)
        sched = reset_schedule(self.spec, total - len(seq), rng, every=60)
        sched[0] = sched[1] = False
        for i in range(total - len(seq)):
            d = rng.choice(corners) if rng.random() < 0.2 else rng.getrandbits(w)
            cyc(reset=sched[i], en=1 if rng.random() < 0.75 else 0, d=d)
        return seq
