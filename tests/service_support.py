"""Run `circuit-muse serve` as a real uvicorn process on loopback, against a scripted model."""
from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
GOOD = """module counter #(parameter WIDTH = 4) (
    input  wire             clk,
    input  wire             rst_n,
    input  wire             en,
    output reg  [WIDTH-1:0] count
);
    always @(posedge clk or negedge rst_n) begin
        if (!rst_n) count <= {WIDTH{1'b0}};
        else if (en) count <= count + 1'b1;
    end
endmodule
"""
UNDECLARED = GOOD.replace("else if (en)", "else if (enable)")          # lint: undeclared, line 9
MISMATCH = GOOD.replace("count + 1'b1", "count + 4'd2")               # simulation: counts by two
PROMPT = "Design a 4-bit counter with enable and active-low async reset."
WIRE_PROMPT = "Design a module named wire_through that copies input a to output y."  # matches no suite
WIRE = "module wire_through(input wire a, output wire y);\n    assign y = a;\nendmodule\n"


def fence(code: str) -> str:
    return f"Here is the design.\n```verilog\n{code}```\n"


def three_rounds(body: dict[str, Any], index: int) -> str:
    """Round 1 does not lint, round 2 lints but counts wrong, round 3 is right (keyed on the feedback)."""
    if any("wire_through" in str(m.get("content")) for m in body["messages"]):
        return fence(WIRE)
    last = body["messages"][-1]["content"] if body["messages"][-1]["role"] == "user" else ""
    if "failed verification" not in last:
        return fence(UNDECLARED)
    return fence(GOOD if "mismatch" in last else MISMATCH)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class ServeProcess:
    """`python -m circuit_muse.cli serve ...` in its own process group; kill() sends SIGKILL."""

    def __init__(self, model_spec: str, db: Path, *, tokens: str | None = None, extra: list[str] | None = None,
                 log: Path | None = None) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        env.pop("CIRCUIT_MUSE_TOKEN", None)
        if tokens:
            env["CIRCUIT_MUSE_TOKEN"] = tokens
        self.log_path = log or db.with_suffix(".log")
        self._log = self.log_path.open("ab")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "circuit_muse.cli", "serve", "--port", str(self.port), "--model", model_spec,
             "--db", str(db), *(extra or [])], env=env, stdout=self._log, stderr=subprocess.STDOUT,
            start_new_session=True)
        self.wait_ready()

    def wait_ready(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited: {self.log_path.read_text()[-2000:]}")
            try:
                if httpx.get(self.url + "/health", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise RuntimeError("server did not come up")

    def kill(self) -> None:
        """SIGKILL the whole group (server, forkserver, verifier children): a crash, not a shutdown."""
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.proc.wait(timeout=10)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.kill()
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)  # whatever it left behind in its group
        except ProcessLookupError:
            pass
        self._log.close()

    def __enter__(self) -> ServeProcess:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def sse_events(client: httpx.Client, url: str, *, last_event_id: int | None = None, stop_after: int | None = None,
               headers: dict[str, str] | None = None) -> Iterator[dict[str, Any]]:
    """Parse a server-sent event stream into {"id", "event", "data"} dicts."""
    hdrs = dict(headers or {})
    if last_event_id is not None:
        hdrs["Last-Event-ID"] = str(last_event_id)
    seen = 0
    with client.stream("GET", url, headers=hdrs, timeout=httpx.Timeout(120, connect=10)) as resp:
        assert resp.status_code == 200, resp.read()
        assert resp.headers["content-type"].startswith("text/event-stream")
        event: dict[str, Any] = {}
        for line in resp.iter_lines():
            if not line:
                if "data" in event:
                    event["data"] = json.loads(event["data"])
                    yield event
                    seen += 1
                    if stop_after is not None and seen >= stop_after:
                        return
                event = {}
                continue
            if line.startswith(":"):
                continue
            key, _, value = line.partition(": ")
            if key == "id":
                event["id"] = int(value)
            elif key in ("event", "data"):
                event[key] = value
