"""cocotb test for the hostile corpus interface (clk, a -> y registered)."""
from __future__ import annotations

import cocotb
from cocotb.clock import Clock
from cocotb.triggers import RisingEdge, Timer


@cocotb.test()
async def y_follows_a(dut):  # type: ignore[no-untyped-def]
    cocotb.start_soon(Clock(dut.clk, 10, unit="ns").start())
    for bit in (0, 1, 1, 0, 1, 0, 0, 1):
        dut.a.value = bit
        await RisingEdge(dut.clk)
        await Timer(1, unit="ns")
        assert int(dut.y.value) == bit, f"y={dut.y.value} after a={bit}"
