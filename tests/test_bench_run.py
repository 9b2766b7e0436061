"""Scoring runs with a model (the scripted OpenAI-compatible server on loopback): hidden vs oracle repair
rounds, protocol and costs, reproducibility, the sample-count rule, kill-and-resume, CI regression, JUnit."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from circuit_muse.bench.harness import BenchConfig, run_bench
from circuit_muse.bench.report import write_all
from tests.support.bench_fixtures import DESIGNS, EARLY_END, module, write_verilog_eval_v2
from tests.support.scripted_openai import ScriptedOpenAIServer

pytestmark = pytest.mark.simulator
ROOT = Path(__file__).resolve().parent.parent
AND3, SWAP = DESIGNS[0], DESIGNS[1]
WRONG = {AND3.spec: module("TopModule", AND3, "  assign y = a & b;"),            # clean but wrong
         SWAP.spec: module("TopModule", SWAP, "  assign out = {in[3:0], in[7:4]}")}  # syntax error
RIGHT = {AND3.spec: module("TopModule", AND3), SWAP.spec: module("TopModule", SWAP)}


def _answer(body: dict, index: int) -> str:
    msgs = body["messages"]
    first = next(m["content"] for m in msgs if m["role"] == "user")
    key = next(k for k in WRONG if k in first)
    return ("```verilog\n" + (RIGHT if len(msgs) > 2 else WRONG)[key] + "```\n")


def _cfg(tmp_path, server, mode, out="o", **kw):
    suite = f"verilog-eval:{write_verilog_eval_v2(tmp_path / 've', [AND3, SWAP])}"
    return BenchConfig(suite=suite, model=server.spec(), out=tmp_path / out, samples=2, rounds=2, mode=mode,
                       temperature=0.8, top_p=0.95, checks="functional", **kw)


@pytest.mark.parametrize("mode,by_round", [("hidden", [0.0, 0.5]), ("oracle", [0.0, 1.0])])
def test_repair_rounds_hidden_vs_oracle(tmp_path, mode, by_round):
    with ScriptedOpenAIServer(_answer) as server:
        spec = server.spec()
        run = run_bench(_cfg(tmp_path, server, mode))
        rates = [r["pass_rate"] for r in run.metrics["pass_rate_by_round"]]
        assert rates == pytest.approx(by_round)
        if mode == "hidden":  # the loop never saw the benchmark's verdict for the clean-but-wrong design
            fed = [m["content"] for req in server.chat_requests for m in req.messages if m["role"] == "user"]
            assert not any("Mismatches" in t or "samples mismatched" in t for t in fed)
    p = run.protocol
    assert p["mode"] == mode and p["samples"] == 2 and p["rounds"] == 2 and p["temperature"] == 0.8
    assert p["top_p"] == 0.95 and len(p["prompt_template_hash"]) == 64 and p["suite"]["content_hash"]
    assert p["tools"]["iverilog"] != "missing"
    assert run.metrics["per_problem"]["tokens"] > 0 and run.metrics["per_problem"]["verify_s"] > 0
    paths = write_all(run)
    md = paths["markdown"].read_text()
    assert md.startswith(f"# circuit-muse bench: verilog-eval-v2/spec-to-rtl - {spec} - {mode} mode")
    assert paths["rounds_plot"].stat().st_size > 1000 and paths["categories_plot"].stat().st_size > 1000
    assert json.loads(paths["json"].read_text())["metrics"]["pass_rate_by_round"][1]["pass_rate"] == by_round[1]


def test_rerun_with_same_inputs_gives_same_verdicts(tmp_path):
    with ScriptedOpenAIServer(_answer) as server:
        a = run_bench(_cfg(tmp_path, server, "oracle", out="a"))
        b = run_bench(_cfg(tmp_path, server, "oracle", out="b"))
    strip = lambda run: [[(r["round"], r["passed"], r["category"], r["design_sha"]) for s in rec["samples"]  # noqa: E731
                          for r in s["rounds"]] for rec in run.records]
    assert strip(a) == strip(b) and a.protocol["run_key"] == b.protocol["run_key"]


def test_ending_the_bench_early_does_not_pass(tmp_path):
    """The bench ends when the design raises `done`: one clean sample would pass VerilogEval's own rule."""
    hostile = module("TopModule", EARLY_END, "  assign y = 1'b0;\n  assign done = 1'b1;")
    suite = f"verilog-eval:{write_verilog_eval_v2(tmp_path / 've', [EARLY_END])}"
    with ScriptedOpenAIServer([hostile]) as server:
        run = run_bench(BenchConfig(suite=suite, model=server.spec(), out=tmp_path / "o", checks="functional"))
    last = run.records[0]["samples"][0]["rounds"][-1]
    assert run.records[0]["reference"]["passed"] and run.records[0]["reference"]["samples"] > 50
    assert not last["passed"] and last["category"] == "incomplete" and last["samples"] < 5


def _cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "circuit_muse.cli", "bench", *args]


def test_kill_midway_then_resume(tmp_path):
    suite = f"verilog-eval:{write_verilog_eval_v2(tmp_path / 've', DESIGNS)}"
    out = tmp_path / "o"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    with ScriptedOpenAIServer(lambda body, i: "```verilog\n" + RIGHT.get(next(
            (k for k in RIGHT if k in body["messages"][1]["content"]), ""), "module x; endmodule") + "```",
            delay_s=0.4) as server:
        args = _cli("--suite", suite, "--model", server.spec(), "--out", str(out), "--workers", "1", "--no-progress",
                    "--checks", "functional")
        proc = subprocess.Popen(args, env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                start_new_session=True)
        records = out / "records.jsonl"
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and not (records.exists() and records.read_text().count("\n") >= 1):
            time.sleep(0.02)
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        first = records.read_text()
        assert 1 <= first.count("\n") < len(DESIGNS), "the run must be killed midway"
        asked_before = len(server.chat_requests)
        done = subprocess.run(args, env=env, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    final = records.read_text()
    assert final.startswith(first)  # what was written stays as written
    ids = [json.loads(x)["problem"] for x in final.splitlines()]
    assert sorted(ids) == sorted(d.name for d in DESIGNS)
    assert len(server.chat_requests) - asked_before == len(DESIGNS) - first.count("\n")  # finished ones not redone


def test_baseline_regression_exit_code_and_junit(tmp_path):
    suite = f"verilog-eval:{write_verilog_eval_v2(tmp_path / 've', [AND3, SWAP])}"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    base = subprocess.run(_cli("--suite", suite, "--model", "reference", "--out", str(tmp_path / "base"), "--no-progress"),
                          env=env, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert base.returncode == 0, base.stderr
    baseline = tmp_path / "base" / "summary.json"
    with ScriptedOpenAIServer(_answer) as server:
        common = ["--suite", suite, "--model", server.spec(), "--baseline", str(baseline), "--no-progress"]
        bad = subprocess.run(_cli(*common, "--out", str(tmp_path / "new"), "--fail-under", "0.02",
                                  "--junit", str(tmp_path / "junit.xml")), env=env, cwd=ROOT, capture_output=True,
                             text=True, timeout=300)
        lenient = subprocess.run(_cli(*common, "--out", str(tmp_path / "new"), "--fail-under", "1.0"),
                                 env=env, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert bad.returncode == 1 and "REGRESSION: pass@1 0.0000 vs baseline 1.0000" in bad.stderr
    assert lenient.returncode == 0, lenient.stderr
    cases = ET.parse(tmp_path / "junit.xml").getroot().findall("testcase")
    assert [c.get("name") for c in cases] == [AND3.name, SWAP.name]
    assert all(c.find("failure") is not None for c in cases)
