"""The service survives a crash (SIGKILL mid-job) and cancels cleanly (no tool process survives)."""
from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import httpx
import psutil
import pytest

from tests.service_support import GOOD, PROMPT, WIRE, WIRE_PROMPT, ServeProcess, fence, sse_events
from tests.support.scripted_openai import ScriptedOpenAIServer

pytestmark = pytest.mark.simulator
TOOLS = {"vvp", "iverilog", "verilator", "verilator_bin", "yosys"}
LONG_BENCH = """`timescale 1ns/1ps
module tb;
  reg clk = 0, rst_n = 0, en = 1;
  wire [3:0] count;
  counter dut(.clk(clk), .rst_n(rst_n), .en(en), .count(count));
  always #5 clk = ~clk;
  initial begin
    #12 rst_n = 1;
    repeat (400000000) @(posedge clk);  // minutes of simulation: it is still running when we cancel
    $display("CM_RESULT pass=1 fail=0");
    $finish;
  end
endmodule
"""


def long_or_short(body: dict[str, Any], index: int) -> str:
    """The 'slow' prompt gets a long answer (streamed slowly), every other prompt the counter its suite passes."""
    if any("slowly" in str(m.get("content")) for m in body["messages"]):
        return fence(WIRE) + " ".join(["// a long explanation"] * 150)
    return fence(GOOD)


def test_after_sigkill_finished_jobs_remain_the_cut_off_job_is_interrupted_and_sse_resumes(tmp_path: Path) -> None:
    db = tmp_path / "jobs.sqlite3"
    with ScriptedOpenAIServer(long_or_short, chunk_delay_s=0.03) as model:
        srv = ServeProcess(model.spec(), db)
        with httpx.Client(base_url=srv.url, timeout=60) as c:
            done_id = c.post("/jobs", json={"prompt": PROMPT, "samples": 1}).json()["id"]
            finished = list(sse_events(c, f"/jobs/{done_id}/events"))
            assert finished[-1]["data"]["data"]["state"] == "passed"
            cut_id = c.post("/jobs", json={"prompt": WIRE_PROMPT + " Explain it slowly.", "samples": 1}).json()["id"]
            seen = list(sse_events(c, f"/jobs/{cut_id}/events", stop_after=8))
        srv.kill()  # SIGKILL: no shutdown code runs
        srv.stop()
        srv = ServeProcess(model.spec(), db)
        try:
            with httpx.Client(base_url=srv.url, timeout=60) as c:
                again = c.get(f"/jobs/{done_id}").json()
                assert again["state"] == "passed" and again["result"]["passed"] is True
                assert [e["data"] for e in sse_events(c, f"/jobs/{done_id}/events")] == [e["data"] for e in finished]
                cut = c.get(f"/jobs/{cut_id}").json()
                assert cut["state"] == "interrupted"
                last = seen[-1]["id"]
                rest = list(sse_events(c, f"/jobs/{cut_id}/events", last_event_id=last))
                assert rest[0]["id"] == last + 1
                assert [e["id"] for e in rest] == list(range(last + 1, last + 1 + len(rest)))
                assert [e["event"] for e in rest].count("done") == 1
                assert rest[-1]["data"]["data"]["state"] == "interrupted"
                # The restarted server works normally.
                new_id = c.post("/jobs", json={"prompt": PROMPT, "samples": 1}).json()["id"]
                assert list(sse_events(c, f"/jobs/{new_id}/events"))[-1]["data"]["data"]["state"] == "passed"
        finally:
            srv.stop()


def tool_processes(root: int) -> list[psutil.Process]:
    try:
        kids = psutil.Process(root).children(recursive=True)
    except psutil.NoSuchProcess:
        return []
    return [p for p in kids if _name(p) in TOOLS]


def _name(p: psutil.Process) -> str:
    try:
        return p.name()
    except psutil.Error:
        return ""


def alive(p: psutil.Process) -> bool:
    try:
        return p.is_running() and p.status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def test_cancel_during_simulation_kills_the_tools_and_ends_with_one_terminal_event(tmp_path: Path) -> None:
    with ScriptedOpenAIServer([fence(GOOD)]) as model, ServeProcess(model.spec(), tmp_path / "jobs.sqlite3") as srv, \
            httpx.Client(base_url=srv.url, timeout=60) as c:
        job = c.post("/jobs", json={"prompt": "Design a counter.", "samples": 1, "rounds": 1,
                                    "testbench": LONG_BENCH, "testbench_name": "tb_long.sv"})
        assert job.status_code == 202, job.text
        job_id = job.json()["id"]
        deadline = time.monotonic() + 60
        sims: list[psutil.Process] = []
        while time.monotonic() < deadline and not sims:
            sims = [p for p in tool_processes(srv.proc.pid) if _name(p) == "vvp"]
            time.sleep(0.05)
        assert sims, "the simulation never started"
        tools = tool_processes(srv.proc.pid)
        resp = c.delete(f"/jobs/{job_id}")
        assert resp.status_code == 200 and resp.json()["state"] == "cancelled"
        gone_by = time.monotonic() + 10
        while any(alive(p) for p in tools) and time.monotonic() < gone_by:
            time.sleep(0.05)
        assert not [p.pid for p in tools if alive(p)], "a tool process survived the cancel"
        assert not [p for p in tool_processes(srv.proc.pid) if alive(p)]
        assert c.delete(f"/jobs/{job_id}").json()["state"] == "cancelled"  # idempotent
        time.sleep(1.0)  # give the job's thread time to unwind; it must add nothing after the terminal event
        events = list(sse_events(c, f"/jobs/{job_id}/events"))
        assert [e["event"] for e in events].count("done") == 1 and events[-1]["event"] == "done"
        assert events[-1]["data"]["data"] == {"passed": False, "reason": "cancelled", "state": "cancelled"}
        assert c.get(f"/jobs/{job_id}").json()["events"] == events[-1]["id"]
        # The server is still healthy and runs the next job.
        nxt = c.post("/jobs", json={"prompt": WIRE_PROMPT, "samples": 1}).json()["id"]
        assert list(sse_events(c, f"/jobs/{nxt}/events"))[-1]["event"] == "done"
