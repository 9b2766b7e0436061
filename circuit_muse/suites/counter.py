"""Counter family: up, down or up/down; enable; synchronous load; wrap, saturate or modulo-N; reset styles."""
from __future__ import annotations

import random
from typing import ClassVar

from ..contract import Contract
from ..errors import InputError
from .base import Axis, CycleModel, CycleSuite, Spec, mask, port, render_rtl, reset_levels, reset_port, reset_schedule, reset_sentence

RESET_AXES = (
    Axis("reset", ("sync", "async"), "synchronous or asynchronous reset"),
    Axis("polarity", ("high", "low"), "reset active high (`rst`) or active low (`rst_n`)"),
)


class CounterModel(CycleModel):
    def __init__(self, spec: Spec) -> None:
        super().__init__(spec)
        self.c = spec.choices
        self.width = spec.params["WIDTH"]
        self.modulo = spec.params["MODULO"]
        self.reset_value = spec.params["RESET"]
        self.count = 0

    def reset(self) -> None:
        self.count = self.reset_value

    def comb(self, inp: dict[str, int]) -> dict[str, int | None]:
        return {"count": self.count}

    def _next(self, up: bool) -> int:
        top = mask(self.width)
        ov = self.c["overflow"]
        n = self.count
        if up:
            if ov == "wrap":
                return (n + 1) & top
            if ov == "sat":
                return min(n + 1, top)
            return 0 if n >= self.modulo - 1 else n + 1
        if ov == "wrap":
            return (n - 1) & top
        if ov == "sat":
            return max(n - 1, 0)
        return self.modulo - 1 if n == 0 else n - 1

    def step(self, inp: dict[str, int]) -> None:
        if self.c["load"] == "load" and inp["load"]:
            self.count = inp["d"] & mask(self.width)
            return
        if self.c["enable"] == "en" and not inp["en"]:
            return
        d = self.c["direction"]
        self.count = self._next(d == "up" or (d == "updown" and bool(inp["up"])))


class CounterSuite(CycleSuite):
    family = "counter"
    summary = "binary counters: up/down/up-down, enable, synchronous load, wrap/saturate/modulo-N, reset styles"
    axes = (
        Axis("direction", ("up", "down", "updown"), "count direction (`updown`: input `up` picks it)"),
        Axis("enable", ("noen", "en"), "count only while `en` is 1"),
        Axis("load", ("noload", "load"), "synchronous parallel load of `d` when `load` is 1"),
        Axis("overflow", ("wrap", "sat", "mod"), "wrap around, saturate at the ends, or count modulo MODULO"),
        *RESET_AXES,
    )
    presets: ClassVar[dict[str, str]] = {
        "basic": "up",
        "enable": "up-en",
        "updown_en": "updown-en",
        "updown_load": "updown-load",
        "saturating": "up-en-sat",
        "modulo": "up-en-mod",
        "down": "down-en",
    }
    default_params = {"WIDTH": 8, "MODULO": 10, "RESET": 0}
    param_help = {"WIDTH": "counter width in bits", "MODULO": "count modulus N (overflow=mod only)",
                  "RESET": "the value reset gives `count` (default 0)"}
    parameterized_default = False

    def check_params(self, params: dict[str, int]) -> None:
        super().check_params(params)
        if not 1 <= params["WIDTH"] <= 32:
            raise InputError(f"counter: WIDTH must be 1..32, got {params['WIDTH']}")
        if self.choices["overflow"] == "mod" and not 2 <= params["MODULO"] <= (1 << params["WIDTH"]):
            raise InputError(f"counter: MODULO must be 2..2**WIDTH, got {params['MODULO']} for WIDTH "
                             f"{params['WIDTH']} (pass a larger WIDTH)")
        top = params["MODULO"] - 1 if self.choices["overflow"] == "mod" else (1 << params["WIDTH"]) - 1
        if not 0 <= params["RESET"] <= top:
            raise InputError(f"counter: RESET must be 0..{top} for this WIDTH/MODULO, got {params['RESET']}")

    def build_spec(self) -> Spec:
        c, p = self.choices, self.params
        rst, low, is_async = reset_port(c)
        w = p["WIDTH"]
        ports = [port("clk", "input"), port(rst, "input")]
        if c["enable"] == "en":
            ports.append(port("en", "input"))
        if c["direction"] == "updown":
            ports.append(port("up", "input"))
        if c["load"] == "load":
            ports += [port("load", "input"), port("d", "input", w)]
        ports.append(port("count", "output", w))
        hdl = {"WIDTH": w}
        if c["overflow"] == "mod":
            hdl["MODULO"] = p["MODULO"]
        contract = Contract("counter", tuple(ports), hdl if self.parameterized else {})
        dir_word = {"up": "up", "down": "down", "updown": "up/down"}[c["direction"]]
        title = f"a {w}-bit {dir_word} counter"
        if c["overflow"] == "sat":
            title += " that saturates instead of wrapping"
        elif c["overflow"] == "mod":
            title += f" that counts modulo {p['MODULO']}"
        if p["RESET"]:
            title += f", reset to {p['RESET']}"
        beh = [reset_sentence(rst, low, is_async, f"`count` becomes {p['RESET']}")]
        if c["load"] == "load":
            beh.append("When `load` is 1 on a rising edge (and reset is not asserted), `count` takes the value of "
                       "`d` (synchronous load). Load has priority over counting" +
                       (" and works whether or not `en` is 1." if c["enable"] == "en" else "."))
        step = "On every rising clock edge that neither resets nor loads"
        if c["enable"] == "en":
            step += " and where `en` is 1"
        if c["direction"] == "updown":
            step += ", `count` moves one step: up (+1) when `up` is 1, down (-1) when `up` is 0."
        else:
            step += f", `count` moves one step {'up (+1)' if c['direction'] == 'up' else 'down (-1)'}."
        if c["enable"] == "en":
            step += " When `en` is 0 it holds its value."
        beh.append(step)
        maxv = (1 << w) - 1
        if c["overflow"] == "wrap":
            beh.append(f"It wraps around: up from {maxv} gives 0, down from 0 gives {maxv}.")
        elif c["overflow"] == "sat":
            beh.append(f"It saturates: counting up at {maxv} stays at {maxv}; counting down at 0 stays at 0 "
                       "(no wrap-around, no overflow).")
        else:
            beh.append(f"It counts modulo {p['MODULO']}: values are 0..{p['MODULO'] - 1}; up from "
                       f"{p['MODULO'] - 1} gives 0, down from 0 gives {p['MODULO'] - 1}." +
                       (f" Loaded values are always below {p['MODULO']}." if c["load"] == "load" else ""))
        timing = ["`count` is a register: it changes only on the rising edge of `clk`"
                  + (" (or when the asynchronous reset is asserted)." if is_async else "."),
                  "The testbench changes inputs away from the clock edge and samples `count` just before each "
                  "rising edge."]
        return Spec(family=self.family, variant=self.variant, params=dict(p), contract=contract, title=title,
                    behaviour=tuple(beh), timing=tuple(timing), clock="clk", reset=rst, reset_active_low=low,
                    reset_async=is_async, choices=dict(c))

    def reference_rtl(self) -> str:
        c, p = self.choices, self.params
        rst, low, is_async = reset_port(c)
        return render_rtl("counter.v.j2", module=self.contract.module, variant=self.variant, WIDTH=p["WIDTH"],
                          MODULO=p["MODULO"], RESET=p["RESET"], rst=rst, low=low, is_async=is_async, en=c["enable"] == "en",
                          updown=c["direction"] == "updown", direction=c["direction"], load=c["load"] == "load",
                          wrap=c["overflow"] == "wrap", sat=c["overflow"] == "sat", mod=c["overflow"] == "mod")

    def new_model(self) -> CounterModel:
        return CounterModel(self.spec)

    def stimulus(self, rng: random.Random, n: int) -> list[dict[str, int]]:
        c, p = self.choices, self.params
        w = p["WIDTH"]
        top = (p["MODULO"] if c["overflow"] == "mod" else 1 << w) - 1
        on, off = reset_levels(self.spec)
        rst = self.spec.reset or ""
        corners = sorted({0, 1, top, max(top - 1, 0), top // 2})
        seq: list[dict[str, int]] = []

        def cyc(reset: bool = False, en: int = 1, up: int = 1, load: int = 0, d: int = 0) -> None:
            v = {rst: on if reset else off}
            if c["enable"] == "en":
                v["en"] = en
            if c["direction"] == "updown":
                v["up"] = up
            if c["load"] == "load":
                v["load"], v["d"] = load, d
            seq.append(v)

        cyc(reset=True, en=1)
        cyc(reset=True, en=0)
        # directed: run through the top and the bottom in each direction (wrap/saturate/modulo corners)
        dirs = {"up": [1], "down": [0], "updown": [1, 0]}[c["direction"]]
        span = top + 4
        for up in dirs:
            if c["load"] == "load":
                for target in corners:
                    cyc(load=1, d=target, up=up)
                    for _ in range(3):
                        cyc(up=up)
                cyc(load=1, d=top, up=up, en=0)  # load works without enable
                cyc(en=0, up=up)
            if span <= 300 or c["load"] != "load":
                for _ in range(min(span, 300)):
                    cyc(up=up)
        if c["enable"] == "en":
            for _ in range(4):
                cyc(en=0)
        cyc(reset=True)
        cyc(reset=True, load=1, d=top)  # reset beats load
        if c["load"] == "load":
            cyc(load=1, d=corners[len(corners) // 2], up=1)
        # random
        total = max(n, len(seq) + 200)
        sched = reset_schedule(self.spec, total - len(seq), rng)
        sched[0] = sched[1] = False
        run_up = 1
        for i in range(total - len(seq)):
            if rng.random() < 0.1:
                run_up ^= 1
            load = 1 if rng.random() < 0.08 else 0
            d = rng.choice(corners) if rng.random() < 0.5 else rng.randint(0, top)
            cyc(reset=sched[i], en=1 if rng.random() < 0.8 else 0, up=run_up, load=load, d=d)
        return seq
