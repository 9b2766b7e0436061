"""`generate` progress: each stage tick is written the moment its event arrives, ticks of candidates verified in
parallel land on their own candidate's line, and -v shows the feedback in full."""
from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import pytest

from circuit_muse.cli.generate_cmd import _Progress
from circuit_muse.loop import events as ev
from tests.support.scripted_openai import ScriptedOpenAIServer
from tests.test_loop import WRONG_BEHAVIOUR, fence

ROOT = Path(__file__).resolve().parent.parent


class _Recorder(io.StringIO):
    """A stream that remembers what had been flushed after each event."""

    def __init__(self) -> None:
        super().__init__()
        self.flushed: list[str] = []

    def flush(self) -> None:
        self.flushed.append(self.getvalue())


def test_each_tick_is_out_as_soon_as_its_stage_finishes() -> None:
    out = _Recorder()
    show = _Progress(out)
    show(ev.round_started(1, 1))
    show(ev.stage(1, 0, "extract", True, False, None))
    assert out.flushed[-1].endswith("candidate 0: extract ✓ ")
    show(ev.stage(1, 0, "lint", False, False, "syntax"))
    assert out.flushed[-1].endswith("extract ✓ lint ✗ ")


def test_interleaved_candidates_each_keep_their_own_ticks() -> None:
    out = _Recorder()
    show = _Progress(out)
    show(ev.round_started(1, 2))
    for index, name, ok in [(0, "extract", True), (1, "extract", True), (1, "lint", True), (0, "lint", False),
                            (1, "synth", True)]:
        show(ev.stage(1, index, name, ok, False, None))
    show(ev.candidate(1, 0, False, "lint", 0.3, False))
    show(ev.candidate(1, 1, True, "pass", 1.0, False))
    ticks: dict[str, list[str]] = {"0": [], "1": []}
    for line in out.getvalue().splitlines():
        if line.strip().startswith("candidate "):
            idx, rest = line.strip()[len("candidate "):].split(":", 1)
            ticks[idx].append(rest.strip())
    assert " ".join(ticks["0"]) == "extract ✓ lint ✗ -> lint (score 0.30)"
    assert " ".join(ticks["1"]) == "extract ✓ lint ✓ synth ✓ -> PASS (score 1.00)"


def test_feedback_first_line_or_all_of_it() -> None:
    text = "simulate: mismatch\n| cycle | en | expected q | got q |\n| 3 | 1 | 2 | 3 |"
    short, full = _Recorder(), _Recorder()
    _Progress(short)(ev.feedback(1, text))
    _Progress(full, full_feedback=True)(ev.feedback(1, text))
    assert "feedback sent: simulate: mismatch  (+2 more lines: -v shows them)" in short.getvalue()
    assert "| 3 | 1 | 2 | 3 |" not in short.getvalue()
    assert all(f"    | {ln}" in full.getvalue() for ln in text.splitlines())


@pytest.mark.simulator
def test_generate_v_shows_the_whole_feedback_and_the_waveform(tmp_path: Path) -> None:
    with ScriptedOpenAIServer([fence(WRONG_BEHAVIOUR)]) as server:
        res = subprocess.run(
            [sys.executable, "-m", "circuit_muse.cli", "generate", "Design a 4-bit counter.", "-v", "--model",
             server.spec(), "--testbench", "testbenches/counter_tb.sv", "--samples", "1", "--rounds", "2",
             "--keep-waves", str(tmp_path)],
            cwd=ROOT, capture_output=True, text=True, timeout=180, env=dict(os.environ))
    assert res.returncode == 1, res.stderr
    block = res.stderr.split("feedback sent:", 1)[1].split("round 2", 1)[0]
    fed = [ln.strip()[2:] for ln in block.splitlines() if ln.strip().startswith("| ")]
    assert len(fed) >= 3, res.stderr            # the category line and the failing-checks table, not one line
    kept = [ln for ln in res.stderr.splitlines() if "waveform of the failing run:" in ln]
    assert kept and Path(kept[0].split(": ", 1)[1].split(" (open", 1)[0]).parent == tmp_path
