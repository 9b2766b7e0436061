"""Assertion (SVA) training tasks beyond the three properties the suites' assertion family ships.

Each catalog entry is a checker module (the answer), its port list, and traffic generators: one compliant
traffic the checker must never fire on, and several violating traffics it must fire on. The check reuses
the suites' AssertionSuite runner (Verilator --assert, one checker copy per traffic) through a subclass, so
a catalog property is verified exactly like a suite property.
"""
from __future__ import annotations

import hashlib
import json
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, ClassVar

from ..contract import Contract
from ..errors import InputError
from ..suites.assertion import AssertionSuite, Traffic
from ..suites.base import Axis, Spec, port
from .sources import fill, substitute_params

Cycle = dict[str, int]
Gen = Callable[[random.Random, dict[str, int]], tuple[list[Cycle], list[tuple[str, list[Cycle], int]]]]


@dataclass(frozen=True)
class Prop:
    name: str
    module: str
    title: str
    text: str                         # what must hold (spec sentence, ${PARAM} placeholders)
    ports: tuple[tuple[str, str], ...]  # (name, width expression in params) besides clk
    checker: str                      # the answer: a checker module (parameter defaults = `params`)
    gen: Gen
    params: dict[str, int] = field(default_factory=dict)
    sweep: tuple[dict[str, int], ...] = ()
    stage: int = 3
    domain: str = ""                  # the design family the property is about (for stats only)
    why: str = ""                     # one-paragraph explanation that follows the code in the answer

    def widths(self, p: dict[str, int]) -> list[tuple[str, int]]:
        from .sources import eval_int

        return [(n, eval_int(w, p)) for n, w in self.ports]

    def points(self) -> list[dict[str, int]]:
        out = [dict(self.params)]
        out += [{**self.params, **s} for s in self.sweep if {**self.params, **s} not in out]
        return out

    def answer(self, p: dict[str, int]) -> str:
        return substitute_params(self.checker, {**self.params, **p})

    def describe(self, p: dict[str, int]) -> str:
        return fill(self.text, {**self.params, **p})


def _rst(n: int = 3) -> list[int]:
    return [0] * n


def _traffic(fields: list[str], rows: list[Cycle]) -> list[Cycle]:
    return [{f: int(r.get(f, 0)) for f in fields} for r in rows]


# ---------------------------------------------------------------------------------------------------
# traffic generators. Each returns (compliant cycles, [(name, violating cycles, violation index)]).
# Cycle dicts hold every input but clk; rst_n is 0 for the first cycles.


def _gen_req_ack(rng: random.Random, p: dict[str, int]):
    n = p["N"]

    def run(length: int, late: int | None = None) -> tuple[list[Cycle], int]:
        rows: list[Cycle] = [{"rst_n": 0, "req": 0, "ack": 0} for _ in range(3)]
        viol = -1
        while len(rows) < length:
            gap = rng.randrange(1, 5)
            rows += [{"rst_n": 1, "req": 0, "ack": 0} for _ in range(gap)]
            is_late = late is not None and viol < 0 and len(rows) > 20
            delay = n + late if is_late else rng.randrange(1, n + 1)   # too late: no ack within N cycles
            start = len(rows)
            for k in range(delay + 1):
                rows.append({"rst_n": 1, "req": 1, "ack": int(k == delay)})
            if is_late:
                viol = start + n
            rows.append({"rst_n": 1, "req": 0, "ack": 0})
        return rows, viol

    comp, _ = run(300)
    v1, i1 = run(40, late=1)
    v2, i2 = run(40, late=4)
    return comp, [("ack one cycle late", v1, i1), ("ack much too late", v2, i2)]


def _gen_req_hold(rng: random.Random, p: dict[str, int]):
    def comp_rows(length: int) -> list[Cycle]:
        rows = [{"rst_n": 0, "req": rng.getrandbits(1), "ack": 0} for _ in range(3)]
        req = 0
        while len(rows) < length:
            prev = rows[-1]
            if prev["rst_n"] and prev["req"] and not prev["ack"]:
                req = 1
            else:
                req = int(rng.random() < 0.5)
            ack = int(req and rng.random() < 0.35)
            rows.append({"rst_n": 1, "req": req, "ack": ack})
        return rows

    comp = comp_rows(300)
    vs = []
    for name, stall in (("req dropped after one cycle", 1), ("req dropped after a long wait", 5)):
        rows = comp_rows(30)
        if rows[-1]["req"] and not rows[-1]["ack"]:
            rows.append({"rst_n": 1, "req": 1, "ack": 1})    # finish the pending request legally
        rows += [{"rst_n": 1, "req": 0, "ack": 0}]
        rows += [{"rst_n": 1, "req": 1, "ack": 0} for _ in range(stall)]
        viol = len(rows)
        rows += [{"rst_n": 1, "req": 0, "ack": 0}, {"rst_n": 1, "req": 0, "ack": 0}]
        vs.append((name, rows, viol))
    return comp, vs


def _gen_gnt_subset(rng: random.Random, p: dict[str, int]):
    n = p["N"]

    def legal() -> Cycle:
        req = rng.getrandbits(n)
        bits = [i for i in range(n) if req >> i & 1]
        gnt = (1 << rng.choice(bits)) if bits and rng.random() < 0.8 else 0
        return {"rst_n": 1, "req": req, "gnt": gnt}

    comp = [{"rst_n": 0, "req": rng.getrandbits(n), "gnt": rng.getrandbits(n)} for _ in range(3)]
    comp += [legal() for _ in range(300)]
    vs = []
    for name, mk in (("grant without any request", lambda: {"rst_n": 1, "req": 0, "gnt": 1 << (n - 1)}),
                     ("grant to a non-requester", lambda: {"rst_n": 1, "req": 1, "gnt": 2}),
                     ("extra grant bit", lambda: {"rst_n": 1, "req": 1 | 4, "gnt": 1 | 2})):
        rows = [{"rst_n": 0, "req": 0, "gnt": 0}] * 3 + [legal() for _ in range(20)]
        viol = len(rows)
        rows += [mk(), legal(), legal()]
        vs.append((name, rows, viol))
    return comp, vs


def _gen_fifo_guard(sig: str, flag: str):
    def gen(rng: random.Random, p: dict[str, int]):
        def rows_(length: int) -> list[Cycle]:
            rows = [{"rst_n": 0, flag: 1, sig: rng.getrandbits(1)} for _ in range(3)]
            f = 0
            while len(rows) < length:
                if rng.random() < 0.15:
                    f = 1 - f
                en = 0 if f else int(rng.random() < 0.7)
                rows.append({"rst_n": 1, flag: f, sig: en})
            return rows

        comp = rows_(300)
        vs = []
        for name, run in ((f"{sig} in the first {flag} cycle", 1), (f"{sig} after a long {flag} period", 6)):
            rows = rows_(20)
            rows += [{"rst_n": 1, flag: 1, sig: 0} for _ in range(run - 1)]
            viol = len(rows)
            rows += [{"rst_n": 1, flag: 1, sig: 1}, {"rst_n": 1, flag: 0, sig: 0}]
            vs.append((name, rows, viol))
        return comp, vs

    return gen


def _gen_full_empty(rng: random.Random, p: dict[str, int]):
    def legal() -> Cycle:
        r = rng.random()
        return {"rst_n": 1, "full": int(r < 0.25), "empty": int(0.25 <= r < 0.55)}

    comp = [{"rst_n": 0, "full": 1, "empty": 1}] * 3 + [legal() for _ in range(300)]
    vs = []
    for name in ("full and empty together", "full and empty together after a long run"):
        rows = [{"rst_n": 0, "full": 0, "empty": 1}] * 3 + [legal() for _ in range(10 if "long" not in name else 60)]
        viol = len(rows)
        rows += [{"rst_n": 1, "full": 1, "empty": 1}, legal()]
        vs.append((name, rows, viol))
    return comp, vs


def _gen_onehot_state(rng: random.Random, p: dict[str, int]):
    n = p["N"]
    comp = [{"rst_n": 0, "state": rng.getrandbits(n)} for _ in range(3)]
    comp += [{"rst_n": 1, "state": 1 << rng.randrange(n)} for _ in range(300)]
    vs = []
    for name, bad in (("no state bit set", 0), ("two state bits set", 0b11), ("all state bits set", (1 << n) - 1)):
        rows = [{"rst_n": 0, "state": 1}] * 3 + [{"rst_n": 1, "state": 1 << rng.randrange(n)} for _ in range(15)]
        viol = len(rows)
        rows += [{"rst_n": 1, "state": bad}, {"rst_n": 1, "state": 1}]
        vs.append((name, rows, viol))
    return comp, vs


def _gen_single_pulse(rng: random.Random, p: dict[str, int]):
    def rows_(length: int) -> list[Cycle]:
        rows = [{"rst_n": 0, "done": 1}] * 3
        while len(rows) < length:
            rows += [{"rst_n": 1, "done": 0} for _ in range(rng.randrange(1, 6))]
            rows.append({"rst_n": 1, "done": 1})
        return rows

    comp = rows_(300)
    vs = []
    for name, width in (("pulse two cycles wide", 2), ("pulse stuck high", 6)):
        rows = rows_(20) + [{"rst_n": 1, "done": 0}]
        viol = len(rows) + 1
        rows += [{"rst_n": 1, "done": 1} for _ in range(width)] + [{"rst_n": 1, "done": 0}]
        vs.append((name, rows, viol))
    return comp, vs


def _gen_no_start_busy(rng: random.Random, p: dict[str, int]):
    def rows_(length: int) -> list[Cycle]:
        rows = [{"rst_n": 0, "start": rng.getrandbits(1), "busy": rng.getrandbits(1)} for _ in range(3)]
        while len(rows) < length:
            rows += [{"rst_n": 1, "start": 0, "busy": 0} for _ in range(rng.randrange(0, 4))]
            rows.append({"rst_n": 1, "start": 1, "busy": 0})
            rows += [{"rst_n": 1, "start": 0, "busy": 1} for _ in range(rng.randrange(1, 8))]
        return rows

    comp = rows_(300)
    vs = []
    for name, at in (("start in the first busy cycle", 0), ("start late in a busy period", 4)):
        rows = rows_(20) + [{"rst_n": 1, "start": 1, "busy": 0}]
        rows += [{"rst_n": 1, "start": 0, "busy": 1} for _ in range(at)]
        viol = len(rows)
        rows += [{"rst_n": 1, "start": 1, "busy": 1}, {"rst_n": 1, "start": 0, "busy": 1}, {"rst_n": 1, "start": 0, "busy": 0}]
        vs.append((name, rows, viol))
    return comp, vs


def _gen_busy_bounded(rng: random.Random, p: dict[str, int]):
    mx = p["MAX"]

    def rows_(length: int) -> list[Cycle]:
        rows = [{"rst_n": 0, "busy": rng.getrandbits(1)} for _ in range(3)]
        while len(rows) < length:
            rows += [{"rst_n": 1, "busy": 0} for _ in range(rng.randrange(1, 5))]
            rows += [{"rst_n": 1, "busy": 1} for _ in range(rng.randrange(1, mx + 1))]
        return rows + [{"rst_n": 1, "busy": 0}]

    comp = rows_(300)
    vs = []
    for name, extra in (("busy one cycle too long", 1), ("busy stuck", mx + 6)):
        rows = rows_(20) + [{"rst_n": 1, "busy": 0}]
        start = len(rows)
        rows += [{"rst_n": 1, "busy": 1} for _ in range(mx + extra)] + [{"rst_n": 1, "busy": 0}] * 2
        vs.append((name, rows, start + mx))
    return comp, vs


def _gen_hold_when_disabled(rng: random.Random, p: dict[str, int]):
    w = p["WIDTH"]

    def rows_(length: int) -> list[Cycle]:
        rows = [{"rst_n": 0, "en": rng.getrandbits(1), "q": rng.getrandbits(w)} for _ in range(3)]
        q = rng.getrandbits(w)
        while len(rows) < length:
            prev = rows[-1]
            if prev["rst_n"] and prev["en"]:
                q = rng.getrandbits(w)  # may change after an enabled edge
            rows.append({"rst_n": 1, "en": int(rng.random() < 0.4), "q": q})
        return rows

    comp = rows_(300)
    vs = []
    for name, flip in (("q changes in its low bit while disabled", 1), ("q changes in its top bit while disabled", 1 << (w - 1))):
        rows = rows_(20)
        q = rows[-1]["q"] if not rows[-1]["en"] else rng.getrandbits(w)
        rows.append({"rst_n": 1, "en": 0, "q": q})
        viol = len(rows)
        rows += [{"rst_n": 1, "en": 0, "q": q ^ flip}, {"rst_n": 1, "en": 0, "q": q ^ flip}]
        vs.append((name, rows, viol))
    return comp, vs


def _gen_count_step(rng: random.Random, p: dict[str, int]):
    w = p["WIDTH"]
    top = (1 << w) - 1

    def rows_(length: int) -> list[Cycle]:
        rows = [{"rst_n": 0, "en": 1, "count": rng.getrandbits(w)} for _ in range(3)]
        c = 0
        while len(rows) < length:
            prev = rows[-1]
            if prev["rst_n"] and prev["en"]:
                c = (c + 1) & top
            elif not prev["rst_n"]:
                c = 0
            rows.append({"rst_n": 1, "en": int(rng.random() < 0.7), "count": c})
        return rows

    comp = rows_(300 + top)
    vs = []
    for name, bad in (("count skips a value", 2), ("count does not move", 0), ("count goes down", top)):
        rows = rows_(25)
        c = rows[-1]["count"] + (1 if rows[-1]["en"] else 0)
        rows.append({"rst_n": 1, "en": 1, "count": c & top})
        viol = len(rows)
        rows += [{"rst_n": 1, "en": 0, "count": (c + bad) & top}, {"rst_n": 1, "en": 0, "count": (c + bad) & top}]
        vs.append((name, rows, viol))
    return comp, vs


def _gen_reset_value(rng: random.Random, p: dict[str, int]):
    w = p["WIDTH"]

    def rows_(length: int) -> list[Cycle]:
        rows: list[Cycle] = []
        q = rng.getrandbits(w)
        in_reset = True
        while len(rows) < length:
            # q is 0 in the cycle after any cycle with rst_n = 0 (the bench holds rst_n = 0 before row 0)
            if not rows or not rows[-1]["rst_n"]:
                q = 0
            elif rows:
                q = rng.getrandbits(w) if rng.random() < 0.5 else q
            rst_n = 0 if (in_reset or rng.random() < 0.05) else 1
            in_reset = len(rows) < 2
            rows.append({"rst_n": rst_n, "q": q})
        return rows

    comp = rows_(300)
    vs = []
    for name, n_rst in (("q not cleared after a one-cycle reset", 1), ("q not cleared after a long reset", 4)):
        rows = rows_(20)
        if not rows[-1]["rst_n"]:
            rows.append({"rst_n": 1, "q": 0})
        viol = len(rows) + 1          # q must already be 0 in the row after the first reset row
        rows += [{"rst_n": 0, "q": (1 << (w - 1)) | 1} for _ in range(n_rst)]
        rows += [{"rst_n": 1, "q": 1}, {"rst_n": 1, "q": 0}]
        vs.append((name, rows, viol))
    return comp, vs


def _gen_gray_step(rng: random.Random, p: dict[str, int]):
    w = p["WIDTH"]

    def g(b: int) -> int:
        return b ^ (b >> 1)

    def rows_(length: int) -> list[Cycle]:
        rows = [{"rst_n": 0, "gray": 0} for _ in range(3)]
        b = 0
        while len(rows) < length:
            if rng.random() < 0.6:
                b = (b + 1) % (1 << w)
            rows.append({"rst_n": 1, "gray": g(b)})
        return rows

    comp = rows_(300)
    vs = []
    for name, jump in (("binary-style jump of two bits", 2), ("jump across the wrap", 5)):
        rows = rows_(20)
        last = rows[-1]["gray"]
        b = next(i for i in range(1 << w) if g(i) == last)
        viol = len(rows)
        nb = (b + jump) % (1 << w) if jump != 2 else b ^ 0b11
        if bin(g(nb) ^ last).count("1") <= 1:
            nb = b ^ 0b110
        rows += [{"rst_n": 1, "gray": g(nb)}, {"rst_n": 1, "gray": g(nb)}]
        vs.append((name, rows, viol))
    return comp, vs


def _gen_mutex(rng: random.Random, p: dict[str, int]):
    def legal() -> Cycle:
        r = rng.random()
        return {"rst_n": 1, "rd_gnt": int(r < 0.4), "wr_gnt": int(0.4 <= r < 0.8)}

    comp = [{"rst_n": 0, "rd_gnt": 1, "wr_gnt": 1}] * 3 + [legal() for _ in range(300)]
    vs = []
    for name, pre in (("both grants in one cycle", 5), ("both grants after a long run", 50)):
        rows = [{"rst_n": 0, "rd_gnt": 0, "wr_gnt": 0}] * 3 + [legal() for _ in range(pre)]
        viol = len(rows)
        rows += [{"rst_n": 1, "rd_gnt": 1, "wr_gnt": 1}, legal()]
        vs.append((name, rows, viol))
    return comp, vs


def _gen_apb_phases(rng: random.Random, p: dict[str, int]):
    def transfer(waits: int) -> list[Cycle]:
        rows = [{"rst_n": 1, "psel": 1, "penable": 0, "pready": 0}]
        rows += [{"rst_n": 1, "psel": 1, "penable": 1, "pready": 0} for _ in range(waits)]
        rows.append({"rst_n": 1, "psel": 1, "penable": 1, "pready": 1})
        return rows

    def rows_(length: int) -> list[Cycle]:
        rows = [{"rst_n": 0, "psel": 0, "penable": 0, "pready": 0}] * 3
        while len(rows) < length:
            rows += [{"rst_n": 1, "psel": 0, "penable": 0, "pready": rng.getrandbits(1)}
                     for _ in range(rng.randrange(0, 3))]
            rows += transfer(rng.randrange(0, 3))
        return rows + [{"rst_n": 1, "psel": 0, "penable": 0, "pready": 0}]

    comp = rows_(300)
    vs = []
    rows = rows_(20)
    viol = len(rows)
    rows += [{"rst_n": 1, "psel": 1, "penable": 0, "pready": 0}, {"rst_n": 1, "psel": 1, "penable": 0, "pready": 0},
             {"rst_n": 1, "psel": 1, "penable": 1, "pready": 1}, {"rst_n": 1, "psel": 0, "penable": 0, "pready": 0}]
    vs.append(("setup phase repeated instead of access", rows, viol))
    rows = rows_(20)
    viol = len(rows)
    rows += [{"rst_n": 1, "psel": 1, "penable": 0, "pready": 0}, {"rst_n": 1, "psel": 0, "penable": 0, "pready": 0},
             {"rst_n": 1, "psel": 0, "penable": 0, "pready": 0}]
    vs.append(("transfer abandoned after setup", rows, viol))
    return comp, vs


def _gen_apb_enable_sel(rng: random.Random, p: dict[str, int]):
    comp, _ = _gen_apb_phases(rng, p)
    comp = [{k: v for k, v in c.items() if k != "pready"} for c in comp]
    vs = []
    for name, pre in (("penable without psel", 10), ("penable without psel after transfers", 40)):
        rows = [{k: v for k, v in c.items() if k != "pready"} for c in comp[:pre]]
        if rows[-1]["psel"] and not rows[-1]["penable"]:
            rows.append({"rst_n": 1, "psel": 1, "penable": 1})
        viol = len(rows)
        rows += [{"rst_n": 1, "psel": 0, "penable": 1}, {"rst_n": 1, "psel": 0, "penable": 0}]
        vs.append((name, rows, viol))
    return comp, vs


def _gen_aw_stable(rng: random.Random, p: dict[str, int]):
    w = p["AW"]

    def rows_(length: int) -> list[Cycle]:
        rows = [{"rst_n": 0, "awvalid": 0, "awready": rng.getrandbits(1), "awaddr": rng.getrandbits(w)} for _ in range(3)]
        valid, addr = 0, 0
        while len(rows) < length:
            prev = rows[-1]
            if prev["rst_n"] and prev["awvalid"] and not prev["awready"]:
                valid, addr = 1, prev["awaddr"]
            else:
                valid, addr = int(rng.random() < 0.5), rng.getrandbits(w)
            rows.append({"rst_n": 1, "awvalid": valid, "awready": int(rng.random() < 0.4), "awaddr": addr})
        return rows

    comp = rows_(300)
    vs = []
    for name, kind in (("awvalid dropped before awready", "valid"), ("awaddr changed while waiting", "addr")):
        rows = rows_(20)
        if rows[-1]["awvalid"] and not rows[-1]["awready"]:
            rows.append({**rows[-1], "awready": 1})          # finish the pending transfer legally
        rows.append({"rst_n": 1, "awvalid": 0, "awready": 0, "awaddr": 0})
        a = rng.getrandbits(w) | 1
        rows += [{"rst_n": 1, "awvalid": 1, "awready": 0, "awaddr": a} for _ in range(2)]
        viol = len(rows)
        rows.append({"rst_n": 1, "awvalid": 0 if kind == "valid" else 1, "awready": 0,
                     "awaddr": a if kind == "valid" else a ^ (1 << (w - 1))})
        rows += [{"rst_n": 1, "awvalid": 1, "awready": 1, "awaddr": a}, {"rst_n": 1, "awvalid": 0, "awready": 0, "awaddr": 0}]
        vs.append((name, rows, viol))
    return comp, vs


def _gen_sclk_idle(rng: random.Random, p: dict[str, int]):
    def frame() -> list[Cycle]:
        rows = [{"rst_n": 1, "cs_n": 0, "sclk": 0}]
        for _ in range(8):
            rows += [{"rst_n": 1, "cs_n": 0, "sclk": 1}, {"rst_n": 1, "cs_n": 0, "sclk": 0}]
        return rows

    def rows_(length: int) -> list[Cycle]:
        rows = [{"rst_n": 0, "cs_n": 1, "sclk": rng.getrandbits(1)} for _ in range(3)]
        while len(rows) < length:
            rows += [{"rst_n": 1, "cs_n": 1, "sclk": 0} for _ in range(rng.randrange(1, 5))]
            rows += frame()
        return rows + [{"rst_n": 1, "cs_n": 1, "sclk": 0}]

    comp = rows_(300)
    vs = []
    for name, at in (("sclk high while deselected", 2), ("sclk still high when cs_n rises", 0)):
        rows = rows_(20)
        viol = len(rows) + at
        rows += [{"rst_n": 1, "cs_n": 1, "sclk": 0} for _ in range(at)]
        rows += [{"rst_n": 1, "cs_n": 1, "sclk": 1}, {"rst_n": 1, "cs_n": 1, "sclk": 0}]
        vs.append((name, rows, viol))
    return comp, vs


def _gen_uart_idle(rng: random.Random, p: dict[str, int]):
    def rows_(length: int) -> list[Cycle]:
        rows = [{"rst_n": 0, "busy": 0, "tx": 1} for _ in range(3)]
        while len(rows) < length:
            rows += [{"rst_n": 1, "busy": 0, "tx": 1} for _ in range(rng.randrange(1, 6))]
            rows += [{"rst_n": 1, "busy": 1, "tx": rng.getrandbits(1)} for _ in range(rng.randrange(4, 12))]
        return rows + [{"rst_n": 1, "busy": 0, "tx": 1}]

    comp = rows_(300)
    vs = []
    for name, pre in (("line low while idle", 0), ("line low long after a frame", 3)):
        rows = rows_(20) + [{"rst_n": 1, "busy": 0, "tx": 1} for _ in range(pre)]
        viol = len(rows)
        rows += [{"rst_n": 1, "busy": 0, "tx": 0}, {"rst_n": 1, "busy": 0, "tx": 1}]
        vs.append((name, rows, viol))
    return comp, vs


def _gen_ack_after_req(rng: random.Random, p: dict[str, int]):
    def rows_(length: int) -> list[Cycle]:
        rows = [{"rst_n": 0, "req": rng.getrandbits(1), "ack": 0} for _ in range(3)]
        while len(rows) < length:
            prev = rows[-1]
            req = int(rng.random() < 0.5)
            ack = int(prev["rst_n"] == 1 and prev["req"] == 1 and rng.random() < 0.6)
            rows.append({"rst_n": 1, "req": req, "ack": ack})
        return rows

    comp = rows_(300)
    vs = []
    for name, same in (("ack without any request", False), ("ack in the same cycle as the request", True)):
        rows = rows_(15) + [{"rst_n": 1, "req": 0, "ack": 0}]
        viol = len(rows)
        rows += [{"rst_n": 1, "req": int(same), "ack": 1}, {"rst_n": 1, "req": 0, "ack": 0}]
        vs.append((name, rows, viol))
    return comp, vs


def _gen_fsm_legal(rng: random.Random, p: dict[str, int]):
    # states: 0 IDLE, 1 REQ, 2 XFER, 3 DONE; legal: IDLE->IDLE|REQ, REQ->REQ|XFER, XFER->XFER|DONE, DONE->IDLE
    nxt = {0: (0, 1), 1: (1, 2), 2: (2, 3), 3: (0,)}

    def rows_(length: int) -> list[Cycle]:
        rows = [{"rst_n": 0, "state": rng.randrange(4)} for _ in range(2)] + [{"rst_n": 0, "state": 0}]
        s = 0
        while len(rows) < length:
            s = rng.choice(nxt[s])
            rows.append({"rst_n": 1, "state": s})
        return rows

    comp = rows_(300)
    vs = []
    for name, frm, to in (("IDLE jumps to XFER", 0, 2), ("DONE stays in DONE", 3, 3), ("XFER goes back to REQ", 2, 1)):
        rows = rows_(10)
        path = {0: [], 1: [1], 2: [1, 2], 3: [1, 2, 3]}[frm]
        if rows[-1]["state"] != 0:
            while rows[-1]["state"] != 0:
                rows.append({"rst_n": 1, "state": nxt[rows[-1]["state"]][-1] if rows[-1]["state"] != 3 else 0})
        rows += [{"rst_n": 1, "state": s} for s in path]
        viol = len(rows) - 1
        rows += [{"rst_n": 1, "state": to}, {"rst_n": 1, "state": 0}]
        vs.append((name, rows, viol))
    return comp, vs


# ---------------------------------------------------------------------------------------------------
# the catalog

_REQ_ACK = """// Handshake checker: every new request is acknowledged within 1..N cycles.
module req_ack_check #(
    parameter int N = 3
) (
    input logic clk,
    input logic rst_n,
    input logic req,
    input logic ack
);
    property p_ack_within_n;
        @(posedge clk) disable iff (!rst_n)
            $rose(req) |-> ##[1:N] ack;
    endproperty

    a_ack_within_n: assert property (p_ack_within_n)
        else $error("req was not acknowledged within %0d cycles", N);
endmodule
"""

CATALOG: dict[str, Prop] = {}


def _add(p: Prop) -> None:
    CATALOG[p.name] = p


_add(Prop(
    "req_ack_window", "req_ack_check", "a checker that every request is acknowledged within N cycles",
    "Whenever `req` rises (it was 0 at the previous rising edge and is 1 now), `ack` must be 1 at one of the next "
    "${N} rising edges (1 to ${N} cycles later).",
    (("rst_n", "1"), ("req", "1"), ("ack", "1")), _REQ_ACK, _gen_req_ack, {"N": 3}, ({"N": 2}, {"N": 5}),
    stage=3, domain="handshake",
    why="`$rose(req)` starts a check only on a new request, and `##[1:N] ack` passes as soon as `ack` is seen in any "
        "of the next N cycles, so an early acknowledge is fine and a missing one fails exactly N cycles after the "
        "request. `disable iff (!rst_n)` abandons checks that are in flight when reset is asserted."))

_add(Prop(
    "req_hold_until_ack", "req_hold_check", "a checker that a request stays asserted until it is acknowledged",
    "Once `req` is 1 it must remain 1 until a cycle in which `ack` is 1: whenever `req && !ack` holds at a rising edge, "
    "`req` must be 1 at the next rising edge.",
    (("rst_n", "1"), ("req", "1"), ("ack", "1")),
    """// Request/acknowledge checker: a request may not be withdrawn before it is acknowledged.
module req_hold_check (
    input logic clk,
    input logic rst_n,
    input logic req,
    input logic ack
);
    a_req_held: assert property (@(posedge clk) disable iff (!rst_n) (req && !ack) |=> req)
        else $error("req dropped before ack");
endmodule
""", _gen_req_hold, stage=3, domain="handshake",
    why="The non-overlapping implication `|=>` checks the consequent one cycle after the antecedent, so every cycle "
        "in which the request is pending but not yet acknowledged obliges `req` to still be high in the next cycle. "
        "The cycle with `ack` = 1 ends the obligation, so the request may drop right after it."))

_add(Prop(
    "grant_subset_req", "grant_req_check", "a checker that an arbiter only grants requesters",
    "At every rising edge every bit set in `gnt` must also be set in `req` (no grant without a request), for the "
    "${N}-bit vectors.",
    (("rst_n", "1"), ("req", "N"), ("gnt", "N")),
    """// Arbiter checker: a grant only ever goes to an active requester.
module grant_req_check #(
    parameter int N = 4
) (
    input logic         clk,
    input logic         rst_n,
    input logic [N-1:0] req,
    input logic [N-1:0] gnt
);
    a_grant_has_req: assert property (@(posedge clk) disable iff (!rst_n) (gnt & ~req) == '0)
        else $error("grant %b without request %b", gnt, req);
endmodule
""", _gen_gnt_subset, {"N": 4}, ({"N": 8},), stage=3, domain="arbiter",
    why="`gnt & ~req` keeps exactly the grant bits whose requester is idle; the property requires that vector to be "
        "all zeros ('0 sizes itself to N bits). It is a combinational (single-cycle) property, so it needs no "
        "implication: it is simply checked at every clock edge outside reset."))

_add(Prop(
    "fifo_no_overflow", "fifo_overflow_check", "a checker that a FIFO is never written while full",
    "At every rising edge at which `full` is 1, `wr_en` must be 0.",
    (("rst_n", "1"), ("full", "1"), ("wr_en", "1")),
    """// FIFO protocol checker (producer side): no write into a full FIFO.
module fifo_overflow_check (
    input logic clk,
    input logic rst_n,
    input logic full,
    input logic wr_en
);
    a_no_overflow: assert property (@(posedge clk) disable iff (!rst_n) full |-> !wr_en)
        else $error("write while FIFO full");
endmodule
""", _gen_fifo_guard("wr_en", "full"), stage=3, domain="fifo",
    why="The overlapping implication `|->` checks the consequent in the same cycle as the antecedent: whenever the "
        "FIFO reports full at a clock edge, the producer must not be writing at that edge. Binding this checker to "
        "the producer's interface catches overflows at the source instead of as corrupted data later."))

_add(Prop(
    "fifo_no_underflow", "fifo_underflow_check", "a checker that a FIFO is never read while empty",
    "At every rising edge at which `empty` is 1, `rd_en` must be 0.",
    (("rst_n", "1"), ("empty", "1"), ("rd_en", "1")),
    """// FIFO protocol checker (consumer side): no read from an empty FIFO.
module fifo_underflow_check (
    input logic clk,
    input logic rst_n,
    input logic empty,
    input logic rd_en
);
    a_no_underflow: assert property (@(posedge clk) disable iff (!rst_n) empty |-> !rd_en)
        else $error("read while FIFO empty");
endmodule
""", _gen_fifo_guard("rd_en", "empty"), stage=3, domain="fifo",
    why="`empty |-> !rd_en` is checked at every edge outside reset: a read request in a cycle where the FIFO is "
        "empty is an underflow. Using `|->` (same cycle) matches the synchronous FIFO convention that the flags "
        "describe the state at the edge where the request is sampled."))

_add(Prop(
    "full_empty_exclusive", "fifo_flags_check", "a checker that FIFO full and empty are never both set",
    "`full` and `empty` must never be 1 at the same rising edge.",
    (("rst_n", "1"), ("full", "1"), ("empty", "1")),
    """// FIFO flag sanity checker: full and empty are mutually exclusive.
module fifo_flags_check (
    input logic clk,
    input logic rst_n,
    input logic full,
    input logic empty
);
    a_flags_exclusive: assert property (@(posedge clk) disable iff (!rst_n) !(full && empty))
        else $error("full and empty asserted together");
endmodule
""", _gen_full_empty, stage=3, domain="fifo",
    why="A FIFO with at least one entry cannot be full and empty at once; seeing both usually means the pointer "
        "comparison lost its wrap bit. The property is a plain boolean checked at every edge outside reset."))

_add(Prop(
    "onehot_state", "fsm_onehot_check", "a checker that a one-hot FSM state register always has exactly one bit set",
    "At every rising edge outside reset, the ${N}-bit `state` vector has exactly one bit set ($$onehot).",
    (("rst_n", "1"), ("state", "N")),
    """// One-hot FSM checker: the state register is always exactly one-hot.
module fsm_onehot_check #(
    parameter int N = 5
) (
    input logic         clk,
    input logic         rst_n,
    input logic [N-1:0] state
);
    a_state_onehot: assert property (@(posedge clk) disable iff (!rst_n) $onehot(state))
        else $error("state %b is not one-hot", state);
endmodule
""", _gen_onehot_state, {"N": 5}, ({"N": 3}, {"N": 8}), stage=3, domain="fsm",
    why="`$onehot` is true when exactly one bit is set, so it rejects both the all-zeros vector (the FSM lost its "
        "state) and vectors with several bits set. `$onehot0` would accept zero and is the right choice for grant "
        "vectors, not for a one-hot state register."))

_add(Prop(
    "single_cycle_pulse", "pulse_check", "a checker that a done strobe is a single-cycle pulse",
    "`done` may never be 1 at two consecutive rising edges: whenever `done` is 1, it must be 0 at the next rising edge.",
    (("rst_n", "1"), ("done", "1")),
    """// Strobe checker: done is a one-cycle pulse.
module pulse_check (
    input logic clk,
    input logic rst_n,
    input logic done
);
    a_done_pulse: assert property (@(posedge clk) disable iff (!rst_n) done |=> !done)
        else $error("done stayed high for more than one cycle");
endmodule
""", _gen_single_pulse, stage=3, domain="other",
    why="`done |=> !done` requires the cycle after every pulse to be low, so a strobe that stays high for two or more "
        "cycles fails on its second cycle. Consumers that count pulses rely on this, since a two-cycle strobe would "
        "be counted twice."))

_add(Prop(
    "no_start_while_busy", "start_busy_check", "a checker that a new operation is never started while the engine is busy",
    "At every rising edge at which `busy` is 1, `start` must be 0.",
    (("rst_n", "1"), ("start", "1"), ("busy", "1")),
    """// Command interface checker: start is only allowed while the engine is idle.
module start_busy_check (
    input logic clk,
    input logic rst_n,
    input logic start,
    input logic busy
);
    a_no_start_when_busy: assert property (@(posedge clk) disable iff (!rst_n) busy |-> !start)
        else $error("start asserted while busy");
endmodule
""", _gen_no_start_busy, stage=3, domain="other",
    why="The engine ignores (or worse, half-accepts) a start while it is busy, so the requester must wait for "
        "`busy` to drop. `busy |-> !start` states exactly that at every edge; the cycle in which `start` is accepted "
        "is allowed because `busy` only rises after it."))

_add(Prop(
    "busy_bounded", "busy_timeout_check", "a checker that busy never lasts more than MAX cycles",
    "Whenever `busy` rises, it must fall again within ${MAX} cycles: `busy` may be 1 for at most ${MAX} consecutive "
    "rising edges.",
    (("rst_n", "1"), ("busy", "1")),
    """// Liveness (bounded) checker: a busy period ends within MAX cycles.
module busy_timeout_check #(
    parameter int MAX = 8
) (
    input logic clk,
    input logic rst_n,
    input logic busy
);
    a_busy_bounded: assert property (@(posedge clk) disable iff (!rst_n) $rose(busy) |-> ##[1:MAX] !busy)
        else $error("busy lasted more than %0d cycles", MAX);
endmodule
""", _gen_busy_bounded, {"MAX": 8}, ({"MAX": 4}, {"MAX": 16}), stage=4, domain="other",
    why="Unbounded liveness ('busy eventually drops') cannot fail in a finite simulation, so it is turned into a "
        "bounded property: from the cycle `busy` rises, `##[1:MAX] !busy` must find a low cycle within MAX cycles. "
        "The first cycle of the busy period counts as cycle 0, so a period of exactly MAX cycles passes and MAX+1 "
        "fails."))

_add(Prop(
    "hold_when_disabled", "enable_hold_check", "a checker that a register holds its value while its enable is low",
    "Whenever `en` is 0 at a rising edge, the ${WIDTH}-bit `q` must have the same value at the next rising edge "
    "($$stable).",
    (("rst_n", "1"), ("en", "1"), ("q", "WIDTH")),
    """// Register checker: q only changes after a clock edge with en = 1.
module enable_hold_check #(
    parameter int WIDTH = 8
) (
    input logic             clk,
    input logic             rst_n,
    input logic             en,
    input logic [WIDTH-1:0] q
);
    a_hold_when_disabled: assert property (@(posedge clk) disable iff (!rst_n) !en |=> $stable(q))
        else $error("q changed while en was low");
endmodule
""", _gen_hold_when_disabled, {"WIDTH": 8}, ({"WIDTH": 16},), stage=3, domain="register",
    why="`$stable(q)` compares `q` with its value at the previous clock edge. Combined with `|=>` it says: if the "
        "enable was low at this edge, `q` at the next edge equals `q` now, i.e. the register did not load. Edges "
        "with `en` = 1 impose nothing, so any new value is allowed after them."))

_add(Prop(
    "count_step", "count_step_check", "a checker that an enabled counter advances by exactly one",
    "Whenever `en` is 1 at a rising edge, the ${WIDTH}-bit `count` at the next rising edge must equal its current "
    "value plus one (modulo 2**${WIDTH}).",
    (("rst_n", "1"), ("en", "1"), ("count", "WIDTH")),
    """// Counter checker: each enabled edge adds exactly one (wrapping).
module count_step_check #(
    parameter int WIDTH = 4
) (
    input logic             clk,
    input logic             rst_n,
    input logic             en,
    input logic [WIDTH-1:0] count
);
    a_count_step: assert property (@(posedge clk) disable iff (!rst_n)
                                   en |=> count == WIDTH'($past(count) + 1'b1))
        else $error("count did not advance by one");
endmodule
""", _gen_count_step, {"WIDTH": 4}, ({"WIDTH": 6},), stage=4, domain="counter",
    why="In the consequent, evaluated one cycle after the enabled edge, `$past(count)` is the value at that edge, so "
        "`count == $past(count) + 1` checks a single increment. The size cast `WIDTH'(...)` keeps the sum at WIDTH "
        "bits so it wraps at 2**WIDTH like the counter does; with an unsized `+ 1` the comparison would be "
        "evaluated at 32 bits and the legal wrap from all ones to zero would be flagged as an error."))

_add(Prop(
    "reset_clears", "reset_value_check", "a checker that a register is cleared by a synchronous reset",
    "Whenever `rst_n` is 0 at a rising edge, the ${WIDTH}-bit `q` must be 0 at the next rising edge. (This property "
    "checks the reset itself, so it must not be disabled by the reset.)",
    (("rst_n", "1"), ("q", "WIDTH")),
    """// Reset checker: a synchronous reset clears q. No disable iff: the reset is what is being checked.
module reset_value_check #(
    parameter int WIDTH = 8
) (
    input logic             clk,
    input logic             rst_n,
    input logic [WIDTH-1:0] q
);
    a_reset_clears: assert property (@(posedge clk) !rst_n |=> (q == '0))
        else $error("q is %h after reset", q);
endmodule
""", _gen_reset_value, {"WIDTH": 8}, ({"WIDTH": 16},), stage=4, domain="register",
    why="Most properties use `disable iff (!rst_n)` so that reset cancels them, but this one is about the reset, so "
        "it must stay active: a cycle with `rst_n` = 0 obliges `q` to be zero one edge later, when the synchronous "
        "reset has taken effect."))

_add(Prop(
    "gray_one_bit", "gray_step_check", "a checker that a Gray-coded pointer changes at most one bit per cycle",
    "Between two consecutive rising edges outside reset, at most one bit of the ${WIDTH}-bit `gray` vector may "
    "change.",
    (("rst_n", "1"), ("gray", "WIDTH")),
    """// CDC pointer checker: a Gray-coded value changes by at most one bit per clock.
module gray_step_check #(
    parameter int WIDTH = 5
) (
    input logic             clk,
    input logic             rst_n,
    input logic [WIDTH-1:0] gray
);
    a_gray_one_bit: assert property (@(posedge clk) disable iff (!rst_n) $onehot0(gray ^ $past(gray)))
        else $error("gray changed in more than one bit");
endmodule
""", _gen_gray_step, {"WIDTH": 5}, ({"WIDTH": 4},), stage=4, domain="async_fifo",
    why="`gray ^ $past(gray)` has a 1 in every bit that changed since the previous edge; `$onehot0` accepts zero "
        "changes (the pointer held) or exactly one. This is the property that makes it safe to synchronize the "
        "pointer bit by bit into another clock domain: the receiver sees either the old or the new value, never a "
        "mix."))

_add(Prop(
    "grant_mutex", "rw_mutex_check", "a checker that read and write grants are mutually exclusive",
    "`rd_gnt` and `wr_gnt` must never both be 1 at the same rising edge.",
    (("rst_n", "1"), ("rd_gnt", "1"), ("wr_gnt", "1")),
    """// Shared-resource checker: read and write are never granted in the same cycle.
module rw_mutex_check (
    input logic clk,
    input logic rst_n,
    input logic rd_gnt,
    input logic wr_gnt
);
    a_rw_mutex: assert property (@(posedge clk) disable iff (!rst_n) !(rd_gnt && wr_gnt))
        else $error("read and write granted together");
endmodule
""", _gen_mutex, stage=3, domain="arbiter",
    why="Mutual exclusion is a single-cycle boolean, so the property is just `!(rd_gnt && wr_gnt)` checked at every "
        "edge outside reset; `$onehot0({rd_gnt, wr_gnt})` is an equivalent spelling that scales to more grants."))

_add(Prop(
    "apb_setup_access", "apb_phase_check", "a checker that every APB setup phase is followed by an access phase",
    "Whenever `psel` is 1 and `penable` is 0 at a rising edge (setup phase), the next rising edge must have `psel` = 1 "
    "and `penable` = 1 (access phase).",
    (("rst_n", "1"), ("psel", "1"), ("penable", "1"), ("pready", "1")),
    """// APB protocol checker: SETUP is always followed by ACCESS.
module apb_phase_check (
    input logic clk,
    input logic rst_n,
    input logic psel,
    input logic penable,
    input logic pready
);
    a_setup_then_access: assert property (@(posedge clk) disable iff (!rst_n)
                                          (psel && !penable) |=> (psel && penable))
        else $error("APB setup phase not followed by an access phase");

    // pready is part of the interface; this checker does not need it
    wire unused_ok = pready;
endmodule
""", _gen_apb_phases, stage=4, domain="apb",
    why="An APB transfer always spends exactly one cycle in SETUP (`psel` = 1, `penable` = 0) and then moves to ACCESS "
        "with both signals high. `|=>` checks the next edge, so a master that repeats the setup phase or drops "
        "`psel` after it fails. Wait states (`pready` = 0) happen inside ACCESS and do not affect this property."))

_add(Prop(
    "apb_enable_needs_sel", "apb_enable_check", "a checker that APB penable is never asserted without psel",
    "At every rising edge, `penable` = 1 requires `psel` = 1.",
    (("rst_n", "1"), ("psel", "1"), ("penable", "1")),
    """// APB protocol checker: PENABLE only inside a selected transfer.
module apb_enable_check (
    input logic clk,
    input logic rst_n,
    input logic psel,
    input logic penable
);
    a_enable_with_sel: assert property (@(posedge clk) disable iff (!rst_n) penable |-> psel)
        else $error("penable without psel");
endmodule
""", _gen_apb_enable_sel, stage=3, domain="apb",
    why="PENABLE marks the access phase of a selected transfer, so seeing it without PSEL means the master's state "
        "machine is broken. The overlapping implication checks both signals at the same edge."))

_add(Prop(
    "axi_aw_stable", "axi_aw_check", "a checker that the AXI write-address channel holds AWVALID and AWADDR until AWREADY",
    "Whenever `awvalid` is 1 and `awready` is 0 at a rising edge, at the next rising edge `awvalid` must still be 1 and "
    "the ${AW}-bit `awaddr` must be unchanged.",
    (("rst_n", "1"), ("awvalid", "1"), ("awready", "1"), ("awaddr", "AW")),
    """// AXI handshake checker for the AW channel: once valid, hold valid and address until ready.
module axi_aw_check #(
    parameter int AW = 12
) (
    input logic          clk,
    input logic          rst_n,
    input logic          awvalid,
    input logic          awready,
    input logic [AW-1:0] awaddr
);
    a_aw_hold: assert property (@(posedge clk) disable iff (!rst_n)
                                (awvalid && !awready) |=> (awvalid && $stable(awaddr)))
        else $error("AW channel changed before the handshake");
endmodule
""", _gen_aw_stable, {"AW": 12}, ({"AW": 8},), stage=4, domain="axi_lite",
    why="The AXI rule is that a source may not withdraw VALID or change the payload while it waits for READY. "
        "Each edge with `awvalid && !awready` obliges the next edge to show VALID still high and `$stable(awaddr)`; "
        "the handshake edge (both high) releases the obligation, so a new address may follow immediately."))

_add(Prop(
    "spi_sclk_idle", "spi_idle_check", "a checker that SPI mode-0 SCLK stays low while the slave is deselected",
    "At every rising edge of the system clock at which `cs_n` is 1, `sclk` must be 0 (mode 0 idle level).",
    (("rst_n", "1"), ("cs_n", "1"), ("sclk", "1")),
    """// SPI mode-0 checker: SCLK idles low whenever chip select is inactive.
module spi_idle_check (
    input logic clk,
    input logic rst_n,
    input logic cs_n,
    input logic sclk
);
    a_sclk_idle_low: assert property (@(posedge clk) disable iff (!rst_n) cs_n |-> !sclk)
        else $error("sclk high while cs_n is inactive");
endmodule
""", _gen_sclk_idle, stage=3, domain="spi",
    why="The checker samples the SPI pins with the system clock, which is faster than SCLK, and requires the idle "
        "level (CPOL = 0) whenever the slave is deselected. A master that releases `cs_n` before returning SCLK to "
        "low would give the next slave a spurious edge, which this catches."))

_add(Prop(
    "uart_idle_high", "uart_idle_check", "a checker that a UART line idles high",
    "At every rising edge at which `busy` is 0, `tx` must be 1.",
    (("rst_n", "1"), ("busy", "1"), ("tx", "1")),
    """// UART checker: the line is high (mark) whenever the transmitter is idle.
module uart_idle_check (
    input logic clk,
    input logic rst_n,
    input logic busy,
    input logic tx
);
    a_idle_high: assert property (@(posedge clk) disable iff (!rst_n) !busy |-> tx)
        else $error("tx low while the transmitter is idle");
endmodule
""", _gen_uart_idle, stage=3, domain="uart",
    why="A receiver treats any falling edge on an idle line as a start bit, so a low level while the transmitter is "
        "idle produces a phantom byte. The property ties the idle level to the transmitter's own `busy` flag."))

_add(Prop(
    "ack_needs_req", "ack_req_check", "a checker that an acknowledge only answers a request from the previous cycle",
    "Whenever `ack` is 1 at a rising edge, `req` must have been 1 at the previous rising edge ($$past).",
    (("rst_n", "1"), ("req", "1"), ("ack", "1")),
    """// Handshake checker: an acknowledge always answers the request of the previous cycle.
module ack_req_check (
    input logic clk,
    input logic rst_n,
    input logic req,
    input logic ack
);
    a_ack_follows_req: assert property (@(posedge clk) disable iff (!rst_n) ack |-> $past(req))
        else $error("ack without a request in the previous cycle");
endmodule
""", _gen_ack_after_req, stage=4, domain="handshake",
    why="`$past(req)` is the value `req` had at the previous clock edge, so the property states that the responder "
        "registers its answer: an `ack` in the same cycle as a brand-new request, or with no request at all, fails."))

_add(Prop(
    "fsm_legal_transitions", "fsm_transition_check", "a checker that an FSM only takes legal state transitions",
    "`state` (2 bits) encodes IDLE=0, REQ=1, XFER=2, DONE=3. Legal moves between consecutive rising edges outside "
    "reset: IDLE to IDLE or REQ, REQ to REQ or XFER, XFER to XFER or DONE, DONE to IDLE. Anything else must fail.",
    (("rst_n", "1"), ("state", "2")),
    """// FSM checker: only the documented state transitions happen.
module fsm_transition_check (
    input logic       clk,
    input logic       rst_n,
    input logic [1:0] state
);
    localparam logic [1:0] IDLE = 2'd0, REQ = 2'd1, XFER = 2'd2, DONE = 2'd3;

    a_from_idle: assert property (@(posedge clk) disable iff (!rst_n) state == IDLE |=> state == IDLE || state == REQ)
        else $error("illegal transition from IDLE");
    a_from_req:  assert property (@(posedge clk) disable iff (!rst_n) state == REQ  |=> state == REQ || state == XFER)
        else $error("illegal transition from REQ");
    a_from_xfer: assert property (@(posedge clk) disable iff (!rst_n) state == XFER |=> state == XFER || state == DONE)
        else $error("illegal transition from XFER");
    a_from_done: assert property (@(posedge clk) disable iff (!rst_n) state == DONE |=> state == IDLE)
        else $error("DONE must return to IDLE");
endmodule
""", _gen_fsm_legal, stage=4, domain="fsm",
    why="One assertion per source state keeps each failure message specific. Each uses `|=>` so the next state is "
        "checked one edge after the current state is seen; states with self-loops list themselves among the legal "
        "successors, DONE does not."))


# ---------------------------------------------------------------------------------------------------
# the suite subclass


class CatalogAssertionSuite(AssertionSuite):
    """The suites' assertion runner, driven by a CATALOG property instead of the built-in three."""

    axes = (Axis("property", tuple(CATALOG), "catalog property"),)
    presets: ClassVar[dict[str, str]] = {}
    default_params: ClassVar[dict[str, int]] = {}

    def __init__(self, name: str, params: dict[str, int] | None = None, *, seed: int | None = None,
                 prefixes: bool = False) -> None:
        """prefixes=True: a self-test of the traffic. Every violating traffic is cut just before its violation
        and ended with a reset cycle, and all of them are compliant: the reference checker must stay quiet on
        them, which proves it fires because of the intended violation and not earlier."""
        if name not in CATALOG:
            raise InputError(f"unknown catalog property {name!r}")
        self.prop = CATALOG[name]
        self.prefixes = prefixes
        super().__init__(name, params or {}, seed=seed)

    def resolve_params(self, params: dict[str, int]) -> dict[str, int]:
        return {**self.prop.params, **{k: int(v) for k, v in params.items()}}

    def check_params(self, params: dict[str, int]) -> None:  # catalog points are fixed
        return None

    def build_spec(self) -> Spec:
        p = self.prop
        ports = [port("clk", "input")] + [port(n, "input", w) for n, w in p.widths(self.params)]
        contract = Contract(p.module, tuple(ports), {})
        beh = (p.describe(self.params),
               "Write it as a concurrent SystemVerilog assertion (`assert property` with `@(posedge clk)`); the module "
               "has only inputs and no other logic is needed.",
               "The assertion must never fail on traffic that obeys the rule, and must fail on every traffic that "
               "breaks it.")
        return Spec(family="assertion", variant=p.name, params=dict(self.params), contract=contract, title=p.title,
                    behaviour=beh, timing=("All inputs are sampled at the rising edge of `clk`.",), clock="clk",
                    reset="rst_n", reset_active_low=True, reset_async=False, language="SystemVerilog",
                    choices={"property": p.name})

    def reference_rtl(self) -> str:
        return self.prop.answer(self.params)

    def traffics(self, seed: int) -> list[Traffic]:
        rng = random.Random(f"catalog/{self.prop.name}/{sorted(self.params.items())}/{seed}")
        comp, viols = self.prop.gen(rng, dict(self.params))
        fields = [n for n, _ in self.prop.ports]
        if self.prefixes:
            quiet = {f: 0 for f in fields}
            return [Traffic(f"{name} (prefix)", _traffic(fields, rows[:idx] + [quiet])) for name, rows, idx in viols]
        out = [Traffic("compliant", _traffic(fields, comp))]
        out += [Traffic(name, _traffic(fields, rows), idx) for name, rows, idx in viols]
        return out

    def config(self, seed: int) -> dict[str, Any]:
        return {"family": "assertion-catalog", "variant": self.prop.name, "params": self.params, "seed": seed}

    def fingerprint(self) -> str:
        gen_src = ""
        try:
            import inspect

            gen_src = inspect.getsource(self.prop.gen)
        except (OSError, TypeError):  # pragma: no cover - source unavailable
            pass
        body = json.dumps({"p": self.prop.name, "params": self.params, "checker": self.prop.checker,
                           "ports": self.prop.ports, "seed": self.seed or 0, "prefixes": self.prefixes}, sort_keys=True)
        return hashlib.sha256((body + gen_src + super().fingerprint()).encode()).hexdigest()[:16]

    def describe(self) -> str:
        return f"assertion catalog property {self.prop.name} ({self.params})"


def assertion_suite(prop: str, params: dict[str, int]):
    """The suite that checks an assertion record: the suites' own family for its properties, else the catalog."""
    from ..suites import get_suite
    from ..suites.assertion import PROPERTIES

    if prop in PROPERTIES:
        known = {k: v for k, v in params.items() if k in ("WIDTH", "N")}
        return get_suite("assertion", prop, known)
    return CatalogAssertionSuite(prop, params)


# ---------------------------------------------------------------------------------------------------
# answers for the suites' own three assertion properties (module names and ports are the suite's)

SUITE_ANSWERS: dict[str, tuple[str, str]] = {
    "valid_hold": ("""// Stream protocol checker: once VALID is asserted it stays asserted until READY accepts the transfer.
module valid_hold_check (
    input logic clk,
    input logic rst_n,
    input logic valid,
    input logic ready
);
    property p_valid_held;
        @(posedge clk) disable iff (!rst_n) (valid && !ready) |=> valid;
    endproperty

    a_valid_held: assert property (p_valid_held)
        else $error("valid deasserted before ready");
endmodule
""", "A cycle with `valid && !ready` is a stalled transfer; `|=>` obliges `valid` to still be 1 at the next edge. "
     "The transfer cycle (`ready` = 1) carries no obligation, so `valid` may drop right after it."),
    "data_stable": ("""// Stream protocol checker: the payload may not change while VALID waits for READY.
module data_stable_check #(
    parameter int WIDTH = 8
) (
    input logic             clk,
    input logic             rst_n,
    input logic             valid,
    input logic             ready,
    input logic [WIDTH-1:0] data
);
    a_data_stable: assert property (@(posedge clk) disable iff (!rst_n) (valid && !ready) |=> $stable(data))
        else $error("data changed while valid was waiting for ready");
endmodule
""", "`$stable(data)` compares `data` with its value at the previous edge, so together with `|=>` it requires "
     "the payload seen during a stall to be unchanged one cycle later. Cycles without a pending transfer impose "
     "nothing, so the source may change `data` freely while `valid` is low or right after a handshake."),
    "onehot": ("""// Arbiter output checker: at most one grant at a time.
module onehot_check #(
    parameter int N = 4
) (
    input logic         clk,
    input logic         rst_n,
    input logic [N-1:0] gnt
);
    a_gnt_onehot0: assert property (@(posedge clk) disable iff (!rst_n) $onehot0(gnt))
        else $error("more than one grant: %b", gnt);
endmodule
""", "`$onehot0` is true when at most one bit is set, so an idle arbiter (no grant) is legal while any two "
     "simultaneous grants fail. `$onehot` would wrongly reject the all-zeros vector."),
}


def suite_answer(prop: str, params: dict[str, int]) -> tuple[str, str]:
    text, why = SUITE_ANSWERS[prop]
    return substitute_params(text, params), why


@dataclass(frozen=True)
class AssertionFix:
    """A broken checker (find -> replace applied to the correct answer) and what is wrong with it."""

    prop: str
    find: str
    replace: str
    symptom: str
    explanation: str


ASSERTION_FIXES: tuple[AssertionFix, ...] = (
    AssertionFix("req_ack_window", "$rose(req) |-> ##[1:N] ack", "$rose(req) |-> ##N ack",
                 "it fires on requests that are acknowledged early",
                 "`##N ack` demands the acknowledge exactly N cycles after the request. The requirement is 'within "
                 "1 to N cycles', which is the range delay `##[1:N]`."),
    AssertionFix("req_hold_until_ack", "(req && !ack) |=> req", "(req && !ack) |-> req",
                 "it never fires, even when the request is withdrawn early",
                 "With the overlapping implication `|->` the consequent is checked in the same cycle as the "
                 "antecedent, where `req` is trivially 1. The obligation is about the next cycle, so the "
                 "non-overlapping `|=>` is needed."),
    AssertionFix("onehot_state", "$onehot(state)", "$onehot0(state)",
                 "it misses the case where the FSM loses its state (no bit set)",
                 "`$onehot0` also accepts the all-zeros vector. A one-hot state register must have exactly one bit "
                 "set, which is `$onehot`."),
    AssertionFix("hold_when_disabled", "!en |=> $stable(q)", "!en |-> $stable(q)",
                 "it fires on legal traffic right after enabled cycles",
                 "`!en |-> $stable(q)` compares `q` with the previous edge in the same cycle `en` is low, so a "
                 "legal update caused by an enable one cycle earlier is reported. The register must hold in the "
                 "cycle after a disabled edge: use `|=>`."),
    AssertionFix("count_step", "count == WIDTH'($past(count) + 1'b1)", "count == $past(count) + 1",
                 "it fires when the counter wraps from all ones to zero",
                 "The unsized literal `1` makes the addition 32 bits wide, so at the wrap `$past(count) + 1` is "
                 "2**WIDTH while `count` is 0. Cast the sum to WIDTH bits (or add a WIDTH-bit one) so it wraps like "
                 "the counter."),
    AssertionFix("busy_bounded", "$rose(busy) |-> ##[1:MAX] !busy", "$rose(busy) |-> ##[1:MAX] busy",
                 "it fires on every busy period and never catches a stuck busy",
                 "The consequent looks for a cycle in which `busy` is still 1, which is almost always found at once. "
                 "The property must look for the end of the busy period, `##[1:MAX] !busy`."),
    AssertionFix("gray_one_bit", "$onehot0(gray ^ $past(gray))", "$onehot(gray ^ $past(gray))",
                 "it fires whenever the pointer holds its value",
                 "`$onehot` requires exactly one changed bit, so a cycle where the pointer does not move (zero "
                 "changed bits) fails. Holding is legal: use `$onehot0`."),
    AssertionFix("ack_needs_req", "ack |-> $past(req)", "ack |-> req",
                 "it fires on legal registered acknowledges",
                 "The responder answers the request of the previous cycle, and `req` may already be low when `ack` "
                 "arrives. Compare with the previous cycle's request, `$past(req)`."),
    AssertionFix("fsm_legal_transitions", "state == DONE |=> state == IDLE",
                 "state == DONE |=> state == IDLE || state == DONE",
                 "it misses an FSM that gets stuck in DONE",
                 "DONE has no self-loop in the specification: it must return to IDLE in the next cycle. Listing DONE "
                 "as a legal successor lets a stuck FSM pass."),
    AssertionFix("axi_aw_stable", "(awvalid && !awready) |=> (awvalid && $stable(awaddr))",
                 "(awvalid && !awready) |=> awvalid",
                 "it misses an address that changes while the transfer is stalled",
                 "The AXI rule covers the payload as well as VALID: while AWVALID waits for AWREADY the address must "
                 "be stable. Add `$stable(awaddr)` to the consequent."),
    AssertionFix("reset_clears", "@(posedge clk) !rst_n |=> (q == '0)",
                 "@(posedge clk) disable iff (!rst_n) !rst_n |=> (q == '0)",
                 "it never fires, even when the register ignores the reset",
                 "`disable iff (!rst_n)` cancels the property exactly when the antecedent `!rst_n` is true, so it is "
                 "vacuous. A property that checks the reset itself must not be disabled by it."),
)


# ---------------------------------------------------------------------------------------------------
# more answers and faults for the suites' three properties (circuit-muse-nano's assertion data)

_SUITE_MESSAGES = {"valid_hold": "valid dropped before ready", "data_stable": "data changed while valid waited for ready",
                   "onehot": "more than one grant"}


def _suite_header(module: str, ports: list[tuple[str, int]], logic: bool) -> str:
    kw = "input logic" if logic else "input"
    lines = [f"    {kw} {'[' + str(w - 1) + ':0] ' if w > 1 else ''}{n}" for n, w in ports]
    return f"module {module} (\n" + ",\n".join(lines) + "\n);\n"


def suite_answer_styles(prop: str, params: dict[str, int], ports: list[tuple[str, int]]) -> list[str]:
    """Several correct checkers for a suite property, each keeping the module header the spec gives
    (`ports`: name and width in order): a one-line assert, a labelled assert with an action block, a named
    property, and the parameterized catalogue answer (`suite_answer`)."""
    from ..suites.assertion import PROPERTIES

    info = PROPERTIES[prop]
    mod, sva, msg = info["module"], info["sva"], _SUITE_MESSAGES[prop]
    clocked = f"@(posedge clk) disable iff (!rst_n) {sva}"
    label = {"valid_hold": "a_valid_hold", "data_stable": "a_data_stable", "onehot": "a_onehot0"}[prop]
    plain = _suite_header(mod, ports, False) + f"    assert property ({clocked});\nendmodule\n"
    labelled = (_suite_header(mod, ports, True) + f"    {label}: assert property ({clocked})\n"
                f"        else $error(\"{msg}\");\nendmodule\n")
    named = (_suite_header(mod, ports, False) + f"    property p_{prop};\n        {clocked};\n    endproperty\n\n"
             f"    assert property (p_{prop});\nendmodule\n")
    return list(dict.fromkeys([plain, labelled, named, suite_answer(prop, params)[0]]))


def suite_faults(prop: str, answer: str) -> list[tuple[str, str]]:
    """(name, broken checker) for a correct answer of a suite property: each breaks the property the way a
    model does (wrong implication, wrong system function, a plain flip-flop instead of a checker, ...).
    Only the faults that apply to this answer's text are returned; the caller verifies that each fails."""
    subs = {
        "valid_hold": [("overlapping-implication", "|=> valid", "|-> valid"),
                       ("no-ready-in-antecedent", "valid && !ready", "valid"),
                       ("checks-ready", "|=> valid", "|=> ready")],
        "data_stable": [("changed-not-stable", "$stable(data)", "$changed(data)"),
                        ("overlapping-implication", "|=> $stable", "|-> $stable"),
                        ("no-ready-in-antecedent", "valid && !ready", "valid")],
        "onehot": [("onehot-not-onehot0", "$onehot0(gnt)", "$onehot(gnt)"),
                   ("negated", "$onehot0(gnt)", "!$onehot0(gnt)")],
    }[prop]
    out = [(name, answer.replace(find, rep, 1)) for name, find, rep in subs if find in answer]
    i = answer.find("endmodule")
    line = answer.rfind(";", 0, i)
    if line > 0:
        out.append(("missing-semicolon", answer[:line] + answer[line + 1:]))
    head_end = answer.find(");\n") + 3
    if head_end > 3:   # the previous model's habit: a register where a checker was asked for
        out.append(("flip-flop-not-checker", answer[:head_end].replace("input logic", "input")
                    .replace(");\n", ",\n    output reg q\n);\n", 1)
                    + "    always @(posedge clk) begin\n        if (!rst_n)\n            q <= 1'b0;\n"
                    "        else\n            q <= 1'b1;\n    end\nendmodule\n"))
    return [(n, t) for n, t in out if t != answer]
