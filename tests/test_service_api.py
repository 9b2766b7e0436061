"""The HTTP API against a real uvicorn process on loopback, with the scripted OpenAI-compatible model."""
from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.service_support import GOOD, MISMATCH, PROMPT, ROOT, WIRE_PROMPT, ServeProcess, sse_events, three_rounds
from tests.support.scripted_openai import ScriptedOpenAIServer

pytestmark = pytest.mark.simulator


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServeProcess]:
    tmp = tmp_path_factory.mktemp("svc")
    with ScriptedOpenAIServer(three_rounds) as model, ServeProcess(model.spec(), tmp / "jobs.sqlite3",
                                                                   extra=["--max-prompt", "2000"]) as srv:
        yield srv


@pytest.fixture()
def client(server: ServeProcess) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url, timeout=120) as c:
        yield c


def assert_error(resp: httpx.Response, status: int, code: str | None = None) -> dict:
    assert resp.status_code == status, resp.text
    assert resp.headers["content-type"].startswith("application/json")
    err = resp.json()["error"]
    assert set(err) == {"code", "message"} and err["message"]
    if code:
        assert err["code"] == code, err
    return err


def test_a_job_streams_three_rounds_and_ends_with_one_done(client: httpx.Client) -> None:
    resp = client.post("/jobs", json={"prompt": PROMPT, "rounds": 4, "samples": 1})
    assert resp.status_code == 202 and resp.json()["state"] in ("queued", "running")
    job_id = resp.json()["id"]
    events = list(sse_events(client, f"/jobs/{job_id}/events"))
    ids = [e["id"] for e in events]
    assert ids == list(range(1, len(ids) + 1))  # increasing, no gaps
    kinds = [e["event"] for e in events]
    assert kinds.count("done") == 1 and kinds[-1] == "done" and kinds[0] == "round_started"
    assert {"token", "stage", "candidate", "feedback"} <= set(kinds)
    cands = [e["data"] for e in events if e["event"] == "candidate"]
    assert [c["data"]["category"] for c in cands] == ["undeclared", "mismatch", "pass"]
    # Each candidate event carries its report: stages with timing, diagnostics with lines, the cycle table.
    lint_fail = cands[0]["data"]["report"]
    diag = next(d for s in lint_fail["stages"] for d in s["diagnostics"] if d["severity"] == "error")
    assert diag["line"] == 9 and "enable" in diag["message"]
    sim = next(s for s in cands[1]["data"]["report"]["stages"] if s["name"] == "simulate")
    assert not sim["passed"] and sim["duration_s"] > 0 and sim["simulation"]["mismatches"][0]["signal"] == "count"
    done = events[-1]["data"]["data"]
    assert done == {"passed": True, "reason": "passed", "level": "functional", "state": "passed"}
    job = client.get(f"/jobs/{job_id}").json()
    assert job["state"] == "passed" and job["events"] == ids[-1]
    assert job["result"]["level"] == "functional" and job["result"]["rounds_used"] == 3
    assert "count + 1'b1" in job["result"]["verilog"]
    # The failing round's waveform, around its first mismatch, with expected vs got.
    wave = client.get(f"/jobs/{job_id}/waveform", params={"round": 2, "index": 0})
    assert wave.status_code == 200, wave.text
    lanes = wave.json()["signal"]
    group = next(x for x in lanes if isinstance(x, list))
    got, expected = group[1], group[2]
    assert got["name"] == "count got" and expected["name"] == "count expected" and got["data"] != expected["data"]
    assert_error(client.get(f"/jobs/{job_id}/waveform", params={"round": 3}), 404, "not_found")  # it passed
    assert job_id in [j["id"] for j in client.get("/jobs").json()["jobs"]]


def test_a_client_that_reconnects_with_last_event_id_gets_exactly_what_it_missed(client: httpx.Client) -> None:
    job_id = client.post("/jobs", json={"prompt": PROMPT, "rounds": 1, "samples": 1}).json()["id"]
    first = list(sse_events(client, f"/jobs/{job_id}/events", stop_after=5))  # then the client goes away
    assert [e["id"] for e in first] == [1, 2, 3, 4, 5]
    rest = list(sse_events(client, f"/jobs/{job_id}/events", last_event_id=5))
    whole = list(sse_events(client, f"/jobs/{job_id}/events"))
    assert rest[0]["id"] == 6 and [e["id"] for e in first + rest] == [e["id"] for e in whole]
    assert [e["data"] for e in first + rest] == [e["data"] for e in whole]
    assert whole[-1]["event"] == "done" and len(whole) > 10
    assert client.get(f"/jobs/{job_id}").json()["state"] == "failed"  # it ran to its end: nothing was cancelled


def test_health_and_generate_keep_the_original_frontend_contract(client: httpx.Client) -> None:
    health = client.get("/health").json()
    assert health["status"] == "ok" and health["model"] == "scripted"
    assert {"iverilog", "verilator", "yosys"} <= set(health["tools"]) and health["queue_depth"] >= 0
    resp = client.post("/generate", json={"prompt": WIRE_PROMPT, "samples": 1})
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert "module wire_through" in body["output"] and body["passed"] is True and body["rounds"] == 1
    assert body["level"] == "static" and body["report"]["functional_tested"] is False  # no suite matched
    # {"instruction": ...} works too; with one round the lint failure is the answer, not an HTTP error.
    body = client.post("/generate", json={"instruction": PROMPT, "rounds": 1, "samples": 1}).json()
    assert "else if (enable)" in body["output"] and body["passed"] is False and body["rounds"] == 1
    assert body["report"]["category"] == "undeclared" and body["state"] == "failed"
    assert_error(client.post("/generate", json={"text": "no prompt here"}), 422, "invalid_request")


def test_verify_checks_against_a_suite_a_reference_and_an_uploaded_bench(client: httpx.Client) -> None:
    ok = client.post("/verify", json={"verilog": GOOD, "suite": "counter/up-en-noload-wrap-async-low",
                                      "params": {"WIDTH": 4, "MODULO": 10}}).json()
    assert ok["passed"] is True and ok["level"] == "functional"
    bad = client.post("/verify", json={"verilog": MISMATCH, "reference": GOOD}).json()
    assert bad["passed"] is False and bad["category"] == "mismatch"
    static = client.post("/verify", json={"verilog": GOOD}).json()
    assert static["passed"] is True and static["level"] == "static" and static["functional_tested"] is False
    bench = (ROOT / "tests" / "service_bench.sv").read_text()
    benched = client.post("/verify", json={"verilog": GOOD, "testbench": bench, "testbench_name": "tb.sv"}).json()
    assert benched["passed"] is True and benched["level"] == "functional", benched
    assert "counter" in [s["family"] for s in client.get("/suites").json()["suites"]]


def test_bad_input_gets_a_clear_json_error_with_the_right_status(client: httpx.Client, tmp_path: Path) -> None:
    assert_error(client.post("/jobs", content=b"x" * (2 << 20), headers={"Content-Type": "application/json"}),
                 413, "too_large")
    assert_error(client.post("/jobs", content=b'{"prompt": "a counter"', headers={"Content-Type": "application/json"}),
                 400, "malformed_json")
    assert_error(client.post("/jobs", json={"prompt": "x" * 2001}), 413, "prompt_too_long")
    assert_error(client.post("/jobs", json={"prompt": PROMPT, "rounds": 50}), 422, "over_budget")
    assert_error(client.post("/jobs", json={"prompt": PROMPT, "bogus": 1}), 422, "invalid_request")
    assert_error(client.post("/jobs", json={"prompt": PROMPT, "model": "gpt-17"}), 400, "unknown_model")
    err = assert_error(client.post("/verify", json={"verilog": GOOD, "suite": "teleporter"}), 400, "bad_input")
    assert "teleporter" in err["message"] and "counter" in err["message"]
    assert_error(client.get("/jobs/doesnotexist"), 404, "not_found")
    assert_error(client.delete("/jobs/doesnotexist"), 404, "not_found")
    assert_error(client.get("/nowhere"), 404, "not_found")
    assert_error(client.post("/verify", json={"verilog": GOOD, "suite": "counter", "reference": GOOD}), 422)
    # Hostile Verilog: the design is screened, reported unsafe, and never reaches a tool.
    marker = tmp_path / "pwned"
    hostile = f'module top(input a, output y); initial $system("touch {marker}"); assign y = a; endmodule\n'
    rep = client.post("/verify", json={"verilog": hostile}).json()
    assert rep["passed"] is False and rep["category"] == "unsafe"
    # A hostile uploaded testbench or reference is refused before any tool sees it.
    tb = f'module tb; initial begin $system("touch {marker}"); $display("CM_RESULT pass=1 fail=0"); end endmodule\n'
    err = assert_error(client.post("/verify", json={"verilog": GOOD, "testbench": tb}), 400, "bad_input")
    assert "$system" in err["message"]
    tb2 = 'module tb; integer f; initial begin f = $fopen("/etc/passwd"); $display("CM_RESULT pass=1 fail=0"); end endmodule\n'
    assert "$fopen" in assert_error(client.post("/verify", json={"verilog": GOOD, "testbench": tb2}), 400)["message"]
    tb3 = 'module tb; initial begin $dumpfile("/tmp/x.vcd"); $display("CM_RESULT pass=1 fail=0"); end endmodule\n'
    assert_error(client.post("/verify", json={"verilog": GOOD, "testbench": tb3}), 400, "bad_input")
    py = "import cocotb\n@cocotb.test()\nasync def t(dut):\n    import os\n"
    err = assert_error(client.post("/verify", json={"verilog": GOOD, "testbench": py, "testbench_name": "t.py"}), 400)
    assert "cocotb" in err["message"]
    ref = 'module counter(input clk, output y); initial $system("touch x"); endmodule\n'
    assert_error(client.post("/verify", json={"verilog": GOOD, "reference": ref}), 400, "bad_input")
    assert not marker.exists()
    assert client.get("/health").json()["status"] == "ok"  # and the server is still fine


def slow_when_asked(body: dict, index: int) -> str:
    """Answers at once, except to prompts that say 'take your time' (they hold a worker for a while)."""
    if any("take your time" in str(m.get("content")) for m in body["messages"]):
        time.sleep(20)
    return three_rounds(body, index)


@pytest.fixture(scope="module")
def guarded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServeProcess]:
    """Two tokens, one allowed CORS origin, one worker and a queue of one."""
    tmp = tmp_path_factory.mktemp("guarded")
    with ScriptedOpenAIServer(slow_when_asked) as model, \
            ServeProcess(model.spec(), tmp / "jobs.sqlite3", tokens="alpha-token,beta-token",
                         extra=["--cors", "http://page.example", "--workers", "1", "--queue", "1"]) as srv:
        yield srv


def test_tokens_guard_every_endpoint_but_health_and_jobs_belong_to_their_token(guarded: ServeProcess) -> None:
    with httpx.Client(base_url=guarded.url, timeout=60) as c:
        alpha = {"Authorization": "Bearer alpha-token"}
        beta = {"Authorization": "Bearer beta-token"}
        assert c.get("/health").status_code == 200
        assert_error(c.get("/jobs"), 401, "unauthorized")
        resp = c.post("/jobs", json={"prompt": WIRE_PROMPT, "samples": 1}, headers={"Authorization": "Bearer wrong"})
        assert_error(resp, 401, "unauthorized")
        assert resp.headers["www-authenticate"] == "Bearer"
        assert_error(c.post("/verify", json={"verilog": GOOD}), 401)
        job_id = c.post("/jobs", json={"prompt": WIRE_PROMPT, "samples": 1}, headers=alpha).json()["id"]
        assert_error(c.get(f"/jobs/{job_id}", headers=beta), 404, "not_found")
        assert_error(c.get(f"/jobs/{job_id}/events", headers=beta), 404, "not_found")
        assert_error(c.delete(f"/jobs/{job_id}", headers=beta), 404, "not_found")
        assert job_id not in [j["id"] for j in c.get("/jobs", headers=beta).json()["jobs"]]
        events = list(sse_events(c, f"/jobs/{job_id}/events", headers=alpha))
        assert events[-1]["data"]["data"]["state"] == "passed"  # beta's cancel did nothing
        assert [j["id"] for j in c.get("/jobs", headers=alpha).json()["jobs"]] == [job_id]
        # CORS is configurable: the allowed origin gets its headers, another origin does not.
        pre = c.options("/jobs", headers={"Origin": "http://page.example", "Access-Control-Request-Method": "POST",
                                          "Access-Control-Request-Headers": "authorization"})
        assert pre.headers.get("access-control-allow-origin") == "http://page.example"
        assert "access-control-allow-origin" not in c.get("/health", headers={"Origin": "http://evil.example"}).headers


def test_a_full_queue_answers_429_with_retry_after(guarded: ServeProcess) -> None:
    with httpx.Client(base_url=guarded.url, timeout=60, headers={"Authorization": "Bearer alpha-token"}) as c:
        body = {"prompt": WIRE_PROMPT + " Please take your time.", "samples": 1}
        first = c.post("/jobs", json=body).json()["id"]
        deadline = time.monotonic() + 30
        while c.get(f"/jobs/{first}").json()["state"] != "running" and time.monotonic() < deadline:
            time.sleep(0.05)
        second = c.post("/jobs", json=body)
        assert second.status_code == 202
        third = c.post("/jobs", json=body)
        assert_error(third, 429, "queue_full")
        assert int(third.headers["retry-after"]) >= 1
        assert c.get("/health").json()["queue_depth"] == 1
        for job_id in (first, second.json()["id"]):
            assert c.delete(f"/jobs/{job_id}").json()["state"] == "cancelled"


def test_serving_on_all_interfaces_without_a_token_warns(tmp_path: Path) -> None:
    proc = subprocess.Popen([sys.executable, "-m", "circuit_muse.cli", "serve", "--host", "0.0.0.0", "--port", "0",
                             "--model", "openai:http://127.0.0.1:9/v1#none", "--db", str(tmp_path / "x.sqlite3")],
                            stderr=subprocess.PIPE, text=True, env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT)})
    try:
        line = proc.stderr.readline() if proc.stderr else ""
    finally:
        proc.kill()
        proc.wait()
    assert "warning" in line and "CIRCUIT_MUSE_TOKEN" in line
