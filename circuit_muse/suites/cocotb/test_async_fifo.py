"""cocotb suite for the dual-clock FIFO: two free-running clocks of unrelated period and phase, per segment;
a scoreboard checks order, loss, duplication, over/underflow and flag liveness. Configured by CM_SUITE."""
from __future__ import annotations

import os
import random
import sys

import cocotb
from cocotb.triggers import Timer

sys.path.insert(0, os.environ.get("CM_PKG_ROOT", ""))
from circuit_muse.suites.cocotb._common import bits, load_suite  # noqa: E402

MAX_REPORTED = 8


class Board:
    def __init__(self) -> None:
        self.sb: list[int] = []
        self.nr = 0
        self.problems: list[str] = []
        self.errors = 0
        self.running = False
        self.draining = False

    def fail(self, cycle: int, signal: str, why: str, exp: object, got: object, inputs: str) -> None:
        self.errors += 1
        if len(self.problems) < MAX_REPORTED:
            self.problems.append(f"CM_MISMATCH cycle={cycle} signal={signal} in={{{inputs}}} exp={exp} got={got} "
                                 f"why={why}")


async def write_side(dut, board: Board, rng: random.Random, depth: int, width: int, k: int, state: dict) -> None:
    cycle = stuck = 0
    while True:
        await Timer(state["wh"], unit="ps")
        if board.running:
            cycle += 1
            full = bits(dut.wfull.value, 1)
            stored = len(board.sb) - board.nr
            ins = f"segment={state['seg']},wr_en={int(dut.wr_en.value)},stored={stored}"
            if full not in ("0", "1"):
                board.fail(cycle, "wfull", "wfull_is_X", 0, full, ins)
            elif int(dut.wr_en.value) and full == "0":
                if stored >= depth:
                    board.fail(cycle, "wfull", "write_accepted_while_FIFO_full", 1, 0, ins)
                else:
                    board.sb.append(int(dut.wr_data.value))
            stuck = stuck + 1 if full == "1" and len(board.sb) - board.nr < depth else 0
            if stuck == k:
                board.fail(cycle, "wfull", "wfull_stuck_although_FIFO_has_room", 0, 1, ins)
        dut.wclk.value = 1
        await Timer(state["wh"], unit="ps")
        dut.wclk.value = 0
        if board.running and not board.draining:
            dut.wr_en.value = int(rng.random() < state["pw"])
            dut.wr_data.value = rng.getrandbits(width)
        else:
            dut.wr_en.value = 0


async def read_side(dut, board: Board, rng: random.Random, width: int, k: int, state: dict) -> None:
    cycle = stuck = 0
    while True:
        await Timer(state["rh"], unit="ps")
        if board.running:
            cycle += 1
            empty = bits(dut.rempty.value, 1)
            avail = len(board.sb) - board.nr
            ins = f"segment={state['seg']},rd_en={int(dut.rd_en.value)},word={board.nr},stored={avail}"
            if empty not in ("0", "1"):
                board.fail(cycle, "rempty", "rempty_is_X", 0, empty, ins)
            elif int(dut.rd_en.value) and empty == "0":
                if avail <= 0:
                    board.fail(cycle, "rempty", "read_accepted_while_FIFO_empty", 1, 0, ins)
                else:
                    got = bits(dut.rd_data.value, width)
                    want = board.sb[board.nr]
                    if got != format(want, f"0{width}b"):
                        board.fail(cycle, "rd_data", "wrong_word_(lost,_duplicated_or_reordered)",
                                   format(want, "x"), got, ins)
                    board.nr += 1
            stuck = stuck + 1 if empty == "1" and len(board.sb) > board.nr else 0
            if stuck == k:
                board.fail(cycle, "rempty", "rempty_stuck_although_FIFO_holds_data", 0, 1, ins)
        dut.rclk.value = 1
        await Timer(state["rh"], unit="ps")
        dut.rclk.value = 0
        if board.running and board.draining:
            dut.rd_en.value = 1
        elif board.running:
            dut.rd_en.value = int(rng.random() < state["pr"])
        else:
            dut.rd_en.value = 0


@cocotb.test()
async def two_unrelated_clocks_scoreboard(dut):
    """No loss, duplication or reordering; no over/underflow; flags clear in bounded time; under both clocks."""
    from circuit_muse.suites.async_fifo import STUCK_EDGES

    suite, cfg = load_suite()
    depth, width = suite.params["DEPTH"], suite.params["WIDTH"]
    rng = random.Random(int(cfg["seed"]) + 7919)
    plan = suite.plan(int(cfg["seed"]) + 1000003, suite.full_segments)
    board = Board()
    state = {"wh": 5000, "rh": 5005, "pw": 0.5, "pr": 0.5, "seg": 0}
    for sig in ("wclk", "rclk", "wr_en", "rd_en", "wr_data"):
        getattr(dut, sig).value = 0
    dut.wrst_n.value = 0
    dut.rrst_n.value = 0
    cocotb.start_soon(write_side(dut, board, rng, depth, width, STUCK_EDGES, state))
    cocotb.start_soon(read_side(dut, board, rng, width, STUCK_EDGES, state))
    for i, seg in enumerate(plan["raw_segments"]):
        board.running = board.draining = False
        dut.wrst_n.value = 0
        dut.rrst_n.value = 0
        state.update(seg=i, wh=round(seg.tw * 500), rh=round(seg.tr * 500))
        slow = max(seg.tw, seg.tr)
        await Timer(round(3 * slow * 1000) // 10 * 10 + 2, unit="ps")
        board.sb, board.nr = [], 0
        dut.wrst_n.value = 1
        dut.rrst_n.value = 1
        await Timer(round(1.5 * slow * 1000) // 10 * 10 + 500, unit="ps")
        if bits(dut.wfull.value, 1) != "0":
            board.fail(0, "wfull", "wfull_not_0_after_reset", 0, bits(dut.wfull.value, 1), f"segment={i}")
        if bits(dut.rempty.value, 1) != "1":
            board.fail(0, "rempty", "rempty_not_1_after_reset", 1, bits(dut.rempty.value, 1), f"segment={i}")
        board.running = True
        steps = 8
        for _ in range(steps):
            state["pw"], state["pr"] = rng.choice(seg.p_wr), rng.choice(seg.p_rd)
            await Timer(round(seg.run_ns * 1000 / steps) // 10 * 10, unit="ps")
        board.draining = True
        await Timer(round(((depth + 2) * seg.tr * 1.2 + (STUCK_EDGES + 4) * slow + 2 * seg.tw) * 1000) // 10 * 10,
                    unit="ps")
        if board.nr != len(board.sb):
            board.fail(0, "rd_data", "words_never_came_out_(lost)", len(board.sb), board.nr, f"segment={i}")
    assert not board.problems, f"{board.errors} scoreboard errors\n" + "\n".join(board.problems)
