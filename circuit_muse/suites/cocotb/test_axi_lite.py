"""cocotb suite for the AXI4-Lite register file: a cycle-stepped master with random valid delays (AW/W in
either order) and B/R back-pressure, checked against the golden register model. Configured by CM_SUITE."""
from __future__ import annotations

import os
import sys

import cocotb
from cocotb.triggers import Timer

sys.path.insert(0, os.environ.get("CM_PKG_ROOT", ""))
from circuit_muse.suites.cocotb._common import bits, load_suite  # noqa: E402

MAX_REPORTED = 8


@cocotb.test()
async def transactions_with_backpressure(dut):
    """Scripted and random transactions; responses, channel hold rules and deadlock are all checked."""
    from circuit_muse.suites.axi_lite import TIMEOUT_CYCLES

    suite, cfg = load_suite()
    aw = suite.params["ADDR_WIDTH"]
    txns = suite.transactions(int(cfg["seed"]) + 1000003, suite.full_txns)
    problems: list[str] = []
    errors = 0
    cycle = 0
    s = {n: getattr(dut, "s_axi_" + n) for n in (
        "awaddr awvalid awready wdata wstrb wvalid wready bresp bvalid bready araddr arvalid arready rdata rresp "
        "rvalid rready").split()}
    ins = ("awaddr", "awvalid", "wdata", "wstrb", "wvalid", "bready", "araddr", "arvalid", "rready")

    def fail(signal: str, why: str, exp: object, got: object, t: object, ti: int, cyc: int) -> None:
        nonlocal errors
        errors += 1
        if len(problems) < MAX_REPORTED:
            kind = "write" if t.write else "read"
            problems.append(f"CM_MISMATCH cycle={cycle} signal={signal} in={{txn={ti},kind={kind},addr={t.addr:x},"
                            f"wdata={t.data:x},wstrb={t.strb:x},wait={cyc}}} exp={exp} got={got} why={why}")

    async def tick() -> None:
        nonlocal cycle
        await Timer(1, unit="ns")
        dut.aclk.value = 1
        await Timer(5, unit="ns")
        dut.aclk.value = 0
        cycle += 1

    def v(name: str, width: int = 1) -> str:
        return bits(s[name].value, width)

    dut.aclk.value = 0
    dut.aresetn.value = 0
    for n in ins:
        s[n].value = 0
    for _ in range(4):
        await Timer(4, unit="ns")
        await tick()
    await Timer(1, unit="ns")
    dut.aresetn.value = 1
    await Timer(3, unit="ns")
    await tick()
    for ti, t in enumerate(txns):
        a_done = w_done = done = False
        seen = -1
        prev_wait, prev_payload = False, ""
        cyc = 0
        while not done and cyc < TIMEOUT_CYCLES:
            await Timer(1, unit="ns")
            if t.write:
                awv = not a_done and cyc >= t.d_aw
                wv = not w_done and cyc >= t.d_w
                s["awvalid"].value, s["awaddr"].value = int(awv), (t.addr % (1 << aw)) if awv else 0
                s["wvalid"].value, s["wdata"].value, s["wstrb"].value = int(wv), t.data if wv else 0, t.strb if wv else 0
                ready = t.d_b == 0 or (seen >= 0 and cyc >= seen + t.d_b)
                s["bready"].value = int(ready)
            else:
                arv = not a_done and cyc >= t.d_ar
                s["arvalid"].value, s["araddr"].value = int(arv), (t.addr % (1 << aw)) if arv else 0
                ready = t.d_r == 0 or (seen >= 0 and cyc >= seen + t.d_r)
                s["rready"].value = int(ready)
            await Timer(3, unit="ns")
            bvalid, rvalid = v("bvalid"), v("rvalid")
            if bvalid not in "01" or rvalid not in "01":
                fail("bvalid/rvalid", "valid_is_X", 0, bvalid + rvalid, t, ti, cyc)
            if t.write:
                payload = v("bresp", 2)
                if rvalid == "1":
                    fail("rvalid", "rvalid_without_a_read", 0, 1, t, ti, cyc)
                if prev_wait and (bvalid != "1" or payload != prev_payload):
                    fail("bvalid", "B_changed_before_bready", prev_payload, bvalid + "/" + payload, t, ti, cyc)
                if bvalid == "1" and seen < 0:
                    seen = cyc
                    if not (a_done and w_done):
                        fail("bvalid", "bvalid_before_both_AW_and_W_handshakes", 0, 1, t, ti, cyc)
                a_fire = awv and v("awready") == "1"
                w_fire = wv and v("wready") == "1"
                fire = ready and bvalid == "1"
                if fire and payload != format(t.exp_resp, "02b"):
                    fail("bresp", "write_response", t.exp_resp, payload, t, ti, cyc)
                prev_wait, prev_payload = bvalid == "1" and not ready, payload
            else:
                payload = v("rresp", 2) + ":" + v("rdata", 32)
                if bvalid == "1":
                    fail("bvalid", "bvalid_without_a_write", 0, 1, t, ti, cyc)
                if prev_wait and (rvalid != "1" or payload != prev_payload):
                    fail("rvalid", "R_changed_before_rready", prev_payload, rvalid + "/" + payload, t, ti, cyc)
                if rvalid == "1" and seen < 0:
                    seen = cyc
                    if not a_done:
                        fail("rvalid", "rvalid_before_the_AR_handshake", 0, 1, t, ti, cyc)
                a_fire, w_fire = arv and v("arready") == "1", False
                fire = ready and rvalid == "1"
                if fire and v("rresp", 2) != format(t.exp_resp, "02b"):
                    fail("rresp", "read_response", t.exp_resp, v("rresp", 2), t, ti, cyc)
                elif fire and v("rdata", 32) != format(t.exp_data, "032b"):
                    got = v("rdata", 32)
                    fail("rdata", "read_data", f"{t.exp_data:x}",
                         f"{int(got, 2):x}" if set(got) <= {"0", "1"} else got, t, ti, cyc)
                prev_wait, prev_payload = rvalid == "1" and not ready, payload
            await tick()
            a_done |= a_fire
            w_done |= w_fire
            done = fire
            cyc += 1
        await Timer(1, unit="ns")
        for n in ("awvalid", "wvalid", "bready", "arvalid", "rready"):
            s[n].value = 0
        if not done:
            sig = ("awready" if not a_done else "wready" if not w_done else "bvalid") if t.write else \
                  ("arready" if not a_done else "rvalid")
            fail(sig, "deadlock:_no_response_in_TIMEOUT_cycles", 1, 0, t, ti, cyc)
        await Timer(3, unit="ns")
        for _ in range(t.idle):
            await tick()
            await Timer(4, unit="ns")
        await tick()
        if len(problems) >= MAX_REPORTED:
            break
    assert not problems, f"{errors} AXI4-Lite check failures\n" + "\n".join(problems)
