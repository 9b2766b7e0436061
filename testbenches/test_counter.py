"""cocotb testbench for examples/counter.v: reset, then enable on two cycles of three; every cycle checked
against a Python model. Failures carry CM_MISMATCH rows that the engine turns into feedback."""
import cocotb
from cocotb.clock import Clock
from cocotb.triggers import RisingEdge, Timer, FallingEdge

@cocotb.test()
async def counts(dut):
    Clock(dut.clk, 10, unit="ns").start()
    dut.rst_n.value = 0; dut.en.value = 0
    await Timer(12, unit="ns"); dut.rst_n.value = 1
    model = 0
    for cycle in range(20):
        await FallingEdge(dut.clk); dut.en.value = cycle % 3 != 0
        await RisingEdge(dut.clk); await Timer(1, unit="ns")
        if cycle % 3 != 0: model = (model + 1) % 16
        got = int(dut.q.value)
        assert got == model, f"CM_MISMATCH cycle={cycle} signal=q in={{en={int(cycle%3!=0)}}} exp={model} got={got}"
